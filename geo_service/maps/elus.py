"""Folium maps of the élu pages (pure builders: data in, folium.Map out) and the layer helpers
the technical map shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

import folium
import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template

from geo_service.maps import styles as st
from geo_service.maps.svg_chart import french_number
from geo_service.maps.timeslider import rollout_layer

LegendItem = tuple[str, str, str]  # (shape: fill | circle | ring | symbol:<char>, colour, label)


class Legend(MacroElement):
    """A French legend drawn as a Leaflet control (bottom right), kept when printing."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: 'bottomright'});
            legend.onAdd = function() {
                var div = L.DomUtil.create('div', 'legende-carte');
                div.setAttribute('role', 'region');
                div.setAttribute('aria-label', {{ this.aria_label|tojson }});
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        items: Iterable[LegendItem],
        *,
        title: str = "Légende",
        aria_label: str = "Légende de la carte",
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.aria_label = aria_label  # the region's name, unique on the page
        rows = []
        for shape, colour, label in items:
            if shape.startswith("symbol:"):
                mark = f'<span class="symbole" style="color:{colour}">{shape[7:]}</span>'
            else:
                mark = f'<span class="pastille {shape}" style="--c:{colour}"></span>'
            rows.append(f"<li>{mark}{escape(label)}</li>")
        self.html = f"<strong>{escape(title)}</strong><ul>{''.join(rows)}</ul>"


def _plain(value: Any) -> Any:
    """JSON-friendly popup value: dates as JJ/MM/AAAA, decimals as floats, None as ''."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return float(value)
    return value


def feature_collection(rows: Iterable[dict[str, Any]], fields: list[str]) -> dict[str, Any]:
    """Points (rows with lon/lat) as a GeoJSON FeatureCollection keeping only `fields`."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(r["lon"]), float(r["lat"])]},
            "properties": {f: _plain(r.get(f)) for f in fields},
        }
        for r in rows
        if r.get("lon") is not None and r.get("lat") is not None
    ]
    return {"type": "FeatureCollection", "features": features}


def base_map(tiles: str) -> folium.Map:
    """An empty canvas-rendered map on the configured base tiles, with a scale."""
    base = st.base_tiles(tiles)
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    folium.TileLayer(base["url"], attr=base["attribution"], name="Fond de carte").add_to(fmap)
    return fmap


