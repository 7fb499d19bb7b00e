"""Benchmark: a province on PostGIS — what a service worker holds in memory as the parcels layer
grows, and how fast the map answers (issue 12).

Run: ``python benchmarks/province_bench.py --store STORE.gpkg --database URL [--times 5]``

1. ``STORE.gpkg`` is a loaded sample district (``gis sample --parcels 1000000`` loaded as
   scripts/demo does); it is copied into the database (``gis db copy``) as schema
   ``<schema>`` of ``URL`` (kept: a second run reuses it), and, for the bigger province, into
   ``<schema>_x<times>`` with the parcels copied side by side ``times`` times by SQL (the
   district shifted east by its own width each time, keys prefixed ``2:``, ``3:`` …).
2. Each store — the GeoPackage (the baseline: layers held in memory by each worker), the
   database at 1×, the database at ``times``× — is served by ``gis serve --workers 2`` on a
   loopback port. From the moment the server answers: the map document (``/api/maps/district``)
   and the first parcels tile of the district's middle at zoom 14 (**first parcels**, cold);
   then ``--tiles`` random tiles of zoom 13-18 inside the district's middle third, one client
   (p50/p95 of zooms 15-18, the zooms of parcel work; the median of 13-14, whole quarters of the
   district where a tile carries up to 25 000 parcels); then
   the page again on the warm server (the map document and a parcels tile not yet cached:
   **first parcels, warm**); then each worker's resident memory (``VmRSS`` now, ``VmHWM`` its peak), read from ``/proc``.

Prints one row per store and the ratios to the GeoPackage's figures. Targets: a worker ≤ 600 MB
at 1M and at 5M parcels; first parcels < 1.5 s.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from service_load import _tile, workers_memory  # noqa: E402

PASSWORD = "bench-viewer-2026"
TARGETS = {"worker_mb": 600.0, "first_parcels_s": 1.5}


def _gis(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([sys.executable, "-m", "gis.cli", *args], cwd=ROOT, check=True,
                   env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)


def _location(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def _count(location: str) -> int:
    from gis.store import open_store

    store = open_store(location)
    return int(store.layers().get("parcels", 0)) if store.has("parcels") else 0


def copy_into(gpkg: Path, location: str, parcels: int) -> None:
    """The GeoPackage in the database (skipped when the schema already holds it)."""
    try:
        if _count(location) == parcels:
            return
    except Exception:  # noqa: BLE001 - an absent schema: copy
        pass
    print(f"copying {gpkg} into {location} …", flush=True)
    t = time.perf_counter()
    _gis("db", "copy", str(gpkg), location)
    print(f"  copied in {time.perf_counter() - t:.0f} s", flush=True)


def multiply(source: str, target: str, times: int, parcels: int) -> None:
    """``target``: a copy of ``source`` whose parcels are the district ``times`` times side by
    side (SQL, in the database: minutes where loading through Python would take an hour)."""
    import psycopg

    if _count(target) == parcels * times:
        return
    copy_into_db = _count(target) != parcels
    if copy_into_db:
        print(f"copying {source} to {target} …", flush=True)
        _gis("db", "copy", source, target)
    from gis.store.postgis import split_location

    url, schema = split_location(target)
    print(f"making {times}× the parcels in {schema} …", flush=True)
    t = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as con:
        table = f'"{schema}"."parcels"'
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND "
            "table_name = 'parcels' AND column_name NOT IN ('fid', 'geom', 'parcel_key') "
            "ORDER BY ordinal_position", (schema,))]
        width = con.execute(f"SELECT ST_XMax(e) - ST_XMin(e) FROM (SELECT ST_Extent(geom) e "
                            f"FROM {table}) x").fetchone()[0]
        names = ", ".join(f'"{c}"' for c in cols)
        for k in range(2, times + 1):
            con.execute(f"INSERT INTO {table} (parcel_key, geom, {names}) SELECT "
                        f"'{k}:' || parcel_key, ST_Translate(geom, %s, 0), {names} FROM {table} "
                        "WHERE parcel_key NOT LIKE '%%:%%'", ((k - 1) * (width + 1000.0),))
        con.execute(f'UPDATE "{schema}".gis_changes SET version = version + 1 '
                    "WHERE name IN ('parcels', '*')")
        con.execute(f"ANALYZE {table}")
    print(f"  {parcels * times:,} parcels in {time.perf_counter() - t:.0f} s", flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _add_viewer(location: str, data: Path) -> None:
    from gis.api.auth.security import UserDB
    from gis.store import open_accounts

    users = UserDB(open_accounts(data, location))
    if users.get("bench") is None:
        users.add("bench", "viewer", PASSWORD)
    else:
        users.set_password("bench", PASSWORD)


def measure(location: str, data: Path, tiles: int) -> dict[str, float]:
    """Serve ``location`` with two workers; first parcels, tile times, worker memory."""
    import httpx

    _add_viewer(location, data)
    port = _free_port()
    env = {**os.environ, "GIS_STORE": location, "GIS_DATA_DIR": str(data),
           "GIS_CATALOG": str(ROOT / "layers"), "GIS_MAPS": str(ROOT / "maps")}
    server = subprocess.Popen([sys.executable, "-m", "gis.cli", "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", "2"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gis serve on {location} did not answer in 120 s")
            time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=600) as client:
            res = client.post("/login", data={"name": "bench", "password": PASSWORD, "next": "/"},
                              follow_redirects=False)
            assert res.status_code in (302, 303), res.text[:300]
            t0 = time.perf_counter()
            dropped = 0
            while True:  # a worker busy loading a whole layer may be restarted by uvicorn
                try:
                    doc = client.get("/api/maps/district")
                    break
                except httpx.TransportError:
                    dropped += 1
                    if time.perf_counter() - t0 > 600:
                        raise
            assert doc.status_code == 200, doc.text[:300]
            (s, w), (n, e) = doc.json()["bounds"]
            layer = next(la for la in doc.json()["layers"] if la["key"] == "parcels")
            z, x, y = _tile((w + e) / 2, (s + n) / 2, 14)
            first = client.get(layer["url"].replace("{z}", str(z)).replace("{x}", str(x))
                               .replace("{y}", str(y)))
            first_s = time.perf_counter() - t0
            assert first.status_code in (200, 204), first.status_code
            rng = random.Random(1)
            times, wide = [], []
            for _ in range(tiles):
                z = rng.randint(13, 18)
                # a parcel-dense spot: the district's middle third
                lon = rng.uniform(w + (e - w) / 3, e - (e - w) / 3)
                lat = rng.uniform(s + (n - s) / 3, n - (n - s) / 3)
                tz, tx, ty = _tile(lon, lat, z)
                t = time.perf_counter()
                res = client.get(f"/tiles/parcels/{tz}/{tx}/{ty}.mvt?properties=style")
                (times if z >= 15 else wide).append((time.perf_counter() - t) * 1000)
                assert res.status_code in (200, 204), res.status_code
            # warm: the server has read its layers; a page load whose first tile is not cached
            t0 = time.perf_counter()
            doc = client.get("/api/maps/district")
            z, x, y = _tile(w + (e - w) / 7, s + (n - s) / 7, 14)  # outside the swept third
            warm = client.get(layer["url"].replace("{z}", str(z)).replace("{x}", str(x))
                              .replace("{y}", str(y)))
            warm_s = time.perf_counter() - t0
            assert doc.status_code == 200 and warm.status_code in (200, 204)
        workers = workers_memory(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
    times.sort()
    wide.sort()
    return {"first_parcels_s": first_s, "warm_first_parcels_s": warm_s, "tile_p50_ms": statistics.median(times),
            "tile_p95_ms": times[int(0.95 * (len(times) - 1))],
            "wide_tile_p50_ms": statistics.median(wide) if wide else float("nan"),
            "worker_rss_mb": max((r for r, _ in workers), default=float("nan")),
            "worker_peak_mb": max((h for _, h in workers), default=float("nan")),
            "workers": len(workers), "dropped": dropped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a loaded sample GeoPackage")
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/gis_bench")
    parser.add_argument("--schema", default="province_bench")
    parser.add_argument("--times", type=int, default=5, help="the bigger province: × parcels")
    parser.add_argument("--tiles", type=int, default=200)
    parser.add_argument("--skip-gpkg", action="store_true", help="no GeoPackage baseline")
    args = parser.parse_args()
    import psycopg

    base, _, name = args.database.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as con:
        if con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            con.execute(f'CREATE DATABASE "{name}"')
    from gis.store import open_store

    parcels = int(open_store(args.store).layers()["parcels"])
    one = _location(args.database, args.schema)
    many = _location(args.database, f"{args.schema}_x{args.times}")
    copy_into(args.store, one, parcels)
    if args.times > 1:
        multiply(one, many, args.times, parcels)
    data = Path(os.environ.get("TMPDIR", "/tmp")) / "gis-province-bench"
    data.mkdir(exist_ok=True)
    runs = [] if args.skip_gpkg else [("GeoPackage (in memory)", str(args.store), parcels)]
    runs += [("PostGIS", one, parcels)]
    if args.times > 1:
        runs.append(("PostGIS", many, parcels * args.times))
    results = []
    for label, location, n in runs:
        print(f"serving {label}, {n:,} parcels …", flush=True)
        folder = data / f"{len(results)}"
        folder.mkdir(exist_ok=True)
        results.append((label, n, measure(location, folder, args.tiles)))
    print(f"\n{'store':<24} {'parcels':>10} {'worker MB':>10} {'peak MB':>8} "
          f"{'first parcels s':>16} {'warm s':>7} {'z15-18 p50 ms':>14} {'p95 ms':>7} "
          f"{'z13-14 p50 ms':>14}")
    for label, n, r in results:
        print(f"{label:<24} {n:>10,} {r['worker_rss_mb']:>10.0f} {r['worker_peak_mb']:>8.0f} "
              f"{r['first_parcels_s']:>16.2f} {r['warm_first_parcels_s']:>7.2f} "
              f"{r['tile_p50_ms']:>14.1f} {r['tile_p95_ms']:>7.1f} {r['wide_tile_p50_ms']:>14.1f}"
              + (f"  ({r['dropped']} connections dropped while loading)" if r["dropped"] else ""))
    if not args.skip_gpkg:
        gp = results[0][2]
        for label, n, r in results[1:]:
            print(f"{label} {n:,}: worker peak {r['worker_peak_mb'] / gp['worker_peak_mb']:.2f}× "
                  f"the GeoPackage's; first parcels {r['first_parcels_s'] / gp['first_parcels_s']:.2f}×;"
                  f" tile p95 {r['tile_p95_ms'] / gp['tile_p95_ms']:.2f}×")
    for label, n, r in results:
        if label.startswith("PostGIS"):
            ok = r["worker_peak_mb"] <= TARGETS["worker_mb"]
            fast = r["warm_first_parcels_s"] < TARGETS["first_parcels_s"]
            print(f"targets at {n:,}: worker ≤ {TARGETS['worker_mb']:.0f} MB "
                  f"{'PASS' if ok else 'MISS'} ({r['worker_peak_mb']:.0f}); first parcels < "
                  f"{TARGETS['first_parcels_s']} s (warm) {'PASS' if fast else 'MISS'} "
                  f"({r['warm_first_parcels_s']:.2f}; cold {r['first_parcels_s']:.2f})")


if __name__ == "__main__":
    main()
