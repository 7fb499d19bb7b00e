"""Benchmark: static web maps of 1k, 10k and 50k parcels in headless Chromium, against plain
folium in the same run (issue 5).

Run: ``python benchmarks/map_bench.py --sizes 1000,10000,50000``. Needs Debian ``chromium`` and
Playwright (both in the dev setup). The first N parcels of one sample district (ward by ward, as
the generator orders them) are ingested into a GeoPackage store per size and read back, so both
variants draw exactly the store's parcels. Each variant builds in its own process:

- ``ours``: :func:`gis.render.build.build_map` + :func:`~gis.render.build.render_html` with the
  parcels layer of ``maps/district.yaml`` (compact payload decoded in the page, canvas, one JS
  style function);
- ``folium`` (baseline): ``folium.GeoJson`` of ``frame.to_crs(4326)`` with the same popup columns,
  a per-feature Python ``style_function`` by land-use group and ``folium.GeoJsonPopup``; folium's
  default renderer (SVG; ``--baseline-canvas`` for ``prefer_canvas=True``). folium's CDN assets
  are replaced by the same locally installed Leaflet (xstatic-leaflet), inlined; jQuery,
  Bootstrap and awesome-markers are stripped (the page does not use them, so the baseline only
  gains from it).

Figures: HTML and map-data size (the HTML minus the inlined Leaflet JS/CSS; MB = 10^6 bytes),
build seconds (build + render to an HTML string, not reading the store), drawn seconds (from
navigation start to two animation frames after ``load``: the vector layer is on screen), zoom
(``setZoom(z±1, {animate: false})`` → ``zoomend`` + two frames) and pan (``panBy`` ±[200, 150]
px → ``moveend`` + two frames) in milliseconds, medians of 5 in and 5 out. Waiting for two frames
makes 33 ms (two 60 Hz frames) the smallest zoom or pan time, and times come in steps of ~17 ms.
Builds and page loads are the median of ``--repeat`` runs, every load in a fresh browser; every
request that is not ``file:``/``data:``/``blob:``/``about:`` is aborted and counted. An empty
Leaflet map with the same inlined Leaflet gives the floor of the drawn time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _bench import peak_gb, run_methods

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
#: Issue 5's targets for a 10k-parcel ward map.
TARGET_N = 10_000
TARGETS = {"data_mb": ("map data", 2.0, "MB"), "build_s": ("build", 1.0, "s"),
           "drawn_s": ("drawn", 0.6, "s"), "zoom_ms": ("zoom", 100.0, "ms"),
           "pan_ms": ("pan", 100.0, "ms")}
SLACK = 1.03  # ingest a few more source rows: about 1 % are quarantined by validation


# --- data ------------------------------------------------------------------------------------

def make_data(sizes: list[int], work: Path) -> None:
    """One sample district; for each size a store holding its first N (valid) parcels."""
    from gis.ingest import ingest_layer
    from gis.sample import generate_district
    from gis.store import open_store

    n_max = min(1_000_000, int(max(sizes) * SLACK) + 10)
    parcels = generate_district(n_max, seed=7).parcels  # VN-2000 / TM-3 105°00' (EPSG:5897)
    for n in sizes:
        folder = work / f"n{n}"
        folder.mkdir()
        parcels.head(min(len(parcels), int(n * SLACK) + 10)).to_file(
            folder / "source.gpkg", engine="pyogrio")
        ingest_layer(open_store(folder / "store.gpkg"), folder / "source.gpkg", "parcels",
                     user="map_bench")
        (folder / "source.gpkg").unlink()
        (folder / "meta.json").write_text(json.dumps({"n": n}))


def read_parcels(folder: Path):  # type: ignore[no-untyped-def]
    """The store's parcels layer, first N rows; and the seconds the read took."""
    from gis.store import open_store

    n = json.loads((folder / "meta.json").read_text())["n"]
    t = time.perf_counter()
    frame = open_store(folder / "store.gpkg").read("parcels")
    seconds = time.perf_counter() - t
    if len(frame) < n:
        raise SystemExit(f"the store has {len(frame)} valid parcels, fewer than {n}")
    return frame.head(n), seconds


def leaflet_bytes() -> int:
    """Bytes the inlined Leaflet JS and CSS add to a page (same files in both variants)."""
    from gis.render.assets import LEAFLET_CSS, LEAFLET_JS, inline_assets

    refs = f'<script src="{LEAFLET_JS}"></script><link rel="stylesheet" href="{LEAFLET_CSS}"/>'
    return len(inline_assets(refs).encode()) - len(refs.encode())


# --- the two builds ----------------------------------------------------------------------------

