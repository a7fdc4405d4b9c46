"""A live server on the demo database and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from geo_service.main import create_app
from geo_service.settings import Settings

CHROMIUM = "/usr/bin/chromium"
BASE_MAP_HOST = "tile.openstreetmap.org"
# A 1x1 transparent PNG answered for base-map tiles: the machine has no internet.
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_url(demo_url: str) -> Iterator[str]:
    port = _free_port()
    app = create_app(Settings(database_url=demo_url, departement="46"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class Watched:
    """A page with its console errors and requested hosts recorded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.tiles: list[tuple[str, int]] = []
        page.on(
            "console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None
        )
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", lambda req: self.requests.append(req.url))
        page.on("response", self._response)
        page.route(
            f"https://{BASE_MAP_HOST}/**",
            lambda route: route.fulfill(status=200, content_type="image/png", body=BLANK_PNG),
        )

    def _response(self, response) -> None:  # type: ignore[no-untyped-def]
        if "/tiles/" in response.url:
            self.tiles.append((response.url, response.status))

    def tile_bodies(self, layer: str) -> list[bytes]:
        """Fetch again, through the page's own request context, the tiles the page loaded."""
        urls = [u for u, status in self.tiles if f"/tiles/{layer}/" in u and status == 200]
        return [self.page.request.get(u).body() for u in urls]

    def foreign_hosts(self, own: str) -> set[str]:
        hosts = {url.split("/")[2] for url in self.requests if url.startswith("http")}
        return hosts - {own.split("/")[2], BASE_MAP_HOST}


@pytest.fixture()
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="fr-FR")
    page = context.new_page()
    yield Watched(page)
    context.close()


@pytest.fixture(scope="session")
def screenshots(output_dir: Path) -> Path:
    folder = output_dir / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
