"""The operating registers of a delivery folder (`exploitation/`, as the demo writes them), in
import order, for the folder loader: which register each file is, by its name."""

from __future__ import annotations

from pathlib import Path

from geo_service.ingest.abonnes import ABONNES
from geo_service.ingest.controles_pm import CONTROLES_PM
from geo_service.ingest.echanges_frontaliers import ECHANGES_FRONTALIERS
from geo_service.ingest.incidents import INCIDENTS
from geo_service.ingest.operations_common import Register

REGISTERS: dict[str, Register] = {
    r.kind: r for r in (INCIDENTS, CONTROLES_PM, ABONNES, ECHANGES_FRONTALIERS)
}
# file name prefix → register, most specific first
_PREFIXES = (
    ("echanges_frontaliers", ECHANGES_FRONTALIERS),
    ("controles_pm", CONTROLES_PM),
    ("incidents", INCIDENTS),
    ("abonnes", ABONNES),
)


def register_of(path: Path) -> Register | None:
    """The register a file holds, from its name (None when it is not one of them)."""
    name = path.name.lower()
    return next((r for prefix, r in _PREFIXES if name.startswith(prefix)), None)


def plan_operations(folder: Path) -> list[tuple[Register, Path]]:
    """The register files of folder/exploitation/ (CSV, plain or compressed), in name order."""
    files = sorted(
        p
        for p in (folder / "exploitation").glob("*")
        if p.name.lower().endswith((".csv", ".csv.gz", ".zip"))
    )
    return [(r, p) for p in files if (r := register_of(p)) is not None]