def zone_popup_frame(zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Zones with the French text columns their popups show."""
    out = zones.copy()
    out["taux_texte"] = [f"{french_number(t, 1)} %" for t in out["taux"]]
    out["bande_texte"] = [st.BAND_LABELS.get(b, st.NO_LOGEMENT_LABEL) for b in out["bande"]]
    out["doe_texte"] = [st.DOE_LABELS.get(d, d) for d in out["doe_etat"]]
    return out


def add_zones(fmap: folium.Map | folium.FeatureGroup, zones: gpd.GeoDataFrame) -> None:
    """PM zones coloured by completion band, with a popup per zone."""
    if zones.empty:
        return
    frame = zone_popup_frame(zones)
    fields = [
        "reference",
        "nro_code",
        "logements",
        "raccordables",
        "taux_texte",
        "bande_texte",
        "doe_texte",
        "date_prevue",
    ]
    aliases = [
        "Armoire (PM)",
        "NRO",
        "Logements",
        "Raccordables",
        "Taux",
        "Avancement",
        "DOE",
        "Date prévue",
    ]

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        colour = st.BAND_COLORS.get(feature["properties"]["bande"], st.NO_LOGEMENT_COLOR)
        return {**st.ZONE_OUTLINE, "fillColor": colour}

    folium.GeoJson(
        frame[[*fields, "bande", "geom"]],
        name=st.LAYER_LABELS["zones"],
        style_function=style,
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=False),
        tooltip=folium.GeoJsonTooltip(fields=["reference", "taux_texte"], aliases=["PM", "Taux"]),
    ).add_to(fmap)


def add_points(
    fmap: folium.Map,
    rows: list[dict[str, Any]],
    *,
    name: str,
    fields: list[str],
    aliases: list[str],
    colour: str | Callable[[dict[str, Any]], str],
    radius: float = 5,
    hollow: bool = False,
    show: bool = True,
) -> None:
    """Points as canvas circle markers (one GeoJSON layer) with a French popup."""
    data = feature_collection(rows, fields + (["etat"] if callable(colour) else []))
    if not data["features"]:
        return

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        c = colour(feature["properties"]) if callable(colour) else colour
        fill = "#ffffff" if hollow else c
        return {
            "color": c,
            "fill": True,
            "fillColor": fill,
            "fillOpacity": 0.9,
            "weight": 2 if hollow else 1,
        }

    folium.GeoJson(
        data,
        name=name,
        show=show,
        marker=folium.CircleMarker(radius=radius),
        style_function=style,
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=False),
    ).add_to(fmap)


def _popup(title: str, lines: list[tuple[str, Any]]) -> folium.Popup:
    body = "".join(
        f"<br><b>{escape(k)}</b> : {escape(str(_plain(v)))}" for k, v in lines if _plain(v) != ""
    )
    return folium.Popup(f"<strong>{escape(title)}</strong>{body}", max_width=320)


def _symbol(char: str, colour: str, name: str) -> folium.DivIcon:
    """A text symbol as marker; `name` is what screen readers say for it (Leaflet makes the
    marker a focusable button)."""
    return folium.DivIcon(
        html=f'<span class="symbole-carte" style="color:{colour}" role="img" '
        f'aria-label="{escape(name)}">{char}</span>',
        icon_size=(18, 18),
        icon_anchor=(9, 9),
        class_name="marqueur-symbole",
    )


def _mobile_popup(s: dict[str, Any]) -> folium.Popup:
    late = (
        f"oui, de {s['mois_retard']} mois (échéance légale dépassée)" if s.get("en_retard") else ""
    )
    return _popup(
        f"Site mobile — {s['nom']}",
        [
            ("Programme", st.MOBILE_PROGRAMME_LABELS.get(s["programme"])),
            ("État", st.MOBILE_STATE_LABELS.get(s["etat"], s["etat"])),
            ("Opérateurs", s.get("operateurs")),
            ("Arrêté", s.get("date_arrete")),
            ("Échéance légale", s.get("echeance")),
            ("En retard", late),
            ("Mise en service", s.get("date_mise_en_service")),
            ("Technologies", ", ".join(sorted(s.get("technologies") or {}))),
        ],
    )


def add_sites(fmap: folium.Map, sites: dict[str, list[dict[str, Any]]]) -> None:
    """Pylons (▲, late ones in red with their delay), WiFi bornes in service (circle of their
    radius; others as a dotted ring) and MED cabinets (■) with their state."""
    if sites.get("mobile"):
        group = folium.FeatureGroup(name=st.LAYER_LABELS["mobile"])
        for s in sites["mobile"]:
            late = bool(s.get("en_retard"))
            colour = st.LATE_COLOR if late else st.MOBILE_COLOR
            name = f"Site mobile {s['nom']}" + (" en retard" if late else "")
            folium.Marker(
                [float(s["lat"]), float(s["lon"])],
                icon=_symbol("▲", colour, name),
                tooltip=escape(s["nom"] + (" — en retard" if late else "")),
                popup=_mobile_popup(s),
            ).add_to(group)
        group.add_to(fmap)
    if sites.get("wifi"):
        group = folium.FeatureGroup(name=st.LAYER_LABELS["wifi"])
        for b in sites["wifi"]:
            serving = b.get("etat", "EN_SERVICE") == "EN_SERVICE"
            folium.Circle(
                [float(b["lat"]), float(b["lon"])],
                radius=float(b["rayon_m"]),
                color=st.WIFI_COLOR,
                weight=1.5,
                dash_array=None if serving else "3 5",
                fill=serving,
                fill_opacity=0.25,
                tooltip=escape(b["nom"]),
                popup=_popup(
                    f"Borne WiFi — {b['nom']}",
                    [
                        ("État", st.BORNE_STATE_LABELS.get(b.get("etat", ""), b.get("etat"))),
                        ("Emplacement", str(b["emplacement"]).lower()),
                        ("Rayon", f"{b['rayon_m']} m"),
                        ("Installée le", b.get("date_installation")),
                        ("En service depuis", b.get("date_mise_en_service")),
                    ],
                ),
            ).add_to(group)
        group.add_to(fmap)
    if sites.get("med"):
        group = folium.FeatureGroup(name=st.LAYER_LABELS["med"])
        for m in sites["med"]:
            folium.Marker(
                [float(m["lat"]), float(m["lon"])],
                icon=_symbol("■", st.MED_COLOR, f"Montée en débit {m['nom']}"),
                tooltip=escape(m["nom"]),
                popup=_popup(
                    f"Montée en débit — {m['nom']}",
                    [
                        ("État", st.MED_STATE_LABELS.get(m.get("etat", ""), m.get("etat"))),
                        ("Foyers", m["foyers"]),
                        ("Ouverture", m.get("date_ouverture")),
                        ("Blocage", m.get("cause_blocage") if m.get("bloque") else ""),
                    ],
                ),
            ).add_to(group)
        group.add_to(fmap)


def add_park(fmap: folium.Map, park: gpd.GeoDataFrame | None) -> None:
    """The regional natural park's outline (dashed), when the territory has loaded one."""
    if park is None or park.empty:
        return
    folium.GeoJson(
        park,
        name=st.LAYER_LABELS.get("parc", "Parc naturel régional"),
        style_function=lambda _f: {
            "color": st.PARK_COLOR,
            "weight": 2,
            "fill": False,
            "dashArray": "2 6",
        },
        tooltip=folium.GeoJsonTooltip(fields=["nom"], aliases=["Parc"]),
    ).add_to(fmap)


def zone_legend() -> list[LegendItem]:
    items = [("fill", st.BAND_COLORS[b], st.BAND_LABELS[b]) for b in st.BAND_COLORS]
    return [*items, ("fill", st.NO_LOGEMENT_COLOR, st.NO_LOGEMENT_LABEL)]


def site_legend(sites: dict[str, list[dict[str, Any]]] | None = None) -> list[LegendItem]:
    """Legend of the site layers (only those with sites, when `sites` is given)."""
    items = {
        "mobile": ("symbol:▲", st.MOBILE_COLOR, "Site mobile (pylône) ; en rouge : en retard"),
        "wifi": ("ring", st.WIFI_COLOR, "Borne WiFi et rayon couvert"),
        "med": ("symbol:■", st.MED_COLOR, "Armoire de montée en débit (MED)"),
    }
    return [item for kind, item in items.items() if sites is None or sites.get(kind)]


def fit(fmap: folium.Map, frame: gpd.GeoDataFrame) -> None:
    if not frame.empty:
        minx, miny, maxx, maxy = frame.total_bounds
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])


