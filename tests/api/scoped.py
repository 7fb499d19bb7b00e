"""The scope tests' store and users (tests/api/test_scopes.py, test_scope_records.py).

The store is the sample district moved onto Thị xã Sơn Tây (Hà Nội) with unit polygons built
over it (``gis.sample.units``): 2025 units 09574 Phường Sơn Tây and 09604 Phường Tùng Thiện;
legacy ward 09604 Xã Thanh Mỹ was split between them (and its code reused by Tùng Thiện).
Users: ``son_tay`` (09574), ``tung_thien`` (09604), ``province`` (the whole store), each in
every role the test needs.
"""

from __future__ import annotations

from pathlib import Path

import mapbox_vector_tile
from click.testing import CliRunner

from tests.api.conftest import PASSWORD, Service
from tests.conftest import ROOT

SON_TAY, TUNG_THIEN = "09574", "09604"
SCOPES = {"son_tay": (SON_TAY,), "tung_thien": (TUNG_THIEN,), "province": None}


def build_units_store(base: Path) -> Path:
    """The Sơn Tây sample store with units, projects, a clearance sheet and detected cases,
    built in ``base``."""
    from gis.cli import cli
    from gis.io.admin_units import load_registry
    from gis.sample import generate_district, write_sample
    from gis.sample.units import district_wards, on_real_district, unit_polygons

    reg = load_registry()
    real = on_real_district(generate_district(1500, seed=1),
                            district_wards(reg, "Thị xã Sơn Tây", "Thành phố Hà Nội"))
    write_sample(real, base / "src")
    unit_polygons(real.wards, reg).to_file(base / "src" / "units.gpkg", layer="units")
    store = base / "store.gpkg"
    runner = CliRunner(env={"GIS_STORE": str(store), "GIS_CATALOG": str(ROOT / "layers"),
                            "GIS_DATA_DIR": str(base)})
    src = base / "src"
    for args in (("ingest", "wards", str(src / "wards.gpkg")),
                 ("ingest", "parcels", str(src / "parcels.shp")),
                 ("ingest", "units", str(src / "units.gpkg")),
                 ("ingest", "projects", str(src / "projects.shp")),
                 ("ingest", "buildings", str(src / "buildings.gpkg")),
                 ("ingest", "clearance", str(src / "clearance.xlsx"), "--known-on",
                  "31/12/2024"),
                 ("violations", "detect"), ("clearance", "report")):
        res = runner.invoke(cli, list(args))
        assert res.exit_code == 0, (args, res.output)
    return store



class Scoped:
    """A service over the Sơn Tây store with users of two units and of the province."""

    def __init__(self, service: Service) -> None:
        from gis.api.auth.security import UserDB
        from gis.store import open_accounts

        self.service = service
        self.client = service.client
        users = UserDB(open_accounts(service.data_dir, str(service.store)))
        self.tokens: dict[tuple[str, str], str] = {}
        for who, units in SCOPES.items():
            for role in ("viewer", "inspector", "planner", "admin"):
                name = f"{who}-{role}"
                users.add(name, role, PASSWORD.format(role=role), units=units)
                self.tokens[who, role] = users.new_token(name)
        self.users = users

    def auth(self, who: str, role: str = "viewer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who, role]}"}

    def get(self, url: str, who: str, role: str = "viewer", **kw):  # type: ignore[no-untyped-def]
        headers = {**self.auth(who, role), **kw.pop("headers", {})}
        return self.client.get(url, headers=headers, **kw)



def _parcels(store: Path):  # type: ignore[no-untyped-def]
    from gis.store import open_store

    return open_store(store).read("parcels")


def _tiles_over(frame, z: int = 15):  # type: ignore[no-untyped-def]
    """The z tiles covering a frame (in the store CRS)."""
    import math

    bounds = frame.to_crs(4326).total_bounds

    def tile(lon: float, lat: float) -> tuple[int, int]:
        n = 2 ** z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        return x, y

    (x0, y0), (x1, y1) = tile(bounds[0], bounds[3]), tile(bounds[2], bounds[1])
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def _tile_keys(scoped: Scoped, who: str, tiles) -> tuple[set[str], set[str]]:  # type: ignore[no-untyped-def]
    keys: set[str] = set()
    etags: set[str] = set()
    for z, x, y in tiles:
        res = scoped.get(f"/tiles/parcels/{z}/{x}/{y}.mvt", who)
        assert res.status_code in (200, 204), res.text
        etags.add(res.headers["etag"])
        if res.status_code == 200:
            layer = mapbox_vector_tile.decode(res.content).get("parcels", {"features": []})
            keys |= {f["properties"]["parcel_key"] for f in layer["features"]}
    return keys, etags



def _cases_by_unit(scoped):  # type: ignore[no-untyped-def]
    from gis.store import open_store
    from gis.violations import list_cases

    cases = list_cases(open_store(scoped.service.store))
    return {u: list(cases.loc[cases["unit_code"] == u, "case_id"]) for u in (SON_TAY, TUNG_THIEN)}



def _parcels_zip(units_store: Path, tmp_path: Path, wards: list[str]) -> bytes:
    import pyogrio

    from tests.api.test_uploads import _shapefile_zip

    parcels = pyogrio.read_dataframe(units_store.parent / "src" / "parcels.shp")
    out = tmp_path / "_".join(wards)
    out.mkdir()
    parcels[parcels["MaXa"].isin(wards)].to_file(out / "thua_dat.shp", engine="pyogrio",
                                                 encoding="UTF-8")
    return _shapefile_zip(out, "thua_dat")



def _other_province_unit(province: str = "01") -> tuple[str, str, str]:
    """A 2025 unit of another province than ``province``, from the registry: (code, name,
    province name)."""
    from gis.io.admin_units import load_registry

    current = load_registry().current
    row = current[current["province_code"] != province].sort_index().iloc[0]
    return str(row.name), str(row["name"]), str(row["province"])

