"""Each officer in their own units, beyond the layers' rows: uploads and the ingest log per
unit, units of the store's province for users, and exports that read only the officer's rows
(the store is asked with the scope). Store and users: :mod:`tests.api.scoped`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.api.scoped import (
    SON_TAY,
    TUNG_THIEN,
    _other_province_unit,
    _parcels,
    _parcels_zip,
)


# -- users' units of the store's province -------------------------------------------------------
def test_cli_units_of_another_province_are_refused(units_store, tmp_path, monkeypatch):
    """The store's province decides (its units layer, else its parcels); a unit of the province
    that the units layer lacks is taken with a warning; an empty store takes any."""
    import shutil

    from gis.cli import cli
    from gis.io.admin_units import load_registry

    current = load_registry().current
    store = tmp_path / "store.gpkg"
    shutil.copy(units_store, store)
    monkeypatch.setenv("GIS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GIS_STORE", str(store))
    run = CliRunner().invoke
    code, name, province = _other_province_unit("01")
    add = ["users", "add", "x", "--role", "viewer", "--password", "12345678", "--units"]
    res = run(cli, [*add, f"{SON_TAY},{code}"])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert f"{code} {name}" in text and province in text and "Thành phố Hà Nội (01)" in text
    assert "units layer" in text and "Traceback" not in res.output
    assert run(cli, [*add, SON_TAY]).exit_code == 0
    refused = run(cli, ["users", "units", "x", code])
    assert refused.exit_code == 2 and province in " ".join(refused.output.split())
    hanoi = sorted(c for c in current.index[current["province_code"] == "01"]
                   if c not in (SON_TAY, TUNG_THIEN))[0]
    warned = run(cli, ["users", "units", "x", hanoi])
    assert warned.exit_code == 0, warned.output
    assert "warning" in warned.output and hanoi in warned.output
    assert "warning" not in run(cli, ["users", "units", "x", TUNG_THIEN]).output
    # an empty store (none yet) takes any valid code
    monkeypatch.setenv("GIS_STORE", str(tmp_path / "none.gpkg"))
    assert run(cli, ["users", "units", "x", code]).exit_code == 0


def test_store_provinces_from_the_parcels_without_a_units_layer(sample_store):
    from gis.errors import UnitCodeError
    from gis.io.admin_units import load_registry
    from gis.store import open_store
    from gis.units import check_units, store_provinces

    store = open_store(sample_store)
    assert not store.has("units")
    provinces, source = store_provinces(store)
    assert source == "parcels" and len(provinces) == 1
    (province,) = provinces
    current = load_registry().current
    mine = sorted(current.index[current["province_code"] == province])[0]
    assert check_units(mine, store=store) == (mine,)
    code, name, other = _other_province_unit(province)
    with pytest.raises(UnitCodeError, match=other):
        check_units(f"{mine},{code}", store=store)




# -- exports read the officer's rows ----------------------------------------------------------
def _reads(monkeypatch, store):  # type: ignore[no-untyped-def]
    """Every read of the store's class (``query`` and ``scan``): (table, query, rows read)."""
    from gis.store import open_store

    kind = type(open_store(str(store)))
    seen: list[tuple[str, object, int]] = []
    query, scan = kind.query, kind.scan

    def counted_query(self, table, q):  # type: ignore[no-untyped-def]
        result = query(self, table, q)
        seen.append((table, q, len(result)))
        return result

    def counted_scan(self, table, q, **kw):  # type: ignore[no-untyped-def]
        for result in scan(self, table, q, **kw):
            seen.append((table, q, len(result)))
            yield result

    monkeypatch.setattr(kind, "query", counted_query)
    monkeypatch.setattr(kind, "scan", counted_scan)
    return seen


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_a_scoped_export_reads_only_the_officers_rows(scoped, fmt, monkeypatch):
    """The scope goes into the store's query (``unit_code`` or the layer's key): a commune
    officer's export reads their rows, not the province's, on either backend."""
    parcels = _parcels(scoped.service.store)
    counts = parcels["unit_code"].value_counts()
    seen = _reads(monkeypatch, scoped.service.store)
    res = scoped.get(f"/api/export/parcels?format={fmt}", "son_tay", "planner")
    assert res.status_code == 200 and int(res.headers["x-feature-count"]) == counts[SON_TAY]
    reads = [(q, n) for table, q, n in seen if table == "parcels"]
    assert reads and all(q.units == (SON_TAY,) for q, _ in reads), reads
    assert sum(n for _, n in reads) == counts[SON_TAY] < len(parcels)
    seen.clear()  # with an attribute filter: the key columns and the clearance run of the
    # status are read in the scope too (each read at most the unit's parcels)
    res = scoped.get(f"/api/export/parcels?format={fmt}&status=PAID", "tung_thien", "planner")
    assert res.status_code == 200, res.text
    reads = [(q, n) for table, q, n in seen if table == "parcels"]
    assert reads and all(q.units == (TUNG_THIEN,) for q, _ in reads), reads
    assert max(n for _, n in reads) <= counts[TUNG_THIEN]
    seen.clear()  # a layer without units: its keys in the officer's area
    whole = scoped.get(f"/api/export/projects?format={fmt}", "province", "planner")
    seen.clear()
    res = scoped.get(f"/api/export/projects?format={fmt}", "son_tay", "planner")
    exported = [q for table, q, _ in seen if table == "projects" and q.with_geometry]
    assert exported and all(q.keys is not None for q in exported), exported
    assert sum(n for table, q, n in seen if table == "projects" and q.with_geometry) == \
        int(res.headers["x-feature-count"]) <= int(whole.headers["x-feature-count"])
    seen.clear()
    res = scoped.get(f"/api/export/parcels?format={fmt}", "province", "planner")
    assert sum(n for table, _, n in seen if table == "parcels") == len(parcels)




