"""Vector tiles, GeoJSON by bounding box and the map's look-ups (``/tiles``, ``/api/layers``,
``/api/maps/{id}/at|find``), the map page's HTML and its frame script. Tiles are decoded with
``mapbox_vector_tile`` and placed back on the earth with the XYZ formulas, not our code."""

from __future__ import annotations

import math
import re

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from tests.api.conftest import PASSWORD, make_service

EXTENT = 4096


def tile_for(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    return (int((lon + 180) / 360 * n),
            int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))


def to_lonlat(z: int, x: int, y: int, coords: np.ndarray) -> np.ndarray:
    """Tile units (y down) → lon/lat."""
    n = 2 ** z
    lon = (x + coords[:, 0] / EXTENT) / n * 360 - 180
    lat = np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * (y + coords[:, 1] / EXTENT) / n))))
    return np.column_stack([lon, lat])


def decode(body: bytes) -> dict:
    return mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})


def lonlat_geometry(z: int, x: int, y: int, geometry: dict) -> shapely.Geometry:
    geom = shape(geometry)
    return shapely.transform(geom, lambda c: to_lonlat(z, x, y, c))


@pytest.fixture
def parcels_wgs(service):
    """The store's parcels in WGS 84 (the pinned EPSG:6960 transformation)."""
    from gis.io.write import reproject
    from gis.store import open_store

    return reproject(open_store(service.store).read("parcels"), "EPSG:4326")


def get(service, url: str, role: str | None = "viewer", **headers: str):  # type: ignore[no-untyped-def]
    return service.client.get(url, headers={**service.auth(role), **headers})


