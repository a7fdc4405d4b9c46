"""Date formats detected over a whole column (for files whose publisher does not say which one
it uses): the format that reads the most values wins; none, or two reading the same values
(01/02/2025: 1 February or 2 January?), is refused naming the column and sample values."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo_service.ingest.csv_source import reject


@dataclass(frozen=True)
class DateFormat:
    label: str  # as the user names it (--format-date)
    pattern: re.Pattern[str]
    strptime: str
    width: int  # characters read (a datetime's date part)


DATE_FORMATS = {
    f.label: f
    for f in (
        DateFormat("AAAA-MM-JJ", re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d", 10),
        DateFormat(
            "AAAA-MM-JJThh:mm:ss",
            re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"),
            "%Y-%m-%d",
            10,
        ),
        DateFormat("JJ/MM/AAAA", re.compile(r"^\d{2}/\d{2}/\d{4}$"), "%d/%m/%Y", 10),
        DateFormat("MM/JJ/AAAA", re.compile(r"^\d{2}/\d{2}/\d{4}$"), "%m/%d/%Y", 10),
        DateFormat("AAAAMMJJ", re.compile(r"^\d{8}$"), "%Y%m%d", 8),
        DateFormat("AAAA/MM/JJ", re.compile(r"^\d{4}/\d{2}/\d{2}$"), "%Y/%m/%d", 10),
    )
}


def _readable(values: pd.Series, fmt: DateFormat) -> np.ndarray:
    shaped = values.str.match(fmt.pattern).to_numpy(dtype=bool)
    parsed = pd.to_datetime(values.str[: fmt.width], format=fmt.strptime, errors="coerce")
    return shaped & parsed.notna().to_numpy()


def _samples(values: pd.Series) -> str:
    return ", ".join(f"« {v} »" for v in values.drop_duplicates().head(3))


def detect_formats(
    file: str, frame: pd.DataFrame, columns: tuple[str, ...], *, forced: str | None = None
) -> dict[str, str]:
    """The format of each date column holding values (`forced`: the user's --format-date)."""
    if forced is not None:
        if forced not in DATE_FORMATS:
            raise reject(
                file,
                0,
                f"format de date « {forced} » inconnu (formats reconnus : "
                f"{', '.join(DATE_FORMATS)})",
            )
        return {c: forced for c in columns if (frame[c] != "").any()}
    chosen: dict[str, str] = {}
    undecided: dict[str, list[str]] = {}
    for column in columns:
        values = frame[column][frame[column] != ""]
        if values.empty:
            continue
        fits = {label: int(_readable(values, f).sum()) for label, f in DATE_FORMATS.items()}
        best = max(fits.values())
        if best == 0:
            raise reject(
                file,
                0,
                f"format de date inconnu dans la colonne « {column} » : {_samples(values)} "
                f"(formats reconnus : {', '.join(DATE_FORMATS)})",
                column=column,
                value=str(values.iat[0]),
            )
        tied = [label for label, n in fits.items() if n == best]
        if len(tied) == 1:
            chosen[column] = tied[0]
        else:
            undecided[column] = tied
    for column, tied in undecided.items():
        # a column whose days all stay ≤ 12 reads as its neighbours do
        settled = [f for f in chosen.values() if f in tied]
        if settled:
            chosen[column] = settled[0]
            continue
        values = frame[column][frame[column] != ""]
        raise reject(
            file,
            0,
            f"format de date ambigu dans la colonne « {column} » : {_samples(values)} se lisent "
            f"aussi bien {' que '.join(tied)} ; précisez le format avec --format-date",
            column=column,
            value=str(values.iat[0]),
        )
    return {c: chosen[c] for c in columns if c in chosen}


def parse_column(values: pd.Series, label: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The dates (python `date` or None, for COPY) and the mask of non-empty values that the
    column's format does not read."""
    empty = (values == "").to_numpy()
    out = np.full(len(values), None, dtype=object)
    if label is None:
        return out, ~empty
    fmt = DATE_FORMATS[label]
    readable = _readable(values, fmt)
    parsed = pd.to_datetime(values.str[: fmt.width], format=fmt.strptime, errors="coerce")
    for i in np.flatnonzero(readable):
        out[i] = parsed.iat[i].date()
    return out, ~empty & ~readable
