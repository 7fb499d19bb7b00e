"""The parcel extract: one A4 PDF page (pdfinfo, pdftotext, pdftoppm from poppler-utils) with
the parcel's key, attributes, vertex coordinates, clearance status and cases; the JSON form;
unknown parcels; anonymous readers never see owners."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import shapely

from gis.core.clearance.values import format_number_vi
from tests.api.conftest import make_service

PDFTOTEXT = shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(PDFTOTEXT is None or shutil.which("pdfinfo") is None
                                   or shutil.which("pdftoppm") is None,
                                   reason="poppler-utils (pdfinfo, pdftotext, pdftoppm) missing")


@pytest.fixture(scope="module")
def shared(tmp_path_factory, sample_store):  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        yield make_service(tmp_path_factory.mktemp("extract"), sample_store, mp)


def _store(service):  # type: ignore[no-untyped-def]
    from gis.store import open_store

    return open_store(service.store)


def _pdf(service, key: str, tmp_path, role: str | None = "viewer"):  # type: ignore[no-untyped-def]
    res = service.client.get(f"/api/parcels/{key}/extract.pdf", headers=service.auth(role))
    assert res.status_code == 200, res.text[:300]
    assert res.headers["content-type"] == "application/pdf"
    assert res.content.startswith(b"%PDF")
    out = tmp_path / f"{key}.pdf"
    out.write_bytes(res.content)
    return out


def _text(pdf) -> str:  # type: ignore[no-untyped-def]
    return subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def _case_parcel(service) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    cases = _store(service).read("violation_cases")
    row = cases.iloc[0]
    return str(row["parcel_keys"]).split(",")[0], str(row["case_id"])


def _clearance_parcel(service) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    from gis.clearance import run_clearance

    pairs = run_clearance(_store(service), write_back=False).progress.parcels
    row = pairs[pairs["status"] == "PAID"].iloc[0]
    return str(row["parcel_key"]), row.to_dict()


@needs_poppler
def test_extract_is_one_a4_page_with_the_parcel_and_its_cases(shared, tmp_path):
    key, case_id = _case_parcel(shared)
    pdf = _pdf(shared, key, tmp_path)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"Pages:\s+1\n", info) and "(A4)" in info
    text = _text(pdf)
    parcel = _store(shared).read("parcels")
    row = parcel[parcel["parcel_key"] == key].iloc[0]
    for expected in ("TRÍCH LỤC BẢN ĐỒ ĐỊA CHÍNH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", key,
                     f"Thửa đất số {row['parcel_no']}, tờ bản đồ số {row['map_sheet']}",
                     row["owner_name"], row["address"], "Đất chuyên trồng lúa"
                     if row["land_use"] == "LUC" else row["land_use"],
                     f"{format_number_vi(row.geometry.area, 2)} m²", case_id,
                     "Bảng tọa độ đỉnh thửa", "Ngày in:", "Tỷ lệ 1:", "Phường"):
        assert expected in text, expected
    # the first vertex: north-west corner, X northing and Y easting with a decimal comma
    from gis.report.extract import vertices

    n, x_north, y_east, _ = vertices(row.geometry)[0]
    assert re.search(rf"{n}\s+{x_north:.2f}\s+{y_east:.2f}".replace(".", ","), text)
    # and it looks like a page: rendered, mostly white, with drawing on it
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True)
    from PIL import Image

    image = Image.open(tmp_path / "page.png").convert("L")
    assert abs(image.width / image.height - 210 / 297) < 0.01
    histogram = image.histogram()
    white = sum(histogram[240:]) / sum(histogram)
    assert 0.5 < white < 0.98


@needs_poppler
def test_extract_shows_the_clearance_status(shared, tmp_path):
    from gis.core.clearance.status import Status

    key, pair = _clearance_parcel(shared)
    text = _text(_pdf(shared, key, tmp_path))
    assert pair["project_id"] in text and Status.PAID.label_vi in text
    assert format_number_vi(pair["overlap_m2"], 2) in text
    body = shared.client.get(f"/api/parcels/{key}", headers=shared.auth("viewer")).json()
    assert [(c["project_id"], c["status"]) for c in body["clearance"]] == \
        [(pair["project_id"], "PAID")]


@needs_poppler
def test_parcel_outside_projects_says_so(shared, tmp_path):
    from gis.clearance import run_clearance

    pairs = run_clearance(_store(shared), write_back=False).progress.parcels
    parcels = _store(shared).read("parcels", columns=["parcel_key"])
    key = next(k for k in parcels["parcel_key"] if k not in set(pairs["parcel_key"]))
    text = _text(_pdf(shared, key, tmp_path))
    assert "không nằm trong ranh giới dự án" in text


def test_parcel_json(shared):
    key, case_id = _case_parcel(shared)
    res = shared.client.get(f"/api/parcels/{key}", headers=shared.auth("viewer"))
    assert res.status_code == 200
    body = res.json()
    parcel = _store(shared).read("parcels")
    row = parcel[parcel["parcel_key"] == key].iloc[0]
    assert body["parcel_key"] == key and body["owner_name"] == row["owner_name"]
    assert body["land_use"] == row["land_use"] and body["land_use_name"]
    assert body["ward"]["ward_code"] == row["ward_code"] and body["ward"]["name"]
    assert body["area_m2"] == pytest.approx(row.geometry.area, abs=0.01)
    lon, lat = body["point_wgs84"]
    minx, miny, maxx, maxy = body["bbox_wgs84"]
    assert minx <= lon <= maxx and miny <= lat <= maxy and 105 < lon < 106 and 20 < lat < 22
    assert case_id in [c["case_id"] for c in body["cases"]]
    assert body["extract_pdf"] == f"/api/parcels/{key}/extract.pdf"
    assert "geometry_original_wkt" not in body and "extra" not in body


@pytest.mark.parametrize("key", ["09880-999-999", "x' OR '1'='1", "%3Cscript%3E"])
def test_unknown_parcel_is_404_with_a_message(shared, key):
    for url in (f"/api/parcels/{key}", f"/api/parcels/{key}/extract.pdf"):
        res = shared.client.get(url, headers=shared.auth("viewer"))
        assert res.status_code == 404
        body = res.json()
        assert "no parcel" in body["message"] and "09880-1-5" in body["message"]


def test_roles_and_anonymous_readers(shared, tmp_path, sample_store, monkeypatch):
    key, _ = _case_parcel(shared)
    for url in (f"/api/parcels/{key}", f"/api/parcels/{key}/extract.pdf"):
        assert shared.client.get(url).status_code == 401
        for role in ("viewer", "inspector", "planner", "admin"):
            assert shared.client.get(url, headers=shared.auth(role)).status_code == 200
    public = make_service(tmp_path, sample_store, monkeypatch, public_read=True)
    owner = str(_store(public).read("parcels").set_index("parcel_key").loc[key, "owner_name"])
    body = public.client.get(f"/api/parcels/{key}").json()
    assert "owner_name" not in body and "owner_code" not in body
    res = public.client.get(f"/api/parcels/{key}/extract.pdf")
    assert res.status_code == 200
    if PDFTOTEXT:
        pdf = tmp_path / "public.pdf"
        pdf.write_bytes(res.content)
        text = _text(pdf)
        assert owner not in text and "không công khai" in text and "Người in" not in text


def test_vertices_run_clockwise_from_the_north_west_corner():
    from gis.report.extract import vertices

    square = shapely.Polygon([(0, 0), (10, 0), (10, 20), (0, 20)])  # counter-clockwise
    pts = vertices(square)
    assert [(x, y) for _, x, y, _ in pts] == [(20, 0), (20, 10), (0, 10), (0, 0)]  # (X=N, Y=E)
    assert [round(s, 6) for *_, s in pts] == [10, 20, 10, 20]
    multi = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), square])
    assert [n for n, *_ in vertices(multi)] == list(range(1, 9))


def test_map_scale_is_a_standard_one_that_fits():
    from gis.report.extract import _MAP_METRES, SCALES, extent_for

    for size in (5, 18, 40, 120, 900):
        scale, half = extent_for(shapely.box(0, 0, size, size / 2))
        assert scale in SCALES and half * 2 == pytest.approx(_MAP_METRES * scale)
        assert half * 2 >= size or scale == SCALES[-1]
