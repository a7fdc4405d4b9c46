"""Typed cells of the operating registers: each parser returns the value or raises
ValueError with the French reason the rejection will show."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from geo_service.ingest.csv_cells import label_key, label_parser
from geo_service.ingest.csv_cells import parse_date as cell_date

PARIS = ZoneInfo("Europe/Paris")
_ISO_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"
)
_FR_TIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})[ T]+(\d{1,2})[:h](\d{2})(?::(\d{2}))?")


def header_key(name: str) -> str:
    """'Code INSEE ' → 'code_insee', 'Date de rétablissement' → 'date_de_retablissement'."""
    return label_key(name).lower().replace(" ", "_")


def optional_text(limit: int) -> Callable[[str], str | None]:
    def parse(value: str) -> str | None:
        if len(value) > limit:
            raise ValueError(f"texte trop long (plus de {limit} caractères)")
        return value or None

    return parse


def required_text(limit: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not value:
            raise ValueError("valeur obligatoire vide")
        if len(value) > limit:
            raise ValueError(f"texte trop long (plus de {limit} caractères)")
        return value

    return parse


def count(value: str) -> int | None:
    """A non-negative integer ('1 234' accepted); empty → None."""
    cleaned = value.replace(" ", "").replace("\u202f", "").replace("\xa0", "")
    if not cleaned:
        return None
    if not cleaned.isdigit():
        raise ValueError("nombre entier positif attendu")
    return int(cleaned)


def required_count(value: str) -> int:
    number = count(value)
    if number is None:
        raise ValueError("nombre obligatoire vide")
    return number


def length_m(value: str) -> float | None:
    """Metres, decimal point or comma; empty → None."""
    if not value:
        return None
    try:
        number = float(value.replace(",", ".").replace(" ", ""))
    except ValueError as exc:
        raise ValueError("longueur illisible (mètres attendus)") from exc
    if not 0 <= number < 1_000_000:
        raise ValueError("longueur invraisemblable")
    return number


def day(value: str) -> date | None:
    parsed, reason = cell_date(value)
    if reason:
        raise ValueError(reason)
    return parsed  # type: ignore[return-value]


def required_day(value: str) -> date:
    parsed = day(value)
    if parsed is None:
        raise ValueError("date obligatoire vide")
    return parsed


def timestamp(value: str) -> dt.datetime | None:
    """AAAA-MM-JJTHH:MM[:SS][±HH:MM|Z] or JJ/MM/AAAA HH:MM[:SS]; local times are Paris time."""
    if not value:
        return None
    iso = _ISO_TIME.fullmatch(value)
    french = None if iso else _FR_TIME.fullmatch(value)
    if iso is None and french is None:
        if cell_date(value)[0] is not None:
            raise ValueError("heure manquante (attendu AAAA-MM-JJ HH:MM ou JJ/MM/AAAA HH:MM)")
        raise ValueError("horodatage illisible (attendu AAAA-MM-JJ HH:MM ou JJ/MM/AAAA HH:MM)")
    if iso:
        y, mo, d, h, mi, s, zone = iso.groups()
    else:
        assert french is not None
        d, mo, y, h, mi, s = french.groups()
        zone = None
    try:
        moment = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0))
    except ValueError as exc:
        raise ValueError("date ou heure inexistante") from exc
    if zone is None:
        return moment.replace(tzinfo=PARIS)
    if zone == "Z":
        return moment.replace(tzinfo=dt.UTC)
    sign = 1 if zone[0] == "+" else -1
    hours, minutes = int(zone[1:3]), int(zone[-2:])
    return moment.replace(tzinfo=dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes)))


def label(
    allowed: tuple[str, ...], name: str, aliases: dict[str, str] | None = None
) -> Callable[[str], str]:
    """Coded values compared without case, accents, '_' or '-' (csv_cells.label_parser)."""
    parse_cell = label_parser(allowed, name, aliases)

    def parse(value: str) -> str:
        parsed, reason = parse_cell(value)
        if reason:
            raise ValueError(reason)
        return str(parsed)

    return parse


def optional_label(
    allowed: tuple[str, ...], name: str, aliases: dict[str, str] | None = None
) -> Callable[[str], str | None]:
    required = label(allowed, name, aliases)
    return lambda value: required(value) if value else None


def perimetre(value: str, territory: str) -> str:
    """'dsp' (the whole DSP) or the territory's code; empty → the territory."""
    key = value.strip().lower()
    if not key or key == territory.lower():
        return territory
    if key in ("dsp", "toute la dsp"):
        return "dsp"
    raise ValueError(f"périmètre inconnu (attendu : dsp ou {territory})")