def build_unit_map(
    zones: gpd.GeoDataFrame,
    outline: gpd.GeoDataFrame,
    *,
    premises: list[dict[str, Any]] | None,
    onereuses: list[dict[str, Any]],
    rad: list[dict[str, Any]],
    oublies: list[dict[str, Any]],
    sites: dict[str, list[dict[str, Any]]],
    tiles: str = "OpenStreetMap",
) -> folium.Map:
    """The unit's map: PM zones by band, premises by state (None: too many, zones only),
    expensive / RAD / forgotten addresses and sites as layers, a French legend."""
    fmap = base_map(tiles)
    add_zones(fmap, zones)
    folium.GeoJson(
        outline,
        name="Limite",
        style_function=lambda _f: {"color": "#000000", "weight": 2.5, "fill": False},
        control=False,
    ).add_to(fmap)
    legend = zone_legend()
    if premises is not None:
        add_points(
            fmap,
            [{**p, "etat_texte": st.PREMISE_STATE_LABELS.get(p["etat"])} for p in premises],
            name=st.LAYER_LABELS["prises"],
            fields=["adresse", "etat_texte", "logements", "pm_reference", "identifiant_immeuble"],
            aliases=["Adresse", "État", "Logements", "Armoire (PM)", "Identifiant"],
            colour=lambda p: st.PREMISE_STATE_COLORS.get(p["etat"], "#999999"),
            radius=3,
        )
        present = {st.PREMISE_STATE_COLORS.get(p["etat"]) for p in premises}
        legend += [("circle", c, label) for c, label in st.PREMISE_LEGEND if c in present]
    add_points(
        fmap,
        [{**r, "cout": f"{french_number(r['cout_par_logement'])} €"} for r in onereuses],
        name=st.LAYER_LABELS["onereuses"],
        fields=["adresse", "logements", "cout", "explication"],
        aliases=["Adresse", "Logements", "Coût estimé par logement", "Pourquoi"],
        colour=st.ONEREUSE_COLOR,
        radius=6,
    )
    add_points(
        fmap,
        [{**r, "etape_texte": st.RAD_STEP_LABELS.get(r["etape"], r["etape"])} for r in rad],
        name=st.LAYER_LABELS["rad"],
        fields=["adresse", "logements", "etape_texte"],
        aliases=["Adresse", "Logements", "Procédure"],
        colour=st.RAD_COLOR,
        radius=6,
    )
    add_points(
        fmap,
        [
            {
                **r,
                "motif_texte": OUBLI_MOTIFS.get(r["motif"], r["motif"]),
                "adresse": oubli_address(r),
            }
            for r in oublies
        ],
        name=st.LAYER_LABELS["oublies"],
        fields=["adresse", "motif_texte"],
        aliases=["Adresse", "Motif"],
        colour=st.OUBLIE_COLOR,
        radius=6,
        hollow=True,
    )
    for rows, item in (
        (onereuses, ("circle", st.ONEREUSE_COLOR, "Prise onéreuse")),
        (rad, ("circle", st.RAD_COLOR, "Raccordable à la demande")),
        (oublies, ("ring", st.OUBLIE_COLOR, "Oublié (zone terminée ou absent du fichier)")),
    ):
        if rows:
            legend.append(item)
    add_sites(fmap, sites)
    Legend([*legend, *site_legend(sites)]).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    fit(fmap, outline if not outline.empty else zones)
    return fmap