def test_parcel_tile_places_features_with_their_properties(service, parcels_wgs):
    parcel = parcels_wgs.sort_values("area_m2").iloc[len(parcels_wgs) // 2]
    point = parcel.geometry.representative_point()
    z = 17
    x, y = tile_for(point.x, point.y, z)
    res = get(service, f"/tiles/parcels/{z}/{x}/{y}.mvt")
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert res.headers["cache-control"] == "private, no-cache" and res.headers["etag"]
    layer = decode(res.content)["parcels"]
    assert layer["extent"] == EXTENT
    found = [f for f in layer["features"] if f["properties"].get("parcel_key") == parcel.parcel_key]
    assert len(found) == 1
    props = found[0]["properties"]
    assert props["land_use"] == parcel.land_use and props["land_group"] == parcel.land_group
    assert props["map_sheet"] == parcel.map_sheet and props["parcel_no"] == parcel.parcel_no
    assert props["area_m2"] == pytest.approx(parcel.area_m2)
    assert props.get("owner_name") == (parcel.owner_name or None)
    assert set(props) <= {"parcel_key", "map_sheet", "parcel_no", "land_use", "area_m2",
                          "owner_name", "address", "land_group", "ward_name", "unit_name"}
    assert props["ward_name"] == parcel.ward_name and props["unit_name"] == parcel.unit_name
    drawn = lonlat_geometry(z, x, y, found[0]["geometry"])
    assert drawn.contains(point)
    # the tile outline is the parcel's within the grid (a tile unit is ~2 cm at zoom 17)
    overlap = drawn.intersection(parcel.geometry).area
    assert overlap / parcel.geometry.area > 0.98 and overlap / drawn.area > 0.98
    # every parcel whose inside falls in the tile is in it, and no other parcel
    tile_box = shapely.box(*to_lonlat(z, x, y, np.array([[0, EXTENT], [EXTENT, 0]])).ravel())
    inside = parcels_wgs[parcels_wgs.representative_point().within(tile_box)]
    keys = {f["properties"]["parcel_key"] for f in layer["features"]}
    assert set(inside.parcel_key) <= keys
    assert keys <= set(parcels_wgs[parcels_wgs.intersects(tile_box.buffer(1e-4))].parcel_key)
    # the web map asks for the style fields only
    style = decode(get(service, f"/tiles/parcels/{z}/{x}/{y}.mvt?properties=style").content)
    assert {k for f in style["parcels"]["features"] for k in f["properties"]} == {"land_group"}
    assert len(style["parcels"]["features"]) == len(layer["features"])


def test_tiles_of_the_clearance_and_case_layers(service):
    from click.testing import CliRunner

    from gis.cli import cli
    from gis.io.write import reproject
    from gis.store import open_store

    # the clearance write-back (project_parcels) is made by the report, as scripts/demo does
    res = CliRunner(env={"GIS_STORE": str(service.store)}).invoke(cli, ["clearance", "report"])
    assert res.exit_code == 0, res.output
    store = open_store(service.store)
    for key, table, field in (("project_parcels", "project_parcels", "status"),
                              ("violation_cases", "violation_cases", "case_id")):
        frame = reproject(store.read(table), "EPSG:4326")
        row = frame.iloc[0]
        point = row.geometry.representative_point()
        x, y = tile_for(point.x, point.y, 16)
        res = get(service, f"/tiles/{key}/16/{x}/{y}.mvt")
        assert res.status_code == 200, key
        features = decode(res.content)[key]["features"]
        assert row[field] in {f["properties"].get(field) for f in features}
        assert {f["geometry"]["type"] for f in features} <= {"Polygon", "MultiPolygon"}


def test_reads_need_a_viewer_unless_public(service, tmp_path, sample_store, monkeypatch):
    urls = ["/tiles/parcels/14/13060/7180.mvt", "/api/layers/wards.geojson",
            "/api/maps/district", "/api/maps/district/at?lon=105.85&lat=21.03",
            "/api/maps/district/find?q=1/1", "/maps/district/frame.js"]
    for url in urls:
        res = get(service, url, role=None)
        assert res.status_code == 401, url
        assert res.headers["www-authenticate"].startswith("Basic")
        res = service.client.get(url, headers={"Authorization": "Bearer gis_not-a-token"})
        assert res.status_code == 401, url
        for role in ("viewer", "inspector", "planner", "admin"):
            assert get(service, url, role=role).status_code in (200, 204), (url, role)
    res = service.client.get("/maps/district", follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/login?next=%2Fmaps%2Fdistrict"
    (tmp_path / "public").mkdir()
    public = make_service(tmp_path / "public", sample_store, monkeypatch, public_read=True)
    assert public.client.get(urls[0]).status_code in (200, 204)
    assert public.client.get("/api/layers/wards.geojson").status_code == 200


def test_bad_tile_addresses(service):
    assert get(service, "/tiles/parcels/abc/1/1.mvt").status_code == 400
    assert get(service, "/tiles/parcels/3/1/x.mvt").status_code == 400
    assert get(service, "/tiles/parcels/3/8/0.mvt").status_code == 404   # x beyond 2^z - 1
    assert get(service, "/tiles/parcels/3/0/-1.mvt").status_code == 404
    assert get(service, "/tiles/parcels/25/0/0.mvt").status_code == 404
    res = get(service, "/tiles/no_such_layer/3/0/0.mvt")
    assert res.status_code == 404 and "parcels" in res.json()["message"]
    assert get(service, "/tiles/parcels/3/0/0.mvt?map=nope").status_code == 404
    assert get(service, "/tiles/parcels/3/0/0.mvt?properties=every").status_code == 422
    res = get(service, "/tiles/parcels/10/300/300.mvt")  # the South Atlantic: nothing there
    assert res.status_code == 204 and res.content == b"" and res.headers["etag"]


def test_a_new_case_is_on_the_next_tile(service, monkeypatch):
    """Tiles follow the store: flagging a case (as the API does, through gis.violations) changes
    the case tile at once; a large table (parcels) is not reloaded for it."""
    from gis.store import open_store
    from gis.violations import flag

    wards = get(service, "/api/layers/wards.geojson").json()
    centre = shape(wards["features"][0]["geometry"]).representative_point()
    z = 18
    x, y = tile_for(centre.x, centre.y, z)
    url = f"/tiles/violation_cases/{z}/{x}/{y}.mvt"
    before = get(service, url)
    parcels_before = get(service, f"/tiles/parcels/{z}/{x}/{y}.mvt")
    assert get(service, url, **{"If-None-Match": before.headers["etag"]}).status_code == 304
    old = {f["properties"]["case_id"] for f in decode(before.content).get(
        "violation_cases", {"features": []})["features"]} if before.status_code == 200 else set()
    square = shapely.box(centre.x - 2e-5, centre.y - 2e-5, centre.x + 2e-5, centre.y + 2e-5)
    case_id = flag(open_store(service.store), square, kind="encroachment_public_land",
                   who="test", crs="EPSG:4326", notes="lấn chiếm vỉa hè")
    after = get(service, url, **{"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    features = decode(after.content)["violation_cases"]["features"]
    new = [f for f in features if f["properties"]["case_id"] == case_id]
    assert case_id not in old and len(new) == 1
    assert new[0]["properties"]["status"] == "DETECTED"
    drawn = lonlat_geometry(z, x, y, new[0]["geometry"])
    assert drawn.contains(centre) and drawn.area == pytest.approx(square.area, rel=0.05)
    parcels_after = get(service, f"/tiles/parcels/{z}/{x}/{y}.mvt")
    assert parcels_after.headers["etag"] == parcels_before.headers["etag"]
    # the GeoJSON the web map reloads after saving has it too
    cases = get(service, "/api/layers/violation_cases.geojson").json()
    assert case_id in {f["properties"]["case_id"] for f in cases["features"]}


def test_geojson_by_bounding_box(service):
    from gis.store import open_store

    every = get(service, "/api/layers/violation_cases.geojson")
    assert every.status_code == 200 and every.headers["content-type"] == "application/geo+json"
    collection = every.json()
    assert len(collection["features"]) == len(open_store(service.store).read("violation_cases"))
    first = shape(collection["features"][0]["geometry"])
    w, s, e, n = first.bounds
    part = get(service, f"/api/layers/violation_cases.geojson?bbox={w},{s},{e},{n}").json()
    keys = {f["properties"]["case_id"] for f in part["features"]}
    assert collection["features"][0]["properties"]["case_id"] in keys
    assert 1 <= len(keys) < len(collection["features"])
    for bad in ("1,2,3", "a,b,c,d", "10,10,5,20", "200,0,210,1"):
        res = get(service, f"/api/layers/violation_cases.geojson?bbox={bad}")
        assert res.status_code == 400 and "bbox" in res.json()["message"], bad
    assert get(service, "/api/layers/violation_cases.geojson?bbox=0,0,1,1").json()["features"] == []


def test_what_lies_at_a_point_and_find(service, parcels_wgs):
    parcel = parcels_wgs.iloc[10]
    point = parcel.geometry.representative_point()
    hits = get(service, f"/api/maps/district/at?lon={point.x}&lat={point.y}&zoom=19").json()["hits"]
    layers = [h["layer"] for h in hits]
    parcel_hits = [h for h in hits if h["layer"] == "parcels"]
    assert [h["properties"]["parcel_key"] for h in parcel_hits] == [parcel.parcel_key]
    assert layers[-1] == "wards"  # top layer first: the ward is the bottom one
    only = get(service, f"/api/maps/district/at?lon={point.x}&lat={point.y}&layers=parcels")
    assert {h["layer"] for h in only.json()["hits"]} == {"parcels"}
    assert get(service, "/api/maps/district/at?lon=0&lat=0").json() == {"hits": []}
    assert get(service, "/api/maps/district/at?lon=500&lat=0").status_code == 422

    found = get(service, f"/api/maps/district/find?q={parcel.parcel_key}").json()["found"]
    assert found["layer"] == "parcels" and found["properties"]["parcel_key"] == parcel.parcel_key
    (s, w), (n, e) = found["bounds"]
    assert shapely.box(w, s, e, n).contains(point)
    by_sheet = get(service, f"/api/maps/district/find?q={parcel.map_sheet}/{parcel.parcel_no}")
    assert by_sheet.json()["found"]["properties"]["map_sheet"] == parcel.map_sheet
    case = get(service, "/api/maps/district/find?q=vp-2026-00001").json()["found"]
    assert case is None or case["properties"]["case_id"].lower() == "vp-2026-00001"
    assert get(service, "/api/maps/district/find?q=không-có-gì").json() == {"found": None}


def test_the_encoder_keeps_outlines_and_holes(service):
    """Our numpy encoder against the geometries themselves, decoded by mapbox_vector_tile:
    holes stay holes (ring orientation), multi-parts stay, points are points."""
    from gis.api.tiles import mvt
    z, x, y = 15, 26100, 14360
    minx, miny, maxx, maxy = mvt.tile_bounds(z, x, y)
    size = maxx - minx
    ring = np.array([[0.1, 0.1], [0.6, 0.1], [0.6, 0.6], [0.1, 0.6]])
    hole = np.array([[0.2, 0.2], [0.2, 0.4], [0.4, 0.4], [0.4, 0.2]])

    def world(coords: np.ndarray) -> np.ndarray:
        return np.column_stack([minx + coords[:, 0] * size, maxy - coords[:, 1] * size])

    with_hole = shapely.Polygon(world(ring), [world(hole)])
    multi = shapely.MultiPolygon([shapely.Polygon(world(ring * 0.2 + 0.7)),
                                  shapely.Polygon(world(ring * 0.2 + [0.7, 0.05]))])
    point = shapely.Point(world(np.array([[0.9, 0.9]]))[0])
    crossing = shapely.Polygon(world(np.array([[-0.5, 0.8], [0.5, 0.8], [0.5, 1.5], [-0.5, 1.5]])))
    geoms = np.array([with_hole, multi, point, crossing], dtype=object)
    pad = size * mvt.BUFFER / mvt.EXTENT
    clipped = shapely.clip_by_rect(geoms, minx - pad, miny - pad, maxx + pad, maxy + pad)
    import pandas as pd

    cols = [mvt.column("name", pd.Series(["hole", "multi", "point", None]))]
    body = mvt.encode_layer("demo", mvt.flatten(clipped), np.arange(4), cols,
                            (minx, miny, maxx, maxy))
    features = {f["id"]: f for f in decode(body)["demo"]["features"]}
    assert sorted(features) == [1, 2, 3, 4]
    assert features[1]["geometry"]["type"] == "Polygon"
    assert len(features[1]["geometry"]["coordinates"]) == 2  # outline and hole
    assert shape(features[1]["geometry"]).area == pytest.approx(0.25 * 4096 ** 2 - 0.04 * 4096 ** 2,
                                                                rel=1e-3)
    assert features[2]["geometry"]["type"] == "MultiPolygon"
    assert features[3]["geometry"] == {"type": "Point", "coordinates": [3686, 3686]}
    assert features[4]["properties"] == {}
    bottom = shape(features[4]["geometry"]).bounds  # clipped to the buffer, not beyond
    assert bottom[0] == -mvt.BUFFER and bottom[3] == 4096 + mvt.BUFFER


def test_map_page_and_frame_script(service):
    c = service.client
    res = c.post("/login", data={"name": "viewer", "password": PASSWORD.format(role="viewer"),
                                 "next": "/maps/district"}, follow_redirects=True)
    assert res.status_code == 200 and 'id="map"' in res.text
    doc = re.search(r'<script type="application/json" id="gis-map-doc">(.*?)</script>',
                    res.text, re.DOTALL).group(1)
    import json

    doc = json.loads(doc)
    sources = {layer["key"]: layer["source"] for layer in doc["layers"]}
    assert sources["parcels"] == "tiles" and sources["wards"] == "geojson"
    assert doc["can_write"] is False and "leaflet.draw.js" not in res.text
    assert 'id="gis-flag"' not in res.text
    parcels = next(layer for layer in doc["layers"] if layer["key"] == "parcels")
    assert parcels["config"]["labels"]["land_use"] == "Loại đất"
    frame = c.get(doc["frame"])
    assert frame.status_code == 200 and frame.headers["content-type"].startswith("text/javascript")
    assert "window.gisSetupFrame = function (gisMap)" in frame.text
    assert "window.gisSetupTools = function (gisMap)" in frame.text
    assert "window.gisSetupFrameEnd = function (gisMap)" in frame.text
    assert "Đất nông nghiệp" in frame.text and "gisVn2000Projector" in frame.text
    assert "</script" not in frame.text
    english = c.get("/maps/district/frame.js?lang=en").text
    assert "Agricultural land" in english
    assert c.get("/maps/nowhere").status_code == 404

    c.post("/logout", data={"csrf_token": re.search(r'name="csrf-token" content="([^"]+)"',
                                                    res.text).group(1)})
    c.post("/login", data={"name": "inspector", "password": PASSWORD.format(role="inspector"),
                           "next": "/"})
    page = c.get("/maps/district").text
    assert "leaflet.draw.js" in page and 'capture="environment"' in page
    assert "Lấn, chiếm đất công" in page  # kinds in Vietnamese
    assert '"can_write": true' in page


def test_layers_are_read_in_the_background_at_start(service):
    """``gis serve`` (the app's lifespan) starts reading every map layer, so the first page
    does not wait for 100 000 parcels to be read and projected."""
    import time

    from fastapi.testclient import TestClient

    with TestClient(service.app) as client:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            svc = getattr(service.app.state, "gis_maps", None)
            loaded = {key for _, key in svc.cache._layers} if svc else set()
            if {"parcels", "wards", "violation_cases"} <= loaded:
                break
            time.sleep(0.1)
        assert {"parcels", "wards", "violation_cases"} <= loaded
        res = client.get("/tiles/parcels/14/13019/7211.mvt", headers=service.auth("viewer"))
        assert res.status_code in (200, 204)
