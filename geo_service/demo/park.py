"""The regional natural park of the demo (Parc naturel régional des Causses du Quercy): an
approximate outline around the causses communes it covers, written as INPN publishes its
layers (GeoJSON in EPSG:4326 with `id_mnhn` and `nom_site`)."""

from __future__ import annotations

import json

import geopandas as gpd
import shapely

from geo_service.demo.places import find_commune
from geo_service.demo.territory import L93, WGS84, Territory

PARK_ID, PARK_NAME = "FR8000040", "Causses du Quercy"
# communes of the causses of Gramat and Limogne, the Célé and Lot valleys between them
PARK_COMMUNES = (
    "Alvignac",
    "Rocamadour",
    "Gramat",
    "Reilhac",
    "Séniergues",
    "Montfaucon",
    "Frayssinet",
    "Cœur de Causse",
    "Caniac-du-Causse",
    "Assier",
    "Livernon",
    "Espédaillac",
    "Marcilhac-sur-Célé",
    "Cajarc",
    "Limogne-en-Quercy",
    "Varaire",
    "Lalbenque",
    "Concots",
    "Saint-Cirq-Lapopie",
    "Bouziès",
    "Saint-Géry-Vers",
    "Cabrerets",
    "Lauzès",
    "Les Pechs-du-Vers",
)
BUFFER_M = 3000.0


def park_outline(territory: Territory) -> shapely.Geometry | None:
    """The park (Lambert-93): hull of its communes' bourgs, widened, clipped to the territory;
    None for a territory without these communes."""
    communes = territory.communes
    found = [p for n in PARK_COMMUNES if (p := find_commune(communes, n)) is not None]
    if len(found) < 3:
        return None
    centres = shapely.MultiPoint([communes.iloc[p]["centre"] for p in found])
    outline = shapely.union_all(communes.geometry.values)
    park = centres.convex_hull.buffer(BUFFER_M, quad_segs=4).intersection(outline)
    return shapely.simplify(park, 150.0)


def park_geojson(park: shapely.Geometry) -> bytes:
    """The park as a GeoJSON FeatureCollection in WGS84 (coordinates to 6 decimals)."""
    geom = gpd.GeoSeries([park], crs=L93).to_crs(WGS84).iloc[0]
    geom = shapely.set_precision(geom, 1e-6)
    if geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    feature = {
        "type": "Feature",
        "properties": {"id_mnhn": PARK_ID, "nom_site": PARK_NAME, "date_crea": "1999-10-01"},
        "geometry": shapely.geometry.mapping(geom),
    }
    collection = {
        "type": "FeatureCollection",
        "name": "pnr_causses_du_quercy",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [feature],
    }
    return (json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
