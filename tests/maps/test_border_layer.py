"""The technical map shows the border exchanges: one layer with a symbol per sector (counts of
its co-signed sheet), the buildings served across the border and the PM → building links
(dashed when aerial), with their legend; checked against the demo's own exchange file."""

from __future__ import annotations

import csv
import re
from collections import Counter
from html import escape
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from geo_service.analysis.border_layer import border_exchange_layer
from geo_service.maps.border_layer import add_border_exchanges, border_legend
from geo_service.maps.elus import Legend, base_map


def _plain(html: str) -> str:
    """The page with the \\uXXXX escapes of its scripts decoded."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def _demo_rows(demo_folder: Path) -> list[dict[str, str]]:
    path = demo_folder / "exploitation" / "echanges_frontaliers_46.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def test_the_technical_map_shows_the_demo_border_exchanges(
    demo_client: TestClient,
    demo_conn: Connection,
    demo_tech_headers: dict[str, str],
    demo_folder: Path,
) -> None:
    rows = _demo_rows(demo_folder)
    sectors = sorted({r["secteur"] for r in rows})
    assert len(sectors) >= 4  # Corrèze, Lot-et-Garonne, Tarn-et-Garonne, AMII
    page = demo_client.get("/technique", headers=demo_tech_headers)
    assert page.status_code == 200
    html = _plain(page.text)
    assert f"Échanges frontaliers ({len(sectors)} secteurs)" in html  # the layer control
    assert "Échange frontalier (secteur)" in html  # the legend
    assert "Immeuble du territoire servi par le réseau voisin" in html
    by_sector = Counter((r["secteur"], r["sens"]) for r in rows)
    for sector in sectors:
        title = f"Échange frontalier : {escape(sector)}"
        assert title in html, sector
        popup = html[html.index(title) : html.index(title) + 1500]
        theirs = by_sector[(sector, "servi par le voisin")]
        ours = by_sector[(sector, "servi par le délégataire")]
        assert f"Immeubles du territoire servis par le voisin</b> : {theirs}" in popup
        assert f"Immeubles extérieurs servis par le délégataire</b> : {ours}" in popup
        neighbour = next(r["voisin"] for r in rows if r["secteur"] == sector)
        assert escape(neighbour) in popup
    assert "PB27650-PB27668 (1100 m, aérien, à créer)" in html  # the Montcabrier sheet's link


def test_buildings_are_placed_where_the_territory_knows_them(
    demo_conn: Connection, demo_folder: Path
) -> None:
    rows = _demo_rows(demo_folder)
    communes = set(
        demo_conn.execute(text("SELECT insee FROM commune WHERE territory_code = '46'")).scalars()
    )
    premises = set(
        demo_conn.execute(
            text(
                "SELECT identifiant_immeuble FROM premise WHERE identifiant_immeuble"
                " = ANY(:ids) AND removed_on IS NULL"
            ),
            {"ids": [r["identifiant_immeuble"] for r in rows]},
        ).scalars()
    )
    placeable = [
        r for r in rows if r["code_insee"] in communes or r["identifiant_immeuble"] in premises
    ]
    layer = border_exchange_layer(demo_conn, "46")
    assert sum(b["immeubles"] for b in layer["immeubles"]) == len(placeable)
    unplaced = {s["secteur"]: s["non_places"] for s in layer["secteurs"]}
    expected = Counter(r["secteur"] for r in rows if r not in placeable)
    assert unplaced == {s: expected.get(s, 0) for s in {r["secteur"] for r in rows}}
    # every building of the territory served by a neighbour is on the map
    theirs = [r for r in rows if r["sens"] == "servi par le voisin"]
    assert all(r in placeable for r in theirs)


def test_links_are_dashed_when_aerial_and_coloured_by_status() -> None:
    layer = {
        "secteurs": [
            {
                "secteur": "Essai",
                "voisin": "Corrèze",
                "servis_par_voisin": 1,
                "servis_par_delegataire": 0,
                "non_places": 0,
                "pm": "PM1",
                "liens": "L1 (900 m, aérien, à créer)",
                "cosignature": "01/02/2022",
                "lon": 1.5,
                "lat": 44.6,
            }
        ],
        "immeubles": [
            {
                "secteur": "Essai",
                "voisin": "Corrèze",
                "sens": "SERVI_PAR_VOISIN",
                "commune": "Figeac",
                "immeubles": 1,
                "identifiants": "IMB/1",
                "pm_reference": "PM1",
                "placement": "à l'immeuble",
                "lon": 1.51,
                "lat": 44.61,
            }
        ],
        "liens": [
            {
                "secteur": "Essai",
                "voisin": "Corrèze",
                "lien": "L1",
                "mode": "AERIEN",
                "statut_lien": "A CREER",
                "longueur_m": 900.0,
                "coords": [[44.6, 1.5], [44.61, 1.51]],
            },
            {
                "secteur": "Essai",
                "voisin": "Corrèze",
                "lien": "L2",
                "mode": "SOUTERRAIN",
                "statut_lien": "EXISTANT",
                "longueur_m": None,
                "coords": [[44.6, 1.5], [44.62, 1.52]],
            },
        ],
    }
    fmap = base_map("OpenStreetMap")
    add_border_exchanges(fmap, layer)
    Legend(border_legend(layer)).add_to(fmap)
    html = _plain(fmap.get_root().render())
    assert html.count('"dashArray": "8 6"') == 1  # the aerial link only
    assert '"color": "#EE7733"' in html and '"color": "#009988"' in html
    assert "Lien aérien" in html and "Lien souterrain" in html and "Lien à créer" in html
    assert border_legend({"secteurs": [], "immeubles": [], "liens": []}) == []
