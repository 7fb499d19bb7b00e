"""Benchmark: violation detection (buildings × parcels) against DuckDB spatial SQL.

Run: ``python benchmarks/violations_bench.py --parcels 100000``. Needs
``pip install duckdb==1.5.5 duckdb-extension-spatial==1.5.5``. About 0.8 footprints per parcel:
the sample district's own buildings (with its planted violations) plus one house in 80 % of the
other parcels, some of them pushed across a boundary. Each method runs in its own process:

- ``duckdb``: ``ST_Intersects`` join of footprints and parcels with ``ST_Area(ST_Intersection)``
  (the overlay every rule needs; the baseline);
- ``gis``: :func:`gis.core.violations.detect.detect_candidates`, the whole detection (overlay,
  home parcel, the three rules, fingerprints, overlap geometry).
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


def make_data(n_parcels: int, work: Path) -> None:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    from gis.core.model import build_frame
    from gis.fields import map_fields
    from gis.sample import generate_district

    district = generate_district(n_parcels, seed=9)
    raw = district.parcels[district.parcels.geometry.is_valid]
    mapping = map_fields([c for c in raw.columns if c != "geometry"], "parcels")
    parcels = build_frame(raw, mapping)[["parcel_key", "ward_code", "land_use", "is_public",
                                         "geometry"]]
    rng = np.random.default_rng(3)
    g = np.asarray(parcels.geometry.values, dtype=object)
    want = int(0.8 * len(parcels)) - len(district.buildings)
    pick = rng.choice(len(g), size=max(want, 0), replace=False)
    c = shapely.centroid(g[pick])
    side = np.sqrt(shapely.area(g[pick])) * rng.uniform(0.3, 0.55, len(pick))
    dx = np.where(rng.random(len(pick)) < 0.05, side * 0.8, 0.0)  # some cross a boundary
    x, y = shapely.get_x(c) + dx, shapely.get_y(c)
    houses = shapely.box(x - side / 2, y - side / 2, x + side / 2, y + side / 2)
    buildings = pd.concat([
        gpd.GeoDataFrame({"building_id": district.buildings["MaNha"].astype(str)},
                         geometry=district.buildings.geometry.values, crs=parcels.crs),
        gpd.GeoDataFrame({"building_id": [f"B{i}" for i in range(len(houses))]},
                         geometry=houses, crs=parcels.crs)], ignore_index=True)
    gpd.GeoDataFrame(parcels, geometry="geometry", crs=parcels.crs).to_parquet(work / "parcels.parquet")
    gpd.GeoDataFrame(buildings, geometry="geometry", crs=parcels.crs).to_parquet(work / "buildings.parquet")



def _rules(agricultural_only: bool):  # type: ignore[no-untyped-def]
    from gis.core.violations.rules import load_rules

    rules = load_rules(ROOT / "layers" / "rules" / "violations.yaml")
    if agricultural_only:
        rules = rules.model_copy(update={"rules": tuple(r for r in rules.rules if r.land_use)})
    return rules


def run_method(method: str, work: Path) -> dict[str, float]:
    """``gis`` / ``duckdb``: all three rules; ``gis-agri`` / ``duckdb-agri``: buildings on
    agricultural parcels only (DuckDB joins only the parcels of the rule's land uses and keeps
    overlaps of at least the rule's minimum area, as the rule does)."""
    import geopandas as gpd

    parcels = gpd.read_parquet(work / "parcels.parquet")
    buildings = gpd.read_parquet(work / "buildings.parquet")
    base = peak_gb()  # the inputs: what remains is the method's working memory
    agri = method.endswith("-agri")
    if method.startswith("gis"):
        from gis.core.violations.detect import detect_candidates

        rules = _rules(agri)
        t = time.perf_counter()
        found = detect_candidates(buildings, parcels, rules)
        seconds = time.perf_counter() - t
        extra = {"candidates": len(found)}
    else:
        con = duckdb_spatial()
        con.execute("SET threads = 2")
        con.register("p_in", parcels.assign(wkb=parcels.geometry.to_wkb())[
            ["parcel_key", "land_use", "wkb"]])
        con.register("b_in", buildings.assign(wkb=buildings.geometry.to_wkb())[["building_id", "wkb"]])
        con.execute("CREATE TABLE parcels AS SELECT parcel_key, land_use, ST_GeomFromWKB(wkb) AS geom "
                    "FROM p_in")
        con.execute("CREATE TABLE buildings AS SELECT building_id, ST_GeomFromWKB(wkb) AS geom FROM b_in")
        base = peak_gb()
        where, minimum = "", 0.0
        if agri:
            rule = _rules(True).rules[0]
            uses = ", ".join(f"'{u}'" for u in rule.land_use)
            where = f"WHERE p.land_use IN ({uses})"
            minimum = rule.min_area_m2 if rule.min_area_m2 is not None else _rules(True).min_area_m2
        t = time.perf_counter()
        rows = con.execute(f"""
            SELECT * FROM (
              SELECT b.building_id, p.parcel_key, ST_Area(ST_Intersection(b.geom, p.geom)) AS a
              FROM buildings b JOIN parcels p ON ST_Intersects(b.geom, p.geom) {where})
            WHERE {f"a >= {minimum}" if agri else "a > 0"}""").fetchall()
        seconds = time.perf_counter() - t
        extra = {"pairs": len(rows)}
    peak = peak_gb()
    return {"seconds": seconds, "peak_gb": peak, "working_gb": max(peak - base, 0.0),
            "buildings": len(buildings), **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.method:
        print(json.dumps(run_method(args.method, args.work)))
        return
    with tempfile.TemporaryDirectory(prefix="gis-viol-bench-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                        "import violations_bench as b; from pathlib import Path; "
                        "b.make_data(int(sys.argv[2]), Path(sys.argv[3]))",
                        str(Path(__file__).parent), str(args.parcels), str(work)], check=True)
        print(f"{args.parcels:,} parcels prepared in {time.perf_counter() - t:.1f} s")
        results = run_methods(__file__, ("duckdb", "gis", "duckdb-agri", "gis-agri"), work)
        for method, r in results.items():
            baseline = results.get("duckdb-agri" if method.endswith("-agri") else "duckdb", {})
            ratio = (f"{baseline['seconds'] / r['seconds']:.2f}× DuckDB's speed, "
                     f"{r['working_gb'] / max(baseline['working_gb'], 1e-3):.1f}× its memory"
                     if baseline and not method.startswith("duckdb") else "")
            detail = {k: v for k, v in r.items()
                      if k not in ("seconds", "peak_gb", "working_gb")}
            print(f"{method:11s} {r['seconds']:7.2f} s  peak {r['peak_gb']:.2f} GB  working "
                  f"{r['working_gb']:.2f} GB  {detail}  {ratio}")


if __name__ == "__main__":
    main()
