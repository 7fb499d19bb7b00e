"""The violations REST API: flag, list with filters, read, change, transitions, attachments,
dossier; errors with messages; roles; CSRF for cookie sessions."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import shapely

from tests.api.conftest import PASSWORD, make_service

API = "/api/violations"
# a point inside ward 09883 of the sample district (WGS 84)
INSIDE = [105.8695, 21.0589]


@pytest.fixture(scope="module")
def ro(tmp_path_factory, sample_store):
    """One service for the tests that change nothing (refusals, reads): accounts are slow to
    create (argon2), so they are made once per module."""
    with pytest.MonkeyPatch.context() as mp:
        yield make_service(tmp_path_factory.mktemp("ro"), sample_store, mp)


def _jpeg(color=(200, 80, 40), size=(640, 480)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def _first(service, **params) -> dict:
    res = service.client.get(API, params={"limit": 1, **params}, headers=service.auth("viewer"))
    assert res.status_code == 200, res.text
    return res.json()["cases"][0]


def _flag(service, role="inspector", **body) -> dict:
    payload = {"geometry": {"type": "Point", "coordinates": INSIDE},
               "kind": "encroachment_public_land", **body}
    res = service.client.post(API, json=payload, headers=service.auth(role))
    assert res.status_code == 201, res.text
    return res.json()


def test_flag_a_point_in_wgs84_and_read_it_back(service):
    case = _flag(service, notes="Lấn chiếm vỉa hè 12 m²", owner_name="Nguyễn Văn An")
    assert re.fullmatch(r"VP-\d{4}-\d{5}", case["case_id"])
    assert case["status"] == "DETECTED" and case["ward_code"] == "09883"
    assert case["parcel_keys"] == ["09883-7-59"] and case["source"] == "inspector"
    assert case["inspector"] == "inspector"  # the authenticated user, not the body
    assert case["geometry"]["type"] == "Point"
    assert case["geometry"]["coordinates"] == pytest.approx(INSIDE, abs=1e-6)  # round trip
    c = service.client
    res = c.get(case["links"]["self"], headers=service.auth("viewer"))
    assert res.status_code == 200
    detail = res.json()
    assert detail["notes"] == "Lấn chiếm vỉa hè 12 m²" and detail["status_label"] == "Phát hiện"
    assert [(h["who"], h["field"], h["new"]) for h in detail["history"]] == \
        [("inspector", "created", "inspector")]
    assert detail["transitions"] == ["VERIFYING", "MINUTES_ISSUED", "DISMISSED"]
    listed = c.get(API, params={"q": "lan chiem via he"}, headers=service.auth("viewer")).json()
    assert [r["case_id"] for r in listed["cases"]] == [case["case_id"]]  # accents optional


def test_created_answers_201_with_location(service):
    payload = {"geometry": {"type": "Point", "coordinates": INSIDE}, "kind": "other"}
    res = service.client.post(API, json=payload, headers=service.auth("admin"))
    assert res.status_code == 201
    assert res.headers["location"] == f"{API}/{res.json()['case_id']}"
    assert res.json()["inspector"] == "admin"


def test_flag_a_polygon_in_vn2000(service):
    from gis.store import open_store

    store = open_store(service.store)
    parcel = store.read("parcels", where="parcel_key = '09880-1-2'").geometry.iloc[0]
    shape = parcel.centroid.buffer(3, quad_segs=2)
    epsg = store.crs().to_epsg()
    res = service.client.post(API, headers=service.auth("inspector"), json={
        "geometry": shapely.geometry.mapping(shape), "kind": "land_destruction",
        "crs": f"EPSG:{epsg}"})
    assert res.status_code == 201, res.text
    case = res.json()
    assert case["ward_code"] == "09880" and "09880-1-2" in case["parcel_keys"]
    assert case["area_m2"] == pytest.approx(shape.area, rel=1e-3)
    lon, lat = case["geometry"]["coordinates"][0][0]
    assert 105 < lon < 107 and 20 < lat < 22  # answered in WGS 84


@pytest.mark.parametrize("body, status, words", [
    ({"kind": "bogus"}, 409, "unknown kind 'bogus'; valid: construction_on_agricultural_land"),
    ({"geometry": {"type": "Point", "coordinates": [106.5, 21.3]}}, 409,
     "outside every ward"),
    ({"geometry": {"type": "LineString", "coordinates": [INSIDE, [105.87, 21.06]]}}, 422,
     "a case is a Point, Polygon or MultiPolygon"),
    ({"geometry": {"type": "Point", "coordinates": [590160.0, 2329725.0]}}, 422,
     "not longitude/latitude"),
    ({"geometry": {"type": "Polygon", "coordinates": [[[105.87, 21.05], [105.871, 21.051],
                                                      [105.87, 21.051], [105.871, 21.05],
                                                      [105.87, 21.05]]]}}, 409,
     "not valid"),
    ({"inspector": "someone-else"}, 422, "inspector"),
    ({"crs": "EPSG:nonsense"}, 422, "crs 'EPSG:nonsense' is not a CRS"),
])
def test_flag_refusals_carry_a_message(ro, body, status, words):
    payload = {"geometry": {"type": "Point", "coordinates": INSIDE}, "kind": "other", **body}
    res = ro.client.post(API, json=payload, headers=ro.auth("inspector"))
    assert res.status_code == status, res.text
    assert words in res.json()["message"]
    assert "Traceback" not in res.text
    if "crs" in body:
        assert not res.json()["message"].startswith("--")  # the API's field, not the CLI's


def test_list_filters_paging_and_geojson(ro):
    c, h = ro.client, ro.auth("viewer")
    everything = c.get(API, headers=h).json()
    assert everything["total"] == 9 and len(everything["cases"]) == 9
    ward = c.get(API, params={"ward": "09889"}, headers=h).json()["cases"]
    assert ward and {r["ward_code"] for r in ward} == {"09889"}
    kind = c.get(API, params={"kind": "encroachment_neighbour"}, headers=h).json()
    assert kind["total"] == 3 and {r["kind_label"] for r in kind["cases"]} == {"Lấn sang thửa liền kề"}
    assert c.get(API, params={"status": "closed"}, headers=h).json()["total"] == 0
    assert c.get(API, params={"source": "detection"}, headers=h).json()["total"] == 9
    assert c.get(API, params={"overdue": "true"}, headers=h).json()["total"] == 0
    page = c.get(API, params={"limit": 4, "offset": 4}, headers=h).json()
    assert [r["case_id"] for r in page["cases"]] == \
        [r["case_id"] for r in everything["cases"][4:8]]
    rels = {link["rel"]: link["href"] for link in page["links"]}
    assert "offset=8" in rels["next"] and "offset=0" in rels["prev"]
    geo = c.get(API, params={"f": "geojson", "kind": "encroachment_neighbour"}, headers=h)
    assert geo.headers["content-type"].startswith("application/geo+json")
    fc = geo.json()
    assert fc["type"] == "FeatureCollection" and fc["numberMatched"] == 3
    lon, lat = fc["features"][0]["geometry"]["coordinates"][0][0]
    assert 105 < lon < 107 and 20 < lat < 22
    # bbox around one case's geometry finds it, a bbox elsewhere finds nothing
    x, y = fc["features"][0]["geometry"]["coordinates"][0][0]
    near = c.get(API, params={"bbox": f"{x - 1e-4},{y - 1e-4},{x + 1e-4},{y + 1e-4}"},
                 headers=h).json()
    assert fc["features"][0]["id"] in [r["case_id"] for r in near["cases"]]
    assert c.get(API, params={"bbox": "100,10,100.1,10.1"}, headers=h).json()["total"] == 0


@pytest.mark.parametrize("params, status, words", [
    ({"status": "FINISHED"}, 422, "unknown status 'FINISHED'; valid: DETECTED"),
    ({"kind": "parking"}, 422, "unknown kind 'parking'"),
    ({"bbox": "1,2,3"}, 400, "must be 4 numbers: minx,miny,maxx,maxy"),
    ({"limit": 0}, 400, "limit=0 must be at least 1"),
    ({"limit": 5001}, 400, "limit=5001 is more than 5000"),
])
def test_list_refuses_bad_filters(ro, params, status, words):
    res = ro.client.get(API, params=params, headers=ro.auth("viewer"))
    assert res.status_code == status and words in res.json()["message"]


@pytest.mark.parametrize("method, path", [
    ("get", "/VP-2026-99999"), ("patch", "/VP-2026-99999"),
    ("post", "/VP-2026-99999/transitions"), ("get", "/VP-2026-99999/attachments"),
    ("get", "/VP-2026-99999/attachments/1"), ("get", "/VP-2026-99999/dossier.pdf"),
    ("get", "/VP-2026-00001'%20OR%20'1'='1"), ("get", "/VP-2026-00001/attachments/7"),
])
def test_unknown_cases_and_attachments_are_404(ro, method, path):
    kwargs = {"json": {"to": "VERIFYING", "notes": "x"}} if method != "get" else {}
    res = getattr(ro.client, method)(API + path, headers=ro.auth("admin"), **kwargs)
    assert res.status_code == 404, res.text
    assert "no case" in res.json()["message"] or "no attachment" in res.json()["message"]


def test_transitions_follow_the_lifecycle_with_history(service):
    c, h = service.client, service.auth("inspector")
    case_id = _first(service)["case_id"]
    url = f"{API}/{case_id}/transitions"
    res = c.post(url, json={"to": "VERIFYING", "note": "Đi kiểm tra hiện trường"}, headers=h)
    assert res.status_code == 200, res.text
    assert res.json()["case"]["status"] == "VERIFYING"
    assert "Đi kiểm tra hiện trường" in res.json()["case"]["notes"]
    res = c.post(url, json={"to": "MINUTES_ISSUED"}, headers=h)  # minutes need their number
    assert res.status_code == 409 and "minutes need their number" in res.json()["message"]
    res = c.post(url, json={"to": "CLOSED", "closed_reason": "x"}, headers=h)
    assert res.status_code == 409
    assert "VERIFYING → CLOSED is not allowed; from VERIFYING: MINUTES_ISSUED, DISMISSED" in \
        res.json()["message"]
    res = c.post(url, json={"to": "MINUTES_ISSUED", "minutes_no": "Số: 12/BB-VPHC",
                            "minutes_date": "20/11/2026", "owner_name": "Lê Thị Bình"},
                 headers=service.auth("admin"))
    assert res.status_code == 200, res.text
    case = res.json()["case"]
    assert case["status"] == "MINUTES_ISSUED" and case["minutes_no"] == "12/BB-VPHC"
    assert case["minutes_date"] == "2026-11-20"
    res = c.post(url, json={"to": "DECISION_ISSUED", "decision_no": "45/QĐ-XPHC",
                            "decision_date": "25/11/2026", "fine_vnd": "7.500.000"}, headers=h)
    assert res.status_code == 200, res.text
    assert res.json()["case"]["fine_vnd"] == 7_500_000  # written as officers write amounts
    assert c.post(url, json={"to": "SOMEWHERE"}, headers=h).status_code == 422
    assert c.post(url, json={"to": "EXPLANATION", "case_id": "X"}, headers=h).status_code == 422
    history = c.get(f"{API}/{case_id}", headers=h).json()["history"]
    lines = [(r["who"], r["field"], r["old"], r["new"]) for r in history]
    assert ("inspector", "status", "DETECTED", "VERIFYING") in lines
    assert ("admin", "status", "VERIFYING", "MINUTES_ISSUED") in lines
    assert ("admin", "minutes_no", None, "12/BB-VPHC") in lines
    assert all(r["at_local"] and r["field_label"] for r in history)
    assert not any(new == "CLOSED" for *_, new in lines)  # the refused change left no trace


def test_patch_editable_fields_only(service):
    c, h = service.client, service.auth("inspector")
    case_id = _first(service)["case_id"]
    res = c.patch(f"{API}/{case_id}", json={"notes": "Chủ hộ hẹn làm việc thứ Hai",
                                            "owner_name": "Phạm Văn Cường"}, headers=h)
    assert res.status_code == 200, res.text
    assert {(r["field"], r["who"]) for r in res.json()["changes"]} == \
        {("notes", "inspector"), ("owner_name", "inspector")}
    assert res.json()["case"]["owner_name"] == "Phạm Văn Cường"
    res = c.patch(f"{API}/{case_id}", json={"area_m2": 1.0}, headers=h)
    assert res.status_code == 422 and "cannot change area_m2; editable:" in res.json()["message"]
    res = c.patch(f"{API}/{case_id}", json={"status": "CLOSED"}, headers=h)
    assert res.status_code == 409 and "not allowed" in res.json()["message"]
    res = c.patch(f"{API}/{case_id}", json={"kind": "bogus"}, headers=h)
    assert res.status_code == 409 and "unknown kind 'bogus'" in res.json()["message"]
    assert c.patch(f"{API}/{case_id}", json={}, headers=h).status_code == 422


def test_attachments_upload_list_download(service):
    from gis.store import open_store
    from gis.violations import attachments_dir

    c, h = service.client, service.auth("inspector")
    case_id = _first(service)["case_id"]
    url = f"{API}/{case_id}/attachments"
    photo = _jpeg()
    res = c.post(url, files={"file": ("../../../tmp/ảnh hiện trường.jpg", photo, "text/plain")},
                 data={"note": "mặt tiền"}, headers=h)
    assert res.status_code == 201, res.text
    row = res.json()
    assert row["filename"] == "ảnh hiện trường.jpg"  # base name only, never a path
    assert row["role"] == "photo" and row["mime"] == "image/jpeg" and row["who"] == "inspector"
    assert res.headers["location"] == f"{url}/1"
    stored = list(Path(attachments_dir(open_store(service.store))).rglob("*"))
    names = [p.name for p in stored if p.is_file()]
    assert names == [f"{row['sha256']}.jpg"]  # stored under its SHA-256, not the client's name
    assert not Path("/tmp/ảnh hiện trường.jpg").exists()
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    res = c.post(url, files={"file": ("biên bản.pdf", pdf, "application/pdf")}, headers=h)
    assert res.status_code == 201 and res.json()["role"] == "document"
    listed = c.get(url, headers=service.auth("viewer")).json()["attachments"]
    assert [(a["n"], a["filename"]) for a in listed] == [(1, "ảnh hiện trường.jpg"),
                                                         (2, "biên bản.pdf")]
    got = c.get(f"{url}/1", headers=service.auth("viewer"))
    assert got.status_code == 200 and got.content == photo
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("inline; filename*=utf-8''")
    got = c.get(f"{url}/2", headers=service.auth("viewer"))
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["content-type"] == "application/pdf" and got.content == pdf
    thumb = c.get(f"{url}/1", params={"thumb": 1}, headers=service.auth("viewer"))
    assert thumb.headers["content-type"] == "image/jpeg" and thumb.content[:3] == b"\xff\xd8\xff"
    assert len(thumb.content) < len(photo)
    # refused: the same photo again, a page pretending to be a photo, a PDF as a photo
    res = c.post(url, files={"file": ("again.jpg", photo, "image/jpeg")}, headers=h)
    assert res.status_code == 409 and "already attached" in res.json()["message"]
    res = c.post(url, files={"file": ("x.jpg", b"<html><script>1</script></html>", "image/jpeg")},
                 headers=h)
    assert res.status_code == 415 and "not a known image or PDF" in res.json()["message"]
    res = c.post(url, files={"file": ("x.pdf", pdf, "application/pdf")}, data={"role": "photo"},
                 headers=h)
    assert res.status_code == 415 and "a photo must be an image" in res.json()["message"]
    res = c.post(url, files={"file": ("x.jpg", photo)}, data={"role": "selfie"}, headers=h)
    assert res.status_code == 422
    res = c.post(url, files={"file": ("empty.jpg", b"")}, headers=h)
    assert res.status_code == 422
    history = c.get(f"{API}/{case_id}", headers=h).json()["history"]
    assert [h_["field"] for h_ in history if "attached" in h_["field"]] == \
        ["photo attached", "document attached"]


def test_attachment_size_limit(tmp_path, sample_store, monkeypatch):
    svc = make_service(tmp_path, sample_store, monkeypatch, max_upload_mb=1)
    case_id = _first(svc)["case_id"]
    url = f"{API}/{case_id}/attachments"
    big = b"\xff\xd8\xff\xe0" + b"\0" * (1024 * 1024 + 10)  # just over 1 MB: read and refused
    res = svc.client.post(url, files={"file": ("big.jpg", big)}, headers=svc.auth("inspector"))
    assert res.status_code == 413 and "over the limit of 1 MB" in res.json()["message"]
    huge = b"\xff\xd8\xff\xe0" + b"\0" * (3 * 1024 * 1024)  # refused by Content-Length
    res = svc.client.post(url, files={"file": ("huge.jpg", huge)}, headers=svc.auth("inspector"))
    assert res.status_code == 413
    assert svc.client.get(url, headers=svc.auth("viewer")).json()["attachments"] == []


def test_dossier_pdf(ro):
    case_id = _first(ro)["case_id"]
    res = ro.client.get(f"{API}/{case_id}/dossier.pdf", headers=ro.auth("viewer"))
    assert res.status_code == 200 and res.content.startswith(b"%PDF")
    assert res.headers["content-disposition"] == f'attachment; filename="{case_id}.pdf"'


def test_roles(ro):
    c = ro.client
    case_id = _first(ro)["case_id"]
    reads = [("get", API), ("get", f"{API}/{case_id}"), ("get", f"{API}/{case_id}/attachments")]
    writes = [("post", API, {"geometry": {"type": "Point", "coordinates": INSIDE},
                             "kind": "other"}),
              ("patch", f"{API}/{case_id}", {"notes": "ghi chú"}),
              ("post", f"{API}/{case_id}/transitions", {"to": "VERIFYING"})]
    for method, url in reads:
        assert getattr(c, method)(url).status_code == 401
        for role in ("viewer", "inspector", "planner", "admin"):
            assert getattr(c, method)(url, headers=ro.auth(role)).status_code == 200
    for method, url, body in writes:
        res = getattr(c, method)(url, json=body)
        assert res.status_code == 401 and res.headers["www-authenticate"].startswith("Basic")
        for role in ("viewer", "planner"):
            res = getattr(c, method)(url, json=body, headers=ro.auth(role))
            assert res.status_code == 403 and "needs write" in res.json()["message"]
    res = c.post(f"{API}/{case_id}/attachments", files={"file": ("a.jpg", _jpeg())},
                 headers=ro.auth("viewer"))
    assert res.status_code == 403
    assert c.get(API, params={"limit": 1}, headers=ro.auth("viewer")).json()["cases"][0][
        "status"] == "DETECTED"  # nothing changed by the refused writes


def test_cookie_session_needs_the_csrf_token(service):
    c = service.client
    res = c.post("/login", data={"name": "inspector", "next": "/cases",
                                 "password": PASSWORD.format(role="inspector")},
                 follow_redirects=False)
    assert res.status_code == 303
    case_id = _first(service)["case_id"]
    url = f"{API}/{case_id}/transitions"
    res = c.post(url, json={"to": "VERIFYING"})  # the cookie alone is not enough
    assert res.status_code == 403 and "CSRF" in res.json()["message"]
    token = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/cases").text).group(1)
    res = c.post(url, json={"to": "VERIFYING"}, headers={"X-CSRF-Token": "0" * 64})
    assert res.status_code == 403
    res = c.post(url, json={"to": "VERIFYING"}, headers={"X-CSRF-Token": token})
    assert res.status_code == 200 and res.json()["changes"][0]["who"] == "inspector"
    res = c.post(f"{API}/{case_id}/attachments", files={"file": ("a.jpg", _jpeg())})
    assert res.status_code == 403
    res = c.post(f"{API}/{case_id}/attachments", files={"file": ("a.jpg", _jpeg())},
                 data={"csrf_token": token})
    assert res.status_code == 201


def test_transition_form_fields_agree_with_the_lifecycle():
    """The fields each transition's form marks required are exactly what the library asks."""
    import datetime as dt

    from gis.api.cases.service import TRANSITION_FIELDS
    from gis.core.violations.cases import TRANSITIONS, CaseStatus, apply_changes
    from gis.errors import CaseError

    samples = {"minutes_no": "12/BB-VPHC", "minutes_date": "2026-01-05",
               "decision_no": "45/QĐ-XPHC", "decision_date": "2026-01-10",
               "remedy_deadline": "2026-03-01", "closed_reason": "Đã khắc phục",
               "conclusion_no": "316/KL-STNMT-TTr", "conclusion_date": "2026-01-12",
               "fine_vnd": 5_000_000, "owner_name": "A", "inspector": "B"}
    at = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    for source, targets in TRANSITIONS.items():
        for target in targets:
            base = {"case_id": "T", "status": source.value}
            if source not in (CaseStatus.DETECTED, CaseStatus.VERIFYING):
                base.update(minutes_no="1/BB-VPHC", minutes_date="2026-01-02")
            required = [f for f, req in TRANSITION_FIELDS[target.value] if req]
            given = {f: samples[f] for f in required}
            new, _ = apply_changes(base, {"status": target.value, **given}, who="t", at=at)
            assert new["status"] == target.value
            for missing in required:
                if base.get(missing):
                    continue
                with pytest.raises(CaseError):
                    apply_changes(base, {"status": target.value,
                                         **{f: v for f, v in given.items() if f != missing}},
                                  who="t", at=at)