# -- uploads and the ingest log ---------------------------------------------------------------
def test_uploads_of_a_commune_office_stay_in_its_units(scoped, units_store, tmp_path):
    def post(who: str, data: bytes, kind: str = "parcels", **options: str):  # type: ignore[no-untyped-def]
        return scoped.client.post("/api/uploads", headers=scoped.auth(who, "admin"),
                                  files={"file": ("thua_dat.zip", data, "application/zip")},
                                  data={"kind": kind, **options})

    son_tay_only = _parcels_zip(units_store, tmp_path, ["09577", "09592"])
    split_ward = _parcels_zip(units_store, tmp_path, ["09604"])
    refused = post("tung_thien", son_tay_only)
    assert refused.status_code == 403, refused.text
    assert "Phường Sơn Tây (09574)" in refused.json()["message"]
    split = post("son_tay", split_ward)  # legacy Thanh Mỹ went to both units
    assert split.status_code == 403 and "Phường Tùng Thiện (09604)" in split.json()["message"]
    everything = post("son_tay", son_tay_only, replace_all="true")
    assert everything.status_code == 403 and "province department" in everything.json()["message"]
    wards = post("son_tay", son_tay_only, kind="wards")
    assert wards.status_code == 403
    ok = post("son_tay", son_tay_only)
    assert ok.status_code == 201, ok.text
    done = scoped.client.post(f"/api/uploads/{ok.json()['id']}/commit",
                              headers=scoped.auth("son_tay", "admin"))
    assert done.status_code == 200, done.text
    assert ok.json()["units"] == [SON_TAY]
    province_split = post("province", split_ward)
    assert province_split.status_code == 201
    assert province_split.json()["units"] == [SON_TAY, TUNG_THIEN]
    log = scoped.client.get("/api/uploads/log", headers=scoped.auth("province", "admin")).json()
    assert log[0]["who"] == "son_tay-admin" and log[0]["units"] == [SON_TAY]
    assert {tuple(r["units"]) for r in log if r["kind"] == "clearance"} == \
        {(SON_TAY, TUNG_THIEN)}
    _uploads_and_log_of_each_unit(scoped, units_store, tmp_path, post, ok.json()["id"],
                                  province_split.json()["id"], log)


