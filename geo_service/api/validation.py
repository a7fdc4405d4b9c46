"""Request validation and HTTP errors answered in French, without echoing the input back (a NaN
in the input made FastAPI's default 422 fail to serialise, i.e. a 500); the OpenAPI describes the
body we actually send."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

HTTP_MESSAGES = {
    400: "Requête illisible.",
    401: "Authentification requise.",
    403: "Accès refusé.",
    404: "Adresse introuvable sur ce service.",
    405: "Méthode non permise pour cette adresse.",
    406: "Format de réponse non disponible.",
    413: "Requête trop volumineuse.",
    415: "Type de contenu non pris en charge.",
}
ERROR_BODY = {
    "title": "Erreur",
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "Message en français"},
        "champs": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Motif par champ refusé",
        },
    },
    "required": ["detail"],
}


def reason(error: dict[str, Any]) -> str:
    """The French reason of one pydantic error (never the value itself)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "obligatoire"
    if kind in ("string_too_long", "too_long"):
        return f"au plus {ctx.get('max_length')} caractères" if "max_length" in ctx else "trop long"
    if kind in ("string_too_short", "too_short"):
        return (
            f"au moins {ctx.get('min_length')} caractères" if "min_length" in ctx else "trop court"
        )
    if kind in ("greater_than_equal", "greater_than"):
        return f"doit être supérieur ou égal à {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"doit être inférieur ou égal à {ctx.get('le', ctx.get('lt'))}"
    if kind == "finite_number":
        return "nombre fini attendu (ni NaN ni infini)"
    if kind.startswith(("int_", "float_", "decimal_")):
        return "nombre attendu"
    if kind.startswith(("date_", "datetime_")):
        return "date AAAA-MM-JJ attendue"
    if kind.startswith("bool_"):
        return "booléen attendu (true ou false)"
    if kind.startswith("string_") or kind == "string_type":
        return "texte attendu" if kind == "string_type" else "caractères non admis"
    if kind in ("json_invalid", "json_type"):
        return "JSON illisible"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "objet JSON attendu"
    if kind == "list_type":
        return "liste attendue"
    if kind in ("enum", "literal_error"):
        return "valeur non admise"
    return "valeur invalide"


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form", "cookie")]
    return ".".join(parts) or "corps de la requête"


def install(app: FastAPI) -> None:
    app.add_middleware(NulByteGuard)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> Response:
        fields: dict[str, str] = {}
        for error in exc.errors():
            fields.setdefault(_field(error.get("loc", ())), reason(error))
        detail = "Requête refusée : " + " ; ".join(f"{k} : {v}" for k, v in fields.items()) + "."
        return JSONResponse({"detail": detail, "champs": fields}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        message = HTTP_MESSAGES.get(exc.status_code, "Requête refusée.")
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            message = "Corps de requête illisible (JSON ou formulaire mal formé)."
        return JSONResponse(
            {"detail": message}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = schema.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = ERROR_BODY
                schemas.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class NulByteGuard:
    """A NUL byte in a path or a query string is refused (PostgreSQL text cannot hold one)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raw_path = scope.get("raw_path") or b""
            query = scope.get("query_string") or b""
            if "\x00" in scope.get("path", "") or b"%00" in raw_path or b"%00" in query:
                response = JSONResponse(
                    {"detail": "Caractère nul interdit dans l'adresse ou les paramètres."},
                    status_code=400,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
