"""Load on the service from a second process (locust), 16 concurrent clients on loopback.

A sample district is built and served by ``gis serve --workers 2`` over the GeoPackage store,
or, with ``--database postgresql://…?schema=NAME``, over its copy in PostGIS (``gis db copy``;
kept and reused by the next run).
Locust runs the mix of benchmarks/locustfile.py: vector tiles (parcels and clearance parts at
zoom 15-18), the map page, cases as GeoJSON by box, and flags (POST /api/violations). Baseline
in the same run: the same requests from one client at a time, so the table shows what
concurrency costs. Afterwards every acknowledged flag is looked up in the store and the
GeoPackage gets PRAGMA integrity_check. The workers' resident memory (peak, ``VmHWM``) is read
from ``/proc`` before the server stops.

    python3 -m venv .venv-locust && .venv-locust/bin/pip install locust==2.47.0  # apart
    PATH=$PWD/.venv-locust/bin:$PATH
    python benchmarks/service_load.py [--parcels 20000] [--users 16] [--seconds 60]
        [--keep DIR] [--database postgresql://postgres@127.0.0.1:5432/gis_bench?schema=load]

Targets (issue 6): tile p95 under 50 ms, zero 5xx, zero lost flags.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "gis.cli", *args], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def build_store(work: Path, parcels: int, env: dict[str, str]) -> None:
    _run("sample", "--parcels", str(parcels), "--seed", "1", "--out", str(work / "src"), env=env)
    for kind, name in (("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                       ("projects", "projects.shp"), ("buildings", "buildings.gpkg")):
        _run("ingest", kind, str(work / "src" / name), env=env)
    _run("ingest", "clearance", str(work / "src" / "clearance.xlsx"), "--known-on", "31/12/2024",
         env=env)
    _run("clearance", "report", env=env)
    _run("violations", "detect", env=env)


def _tile(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def plan(store: Path, tokens: dict[str, str]) -> dict[str, object]:
    """Tiles, boxes and flag points inside the district (from the parcels' WGS 84 extent)."""
    sys.path.insert(0, str(ROOT))
    from gis.io.write import reproject
    from gis.store import open_store

    parcels = open_store(store).read("parcels", columns=["parcel_key"])
    rng = random.Random(1)
    points = reproject(parcels.sample(400, random_state=1)[["geometry"]].representative_point()
                       .to_frame("geometry").set_geometry("geometry"), "EPSG:4326")
    pts = [(p.x, p.y) for p in points.geometry]
    w, s, e, n = reproject(parcels[["geometry"]], "EPSG:4326").total_bounds
    tiles = sorted({_tile(rng.uniform(w, e), rng.uniform(s, n), z)
                    for z in (15, 16, 17, 18) for _ in range(150)})
    boxes = []
    for lon, lat in pts[:100]:
        boxes.append((lon - 0.003, lat - 0.002, lon + 0.003, lat + 0.002))
    return {"tiles": tiles, "boxes": boxes, "points": pts, "tokens": tokens}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen([sys.executable, "-m", "gis.cli", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "2"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gis serve did not start")


def workers_memory(pid: int) -> list[tuple[float, float]]:
    """(VmRSS, VmHWM) in MB of each uvicorn worker under the server process."""
    import psutil

    out = []
    for child in psutil.Process(pid).children(recursive=True):
        if "spawn_main" not in " ".join(child.cmdline()):
            continue
        status = dict(line.split(":", 1) for line in
                      Path(f"/proc/{child.pid}/status").read_text().splitlines() if ":" in line)
        out.append((int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024))
    return out


def sequential(url: str, the_plan: dict, seconds: float) -> dict[str, list[float]]:
    """The baseline: one client, one request at a time, the same mix."""
    import httpx

    rng = random.Random(2)
    viewer = {"Authorization": f"Bearer {the_plan['tokens']['viewer']}"}
    times: dict[str, list[float]] = {"tile": [], "geojson": [], "map page": []}
    end = time.monotonic() + seconds
    with httpx.Client(base_url=url, headers=viewer, timeout=30) as client:
        while time.monotonic() < end:
            kind = rng.choices(["tile", "geojson", "map page"], [20, 4, 2])[0]
            if kind == "tile":
                z, x, y = rng.choice(the_plan["tiles"])
                path = f"/tiles/{rng.choice(['parcels'] * 3 + ['project_parcels'])}/{z}/{x}/{y}.mvt"
            elif kind == "geojson":
                path = "/api/layers/violation_cases.geojson?bbox=" + ",".join(
                    f"{v:.6f}" for v in rng.choice(the_plan["boxes"]))
            else:
                path = "/maps/district"
            t0 = time.perf_counter()
            res = client.get(path)
            times[kind].append((time.perf_counter() - t0) * 1000)
            assert res.status_code < 500, (path, res.status_code)
    return times


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parcels", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--wait", default="0.5,1.5",
                        help="seconds between one user's requests, min,max (0,0: saturate)")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default a temp folder)")
    parser.add_argument("--database", help="serve the store's copy in this PostGIS location")
    args = parser.parse_args()
    locust = shutil.which("locust") or str(Path(sys.executable).parent / "locust")
    if not Path(locust).exists():
        raise SystemExit("locust is not installed: pip install locust==2.47.0")
    work = args.keep or Path(tempfile.mkdtemp(prefix="gis-load-"))
    work.mkdir(parents=True, exist_ok=True)
    store = work / "store.gpkg"
    env = {**os.environ, "GIS_STORE": str(store), "GIS_DATA_DIR": str(work),
           "GIS_CATALOG": str(ROOT / "layers"), "GIS_MAPS": str(ROOT / "maps")}
    if not store.exists():
        print(f"building a {args.parcels:,}-parcel sample store in {work} …", flush=True)
        build_store(work, args.parcels, env)
    sys.path.insert(0, str(ROOT))
    from gis.api.auth.security import UserDB
    from gis.store import open_accounts, open_store

    location = str(store)
    if args.database:
        location = args.database
        parcels = len(open_store(store).read("parcels", columns=["parcel_key"]))
        target = open_store(location)
        if not (target.has("parcels") and target.layers()["parcels"] == parcels):
            print(f"copying the store into {location} …", flush=True)
            _run("db", "copy", str(store), location, env=env)
        env = {**env, "GIS_STORE": location}
    users = UserDB(open_accounts(work, location))
    tokens = {}
    for role in ("viewer", "inspector"):
        if users.get(role) is None:
            users.add(role, role, f"load-{role}-password")
        tokens[role] = users.new_token(role)
    the_plan = plan(store, tokens)
    (work / "plan.json").write_text(json.dumps(the_plan), encoding="utf-8")
    acks = work / "acks.txt"
    acks.write_text("", encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = serve(env, port)
    try:
        sequential(url, the_plan, 5)  # warm both workers' caches
        base = sequential(url, the_plan, 20)
        memory_before = workers_memory(server.pid)
        res = subprocess.run([locust, "-f", str(ROOT / "benchmarks" / "locustfile.py"),
                              "--headless", "-u", str(args.users), "-r", str(args.users),
                              "-t", f"{args.seconds}s", "-H", url, "--csv", str(work / "load"),
                              "--only-summary", "--loglevel", "WARNING"],
                             env={**env, "GIS_LOAD_PLAN": str(work / "plan.json"),
                                  "GIS_LOAD_ACKS": str(acks), "GIS_LOAD_WAIT": args.wait},
                             capture_output=True, text=True)
        memory = workers_memory(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = {r["Name"]: r for r in csv.DictReader(open(work / "load_stats.csv", encoding="utf-8"))}
    failures = list(csv.DictReader(open(work / "load_failures.csv", encoding="utf-8")))
    fivexx = sum(int(f["Occurrences"]) for f in failures if "50" in f["Error"][:40])
    acked = [a for a in acks.read_text(encoding="utf-8").split() if a]
    stored = set(open_store(location).read_cases(columns=["case_id"], geometry=False)["case_id"])
    integrity = "— (PostGIS)"
    if not args.database:
        con = sqlite3.connect(store)
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        con.close()
    lost = [a for a in acked if a not in stored]
    print(f"\n{'PostGIS' if args.database else 'GeoPackage'} store; "
          f"{args.parcels:,} parcels, {args.users} locust users (each waiting {args.wait} s "
          f"between requests) for {args.seconds} s against gis serve --workers 2 (loopback, "
          f"{os.cpu_count()} cores)\n")
    print(f"{'request':<10} {'count':>7} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
          f" {'1-client p95':>13} {'×':>6}")
    for name in ("tile", "map page", "geojson", "flag"):
        r = rows.get(name)
        if not r:
            continue
        p95 = float(r["95%"])
        b = pct(base.get(name, []), 95)
        ratio = f"{p95 / b:5.1f}×" if b == b and b > 0 else "   —"
        bs = f"{b:13.1f}" if b == b else f"{'—':>13}"
        print(f"{name:<10} {int(r['Request Count']):>7} {int(r['Failure Count']):>5} "
              f"{float(r['50%']):>7.0f} {p95:>7.0f} {float(r['99%']):>7.0f} {bs} {ratio}")
    total = rows.get("Aggregated", {})
    print(f"\nthroughput {float(total.get('Requests/s', 0)):.0f} req/s; failures "
          f"{sum(int(f['Occurrences']) for f in failures)} (5xx: {fivexx}); flags acknowledged "
          f"{len(acked)}, lost {len(lost)}; integrity_check: {integrity}")
    print("workers' memory (MB, resident now / peak): before the load " + ", ".join(
        f"{r:.0f}/{h:.0f}" for r, h in memory_before) + "; after " + ", ".join(
        f"{r:.0f}/{h:.0f}" for r, h in memory))
    tile_p95 = float(rows["tile"]["95%"]) if "tile" in rows else float("nan")
    print(f"targets: tile p95 < 50 ms: {'PASS' if tile_p95 < 50 else 'MISS'} ({tile_p95:.0f} ms); "
          f"zero 5xx: {'PASS' if fivexx == 0 else 'MISS'}; zero lost flags: "
          f"{'PASS' if not lost else 'MISS'}")
    if res.returncode not in (0, 1):
        print(res.stderr[-2000:])


if __name__ == "__main__":
    main()
