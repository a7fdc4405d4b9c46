"""/ogc: OGC API - Features - Part 1: Core 1.0 (core, geojson, oas30) over the public collections,
so QGIS, GDAL and the State's portals read our data without a bespoke client. Read only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from geo_service.analysis import open_data
from geo_service.analysis.layers import territory_bounds
from geo_service.api.deps import SessionDep, SettingsDep, in_thread
from geo_service.api.routes import export_gpkg

api = APIRouter(prefix="/ogc", tags=["ogc"])

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
JSON = "application/json"
GEOJSON = "application/geo+json"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _json(body: dict[str, Any], media_type: str = JSON) -> Response:
    return Response(json.dumps(body, ensure_ascii=False).encode("utf-8"), media_type=media_type)


def _link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


@api.get("", summary="Page d'accueil OGC API - Features")
def landing(request: Request) -> Response:
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    return _json(
        {
            "title": "geo_service : données ouvertes du très haut débit",
            "description": "Zones PM, communes, EPCI, locaux, NRO, sites mobiles, bornes WiFi "
            "et sites MED, en OGC API - Features (GeoJSON, CRS84).",
            "links": [
                _link(base, "self", JSON, "Cette page"),
                _link(
                    f"{root}/openapi.json",
                    "service-desc",
                    "application/vnd.oai.openapi+json;version=3.0",
                    "Définition de l'API (OpenAPI)",
                ),
                _link(f"{root}/docs", "service-doc", "text/html", "Documentation de l'API"),
                _link(f"{base}/conformance", "conformance", JSON, "Classes de conformité"),
                _link(f"{base}/collections", "data", JSON, "Collections"),
            ],
        }
    )


@api.get("/conformance", summary="Classes de conformité")
def conformance() -> Response:
    return _json({"conformsTo": CONFORMANCE})


def _collection_body(
    request: Request, coll: open_data.Collection, bounds: tuple[float, float, float, float]
) -> dict[str, Any]:
    items = f"{_base(request)}/collections/{coll.id}/items"
    extent: dict[str, Any] = {"spatial": {"bbox": [list(bounds)], "crs": CRS84}}
    if coll.temporal:
        extent["temporal"] = {"interval": [[None, None]]}
    return {
        "id": coll.id,
        "title": coll.title,
        "description": f"{coll.description} Source : {coll.source}.",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": extent,
        "links": [
            _link(f"{_base(request)}/collections/{coll.id}", "self", JSON, coll.title),
            _link(items, "items", GEOJSON, f"{coll.title} (GeoJSON)"),
        ],
    }


@api.get("/collections", summary="Collections publiées")
async def collections(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    bounds = await in_thread(session, lambda conn: territory_bounds(conn, settings.departement))
    return _json(
        {
            "links": [_link(f"{_base(request)}/collections", "self", JSON, "Collections")],
            "collections": [
                _collection_body(request, c, bounds) for c in open_data.COLLECTIONS.values()
            ],
        }
    )


@api.get("/collections/{collection_id}", summary="Une collection")
async def collection(
    collection_id: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    coll = open_data.collection(collection_id)
    bounds = await in_thread(session, lambda conn: territory_bounds(conn, settings.departement))
    return _json(_collection_body(request, coll, bounds))


@api.get("/collections/{collection_id}/items", summary="Objets d'une collection (GeoJSON)")
async def items(
    collection_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limit: int = Query(
        open_data.DEFAULT_LIMIT,
        ge=1,
        description=f"Nombre d'objets par page (au plus {open_data.MAX_LIMIT}, ramené sinon)",
    ),
    offset: int = Query(0, ge=0, le=10_000_000, description="Rang du premier objet"),
    bbox: str | None = Query(
        None, max_length=200, description="lon_min,lat_min,lon_max,lat_max (CRS84)"
    ),
    datetime_: str | None = Query(
        None,
        alias="datetime",
        max_length=60,
        description="Date des chiffres (zones, communes, EPCI) : AAAA-MM-JJ ou intervalle",
    ),
) -> Response:
    coll = open_data.collection(collection_id)
    box = open_data.parse_bbox(bbox)
    as_of = open_data.parse_datetime(datetime_) if coll.temporal else None
    limit = min(limit, open_data.MAX_LIMIT)
    code = settings.departement

    def serve(conn: Connection) -> Response:
        matched = open_data.count(conn, coll, code, box)
        page = open_data.features(
            conn, coll, code, bbox=box, limit=limit, offset=offset, as_of=as_of
        )
        url = f"{_base(request)}/collections/{coll.id}/items"

        def at(start: int) -> str:
            query = {k: v for k, v in request.query_params.items() if k not in ("offset", "limit")}
            return f"{url}?{urlencode({**query, 'limit': limit, 'offset': start})}"

        links = [
            _link(at(offset), "self", GEOJSON, "Cette page"),
            _link(f"{_base(request)}/collections/{coll.id}", "collection", JSON, coll.title),
        ]
        if offset + len(page) < matched:
            links.append(_link(at(offset + limit), "next", GEOJSON, "Page suivante"))
        if offset > 0:
            links.append(_link(at(max(0, offset - limit)), "prev", GEOJSON, "Page précédente"))
        return _json(
            {
                "type": "FeatureCollection",
                "features": page,
                "links": links,
                "numberMatched": matched,
                "numberReturned": len(page),
                "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            GEOJSON,
        )

    return await in_thread(session, serve)


@api.get("/collections/{collection_id}/items/{feature_id:path}", summary="Un objet (GeoJSON)")
async def item(
    collection_id: str,
    feature_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    datetime_: str | None = Query(None, alias="datetime", max_length=60),
) -> Response:
    coll = open_data.collection(collection_id)
    as_of = open_data.parse_datetime(datetime_) if coll.temporal else None
    body = await in_thread(
        session,
        lambda conn: open_data.feature(conn, coll, settings.departement, feature_id[:200], as_of),
    )
    base = f"{_base(request)}/collections/{coll.id}"
    body["links"] = [
        _link(f"{base}/items/{quote(feature_id, safe='')}", "self", GEOJSON, "Cet objet"),
        _link(base, "collection", JSON, coll.title),
    ]
    return _json(body, GEOJSON)


# what main.py includes: the OGC API and the GeoPackage download of the same collections
router = APIRouter()
router.include_router(api)
router.include_router(export_gpkg.router)
