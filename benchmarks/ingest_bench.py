"""Benchmark: ingest of sample parcels vs ogr2ogr, and the pyogrio vs fiona engines.

Run: ``python benchmarks/ingest_bench.py [--parcels 100000] [--repeat 3]``. Every figure is a
ratio against a baseline measured in the same run on the same file, so it is comparable across
machines: ``ogr2ogr -f GPKG`` loading the shapefile into a GeoPackage (the least any ingest must
do), and pyogrio's Arrow read for the engines. Best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    import geopandas as gpd
    import pyogrio

    from gis.ingest import ingest_layer
    from gis.sample import generate_district, write_sample
    from gis.store import GeoPackageStore

    ogr2ogr = shutil.which("ogr2ogr")
    if ogr2ogr is None:
        sys.exit("ogr2ogr not found: apt-get install gdal-bin")
    work = Path(tempfile.mkdtemp(prefix="gis-bench-"))
    try:
        t = time.perf_counter()
        district = generate_district(args.parcels, seed=7)
        write_sample(district, work / "sample")
        gen = time.perf_counter() - t
        shp = work / "sample" / "parcels.shp"
        n = len(district.parcels)
        print(f"{n:,} parcels generated and written in {gen:.1f} s ({shp.stat().st_size / 1e6:.0f} MB .shp)")

        def run_ogr2ogr() -> None:
            out = work / "ogr.gpkg"
            out.unlink(missing_ok=True)
            subprocess.run([ogr2ogr, "-f", "GPKG", str(out), str(shp), "-nln", "parcels"],
                           check=True, capture_output=True)

        counter = iter(range(1000))

        def run_ingest() -> None:
            store = GeoPackageStore(work / f"store{next(counter)}.gpkg")
            ingest_layer(store, shp, "parcels", province="Hà Nội")

        def read_pyogrio() -> None:
            pyogrio.read_dataframe(shp, use_arrow=True)

        def read_fiona() -> None:
            gpd.read_file(shp, engine="fiona")

        loaded = GeoPackageStore(work / "loaded.gpkg")
        ingest_layer(loaded, shp, "parcels", province="Hà Nội")

        def run_reingest() -> None:
            # the same file again into a store that holds it: diff, keep, copy-on-write
            ingest_layer(loaded, shp, "parcels", province="Hà Nội")

        base = best(run_ogr2ogr, args.repeat)
        ingest = best(run_ingest, args.repeat)
        reingest = best(run_reingest, args.repeat)
        r_pyogrio = best(read_pyogrio, args.repeat)
        r_fiona = best(read_fiona, 1)
        store = GeoPackageStore(work / "timed.gpkg")
        report = ingest_layer(store, shp, "parcels", province="Hà Nội")
        figures = {
            "parcels": n,
            "ogr2ogr_s": round(base, 3),
            "ingest_s": round(ingest, 3),
            "ingest_vs_ogr2ogr": round(ingest / base, 2),
            "reingest_s": round(reingest, 3),
            "reingest_vs_ogr2ogr": round(reingest / base, 2),
            "read_pyogrio_arrow_s": round(r_pyogrio, 3),
            "read_fiona_s": round(r_fiona, 3),
            "fiona_vs_pyogrio": round(r_fiona / r_pyogrio, 1),
            "ingest_stages_s": {k: round(v, 3) for k, v in report.timings.items()},
            "rows_loaded": len(report.validation.valid),
            "rows_quarantined": len(report.validation.quarantine),
        }
        print(f"ogr2ogr SHP→GPKG (baseline)     {base:7.2f} s   1.00×")
        print(f"gis ingest (read, map, validate, write) {ingest:7.2f} s   {ingest / base:.2f}× ogr2ogr")
        print("  stages: " + ", ".join(f"{k} {v:.2f}s" for k, v in report.timings.items()))
        print(f"gis ingest again into the loaded store     {reingest:7.2f} s   {reingest / base:.2f}× ogr2ogr")
        print(f"read, pyogrio + Arrow (baseline) {r_pyogrio:7.2f} s   1.00×")
        print(f"read, fiona                      {r_fiona:7.2f} s   {r_fiona / r_pyogrio:.1f}× pyogrio")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
