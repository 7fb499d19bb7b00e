"""Benchmark: recording a new violation case (``gis.violations.flag``) and moving it one step
(``gis.violations.update``, DETECTED → VERIFYING), copy-on-write vs in place.

Run: ``python benchmarks/flag_bench.py [--parcels 1500 100000] [--flags 30]``. For each size a
store is built once like ``scripts/demo`` does (sample district: wards, parcels, projects,
buildings; detection adds its cases), then each method flags the same points inside parcels on
its own copy of that store, in its own process:

- ``copy``: the former path, still the one for the first case: copy the whole GeoPackage, rewrite
  ``violation_cases`` and ``violation_history`` with pyogrio, rename over the store;
- ``rows``: the row-level path of the store (``gis.store.gpkg_cases``): one SQLite transaction in
  place (id allocated, feature inserted as a GeoPackage geometry blob with its R-tree entry,
  history line; for a transition the case read and the change decided inside it).

Figures: median and 95th percentile per flag and per transition, store size. Flags include the
same reads (wards and the parcels under the point, through GDAL) that ``flag`` does before
writing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _bench import peak_gb, run_methods

METHODS = ("copy", "rows")


def build_store(n_parcels: int, work: Path) -> Path:
    """A sample-district store with detected cases, as ``scripts/demo`` makes it."""
    from gis.ingest import ingest_layer
    from gis.sample import generate_district, write_sample
    from gis.store import GeoPackageStore
    from gis.violations import detect

    src = work / "src"
    write_sample(generate_district(n_parcels, seed=1), src)
    store = GeoPackageStore(work / "store.gpkg")
    for kind, name in (("wards", "wards.gpkg"), ("parcels", "parcels.shp"),
                       ("projects", "projects.shp"), ("buildings", "buildings.gpkg")):
        ingest_layer(store, src / name, kind, user="bench")
    detect(store, rules=ROOT / "layers" / "rules" / "violations.yaml", who="bench")
    return store.path


def points(store_path: Path, n: int) -> list[tuple[float, float]]:
    """``n`` points inside valid parcels, the same for every method."""
    import numpy as np
    import shapely

    from gis.store import GeoPackageStore

    parcels = GeoPackageStore(store_path).read("parcels", columns=["parcel_key"])
    rng = np.random.default_rng(5)
    picked = parcels.geometry.values[rng.choice(len(parcels), size=n, replace=False)]
    inside = shapely.point_on_surface(picked)
    return [(float(p.x), float(p.y)) for p in inside]


def run_method(method: str, work: Path) -> dict[str, float]:
    import shapely

    from gis import violations
    from gis.store import GeoPackageStore, gpkg_cases

    spec = json.loads((work / "spec.json").read_text())
    store_path = work / f"store-{method}.gpkg"
    shutil.copyfile(work / "store.gpkg", store_path)
    store = GeoPackageStore(store_path)
    if method == "copy":  # the copy-on-write path, as before
        gpkg_cases._insert_in_place = lambda *a, **k: None  # type: ignore[assignment]
        gpkg_cases._update_in_place = lambda *a, **k: None  # type: ignore[assignment]
    # one untimed flag first: the first point in detection's polygon layer widens its declared
    # type (a copy-on-write rewrite, once per store, on both paths)
    violations.flag(store, shapely.Point(*spec["points"][0]), kind="other", who="bench")
    times, ids = [], []
    for x, y in spec["points"][1:]:
        t = time.perf_counter()
        ids.append(violations.flag(store, shapely.Point(x, y), kind="other", who="bench",
                                   notes="bench"))
        times.append(time.perf_counter() - t)
    moves = []
    for case_id in ids:
        t = time.perf_counter()
        violations.update(store, case_id, {"status": "VERIFYING"}, who="bench")
        moves.append(time.perf_counter() - t)
    cases = len(store.read("violation_cases", columns=["case_id"]))
    return {"median_ms": 1000 * statistics.median(times), "p95_ms": _p95(times),
            "move_median_ms": 1000 * statistics.median(moves), "move_p95_ms": _p95(moves),
            "store_mb": store_path.stat().st_size / 1e6, "cases": cases, "peak_gb": peak_gb()}


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return 1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parcels", type=int, nargs="+", default=[1500, 100_000])
    parser.add_argument("--flags", type=int, default=30)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.method:
        print(json.dumps(run_method(args.method, args.work)))
        return
    for n in args.parcels:
        with tempfile.TemporaryDirectory(prefix="gis-flag-bench-") as tmp:
            work = Path(tmp)
            t = time.perf_counter()
            store = build_store(n, work)
            (work / "spec.json").write_text(json.dumps({"points": points(store, args.flags + 1)}))
            print(f"{n:,} parcels: store built in {time.perf_counter() - t:.0f} s "
                  f"({store.stat().st_size / 1e6:.1f} MB); {args.flags} flags per method")
            results = run_methods(__file__, METHODS, work)
            base = results.get("copy", {}).get("median_ms")
            for method, r in results.items():
                ratio = f"{base / r['median_ms']:.1f}× faster than copy" if base else ""
                print(f"  {method:5s} flag median {r['median_ms']:8.1f} ms  p95 "
                      f"{r['p95_ms']:8.1f} ms  transition median {r['move_median_ms']:8.1f} ms  "
                      f"p95 {r['move_p95_ms']:8.1f} ms  store {r['store_mb']:.1f} MB  "
                      f"{r['cases']} cases  {ratio}")


if __name__ == "__main__":
    main()
