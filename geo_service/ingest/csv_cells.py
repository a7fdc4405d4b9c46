"""Parse text cells into typed values: each distinct value parsed once, reasons in French.

Used by the exchange-file readers: a parser maps one cell to (value, None) or (None, reason).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable

import numpy as np
import pandas as pd

Parser = Callable[[str], tuple[object, str | None]]

_COUNT = re.compile(r"([+-]?)(\d+)(?:[.,]0*)?")
_DATE_FORMATS = (  # pattern, (year, month, day) group numbers
    (
        re.compile(
            r"(\d{4})-(\d{1,2})-(\d{1,2})"
            r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
        ),
        (1, 2, 3),
    ),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?"), (3, 2, 1)),
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), (1, 2, 3)),
    (re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"), (1, 2, 3)),
)


def per_unique(values: np.ndarray, parse: Parser) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse each distinct value once: (parsed, reason or None, rejected mask), one per row."""
    codes, uniques = pd.factorize(values)
    parsed = np.empty(len(uniques), dtype=object)
    reasons = np.empty(len(uniques), dtype=object)
    for k, value in enumerate(uniques):
        parsed[k], reasons[k] = parse(value)
    rejected = np.array([r is not None for r in reasons], dtype=bool)
    return parsed[codes], reasons[codes], rejected[codes]


def count_parser(label: str, *, default: int | None = None, maximum: int) -> Parser:
    """Non-negative integers ('12', '12.0'); empty → `default`, or a problem when it is None."""

    def parse(value: str) -> tuple[object, str | None]:
        if not value:
            return (default, None) if default is not None else (None, f"{label} vide")
        m = _COUNT.fullmatch(value)
        if m is None:
            return None, f"{label} non entier"
        count = int(m[2])
        if m[1] == "-" and count:
            return None, f"{label} négatif"
        if count > maximum:
            return None, f"{label} invraisemblable (plus de {maximum:,})".replace(",", " ")
        return count, None

    return parse


def label_key(value: str) -> str:
    """'Déployé ' → 'DEPLOYE', 'en_cours-de  déploiement' → 'EN COURS DE DEPLOIEMENT'."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    return " ".join(plain.upper().replace("_", " ").replace("-", " ").split())


def label_parser(
    allowed: tuple[str, ...], label: str, aliases: dict[str, str] | None = None
) -> Parser:
    """Coded values, compared without case, accents, '_' or '-' and extra spaces."""
    expected = ", ".join(allowed)

    def parse(value: str) -> tuple[object, str | None]:
        if not value:
            return None, f"{label} vide"
        key = label_key(value)
        key = (aliases or {}).get(key, key)
        if key in allowed:
            return key, None
        return None, f"{label} inconnu (valeurs admises : {expected})"

    return parse


def parse_date(value: str) -> tuple[object, str | None]:
    """AAAA-MM-JJ (or ISO date-time), JJ/MM/AAAA, AAAAMMJJ, AAAA/MM/JJ → date; empty → None."""
    if not value:
        return None, None
    for pattern, (iy, im, iday) in _DATE_FORMATS:
        m = pattern.fullmatch(value)
        if m:
            try:
                return dt.date(int(m[iy]), int(m[im]), int(m[iday])), None
            except ValueError:
                return None, "date inexistante"
    return None, "date illisible (formats admis : AAAA-MM-JJ, JJ/MM/AAAA, AAAAMMJJ)"


def to_number(values: np.ndarray) -> np.ndarray:
    """Floats (NaN when unreadable), accepting a decimal comma and spaces between digits."""
    series = pd.Series(values, dtype=object)
    if any("," in v for v in values[:1000]):  # decimal comma: convert the whole column at once
        series = series.str.replace(",", ".", regex=False)
    number = pd.to_numeric(series, errors="coerce").to_numpy(float).copy()
    retry = np.flatnonzero(np.isnan(number) & (values != ""))
    if retry.size:
        again = pd.Series(values[retry], dtype=object).str.replace(r"\s", "", regex=True)
        again = again.str.replace(",", ".", regex=False)
        number[retry] = pd.to_numeric(again, errors="coerce").to_numpy(float)
    number[~np.isfinite(number)] = np.nan
    return number