def parcels_layer():  # type: ignore[no-untyped-def]
    """``maps/district.yaml`` and its parcels layer (style and popup from ``layers/``)."""
    from gis.catalog import load_catalog, load_map_spec
    from gis.render.build import resolve_layers

    spec = load_map_spec(ROOT / "maps" / "district.yaml")
    layers = resolve_layers(spec, load_catalog(ROOT / "layers"))
    return spec, next(layer for layer in layers if layer.key == "parcels")


def popup_labels(fields: list[str]) -> dict[str, str]:
    """The Vietnamese popup labels our map shows, for the baseline's popup aliases."""
    try:
        from gis.render.labels import field_labels
    except ImportError:  # before gis.render.labels
        from gis.render.build import FIELD_LABELS  # type: ignore[attr-defined]

        return {f: FIELD_LABELS["vi"].get(f, f) for f in fields}
    return field_labels(fields, "vi")


def build_ours(frame):  # type: ignore[no-untyped-def]
    from gis.render.build import build_map, render_html

    spec, layer = parcels_layer()

    def build() -> str:
        return render_html(build_map(spec, [layer], {"parcels": frame}, lang="vi"))

    return build


def local_map(**options):  # type: ignore[no-untyped-def]
    """A plain ``folium.Map`` whose CDN asset list is only the installed Leaflet (inlined later
    by :func:`gis.render.assets.inline_assets`): no jQuery, Bootstrap or awesome-markers."""
    import folium

    from gis.render.assets import LEAFLET_CSS, LEAFLET_JS

    class LocalMap(folium.Map):
        default_js = [("leaflet", LEAFLET_JS)]  # noqa: RUF012 (folium's own attribute)
        default_css = [("leaflet_css", LEAFLET_CSS)]  # noqa: RUF012

    return LocalMap(**options)


def empty_page() -> str:
    """The floor: the same inlined Leaflet and an empty map, no layer."""
    from gis.render.assets import inline_assets

    fmap = local_map(location=[21.06, 105.87], zoom_start=16, tiles=None)
    return inline_assets(fmap.get_root().render())


def build_folium(frame, canvas: bool = False):  # type: ignore[no-untyped-def]
    """Plain folium, as a GeoJson layer is usually made; only the assets are local."""
    import folium

    from gis.render.assets import inline_assets

    _, layer = parcels_layer()
    style = layer.style
    fields = [c for c in layer.popup if c in frame.columns]
    labels = popup_labels(fields)

    def style_function(feature):  # type: ignore[no-untyped-def]
        group = feature["properties"].get(style.by)
        return {"color": style.stroke_color, "weight": style.stroke_width,
                "fillColor": style.colors.get(group, style.default_color),
                "fillOpacity": style.fill_opacity}

    def build() -> str:
        wgs = frame[[*fields, style.by, "geometry"]].to_crs(4326)
        minx, miny, maxx, maxy = wgs.total_bounds
        fmap = local_map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=14,
                        tiles=None, prefer_canvas=canvas, control_scale=True)
        folium.GeoJson(wgs, name="Thửa đất", style_function=style_function,
                       popup=folium.GeoJsonPopup(fields=fields,
                                                 aliases=[labels[f] for f in fields])
                       ).add_to(fmap)
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])
        return inline_assets(fmap.get_root().render())

    return build


def run_method(method: str, work: Path) -> dict[str, float]:
    """Build one variant ``repeat`` times (median), write its HTML to ``work/<method>.html``."""
    options = json.loads((work / "options.json").read_text())
    frame, read_s = read_parcels(work)
    build = build_ours(frame) if method == "ours" else build_folium(frame, options["canvas"])
    times, html = [], ""
    for _ in range(options["repeat"]):
        t = time.perf_counter()
        html = build()
        times.append(time.perf_counter() - t)
    data = html.encode()
    (work / f"{method}.html").write_bytes(data)
    return {"features": len(frame), "read_s": read_s, "build_s": statistics.median(times),
            "html_mb": len(data) / 1e6, "data_mb": (len(data) - leaflet_bytes()) / 1e6,
            "peak_rss_gb": peak_gb()}


# --- the browser -------------------------------------------------------------------------------

# Registered before the page's own scripts: when the page has loaded and two frames have been
# produced after it, the vector layer is on screen.
INIT_JS = """
window.addEventListener("load", function () {
  requestAnimationFrame(function () { requestAnimationFrame(function () {
    window.__benchDrawnAt = performance.now();
  }); });
});
"""

