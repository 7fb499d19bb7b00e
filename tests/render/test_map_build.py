"""Static maps: self-contained offline HTML, legend, escaped values, size guard, CLI."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from gis.cli import cli
from gis.render.payload import decode
from tests.conftest import ROOT, make_map_store


@pytest.fixture
def store(tmp_path, small_parcels, monkeypatch):
    return make_map_store(tmp_path, small_parcels, "<script>alert(1)</script> lấn chiếm",
                          monkeypatch)


def test_map_build_is_self_contained_and_escapes_values(store, tmp_path):
    out = tmp_path / "m.html"
    res = CliRunner().invoke(cli, ["map", "build", str(ROOT / "maps" / "district.yaml"),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    # offline: no script or stylesheet comes from the network, Leaflet is inlined
    assert not re.search(r'<script[^>]+src="(https?:)?//', html)
    assert not re.search(r'<link[^>]+href="(https?:)?//', html)
    assert "L.version" in html or "Leaflet" in html
    assert 'src="leaflet.js"' not in html and 'href="leaflet.css"' not in html
    # the legend and titles in Vietnamese, with diacritics
    for text in ("Đất nông nghiệp", "Vụ việc vi phạm", "Thửa đất", "Phát hiện"):
        assert text in html
    # a note holding a script tag cannot close the page's script: it is data, shown as text
    assert "alert(1)<\\/script> lấn chiếm" in html
    assert "alert(1)</script>" not in html  # the note never closes the page's script element
    assert "textContent" in html
    # each layer's data is a JSON element (gis/render/payload.py): coordinates as integers of
    # 1e-6 degree (~0.1 m) in WGS 84, every ring starting at a lon, lat in Hà Nội
    payloads = [json.loads(text) for text in re.findall(
        r'<script type="application/json" id="[^"]+">(.*?)</script>', html, flags=re.DOTALL)]
    assert len(payloads) >= 3 and all(set(p) == {"columns", "shapes", "coords"} for p in payloads)
    assert all(isinstance(v, int) for p in payloads for v in p["coords"])
    starts = [(ring[0], ring[1]) for p in payloads for g in decode(p) if g and g[0] == 1
              for polygon in g[1] for ring in polygon]
    assert starts and all(105_000_000 < x < 106_000_000 and 20_000_000 < y < 22_000_000
                          for x, y in starts)


def test_map_list_and_english(store, tmp_path):
    res = CliRunner().invoke(cli, ["map", "list", "--folder", str(ROOT / "maps")])
    assert "district" in res.output and "Land management map" in res.output
    out = tmp_path / "en.html"
    res = CliRunner().invoke(cli, ["map", "build", str(ROOT / "maps" / "district.yaml"),
                                   "--lang", "en", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Agricultural land" in out.read_text(encoding="utf-8")


def test_too_many_features_points_to_the_service(store, tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text("id: tiny\ntitle: {vi: a, en: b}\nmax_features: 2\nlayers:\n  - layer: parcels\n",
                    encoding="utf-8")
    res = CliRunner().invoke(cli, ["map", "build", str(spec), "--out", str(tmp_path / "t.html")])
    assert res.exit_code == 2 and "gis serve" in res.output
    assert not (tmp_path / "t.html").exists()


def test_map_runs_in_headless_chromium(store, tmp_path):
    import shutil
    import subprocess

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian chromium not installed (browser tests arrive with the maps issue)")
    out = tmp_path / "m.html"
    CliRunner().invoke(cli, ["map", "build", str(ROOT / "maps" / "district.yaml"), "--out", str(out)])
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-background-networking", "--disable-component-update",
                          "--no-first-run", "--disable-sync", f"--user-data-dir={tmp_path / 'u'}",
                          "--virtual-time-budget=5000", "--dump-dom", out.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert "gis-legend" in dom  # the legend control was built by the page's own script
    assert "Đất nông nghiệp" in dom and "leaflet-control-layers" in dom
    assert "<script>alert(1)" not in dom.split("<body")[1].split("<script")[0]


def test_flat_payload_round_trips_every_geometry_kind():
    import numpy as np
    import shapely

    from gis.render.payload import column, encode, encode_flat

    tiny = shapely.Polygon([(105, 21), (105.0000001, 21), (105, 21.0000001)])  # < 3 points at 1e-6
    holed = shapely.box(105, 21, 105.001, 21.001).difference(
        shapely.box(105.0002, 21.0002, 105.0004, 21.0004))
    geoms = np.array([None, shapely.Point(105.1, 21.2), shapely.Polygon(), holed,
                      shapely.MultiPolygon([shapely.box(105, 21, 105.001, 21.001),
                                            shapely.box(105.002, 21, 105.003, 21.001)]),
                      tiny, shapely.MultiPolygon([tiny, shapely.box(106, 21, 106.001, 21.001)]),
                      shapely.Point(), shapely.Point(-105.5, -21.25)], dtype=object)
    shapes, coords = encode_flat(geoms)
    assert decode({"shapes": shapes, "coords": coords}) == [encode(g) for g in geoms]
    assert shapes[:3] == [0, -1, 0] and coords[:2] == [105_100_000, 21_200_000]
    assert encode_flat(np.array([], dtype=object)) == ([], [])
    with pytest.raises(Exception, match="linestring"):
        encode_flat(np.array([shapely.LineString([(0, 0), (1, 1)])], dtype=object))
    # text repeated enough is written once per value; numbers and unique text stay lists
    assert column(["Khu đồng Gò Gạo"] * 40 + [None] * 10) == {
        "values": ["Khu đồng Gò Gạo", None], "codes": [0] * 40 + [1] * 10}
    assert column(list(range(40))) == list(range(40))
    assert column([f"09880-1-{i}" for i in range(40)]) == [f"09880-1-{i}" for i in range(40)]
    assert column([1, "1"] * 20) == [1, "1"] * 20


def test_values_are_never_template_code_and_big_layers_are_bulk(monkeypatch):
    import geopandas as gpd
    import shapely

    from gis.catalog import MapSpec, load_catalog
    from gis.render.build import build_map, render_html, resolve_layers

    spec = MapSpec.model_validate({"id": "t", "title": {"vi": "a", "en": "b"},
                                   "layers": [{"layer": "wards"}, {"layer": "parcels"}]})
    layers = resolve_layers(spec, load_catalog(ROOT / "layers"))
    names = ["X {{ 7*7 }} Y", "{% if true %}T{% endif %}", "{# c #}", "<!-- <script>"]
    wards = gpd.GeoDataFrame({"ward_code": ["1", "2", "3", "4"], "name": names,
                              "district": ["{{ this.__class__ }}"] * 4},
                             geometry=[shapely.box(585_000 + 10 * i, 2_330_000, 585_010 + 10 * i,
                                                   2_330_010) for i in range(4)], crs="EPSG:5897")
    parcels = gpd.GeoDataFrame({"parcel_key": [f"09880-1-{i}" for i in range(30)]},
                               geometry=[shapely.box(585_000 + i, 2_330_000, 585_001 + i,
                                                     2_330_001) for i in range(30)],
                               crs="EPSG:5897")
    monkeypatch.setattr("gis.render.elements.BULK_FEATURES", 20)
    html = render_html(build_map(spec, layers, {"wards": wards, "parcels": parcels}))
    payloads = [json.loads(text) for text in re.findall(
        r'<script type="application/json" id="[^"]+">(.*?)</script>', html, flags=re.DOTALL)]
    ward_data = next(p for p in payloads if "ward_code" in p["columns"])
    assert ward_data["columns"]["name"] == names  # as typed: not evaluated by Jinja
    assert "X 49 Y" not in html and "<!--" not in html.split("<body>")[1]
    # JSON that does go through a template (layer settings, legend) comes out as it went in
    from jinja2 import Template

    from gis.render.elements import to_json

    tricky = ["{{ 7*7 }}", "{% if true %}T{% endif %}", "{#", "</script>", "<!--", {"{": "}"}]
    assert json.loads(Template(to_json(tricky)).render()) == tricky
    assert html.count("new window.GisBulkLayer(") == 1  # the 30 parcels; 4 wards: L.geoJSON
    assert html.count("L.geoJSON(window.gisDecode(data)") == 1
