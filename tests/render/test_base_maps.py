"""Base maps: none (default), a province's local tile server, OpenStreetMap; the vector layers
never depend on a base map loading."""

from __future__ import annotations

import http.server
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from gis.cli import cli
from tests.browser import launch
from tests.conftest import make_map_store

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed")

# a 1x1 PNG: what a local tile server answers here for every tile
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a7"
                    "a1a20000000049454e44ae426082")


class _Tiles(http.server.BaseHTTPRequestHandler):
    served: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        _Tiles.served.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args: object) -> None:
        pass


def _build(tmp_path: Path, base_map: str) -> Path:
    spec = tmp_path / f"m-{abs(hash(base_map))}.yaml"
    spec.write_text(f"id: m\ntitle: {{vi: Bản đồ, en: Map}}\nbase_map: '{base_map}'\n"
                    "layers:\n  - layer: wards\n  - layer: parcels\n", encoding="utf-8")
    out = tmp_path / f"{spec.stem}.html"
    res = CliRunner().invoke(cli, ["map", "build", str(spec), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


def _open(page_file: Path, allow_local: bool):  # type: ignore[no-untyped-def]
    """Load the map; requests other than file:// (and loopback when allowed) are aborted."""
    outside: list[str] = []
    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = launch(p, CHROMIUM)
        page = browser.new_page(viewport={"width": 1000, "height": 700})

        def route(r):  # type: ignore[no-untyped-def]
            url = r.request.url
            if url.startswith(("file:", "data:", "blob:")) or (
                    allow_local and url.startswith("http://127.0.0.1:")):
                return r.continue_()
            outside.append(url)
            return r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        page.wait_for_function("window.gisLayers && window.gisLayers.parcels")
        page.wait_for_timeout(800)
        drawn = page.evaluate("window.gisLayers.parcels.getLayers().length")
        tiles = page.evaluate("document.querySelectorAll('img.leaflet-tile-loaded').length")
        browser.close()
    return drawn, tiles, outside, errors


def test_local_tile_server_and_no_base_map(tmp_path, small_parcels, monkeypatch):
    n = len(make_map_store(tmp_path, small_parcels, "ghi chú", monkeypatch).read("parcels"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/tiles/{{z}}/{{x}}/{{y}}.png"
        drawn, tiles, outside, errors = _open(_build(tmp_path, url), allow_local=True)
    finally:
        server.shutdown()
    assert drawn == n and tiles > 0 and outside == [] and errors == []
    assert all(p.startswith("/tiles/") and p.endswith(".png") for p in _Tiles.served)
    drawn, tiles, outside, errors = _open(_build(tmp_path, "none"), allow_local=False)
    assert drawn == n and tiles == 0 and outside == [] and errors == []


def test_osm_base_map_unreachable_still_shows_the_parcels(tmp_path, small_parcels, monkeypatch):
    n = len(make_map_store(tmp_path, small_parcels, "ghi chú", monkeypatch).read("parcels"))
    drawn, tiles, outside, errors = _open(_build(tmp_path, "osm"), allow_local=False)
    assert drawn == n and errors == []
    assert outside and all("tile.openstreetmap.org" in u for u in outside)  # only the tiles
    assert tiles == 0
