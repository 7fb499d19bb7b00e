"""Names beside codes (issue 13: "every report, page and export shows names beside codes")
where parcels, clearance parts and cases are served or exported: the OGC API items and schema,
every export format read back by GDAL, the map's click info, on both backends; and a store
loaded before the names were kept still serves, and gets them from ``gis db upgrade``.

The store is the sample district moved onto Thị xã Sơn Tây (tests/api/test_scopes.py): legacy
wards such as 09574 Phường Ngô Quyền and 09604 Xã Thanh Mỹ (split), 2025 units 09574 Phường Sơn
Tây and 09604 Phường Tùng Thiện, Thành phố Hà Nội (01).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from gis.render.labels import column_headers
from tests.api.conftest import Service, make_service

UNITS = {"09574": "Phường Sơn Tây", "09604": "Phường Tùng Thiện"}
PROVINCE = ("01", "Thành phố Hà Nội")
#: code → name column, in the order a planner reads them
PAIRS = (("ward_code", "ward_name"), ("unit_code", "unit_name"),
         ("province_code", "province_name"))
CASE_PAIRS = PAIRS[:2]


@pytest.fixture(scope="module")
def wards() -> dict[str, str]:
    """Legacy ward code → name: the national list's, which the sample's wards layer carries."""
    from gis.io.admin_units import load_registry

    reg = load_registry()
    rows = reg.legacy[reg.legacy["district"] == "Thị xã Sơn Tây"]
    return rows["name"].astype(str).to_dict()


@pytest.fixture(scope="module")
def named(tmp_path_factory, units_store):  # type: ignore[no-untyped-def]  # noqa: F811
    """One read-only service over the Sơn Tây store."""
    with pytest.MonkeyPatch.context() as mp:
        yield make_service(tmp_path_factory.mktemp("names"), units_store, mp)


def _download(service: Service, url: str, tmp_path: Path) -> Path:
    res = service.client.get(url, headers=service.auth("planner"))
    assert res.status_code == 200, (url, res.status_code, res.text[:300])
    name = re.search(r'filename="([^"]+)"', res.headers["content-disposition"]).group(1)
    out = tmp_path / name
    out.write_bytes(res.content)
    return out


def _check_names(frame: pd.DataFrame, wards: dict[str, str], pairs=PAIRS) -> None:  # type: ignore[no-untyped-def]
    """Every code has its name right after it, and the name is the right one."""
    columns = list(frame.columns)
    assert len(frame) > 0
    for code, name in pairs:
        assert columns.index(name) == columns.index(code) + 1, (code, columns)
    assert set(frame["unit_code"]) == set(UNITS)
    assert (frame["unit_name"] == frame["unit_code"].map(UNITS)).all()
    assert (frame["ward_name"] == frame["ward_code"].map(wards)).all()
    if pairs == PAIRS:  # parcels and their parts in projects: the split ward among them
        assert {"Xã Thanh Mỹ", "Phường Ngô Quyền"} <= set(frame["ward_name"])
    if "province_code" in frame:
        assert set(zip(frame["province_code"], frame["province_name"])) == {PROVINCE}


# -- exports ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "kml"])
def test_parcel_files_carry_names_beside_codes(named, wards, tmp_path, fmt):
    out = _download(named, f"/api/export/parcels?format={fmt}", tmp_path)
    if fmt == "shp":
        with zipfile.ZipFile(out) as zf:
            stem = next(n for n in zf.namelist() if n.endswith(".shp"))[:-4]
            fields = zf.read(f"{stem}_fields.txt").decode("utf-8")
        assert "province_name -> prov_name" in fields and "province_code -> prov_code" in fields
        frame = pyogrio.read_dataframe(f"/vsizip/{out}/{stem}.shp", read_geometry=False)
        frame = frame.rename(columns={"prov_code": "province_code", "prov_name": "province_name"})
    else:
        frame = pyogrio.read_dataframe(out, read_geometry=False)
    _check_names(frame, wards)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_parcel_tables_have_named_columns_in_vietnamese(named, wards, tmp_path, fmt):
    """CSV and Excel: headers for people, each name header right after its code's."""
    out = _download(named, f"/api/export/parcels?format={fmt}", tmp_path)
    if fmt == "csv":
        frame = pd.read_csv(io.StringIO(out.read_text(encoding="utf-8-sig")), dtype=str)
    else:
        frame = pd.read_excel(out, dtype=str, engine="openpyxl")
    headers = column_headers([c for pair in PAIRS for c in pair], "vi")
    assert headers["ward_name"] == "Tên phường/xã"
    assert headers["unit_name"] == "Tên xã/phường (2025)"
    assert headers["province_name"] == "Tên tỉnh/thành phố"
    _check_names(frame.rename(columns={h: c for c, h in headers.items()}), wards)