FIND_MAP_JS = """() => {
  // folium keeps the map in a global map_<hash>: find the L.Map instance on window
  for (const k of Object.keys(window)) {
    let v;
    try { v = window[k]; } catch (e) { continue; }
    if (v instanceof L.Map) { window.__benchMap = v; break; }
  }
  const map = window.__benchMap;
  let features = 0, svg = 0, canvas = 0;
  map.eachLayer(function (l) {
    if (window.GisBulkLayer && l instanceof window.GisBulkLayer) {  // one path, many parcels
      features += l.getLayers().length;
      canvas += l.getLayers().length;
    } else if (l.feature && l instanceof L.Path) {
      features += 1;
      if (l._renderer instanceof L.SVG) { svg += 1; } else { canvas += 1; }
    }
  });
  return {features: features, renderer: svg >= canvas ? "svg" : "canvas", zoom: map.getZoom()};
}"""

NAV_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return [nav.domInteractive / 1000, nav.loadEventStart / 1000];
}"""

OP_JS = """async ([kind, sign]) => {
  const map = window.__benchMap;
  const frames = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  await frames();  // start from a quiet page
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
  return performance.now() - t0;
}"""


def measure_page(html: Path, *, loads: int, ops: int, timeout_s: float,
                 screenshot: Path | None = None) -> dict[str, Any]:
    """Load the page ``loads`` times, each in a fresh browser (median drawn time); zoom and pan
    on the last load."""
    from playwright.sync_api import sync_playwright

    drawn, interactive, loaded, blocked, errors = [], [], [], [], []
    info: dict[str, Any] = {}
    zooms: list[float] = []
    pans: list[float] = []
    with sync_playwright() as p:
        for i in range(loads):
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport=VIEWPORT)
                page.set_default_timeout(timeout_s * 1000)

                def route(r):  # type: ignore[no-untyped-def]
                    if r.request.url.startswith(("file:", "data:", "blob:", "about:")):
                        return r.continue_()
                    blocked.append(r.request.url)
                    return r.abort()

                page.route("**/*", route)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.add_init_script(INIT_JS)
                page.goto(html.as_uri(), wait_until="load", timeout=timeout_s * 1000)
                page.wait_for_function("window.__benchDrawnAt !== undefined")
                drawn.append(page.evaluate("window.__benchDrawnAt") / 1000)
                dom_interactive, load = page.evaluate(NAV_JS)
                interactive.append(dom_interactive)
                loaded.append(load)
                if i == loads - 1:
                    info = page.evaluate(FIND_MAP_JS)
                    if screenshot is not None:
                        page.screenshot(path=str(screenshot))
                    for _ in range(ops):
                        zooms.append(page.evaluate(OP_JS, ["zoom", 1]))
                        zooms.append(page.evaluate(OP_JS, ["zoom", -1]))
                    for _ in range(ops):
                        pans.append(page.evaluate(OP_JS, ["pan", 1]))
                        pans.append(page.evaluate(OP_JS, ["pan", -1]))
            finally:
                browser.close()
    out: dict[str, Any] = {**info, "drawn_s": statistics.median(drawn),
                              "dom_interactive_s": statistics.median(interactive),
                              "load_s": statistics.median(loaded), "blocked": len(blocked),
                              "errors": errors}
    if zooms:
        out.update(zoom_ms=statistics.median(zooms), pan_ms=statistics.median(pans))
    return out


# --- report ------------------------------------------------------------------------------------

COLUMNS = (("html_mb", "HTML MB", "{:8.2f}"), ("data_mb", "data MB", "{:8.2f}"),
           ("build_s", "build s", "{:8.2f}"), ("drawn_s", "drawn s", "{:8.2f}"),
           ("zoom_ms", "zoom ms", "{:8.0f}"), ("pan_ms", "pan ms", "{:8.0f}"))


def print_table(n: int, rows: dict[str, dict[str, Any]]) -> None:
    print(f"\n{n:,} parcels")
    print(f"  {'variant':10s}" + "".join(f"{title:>9s}" for _, title, _ in COLUMNS)
          + "  features  renderer  blocked")
    for name, r in rows.items():
        print(f"  {name:10s}" + "".join(
            " " + (fmt.format(r[key]) if key in r else f"{'—':>8s}") for key, _, fmt in COLUMNS)
            + f"  {r.get('features', 0):>8,}  {r.get('renderer', '?')!s:8s}  {r.get('blocked', '—')}")
    ours, base = rows.get("ours"), rows.get("folium")
    if ours and base:
        cells = []
        for key, _, _ in COLUMNS:
            if key in ours and key in base and ours[key]:
                cells.append(f"{base[key] / ours[key]:7.1f}×")
            else:
                cells.append(f"{'—':>8s}")
        print(f"  {'folium/ours':10s}" + "".join(" " + c for c in cells))
    for name, r in rows.items():
        if r.get("errors"):
            print(f"  {name}: page errors: {r['errors'][:3]}")
        if "read_s" in r and "load_s" in r:
            print(f"  {name}: store read {r['read_s']:.2f} s (not in build), page parsed and its "
                  f"scripts run at {r['dom_interactive_s']:.2f} s, load at {r['load_s']:.2f} s, "
                  f"peak build memory {r['peak_rss_gb']:.2f} GB")
    if n == TARGET_N and ours:
        verdicts = []
        for key, (what, limit, unit) in TARGETS.items():
            if key not in ours:
                verdicts.append(f"{what} not measured")
                continue
            value = f"{ours[key]:.0f}" if unit == "ms" else f"{ours[key]:.2f}"
            verdicts.append(f"{what} {value} {unit} (≤ {limit:g}) "
                            f"{'PASS' if ours[key] <= limit else 'MISS'}")
        print("  targets, ours at 10k: " + "; ".join(verdicts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,50000",
                        help="parcel counts, comma-separated (default 1000,10000,50000)")
    parser.add_argument("--skip-baseline", action="store_true", help="only our map")
    parser.add_argument("--baseline-max", type=int, default=None,
                        help="no folium baseline above this many parcels")
    parser.add_argument("--baseline-canvas", action="store_true",
                        help="folium with prefer_canvas=True instead of its default SVG")
    parser.add_argument("--repeat", type=int, default=3, help="builds and page loads (median)")
    parser.add_argument("--ops", type=int, default=5, help="zooms (in and out) and pans each way")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds a page may take to load (plain folium at 50k: ~20 s)")
    parser.add_argument("--screenshot-dir", type=Path,
                        help="save map_bench_<N>k.png of our map (…_folium.png for the baseline)")
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.method:
        print(json.dumps(run_method(args.method, args.work)))
        return
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"chromium not found ({CHROMIUM}): apt-get install chromium")
    print(f"Chromium {CHROMIUM}, headless, viewport {VIEWPORT['width']}×{VIEWPORT['height']}, "
          f"requests other than file:/data: aborted; medians of {args.repeat} builds and "
          f"{args.repeat} loads (fresh browser each), zoom/pan medians of {2 * args.ops}")
    print(f"baseline: plain folium GeoJson + GeoJsonPopup + Python style_function, "
          f"{'canvas' if args.baseline_canvas else 'SVG (folium default)'}; Leaflet inlined from "
          "xstatic-leaflet like ours; jQuery, Bootstrap, awesome-markers stripped")
    with tempfile.TemporaryDirectory(prefix="gis-map-bench-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        # the data is made in its own process so that the parent stays small
        code = ("import sys, json; sys.path.insert(0, sys.argv[1]); import map_bench as b; "
                "from pathlib import Path; b.make_data(json.loads(sys.argv[2]), Path(sys.argv[3]))")
        subprocess.run([sys.executable, "-c", code,
                        str(Path(__file__).parent), json.dumps(sizes), str(work)],
                        check=True, capture_output=True)
        print(f"sample parcels for {', '.join(f'{n:,}' for n in sizes)} generated and ingested "
              f"in {time.perf_counter() - t:.1f} s")
        (work / "empty.html").write_text(empty_page(), encoding="utf-8")
        floor = measure_page(work / "empty.html", loads=args.repeat, ops=0,
                             timeout_s=args.timeout)
        print(f"floor: an empty Leaflet map (same inlined Leaflet, no layer) is drawn at "
              f"{floor['drawn_s']:.2f} s")
        for n in sizes:
            folder = work / f"n{n}"
            (folder / "options.json").write_text(json.dumps(
                {"repeat": args.repeat, "canvas": args.baseline_canvas}))
            methods = ["ours"]
            if not args.skip_baseline and (args.baseline_max is None or n <= args.baseline_max):
                methods.append("folium")
            rows: dict[str, dict[str, Any]] = dict(run_methods(__file__, tuple(methods), folder))
            for name, r in rows.items():
                shot = None
                if args.screenshot_dir is not None:
                    args.screenshot_dir.mkdir(parents=True, exist_ok=True)
                    suffix = "" if name == "ours" else f"_{name}"
                    shot = args.screenshot_dir / f"map_bench_{n // 1000}k{suffix}.png"
                try:
                    r.update(measure_page(folder / f"{name}.html", loads=args.repeat,
                                          ops=args.ops, timeout_s=args.timeout, screenshot=shot))
                except Exception as exc:  # noqa: BLE001 (a page that times out is a finding)
                    r["errors"] = [f"{type(exc).__name__}: {str(exc)[:300]}"]
            print_table(n, rows)


if __name__ == "__main__":
    main()
