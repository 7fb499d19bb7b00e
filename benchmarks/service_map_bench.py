"""Benchmark: the service's web map of a 100k-parcel district in headless Chromium, against the
plain folium map of the same parcels in the same run (issue 6).

Run: ``python benchmarks/service_map_bench.py [--parcels 100000] [--loads 3]``. Needs Debian
``chromium``, Playwright and the map plugins (``scripts/vendor``).

1. A sample district of N parcels is generated and loaded as ``scripts/demo`` does (wards,
   parcels, projects, buildings, the clearance sheet and report, violation detection) into a
   store in a temporary folder (``--store`` reuses one).
2. ``gis serve`` runs on a free loopback port; a viewer signs in through the form. The map page
   ``/maps/district`` is opened ``--loads`` times, each in a fresh browser (empty HTTP cache):
   the first against a server that has not read the store yet (*cold*: layers read and
   projected, tiles encoded), the others against a warm one. Figures, from navigation start:
   **first parcels drawn** (the first parcels tile on the canvas: VectorGrid's ``tileload``
   with features), **all parcels in view** (its ``load``), and the megabytes of tiles. On the
   last load: **zoom** (``setZoom(z±1)`` → ``zoomend`` + two frames) and **pan** (``panBy``
   ±[200, 150] px → ``moveend`` + two frames) as in benchmarks/map_bench.py, and the time until
   the new tiles are drawn ("settled"); medians of ``2 × --ops``.
3. Tiles from one client over HTTP, on a fresh server: every tile of zoom 15-18 under a
   sample of points; the first request of each (encoded) and the second (LRU), p50 and p95.
4. Our numpy encoder against ``mapbox_vector_tile.encode`` on the same features of one tile.
5. Baseline: plain folium (``folium.GeoJson`` + ``GeoJsonPopup`` + a Python style function,
   Leaflet inlined locally: benchmarks/map_bench.py ``folium``) of the same parcels, built in its
   own process and drawn in the same Chromium; ``--baseline-max`` skips it above a size.

Every request that is not to the loopback server (or ``file:``/``data:``/``blob:``) is aborted
and counted; page errors are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _bench import run_methods
from map_bench import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, measure_page

PASSWORD = "bench-viewer-2026"
TARGETS = {"first_parcels_s": 1.5, "zoom_ms": 100.0, "pan_ms": 100.0}
LOCAL = ("http://127.0.0.1", "data:", "blob:", "about:", "file:")


# --- data and server -------------------------------------------------------------------------

def build_store(work: Path, parcels: int) -> Path:
    """The sample district as scripts/demo loads it."""
    store = work / "store.gpkg"
    env = {**os.environ, "GIS_STORE": str(store), "GIS_DATA_DIR": str(work),
           "GIS_CATALOG": str(ROOT / "layers")}

    def gis(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "gis.cli", *args], env=env, cwd=ROOT, check=True,
                       capture_output=True)

    src = work / "src"
    gis("sample", "--parcels", str(parcels), "--seed", "1", "--out", str(src))
    for kind, name in (("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                       ("projects", "projects.shp"), ("buildings", "buildings.gpkg")):
        gis("ingest", kind, str(src / name))
    gis("ingest", "clearance", str(src / "clearance.xlsx"), "--known-on", "31/12/2024")
    gis("clearance", "report")
    gis("violations", "detect")
    return store


def add_viewer(store: Path) -> None:
    from gis.api.auth.security import AuthError, UserDB

    users = UserDB(store.parent / "service.db")
    try:
        users.add("bench", "viewer", PASSWORD)
    except AuthError:
        users.set_password("bench", PASSWORD)


class Server:
    """``gis serve`` on a free loopback port."""

    def __init__(self, store: Path) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "GIS_STORE": str(store), "GIS_DATA_DIR": str(store.parent),
               "GIS_CATALOG": str(ROOT / "layers"), "GIS_MAPS": str(ROOT / "maps")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gis.cli", "serve", "--host", "127.0.0.1", "--port",
             str(self.port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)

    def __enter__(self):  # type: ignore[no-untyped-def]
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/login", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("gis serve did not answer within 60 s")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


# --- the service's map in Chromium -----------------------------------------------------------

OP_JS = """async ([kind, sign]) => {
  const map = window.gisMap, layer = window.gisLayers.parcels;
  const frames = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const settled = () => new Promise(r => {
    if (layer._noTilesToLoad()) { r(); } else { layer.once("load", r); } });
  await frames();
  await settled();
  const t0 = performance.now();
  await new Promise(resolve => {
    if (kind === "zoom") {
      map.once("zoomend", resolve);
      map.setZoom(map.getZoom() + sign, {animate: false});
    } else {
      map.once("moveend", resolve);
      map.panBy([200 * sign, 150 * sign], {animate: false});
    }
  });
  await frames();
  const shown = performance.now() - t0;
  await settled();
  await frames();
  return [shown, performance.now() - t0];
}"""

OPEN_JS = """() => {
  const s = window.gisStats;
  const tiles = performance.getEntriesByType("resource").filter(e => e.name.includes("/tiles/"));
  const nav = performance.getEntriesByType("navigation")[0];
  return {first_parcels_s: s.firstDrawn.parcels / 1000, all_parcels_s: s.loaded.parcels / 1000,
          html_s: nav.responseEnd / 1000, tiles: tiles.length,
          tile_mb: tiles.reduce((a, e) => a + (e.encodedBodySize || 0), 0) / 1e6,
          features: s.features.parcels, zoom: window.gisMap.getZoom()};
}"""


def sign_in(browser, url: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url + "/login")
    page.fill("input[name=name]", "bench")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    state = context.storage_state()
    context.close()
    return state


def measure_service(url: str, *, loads: int, ops: int, timeout_s: float,
                    screenshot: Path | None) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    errors: list[str] = []
    opens: list[dict[str, float]] = []
    zooms: list[list[float]] = []
    pans: list[list[float]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        state = sign_in(browser, url)
        browser.close()
        for i in range(loads):
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport=VIEWPORT, storage_state=state)
                page = context.new_page()
                page.set_default_timeout(timeout_s * 1000)

                def route(r):  # type: ignore[no-untyped-def]
                    if r.request.url.startswith(LOCAL):
                        return r.continue_()
                    blocked.append(r.request.url)
                    return r.abort()

                page.route("**/*", route)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.goto(url + "/maps/district")
                page.wait_for_function("window.gisStats && window.gisStats.loaded.parcels "
                                       "!== undefined && window.gisReady === true")
                opens.append(page.evaluate(OPEN_JS))
                if i == loads - 1:
                    if screenshot is not None:
                        page.screenshot(path=str(screenshot))
                    for _ in range(ops):
                        zooms.append(page.evaluate(OP_JS, ["zoom", 1]))
                        zooms.append(page.evaluate(OP_JS, ["zoom", -1]))
                    for _ in range(ops):
                        pans.append(page.evaluate(OP_JS, ["pan", 1]))
                        pans.append(page.evaluate(OP_JS, ["pan", -1]))
                page.unroute_all(behavior="ignoreErrors")
            finally:
                browser.close()
    warm = opens[1:] or opens

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    return {"cold": opens[0], "first_parcels_s": med(warm, "first_parcels_s"),
            "all_parcels_s": med(warm, "all_parcels_s"), "html_s": med(warm, "html_s"),
            "tile_mb": med(warm, "tile_mb"), "tiles": med(warm, "tiles"),
            "features": med(warm, "features"), "zoom": opens[-1]["zoom"],
            "zoom_ms": statistics.median(z[0] for z in zooms),
            "zoom_settled_ms": statistics.median(z[1] for z in zooms),
            "pan_ms": statistics.median(p[0] for p in pans),
            "pan_settled_ms": statistics.median(p[1] for p in pans),
            "blocked": len(blocked), "errors": errors}


# --- tiles over HTTP, and the encoders --------------------------------------------------------

def tile_addresses(store: Path, points: int) -> list[tuple[int, int, int]]:
    import math

    from gis.io.write import reproject
    from gis.store import open_store

    parcels = open_store(store).read("parcels", columns=["parcel_key"])
    pts = reproject(parcels.sample(min(points, len(parcels)), random_state=1)[["geometry"]]
                    .representative_point().to_frame("geometry"), "EPSG:4326").geometry
    out = set()
    for pt in pts:
        for z in (15, 16, 17, 18):
            n = 2 ** z
            out.add((z, int((pt.x + 180) / 360 * n),
                     int((1 - math.asinh(math.tan(math.radians(pt.y))) / math.pi) / 2 * n)))
    return sorted(out)


def measure_tiles(url: str, store: Path, points: int) -> dict[str, object]:
    import httpx

    from gis.api.auth.security import UserDB

    token = UserDB(store.parent / "service.db").new_token("bench")
    headers = {"Authorization": f"Bearer {token}"}
    addresses = tile_addresses(store, points)
    out: dict[str, object] = {"tiles": len(addresses)}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        t = time.perf_counter()
        client.get("/tiles/parcels/0/0/0.mvt?properties=style")  # the layer is read once
        out["layer_load_s"] = time.perf_counter() - t
        for label in ("encoded", "cached"):
            times, sizes = [], []
            for z, x, y in addresses:
                t = time.perf_counter()
                res = client.get(f"/tiles/parcels/{z}/{x}/{y}.mvt?properties=style")
                times.append((time.perf_counter() - t) * 1000)
                sizes.append(len(res.content))
            times.sort()
            out[label] = {"p50_ms": statistics.median(times),
                          "p95_ms": times[int(0.95 * (len(times) - 1))],
                          "max_ms": times[-1], "mean_kb": statistics.mean(sizes) / 1024}
    return out


def compare_encoders(store: Path, z: int = 16) -> dict[str, float]:
    """Our encoder and mapbox_vector_tile on the features of one parcels tile (mid-district)."""
    import mapbox_vector_tile
    import numpy as np
    import shapely

    from gis.api.tiles import mvt
    from gis.api.tiles.cache import MapRegistry, TileCache
    from gis.api.tiles.sources import render_tile
    from gis.store import open_store

    served = MapRegistry(ROOT / "maps", ROOT / "layers").layer("parcels")
    data = TileCache(1 << 20).layer(open_store(store), served)
    b = data.bounds
    x, y = mvt.tile_of((np.nanmin(b[:, 0]) + np.nanmax(b[:, 2])) / 2,
                       (np.nanmin(b[:, 1]) + np.nanmax(b[:, 3])) / 2, z)
    bounds = mvt.tile_bounds(z, x, y)
    data.columns(served.fields)  # encoded once per layer, not per tile
    t = time.perf_counter()
    ours = render_tile(data, z, x, y, served.fields)
    ours_s = time.perf_counter() - t
    pad = (bounds[2] - bounds[0]) * mvt.BUFFER / mvt.EXTENT  # the same features: tile + buffer
    rows = np.sort(data.tree.query(shapely.box(bounds[0] - pad, bounds[1] - pad,
                                               bounds[2] + pad, bounds[3] + pad)))
    records = data.records(rows, served.fields)
    t = time.perf_counter()
    features = [{"geometry": data.geoms[r], "id": int(r) + 1,
                 "properties": {k: v for k, v in rec.items() if v is not None}}
                for r, rec in zip(rows, records)]
    theirs = mapbox_vector_tile.encode([{"name": "parcels", "features": features}],
                                       default_options={"quantize_bounds": bounds,
                                                        "extents": mvt.EXTENT})
    theirs_s = time.perf_counter() - t
    n_ours = len(mapbox_vector_tile.decode(ours)["parcels"]["features"])
    n_theirs = len(mapbox_vector_tile.decode(theirs)["parcels"]["features"])
    return {"z": z, "features_ours": n_ours, "features_mvt": n_theirs, "ours_ms": ours_s * 1000,
            "mvt_ms": theirs_s * 1000, "ours_kb": len(ours) / 1024, "mvt_kb": len(theirs) / 1024}


# --- the baseline ------------------------------------------------------------------------------

def baseline(store: Path, work: Path, *, timeout_s: float) -> dict[str, object]:
    """Plain folium of the same parcels (benchmarks/map_bench.py, method ``folium``)."""
    from gis.store import open_store

    folder = work / "folium"
    folder.mkdir()
    shutil.copy(store, folder / "store.gpkg")
    n = len(open_store(store).read("parcels", columns=["parcel_key"]))
    (folder / "meta.json").write_text(json.dumps({"n": n}))
    (folder / "options.json").write_text(json.dumps({"repeat": 1, "canvas": False}))
    rows = run_methods(str(Path(__file__).parent / "map_bench.py"), ("folium",), folder)
    if "folium" not in rows:
        return {"errors": ["build failed"]}
    result = dict(rows["folium"])
    try:
        result.update(measure_page(folder / "folium.html", loads=1, ops=2, timeout_s=timeout_s))
    except Exception as exc:  # noqa: BLE001  (a page that times out is a finding)
        result["errors"] = [f"{type(exc).__name__}: {str(exc)[:300]}"]
    return result


# --- report ------------------------------------------------------------------------------------

def report(n: int, ours: dict, tiles: dict, encoders: dict, base: dict | None) -> None:
    cold = ours["cold"]
    print(f"\n{n:,} parcels, viewport {VIEWPORT['width']}×{VIEWPORT['height']}, map opens at "
          f"zoom {cold['zoom']}")
    print(f"  service, cold server : first parcels {cold['first_parcels_s']:.2f} s, all in view "
          f"{cold['all_parcels_s']:.2f} s ({cold['tiles']} tiles, {cold['tile_mb']:.1f} MB)")
    print(f"  service, warm (median): page HTML {ours['html_s']:.2f} s, first parcels "
          f"{ours['first_parcels_s']:.2f} s, all in view {ours['all_parcels_s']:.2f} s "
          f"({ours['features']:,.0f} features drawn, {ours['tile_mb']:.1f} MB of tiles)")
    print(f"  zoom {ours['zoom_ms']:.0f} ms (new tiles drawn {ours['zoom_settled_ms']:.0f} ms), "
          f"pan {ours['pan_ms']:.0f} ms (new tiles drawn {ours['pan_settled_ms']:.0f} ms); "
          f"blocked requests {ours['blocked']}, page errors {len(ours['errors'])}")
    if base is not None:
        if "drawn_s" in base:
            print(f"  plain folium          : HTML {base['html_mb']:.0f} MB built in "
                  f"{base['build_s']:.1f} s, drawn {base['drawn_s']:.1f} s, zoom "
                  f"{base['zoom_ms']:.0f} ms, pan {base['pan_ms']:.0f} ms "
                  f"({base.get('features', 0):,} features, {base.get('renderer')})")
            print(f"  folium/service        : drawn {base['drawn_s'] / ours['first_parcels_s']:.0f}× "
                  f"(first parcels), {base['drawn_s'] / ours['all_parcels_s']:.0f}× (all in view); "
                  f"zoom {base['zoom_ms'] / max(ours['zoom_ms'], 1e-3):.1f}×, pan "
                  f"{base['pan_ms'] / max(ours['pan_ms'], 1e-3):.1f}×")
        else:
            print(f"  plain folium          : {base.get('errors')}")
    enc, cac = tiles["encoded"], tiles["cached"]
    print(f"  tiles z15-18 over HTTP ({tiles['tiles']} tiles, one client, layer read "
          f"{tiles['layer_load_s']:.2f} s): encoded p50 {enc['p50_ms']:.1f} ms p95 "
          f"{enc['p95_ms']:.1f} ms max {enc['max_ms']:.0f} ms ({enc['mean_kb']:.0f} KB); "
          f"cached p50 {cac['p50_ms']:.1f} ms p95 {cac['p95_ms']:.1f} ms")
    print(f"  encoder, one z{encoders['z']} tile, all properties: ours {encoders['ours_ms']:.0f} ms "
          f"({encoders['features_ours']} features, {encoders['ours_kb']:.0f} KB), "
          f"mapbox_vector_tile {encoders['mvt_ms']:.0f} ms ({encoders['features_mvt']} features, "
          f"{encoders['mvt_kb']:.0f} KB): {encoders['mvt_ms'] / encoders['ours_ms']:.0f}×")
    verdicts = [f"{k.rsplit('_', 1)[0]} {ours[k]:.2f} ≤ {v:g} "
                f"{'PASS' if ours[k] <= v else 'MISS'}" for k, v in TARGETS.items()]
    print("  targets (warm): " + "; ".join(verdicts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--store", type=Path, help="use this store (a copy is served)")
    parser.add_argument("--loads", type=int, default=4, help="page loads (the first is cold)")
    parser.add_argument("--ops", type=int, default=5, help="zooms (in and out) and pans each way")
    parser.add_argument("--tile-points", type=int, default=40,
                        help="sample points whose z15-18 tiles are timed over HTTP")
    parser.add_argument("--baseline-max", type=int, default=None,
                        help="no folium baseline above this many parcels")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--screenshot-dir", type=Path)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"chromium not found ({CHROMIUM}): apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="gis-service-map-bench-") as tmp:
        work = Path(tmp)
        if args.store:
            store = work / "store.gpkg"
            shutil.copy(args.store, store)
        else:
            t = time.perf_counter()
            store = build_store(work, args.parcels)
            print(f"sample district of {args.parcels:,} parcels loaded in "
                  f"{time.perf_counter() - t:.0f} s", flush=True)
        add_viewer(store)
        from gis.store import open_store

        n = len(open_store(store).read("parcels", columns=["parcel_key"]))
        shot = None
        if args.screenshot_dir:
            args.screenshot_dir.mkdir(parents=True, exist_ok=True)
            shot = args.screenshot_dir / f"service_map_{n // 1000}k.png"
        with Server(store) as server:
            ours = measure_service(server.url, loads=args.loads, ops=args.ops,
                                   timeout_s=args.timeout, screenshot=shot)
        with Server(store) as server:
            tiles = measure_tiles(server.url, store, args.tile_points)
        encoders = compare_encoders(store)
        base = None
        if args.baseline_max is None or n <= args.baseline_max:
            print("plain folium baseline (slow at this size) …", flush=True)
            base = baseline(store, work, timeout_s=args.timeout)
        report(n, ours, tiles, encoders, base)
        if ours["errors"]:
            print(f"  page errors: {ours['errors'][:3]}")


if __name__ == "__main__":
    main()