def _uploads_and_log_of_each_unit(scoped, units_store, tmp_path, post, son_tay_upload,  # type: ignore[no-untyped-def]
                                  split_upload, log) -> None:
    """An officer sees their own uploads and log lines and those touching only their units;
    another unit's, or the whole store's, are the province's (403 by id)."""
    from gis.io.admin_units import load_registry

    conversion = load_registry().conversion
    parcels = pyogrio_read(units_store.parent / "src" / "parcels.shp")
    whole = conversion.groupby("ward_code")["unit_code"].agg(set)
    tung_thien_wards = sorted(w for w in set(parcels["MaXa"]) if whole.get(w) == {TUNG_THIEN})
    assert tung_thien_wards
    theirs = post("province", _parcels_zip(units_store, tmp_path, tung_thien_wards))
    assert theirs.status_code == 201 and theirs.json()["units"] == [TUNG_THIEN]

    def listed(who: str) -> set[str]:
        return {u["id"] for u in scoped.get("/api/uploads", who, "admin").json()}

    assert {son_tay_upload, split_upload, theirs.json()["id"]} <= listed("province")
    assert son_tay_upload in listed("son_tay") and theirs.json()["id"] not in listed("son_tay")
    assert theirs.json()["id"] in listed("tung_thien")
    assert not {son_tay_upload, split_upload} & listed("tung_thien")
    assert split_upload not in listed("son_tay")  # it touches Tùng Thiện too
    for url in (f"/api/uploads/{son_tay_upload}", f"/admin/uploads/{son_tay_upload}"):
        assert scoped.get(url, "tung_thien", "admin").status_code == 403, url
        assert scoped.get(url, "province", "admin").status_code == 200, url
        assert scoped.get(url, "son_tay", "admin").status_code == 200, url
    refused = scoped.get(f"/api/uploads/{split_upload}", "son_tay", "admin")
    assert refused.status_code == 403 and TUNG_THIEN in refused.json()["message"]
    for method, url in (("POST", f"/api/uploads/{split_upload}/commit"),
                        ("DELETE", f"/api/uploads/{split_upload}"),
                        ("POST", f"/admin/uploads/{split_upload}/commit"),
                        ("POST", f"/admin/uploads/{split_upload}/discard")):
        res = scoped.client.request(method, url, headers=scoped.auth("son_tay", "admin"),
                                    follow_redirects=False)
        assert res.status_code == 403, (method, url, res.text)
    assert scoped.get(f"/api/uploads/{split_upload}", "province", "admin").json()["state"] == \
        "pending"
    # the ingest log: own lines and lines of their units only (the province's whole-store
    # layers, the split clearance sheet and other units' parcels stay out)
    for who, unit in (("son_tay", SON_TAY), ("tung_thien", TUNG_THIEN)):
        lines = scoped.get("/api/uploads/log", who, "admin").json()
        assert all(r["who"] == f"{who}-admin" or (r["units"] and set(r["units"]) <= {unit})
                   for r in lines), (who, lines)
        assert len(lines) < len(log)
    assert scoped.get("/api/uploads/log", "son_tay", "admin").json()[0] == log[0]
    page = scoped.get("/admin/uploads", "tung_thien", "admin").text
    assert "son_tay-admin" not in page and son_tay_upload not in page
    assert theirs.json()["id"] in page
    assert "son_tay-admin" in scoped.get("/admin/uploads", "son_tay", "admin").text
    assert 'value="wards"' not in page and 'value="clearance"' in page  # what they may load
    assert 'value="wards"' in scoped.get("/admin/uploads", "province", "admin").text


def pyogrio_read(path: Path):  # type: ignore[no-untyped-def]
    import pyogrio

    return pyogrio.read_dataframe(path)


