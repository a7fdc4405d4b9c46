"""Export the pages as static HTML files (for a web server, an intranet or an e-mail)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from fastapi.testclient import TestClient

from geo_service.errors import GeoServiceError
from geo_service.main import create_app
from geo_service.settings import Settings

_ROOT_LINKS = re.compile(r"""(["'(])/(static|tiles|api)/""")


def rebase(html: str, base_url: str) -> str:
    """Point the page's /static, /tiles and /api links at the running service."""
    base = base_url.rstrip("/")
    return _ROOT_LINKS.sub(lambda m: f"{m.group(1)}{base}/{m.group(2)}/", html)


def export_pages(
    settings: Settings,
    out: Path,
    *,
    base_url: str,
    communes: Iterable[str] | None = None,
    on_page: Callable[[str], None] | None = None,
) -> list[Path]:
    """Render every page in-process and write it under `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with TestClient(create_app(settings)) as client:

        def save(url: str, name: str) -> None:
            if on_page:
                on_page(url)
            response = client.get(url)
            if response.status_code != 200:
                raise GeoServiceError(
                    f"Export de {url} impossible : {response.json().get('detail', response.status_code)}"
                )
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(rebase(response.text, base_url), encoding="utf-8")
            written.append(target)

        save("/", "index.html")
        for url, name in (("/technique", "technique.html"), ("/communes", "communes/index.html")):
            if any(getattr(r, "path", None) == url for r in client.app.routes):  # type: ignore[attr-defined]
                save(url, name)
        units = client.get("/api/v1/stats/raccordables", params={"level": "epci"}).json()
        has_epci = any(getattr(r, "path", "") == "/epci/{siren}" for r in client.app.routes)  # type: ignore[attr-defined]
        if has_epci:
            for unit in units:
                save(f"/epci/{unit['code']}", f"epci/{unit['code']}.html")
        if communes is None:
            rows = client.get("/api/v1/stats/raccordables", params={"level": "commune"}).json()
            communes = [r["code"] for r in rows]
        if any(getattr(r, "path", "") == "/communes/{insee}" for r in client.app.routes):  # type: ignore[attr-defined]
            for insee in communes:
                save(f"/communes/{insee}", f"communes/{insee}.html")
    return written