OUBLI_MOTIFS = {
    "zone_terminee": "non raccordable dans une zone terminée à plus de 95 %",
    "absente_du_fichier_operateur": "adresse absente du fichier de l'opérateur",
}


def oubli_address(row: dict[str, Any]) -> str:
    """The address of an oublié, whichever list it comes from."""
    if row.get("adresse"):
        return str(row["adresse"])
    parts = [row.get("numero"), row.get("rep"), row.get("nom_voie"), row.get("nom_commune")]
    return " ".join(str(p) for p in parts if p)


def build_rollout_map(
    zones: gpd.GeoDataFrame,
    history: dict[str, list[tuple[int, int]]],
    dates: list[date],
    *,
    tiles: str = "OpenStreetMap",
) -> folium.Map:
    """A second, SVG-rendered map with the time slider replaying the roll-out per quarter."""
    base = st.base_tiles(tiles)
    fmap = folium.Map(tiles=None, control_scale=True)
    folium.TileLayer(base["url"], attr=base["attribution"], name="Fond de carte").add_to(fmap)
    if history and not zones.empty:
        rollout_layer(zones, history, dates).add_to(fmap)
    Legend(
        zone_legend(),
        title="Avancement des zones",
        aria_label="Légende de la carte du déploiement",
    ).add_to(fmap)
    fit(fmap, zones)
    return fmap