@pytest.mark.parametrize("fmt", ["geojson", "csv"])
def test_case_and_clearance_exports_carry_names(named, wards, tmp_path, fmt):
    for layer, pairs in (("violations", CASE_PAIRS), ("clearance", PAIRS)):
        out = _download(named, f"/api/export/{layer}?format={fmt}", tmp_path)
        if fmt == "csv":
            frame = pd.read_csv(io.StringIO(out.read_text(encoding="utf-8-sig")), dtype=str)
            headers = column_headers([c for pair in pairs for c in pair], "vi")
            frame = frame.rename(columns={h: c for c, h in headers.items()})
        else:
            frame = pyogrio.read_dataframe(out, read_geometry=False)
        _check_names(frame, wards, pairs)


def test_cli_export_of_cases_in_excel(named, wards, tmp_path, monkeypatch):
    from gis.cli import cli

    monkeypatch.setenv("GIS_STORE", str(named.store))
    out = tmp_path / "cases.xlsx"
    res = CliRunner().invoke(cli, ["export", "violations", "--format", "xlsx", "--lang", "en",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    headers = column_headers([c for pair in CASE_PAIRS for c in pair], "en")
    assert headers["unit_name"] == "Unit name (2025)"
    frame = pd.read_excel(out, dtype=str, engine="openpyxl").rename(columns={h: c for c, h in headers.items()})
    _check_names(frame, wards, CASE_PAIRS)


# -- served -----------------------------------------------------------------------------------
def _items(service: Service, collection: str) -> pd.DataFrame:
    res = service.client.get(f"/ogc/collections/{collection}/items?limit=10000&f=json",
                             headers=service.auth("viewer"))
    assert res.status_code == 200, res.text[:300]
    return pd.DataFrame([f["properties"] for f in res.json()["features"]])


def test_ogc_items_and_schema_carry_names(named, wards):
    _check_names(_items(named, "parcels"), wards)
    _check_names(_items(named, "violations"), wards, CASE_PAIRS)
    _check_names(_items(named, "clearance"), wards)
    schema = named.client.get("/ogc/collections/parcels/queryables?lang=vi",
                              headers=named.auth("viewer")).json()["properties"]
    assert schema["unit_name"] == {"title": "Tên xã/phường (2025)", "type": "string"}
    assert schema["province_name"]["title"] == "Tên tỉnh/thành phố"
    page = named.client.get("/ogc/collections/parcels/items?limit=5&f=html",
                            headers=named.auth("viewer"))
    assert page.status_code == 200 and "Tên xã/phường (2025)" in page.text
    assert re.search(r"Phường (Sơn Tây|Tùng Thiện)", page.text)


def test_the_map_click_names_the_ward_and_unit(named):
    from gis.store import open_store

    parcel = open_store(str(named.store)).read("parcels").to_crs("EPSG:4326").iloc[0]
    point = parcel.geometry.representative_point()
    res = named.client.get(f"/api/maps/district/at?lon={point.x}&lat={point.y}&zoom=19"
                           "&layers=parcels", headers=named.auth("viewer"))
    assert res.status_code == 200, res.text
    (hit,) = [h for h in res.json()["hits"] if h["properties"].get("parcel_key")
              == parcel["parcel_key"]]
    assert hit["properties"]["unit_name"] == UNITS[parcel["unit_code"]]
    assert hit["properties"]["ward_name"] == parcel["ward_name"]


# -- a store loaded before the names were kept ------------------------------------------------
def _without_names(service: Service) -> None:
    """Take the name columns away, as a store of an earlier release has none (through the
    store: either backend)."""
    from gis.store import open_store
    from gis.units import NAMED_TABLES

    def change(working):  # type: ignore[no-untyped-def]
        return {t: working.read(t).drop(columns=list(names), errors="ignore")
                for t, names in NAMED_TABLES.items() if working.has(t)}

    open_store(str(service.store)).modify(change)


def test_a_store_without_names_serves_and_is_upgraded(units_store, tmp_path, monkeypatch, wards):  # noqa: F811
    from gis.cli import cli
    from gis.store import open_store
    from gis.units import stale_names

    service = make_service(tmp_path, units_store, monkeypatch)
    _without_names(service)
    store = open_store(str(service.store))
    assert set(stale_names(store)) == {"parcels", "violation_cases", "project_parcels"}
    viewer, planner = service.auth("viewer"), service.auth("planner")
    items = _items(service, "parcels")
    assert "unit_code" in items and "unit_name" not in items
    for url in ("/ogc/collections/violations/items?f=json", "/ogc/collections/parcels/schema",
                "/ogc/collections/parcels/items?f=html&limit=3", "/api/violations",
                "/api/maps/district/at?lon=105.5&lat=21.1&zoom=15"):
        res = service.client.get(url, headers=viewer)
        assert res.status_code == 200, (url, res.status_code, res.text[:300])
    # a table for people still names the wards (from the wards layer, as before), and the
    # cases listed are named on the fly
    res = service.client.get("/api/export/parcels?format=csv", headers=planner)
    assert res.status_code == 200 and "Tên phường/xã" in res.text.splitlines()[0]
    res = service.client.get("/api/export/violations?format=geojson", headers=planner)
    cases = pd.DataFrame([f["properties"] for f in res.json()["features"]])
    assert (cases["unit_name"] == cases["unit_code"].map(UNITS)).all()
    res = service.client.get("/api/export/parcels?format=shp", headers=planner)
    assert res.status_code == 200

    # a case recorded now, into the cases table of the earlier release, is named (the table
    # widened in the same transaction)
    from gis.violations import flag

    parcel = store.read("parcels").iloc[0]
    case = flag(store, parcel.geometry.representative_point(), kind="encroachment_public_land",
                who="t")
    recorded = store.read_cases().set_index("case_id").loc[case]
    assert recorded["unit_name"] == UNITS[parcel["unit_code"]]
    assert recorded["ward_name"] == wards[parcel["ward_code"]]

    before = store.read("parcels", columns=["parcel_key", "unit_code", "unit_source"])
    upgraded = CliRunner().invoke(cli, ["db", "upgrade", str(service.store)])
    assert upgraded.exit_code == 0, upgraded.output
    assert re.search(r"names beside codes: [\d,]+ rows of parcels", upgraded.output)
    assert stale_names(store) == []
    after = store.read("parcels")
    # named, not placed again: the units and how they were decided are unchanged
    columns = ["parcel_key", "unit_code", "unit_source"]
    assert pd.DataFrame(after[columns]).astype(str).equals(pd.DataFrame(before[columns])
                                                           .astype(str))
    _check_names(_items(service, "parcels"), wards)
    _check_names(_items(service, "violations"), wards, CASE_PAIRS)
    again = CliRunner().invoke(cli, ["db", "upgrade", str(service.store)])
    assert again.exit_code == 0 and "nothing to do" in again.output, again.output
    # the cases table widened by the upgrade still takes new cases and changes
    res = service.client.get("/api/violations", headers=viewer)
    assert res.status_code == 200


def test_a_wards_load_renames_the_stored_parcels(units_store, tmp_path, monkeypatch):  # noqa: F811
    """Ward names follow the wards layer: loaded again with another name for one ward, the
    stored parcels of that ward take it in the same load; no unit is decided again."""
    import geopandas as gpd

    from gis.ingest import ingest_layer
    from gis.store import open_store

    service = make_service(tmp_path, units_store, monkeypatch)
    store = open_store(str(service.store))
    layer = gpd.GeoDataFrame(store.read("wards"))
    layer.loc[layer["ward_code"] == "09604", "name"] = "Xã Thanh Mỹ (cũ)"
    path = tmp_path / "wards.gpkg"
    layer.to_file(path, layer="wards")
    before = store.read("parcels", columns=["parcel_key", "ward_code", "unit_code"])
    report = ingest_layer(store, path, "wards", user="t")
    assert any("stored parcels take the new wards' names" in n for n in report.crs_notes)
    after = store.read("parcels")
    assert set(after.loc[after["ward_code"] == "09604", "ward_name"]) == {"Xã Thanh Mỹ (cũ)"}
    assert "Xã Thanh Mỹ (cũ)" not in set(after.loc[after["ward_code"] != "09604", "ward_name"])
    assert list(after["unit_code"]) == list(before["unit_code"])
    again = ingest_layer(store, path, "wards", user="t")  # same names: parcels not rewritten
    assert not any("stored parcels" in n for n in again.crs_notes)

