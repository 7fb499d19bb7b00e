"""Benchmark: the parcel × project overlay against DuckDB spatial SQL in the same run.

Run: ``python benchmarks/clearance_bench.py --parcels 100000 --projects 2000``.
Needs ``pip install duckdb==1.5.5 duckdb-extension-spatial==1.5.5`` (the extension loads offline
from its package). Each method runs in its own process so its peak memory (max RSS) is its own:

- ``duckdb``: ``ST_Intersects`` join, ``ST_Area(ST_Intersection(...))`` (the baseline);
- ``sjoin``: plain geopandas ``sjoin`` + ``intersection`` on every pair;
- ``gis``: :func:`gis.core.overlay.overlay_parcels_projects` (wholly-inside parcels skip the
  intersection), keeping the overlap geometry for maps.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _bench import duckdb_spatial, peak_gb, run_methods  # noqa: E402


def make_data(n_parcels: int, n_projects: int, work: Path) -> None:
    import geopandas as gpd
    import numpy as np
    import shapely

    from gis.sample import generate_district

    district = generate_district(n_parcels, seed=7)
    parcels = district.parcels.assign(
        parcel_key=lambda f: f["MaXa"] + "-" + f["SoHieuToBa"].astype(str) + "-" + f["SoThuTuThu"].astype(str),
        ward_code=lambda f: f["MaXa"])[["parcel_key", "ward_code", "geometry"]]
    parcels = parcels[parcels.geometry.is_valid]
    minx, miny, maxx, maxy = parcels.total_bounds
    rng = np.random.default_rng(1)
    side = (maxx - minx)
    # sites (irregular polygons) and road corridors, sized like real clearance projects
    geoms = []
    for i in range(n_projects):
        cx, cy = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if i % 4 == 0:
            angle = rng.uniform(0, np.pi)
            length = rng.uniform(0.05, 0.2) * side
            line = shapely.LineString([(cx, cy), (cx + length * np.cos(angle), cy + length * np.sin(angle))])
            geoms.append(line.buffer(rng.uniform(8, 20), cap_style="flat"))
        else:
            r = rng.uniform(30, 120)
            k = rng.integers(5, 9)
            t = np.sort(rng.uniform(0, 2 * np.pi, k))
            rr = r * rng.uniform(0.6, 1.0, k)
            geoms.append(shapely.Polygon(np.c_[cx + rr * np.cos(t), cy + rr * np.sin(t)]).convex_hull)
    projects = gpd.GeoDataFrame({"project_id": [f"DA-{i:04d}" for i in range(n_projects)]},
                                geometry=geoms, crs=parcels.crs)
    parcels.to_parquet(work / "parcels.parquet")
    projects.to_parquet(work / "projects.parquet")


def run_method(method: str, work: Path) -> dict[str, float]:
    import geopandas as gpd

    parcels = gpd.read_parquet(work / "parcels.parquet")
    projects = gpd.read_parquet(work / "projects.parquet")
    if method == "gis":
        from gis.core.overlay import OverlayConfig, overlay_parcels_projects

        t = time.perf_counter()
        result = overlay_parcels_projects(parcels, projects, config=OverlayConfig(0.0, 0.0))
        seconds = time.perf_counter() - t
        pairs, area = len(result.pairs) + len(result.slivers), float(
            result.pairs["overlap_m2"].sum() + result.slivers["overlap_m2"].sum())
    elif method == "sjoin":
        t = time.perf_counter()
        joined = gpd.sjoin(parcels, projects, predicate="intersects", how="inner")
        pieces = joined.geometry.intersection(
            gpd.GeoSeries(projects.geometry.values[joined["index_right"].to_numpy()],
                          index=joined.index, crs=projects.crs))
        areas = pieces.area
        seconds = time.perf_counter() - t
        pairs, area = int((areas > 0).sum()), float(areas.sum())
    else:
        con = duckdb_spatial()
        p = parcels.assign(wkb=parcels.geometry.to_wkb())[["parcel_key", "wkb"]]
        j = projects.assign(wkb=projects.geometry.to_wkb())[["project_id", "wkb"]]
        con.register("p_in", p)
        con.register("j_in", j)
        con.execute("CREATE TABLE parcels AS SELECT parcel_key, ST_GeomFromWKB(wkb) AS geom FROM p_in")
        con.execute("CREATE TABLE projects AS SELECT project_id, ST_GeomFromWKB(wkb) AS geom FROM j_in")
        t = time.perf_counter()
        rows = con.execute("""
            SELECT j.project_id, p.parcel_key, ST_Area(ST_Intersection(p.geom, j.geom)) AS a
            FROM parcels p JOIN projects j ON ST_Intersects(p.geom, j.geom)""").fetchall()
        seconds = time.perf_counter() - t
        pairs = sum(1 for r in rows if r[2] > 0)
        area = float(sum(r[2] for r in rows))
    return {"seconds": seconds, "pairs": pairs, "overlap_m2": area, "peak_rss_gb": peak_gb()}



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--projects", type=int, default=2_000)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.method:
        print(json.dumps(run_method(args.method, args.work)))
        return
    with tempfile.TemporaryDirectory(prefix="gis-clear-bench-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        # the data is made in its own process so that the parent stays small
        subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                        "import clearance_bench as b; from pathlib import Path; "
                        "b.make_data(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))",
                        str(Path(__file__).parent), str(args.parcels), str(args.projects),
                        str(work)], check=True, capture_output=True)
        print(f"{args.parcels:,} parcels × {args.projects:,} projects prepared in "
              f"{time.perf_counter() - t:.1f} s")
        results = run_methods(__file__, ("duckdb", "sjoin", "gis"), work)
        base = results.get("duckdb", {}).get("seconds")
        for method, r in results.items():
            ratio = f"{base / r['seconds']:.2f}× faster than DuckDB" if base else ""
            print(f"{method:7s} {r['seconds']:7.2f} s  pairs {r['pairs']:>9,}  overlap "
                  f"{r['overlap_m2'] / 1e4:10.2f} ha  peak {r['peak_rss_gb']:.2f} GB  {ratio}")


if __name__ == "__main__":
    main()
