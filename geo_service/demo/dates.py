"""Dates as integer day numbers (days since 1970-01-01) and their ISO rendering."""

from __future__ import annotations

import datetime as dt

import numpy as np

NEVER = 10**6  # a day number far beyond any snapshot


def day(iso: str) -> int:
    """Day number of an ISO date."""
    return (dt.date.fromisoformat(iso) - dt.date(1970, 1, 1)).days


def iso(day_number: int) -> str:
    """ISO date of a day number."""
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day_number))).isoformat()


def iso_array(days: np.ndarray) -> np.ndarray:
    """ISO strings of an array of day numbers ('' for NEVER)."""
    out = np.datetime_as_string(np.minimum(days, NEVER - 1).astype("datetime64[D]"), unit="D")
    return np.where(days >= NEVER, "", out).astype(object)


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """Same day-of-month a number of calendar months later (clamped to the month's end)."""
    d = np.minimum(days, NEVER - 1).astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    offset = (d - month_start.astype("datetime64[D]")).astype(np.int64)
    target = month_start + np.timedelta64(months, "M")
    length = (target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype(
        "datetime64[D]"
    )
    result = target.astype("datetime64[D]") + np.minimum(offset, length.astype(np.int64) - 1)
    return np.where(days >= NEVER, NEVER, result.astype(np.int64))


def snapshot_dates(
    first: str = "2018-03-31",
    last: str = "2025-12-31",
    extra: tuple[str, ...] = ("2018-07-31", "2022-03-17"),
) -> list[str]:
    """Quarter ends from first to last plus the extra dates, sorted."""
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    dates = set(extra)
    year, month = start.year, start.month
    while True:
        nxt = dt.date(year + (month // 12), month % 12 + 1, 1)
        quarter_end = nxt - dt.timedelta(days=1)
        if quarter_end > end:
            break
        if quarter_end >= start and quarter_end.month in (3, 6, 9, 12):
            dates.add(quarter_end.isoformat())
        year, month = nxt.year, nxt.month
    return sorted(dates)
