"""Reads through the Store: an OGC API items page, a map tile and the change token.

    python benchmarks/store_reads_bench.py --store STORE.gpkg [--repeat 30]

Serves a copy of the store in-process (FastAPI TestClient, no network) and reports the median
CPU time (``--wall``: wall-clock time) of: an OGC items page (100 and 1 000 parcels, with a bbox, with a filter), one feature,
vector tiles not yet in the tile cache (z16 around the parcels), and the store's change token.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import tempfile
import time
from pathlib import Path

#: the clock: CPU time of this process (steadier than wall time on a shared machine; the
#: TestClient serves in this process) unless --wall
_CLOCK = time.process_time


def _median_ms(run, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = _CLOCK()
        run()
        times.append(_CLOCK() - t0)
    return statistics.median(times) * 1000


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--wall", action="store_true", help="wall-clock time, not CPU time")
    args = parser.parse_args()
    global _CLOCK
    if args.wall:
        _CLOCK = time.perf_counter

    import os

    from fastapi.testclient import TestClient

    root = Path(__file__).resolve().parents[1]
    work = Path(tempfile.mkdtemp(prefix="reads-bench-"))
    store = work / "store.gpkg"
    shutil.copy(args.store, store)
    os.environ.update(GIS_STORE=str(store), GIS_DATA_DIR=str(work),
                      GIS_CATALOG=str(root / "layers"))
    os.chdir(root)
    from gis.api import create_app
    from gis.api.auth.security import UserDB
    from gis.settings import ServiceSettings, StorageSettings
    from gis.store import open_store

    users = UserDB(work / "service.db")
    users.add("bench", "viewer", "bench-password-2026")
    headers = {"Authorization": f"Bearer {users.new_token('bench')}"}
    client = TestClient(create_app(StorageSettings(store=store),
                                   ServiceSettings(maps=root / "maps")))

    def get(url: str) -> None:
        res = client.get(url, headers=headers)
        assert res.status_code in (200, 204), (url, res.status_code, res.text[:300])

    s = open_store(store)
    parcels = s.read("parcels", columns=["parcel_key", "ward_code"])
    bounds = parcels.to_crs(4326).total_bounds
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    w, h = (bounds[2] - bounds[0]) / 6, (bounds[3] - bounds[1]) / 6
    bbox = f"{cx - w},{cy - h},{cx + w},{cy + h}"
    ward = str(parcels["ward_code"].iloc[0])
    key = str(parcels["parcel_key"].iloc[len(parcels) // 2])
    items = "/ogc/collections/parcels/items"
    rows = {
        "ogc items limit=100": lambda: get(f"{items}?limit=100"),
        "ogc items limit=1000": lambda: get(f"{items}?limit=1000"),
        "ogc items bbox limit=100": lambda: get(f"{items}?limit=100&bbox={bbox}"),
        "ogc items ward filter limit=100": lambda: get(f"{items}?limit=100&ward_code={ward}"),
        "ogc one feature": lambda: get(f"{items}/{key}"),
    }
    get(f"{items}?limit=1")  # warm-up
    out = {name: _median_ms(run, args.repeat) for name, run in rows.items()}
    # tiles not in the tile cache: z18 tiles over the parcels, each asked once
    get("/tiles/parcels/16/0/0.mvt")  # loads the layer
    west, south, east, north = bounds
    x0, y0 = _tile(west, north, 18)
    x1, y1 = _tile(east, south, 18)
    tiles = [(18, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)][:args.repeat * 4]
    times = []
    for t in tiles:
        t0 = _CLOCK()
        get("/tiles/parcels/{}/{}/{}.mvt".format(*t))
        times.append(_CLOCK() - t0)
    out[f"tile z18, uncached ({len(tiles)} tiles)"] = statistics.median(times) * 1000
    t = tiles[0]
    out["tile z18, cached"] = _median_ms(lambda: get("/tiles/parcels/{}/{}/{}.mvt".format(*t)),
                                         args.repeat)
    token = getattr(s, "change_token", None)
    if token is not None:
        n = 2000
        t0 = time.perf_counter()
        for _ in range(n):
            open_store(store).change_token("parcels")
        out["change_token(parcels), store opened each time (µs)"] = \
            (time.perf_counter() - t0) / n * 1e6 / 1000
        t0 = time.perf_counter()
        for _ in range(n):
            s.change_token()
        out["change_token() (µs)"] = (time.perf_counter() - t0) / n * 1e6 / 1000
    for name, ms in out.items():
        print(f"{name:55s} {ms * 1000:9.0f} µs" if "µs" in name else f"{name:55s} {ms:9.2f} ms")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
