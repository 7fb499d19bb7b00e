"""A commune officer's export: the rows the store reads and the time, scope in the query
(as built) against the whole selection read and then filtered (as before).

    python benchmarks/scoped_export_bench.py [--parcels 20000] [--store STORE] [--repeat 5]

Builds the sample district moved onto Thị xã Sơn Tây (Hà Nội) with its 2025 unit polygons
(as tests/api/test_scopes.py does) unless ``--store`` names one (GeoPackage or PostGIS), then
for each unit's officer reads the parcels and projects export selections both ways
(:func:`gis.api.exports.layers.select` and ``iter_select``, the GeoPackage/Shapefile and the
GeoJSON paths) and reports rows read from the store and the median wall time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def build(parcels: int, work: Path) -> str:
    """The Sơn Tây sample store with units and projects."""
    from click.testing import CliRunner

    from gis.cli import cli
    from gis.io.admin_units import load_registry
    from gis.sample import generate_district, write_sample
    from gis.sample.units import district_wards, on_real_district, unit_polygons

    root = Path(__file__).resolve().parents[1]
    reg = load_registry()
    real = on_real_district(generate_district(parcels, seed=1),
                            district_wards(reg, "Thị xã Sơn Tây", "Thành phố Hà Nội"))
    src = work / "src"
    write_sample(real, src)
    unit_polygons(real.wards, reg).to_file(src / "units.gpkg", layer="units")
    store = work / "store.gpkg"
    runner = CliRunner(env={"GIS_STORE": str(store), "GIS_CATALOG": str(root / "layers"),
                            "GIS_DATA_DIR": str(work)})
    for args in (("wards", "wards.gpkg"), ("parcels", "parcels.shp"), ("units", "units.gpkg"),
                 ("projects", "projects.shp")):
        res = runner.invoke(cli, ["ingest", args[0], str(src / args[1])])
        if res.exit_code != 0:
            raise SystemExit(res.output)
    return str(store)


def counting(store: Any) -> list[int]:
    """Count the rows each ``query``/``scan`` of this store object reads."""
    rows: list[int] = []
    query, scan = store.query, store.scan

    def q(table: str, lq: Any) -> Any:
        result = query(table, lq)
        rows.append(len(result))
        return result

    def s(table: str, lq: Any, **kw: Any) -> Any:
        for result in scan(table, lq, **kw):
            rows.append(len(result))
            yield result

    store.query, store.scan = q, s
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parcels", type=int, default=20_000)
    parser.add_argument("--store", help="an existing store with units (default: build one)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from gis.api.auth.security import Role, User
    from gis.store import open_store

    location = args.store or build(args.parcels, Path(tempfile.mkdtemp(prefix="scoped-bench-")))
    store = open_store(location)
    rows = counting(store)
    units = sorted({str(u) for u in store.distinct("parcels", "unit_code")})
    total = store.layer_info("parcels").count
    print(f"store: {location}: {total:,} parcels in units {', '.join(units)}")
    repeat = args.repeat

    for layer in ("parcels", "projects"):
        for unit in units:
            user = User("officer", Role.PLANNER, (unit,))
            for stream in (False, True):
                figures = []
                for name, run in (("before", read_then_filter), ("after", scoped_read)):
                    run(store, layer, user, stream)  # warm: the scope's filter is cached
                    times, read, kept = [], 0, 0
                    for _ in range(repeat):
                        del rows[:]
                        t0 = time.perf_counter()
                        kept = run(store, layer, user, stream)
                        times.append(time.perf_counter() - t0)
                        read = sum(rows)
                    figures.append(f"{name}: {read:,} rows read, {kept:,} exported, "
                                   f"{statistics.median(times) * 1000:.0f} ms")
                path = "iter_select (GeoJSON)" if stream else "select (GPKG/SHP/CSV)"
                print(f"{layer} of {unit}, {path}: " + "; ".join(figures))


def _never() -> Any:
    raise AssertionError("not a computed layer")


def read_then_filter(store: Any, layer: str, user: Any, stream: bool) -> int:
    """As before: the whole selection read, then the user's rows kept."""
    from gis.api.exports.layers import LAYERS, Selection, iter_select, select
    from gis.api.scope import filter_frame

    definition = LAYERS[layer]
    if stream:
        return sum(len(filter_frame(store, definition.table, part, user)) for part in
                   iter_select(definition, store, Selection(), computed=_never, pairs=_never))
    return len(filter_frame(store, definition.table, select(
        definition, store, Selection(), computed=_never, pairs=_never), user))


def scoped_read(store: Any, layer: str, user: Any, stream: bool) -> int:
    """As built: the scope in the store's query."""
    from gis.api.exports.layers import LAYERS, Selection, iter_select, select
    from gis.api.scope import row_filter

    definition = LAYERS[layer]
    scope = row_filter(store, definition.table, user)
    if stream:
        return sum(len(part) for part in iter_select(
            definition, store, Selection(), computed=_never, pairs=_never, scope=scope))
    return len(select(definition, store, Selection(), computed=_never, pairs=_never,
                      scope=scope))


if __name__ == "__main__":
    main()
