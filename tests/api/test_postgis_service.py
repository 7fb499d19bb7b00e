"""The web service on a PostGIS store answers as on the GeoPackage it was copied from (issue 12):
the same requests to two apps — the sample district's GeoPackage and its copy in PostGIS — give
the same features, counts, tiles, exports and cases; writes (flag, transition, attachment) work
on the database and show on the next read."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import pytest

from tests.api.conftest import PASSWORD, ROLES, Service
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _service(location: str, data: Path) -> Service:
    from fastapi.testclient import TestClient

    from gis.api import create_app
    from gis.api.auth.security import UserDB
    from gis.settings import ServiceSettings, StorageSettings
    from gis.store import open_accounts

    users = UserDB(open_accounts(data, location))
    tokens = {}
    for role in ROLES:
        users.add(role, role, PASSWORD.format(role=role))
        tokens[role] = users.new_token(role)
    app = create_app(StorageSettings(store=location, data_dir=data),
                     ServiceSettings(maps=ROOT / "maps"))
    return Service(app, TestClient(app), Path(data), data, tokens)


@pytest.fixture(scope="module")
def pair(sample_store: Path, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[Service, Service]]:
    """(GeoPackage service, PostGIS service) on the same district."""
    import shutil

    from gis.store import open_store
    from gis.store.copy import copy_store
    from tests.store.conftest import drop_schema, require_postgis, store_location

    require_postgis()
    base = tmp_path_factory.mktemp("pg-service")
    gpkg = base / "gpkg" / "store.gpkg"
    gpkg.parent.mkdir()
    shutil.copy(sample_store, gpkg)
    from click.testing import CliRunner

    from gis.cli import cli

    report = CliRunner(env={"GIS_STORE": str(gpkg), "GIS_CATALOG": str(ROOT / "layers"),
                            "GIS_DATA_DIR": str(gpkg.parent)}).invoke(
        cli, ["clearance", "report", "--out", str(base / "report")])
    assert report.exit_code == 0, report.output  # the parcel parts layer (project_parcels)
    database = store_location("postgis", base)
    assert copy_store(open_store(gpkg), open_store(database)).differences == []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIS_CATALOG", str(ROOT / "layers"))
        mp.setenv("GIS_ATTACHMENTS_DIR", str(base / "attachments"))
        mp.chdir(ROOT)
        (base / "pg").mkdir()
        yield (_service(str(gpkg), gpkg.parent), _service(database, base / "pg"))
    drop_schema(database.rpartition("schema=")[2])


def _both(pair, url: str, role: str = "viewer"):  # type: ignore[no-untyped-def]
    answers = [s.client.get(url, headers=s.auth(role)) for s in pair]
    for a in answers:
        assert a.status_code == 200, (url, a.status_code, a.text[:300])
    return answers


def test_ogc_items_pages_filters_and_counts_agree(pair):  # type: ignore[no-untyped-def]
    for url in ("/ogc/collections/parcels/items?limit=50&offset=10",
                "/ogc/collections/parcels/items?limit=20&bbox=105.85,21.05,105.87,21.07",
                "/ogc/collections/parcels/items?limit=100&ward_code=09880",
                "/ogc/collections/violations/items?limit=100"):
        gpkg, pg = (a.json() for a in _both(pair, url))
        assert pg["numberMatched"] == gpkg["numberMatched"] and gpkg["numberReturned"] > 0, url
        assert [f["id"] for f in pg["features"]] == [f["id"] for f in gpkg["features"]], url
        assert [f["properties"] for f in pg["features"]] == \
            [f["properties"] for f in gpkg["features"]], url


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi)
    return int((lon + 180) / 360 * n), int(y / 2 * n)


def test_tiles_and_exports_agree(pair):  # type: ignore[no-untyped-def]
    first = pair[0].client.get("/ogc/collections/parcels/items?limit=1",
                               headers=pair[0].auth("viewer")).json()["features"][0]
    ring = first["geometry"]["coordinates"]
    while isinstance(ring[0][0], list):
        ring = ring[0]
    lon, lat = ring[0]
    for z in (15, 17):
        x, y = _tile_of(lon, lat, z)
        tiles = [mapbox_vector_tile.decode(a.content) for a in
                 _both(pair, f"/tiles/parcels/{z}/{x}/{y}.mvt?properties=style")]
        features = [sorted(str(f["properties"]) for f in t["parcels"]["features"])
                    for t in tiles]
        assert features[0] and features[0] == features[1], z
    gpkg, pg = (a.json() for a in _both(pair, "/api/export/parcels?format=geojson", "planner"))
    assert len(pg["features"]) == len(gpkg["features"]) > 1000
    assert sorted(f["properties"]["parcel_key"] for f in pg["features"]) == \
        sorted(f["properties"]["parcel_key"] for f in gpkg["features"])


def test_cases_dashboard_and_extracts_agree(pair):  # type: ignore[no-untyped-def]
    gpkg, pg = (a.json() for a in _both(pair, "/api/violations?limit=500", "inspector"))
    ids = [c["case_id"] for c in (gpkg["cases"] if isinstance(gpkg, dict) else gpkg)]
    assert ids and ids == [c["case_id"] for c in (pg["cases"] if isinstance(pg, dict) else pg)]
    _both(pair, "/dashboard")
    key = pair[0].client.get("/ogc/collections/parcels/items?limit=1",
                             headers=pair[0].auth("viewer")).json()["features"][0]["id"]
    for a in _both(pair, f"/api/parcels/{key}/extract.pdf"):
        assert a.content.startswith(b"%PDF")


def _geometry_close(a: dict, b: dict, tolerance: float = 2e-7) -> bool:  # type: ignore[type-arg]
    import numpy as np
    import shapely

    ga, gb = shapely.from_geojson(json.dumps(a)), shapely.from_geojson(json.dumps(b))
    return bool(np.isclose(shapely.bounds(ga), shapely.bounds(gb), atol=tolerance).all()) and \
        abs(shapely.area(ga) - shapely.area(gb)) <= 1e-3 * max(shapely.area(ga), 1e-12)


def test_the_map_from_sql_equals_the_map_from_memory(pair):  # type: ignore[no-untyped-def]
    """The PostGIS service holds no layer in memory (tiles by ST_AsMVT, clicks and the find box
    by indexed queries); every answer of the map equals the GeoPackage service's."""
    from gis.api.tiles.routes import services_of
    from gis.api.tiles.sources import LayerData, StoreLayer

    gpkg_doc, pg_doc = (a.json() for a in _both(pair, "/api/maps/district"))
    assert [(la["key"], la["count"], la["source"]) for la in pg_doc["layers"]] == \
        [(la["key"], la["count"], la["source"]) for la in gpkg_doc["layers"]]
    for a, b in zip(pg_doc["bounds"], gpkg_doc["bounds"]):
        assert a == pytest.approx(b, abs=1e-6)
    kinds = {key: type(data) for (_, key), data in services_of(pair[1].app).cache._layers.items()}
    assert kinds["parcels"] is StoreLayer and kinds["project_parcels"] is StoreLayer, kinds
    assert kinds["violation_cases"] is LayerData, kinds  # its age in days: computed here
    assert all(type(d) is LayerData for d in services_of(pair[0].app).cache._layers.values())
    # every layer's tiles, all properties, at three zooms around the district's middle
    (s, w), (n, e) = gpkg_doc["bounds"]
    lon, lat = (w + e) / 2, (s + n) / 2
    drawn: dict[str, int] = {}
    for layer in gpkg_doc["layers"]:
        for z in (13, 15, 17):
            x, y = _tile_of(lon, lat, z)
            answers = _both(pair, f"/tiles/{layer['key']}/{z}/{x}/{y}.mvt", "admin")
            assert answers[0].status_code == answers[1].status_code
            decoded = [mapbox_vector_tile.decode(a.content) if a.content else {} for a in answers]
            feats = [sorted(json.dumps(f["properties"], sort_keys=True, default=str)
                             for f in d.get(layer["key"], {}).get("features", []))
                     for d in decoded]
            assert feats[1] == feats[0], (layer["key"], z, len(feats[0]), len(feats[1]))
            drawn[layer["key"]] = drawn.get(layer["key"], 0) + len(feats[0])
    assert all(drawn.values()) and drawn["parcels"] > 1000, drawn
    # GeoJSON in a box
    box = f"{lon - 0.004},{lat - 0.004},{lon + 0.004},{lat + 0.004}"
    for key in ("parcels", "public_land", "projects", "wards"):
        gpkg, pg = (a.json() for a in _both(pair, f"/api/layers/{key}.geojson?bbox={box}"))
        by_props = {json.dumps(f["properties"], sort_keys=True): f["geometry"]
                    for f in gpkg["features"]}
        assert len(pg["features"]) == len(gpkg["features"]) > 0, key
        for f in pg["features"]:
            assert _geometry_close(f["geometry"], by_props[json.dumps(f["properties"],
                                                                      sort_keys=True)]), key
    # a click: the same layers and properties under it, at several points
    under: set[str] = set()
    for dx, dy in ((0, 0), (0.001, 0.002), (-0.002, 0.001), (0.003, -0.003)):
        url = f"/api/maps/district/at?lon={lon + dx}&lat={lat + dy}&zoom=18"
        gpkg, pg = (a.json()["hits"] for a in _both(pair, url, "admin"))
        assert [(h["layer"], h["properties"]) for h in pg] == \
            [(h["layer"], h["properties"]) for h in gpkg], url
        under.update(h["layer"] for h in pg)
    assert {"parcels", "public_land", "wards"} <= under, under
    # the find box: a key, sheet/number, a project, a case, a name, nothing
    parcel = pair[0].client.get("/ogc/collections/parcels/items?limit=1&offset=37",
                                headers=pair[0].auth("viewer")).json()["features"][0]
    props = parcel["properties"]
    project = pair[0].client.get("/api/layers/projects.geojson",
                                              headers=pair[0].auth("viewer")).json()
    project_id = project["features"][0]["properties"]["project_id"]
    name = project["features"][0]["properties"]["name"]
    found: list[str] = []
    for q in (props["parcel_key"], props["parcel_key"].lower(),
              f"{props['map_sheet']}/{props['parcel_no']}", project_id, name.split()[-1],
              "không có gì như thế"):
        gpkg, pg = (a.json()["found"] for a in _both(pair, f"/api/maps/district/find?q={q}"))
        if gpkg is None:
            assert pg is None, q
            continue
        assert (pg["layer"], pg["properties"]) == (gpkg["layer"], gpkg["properties"]), q
        found.append(pg["layer"])
        for a, b in zip(pg["bounds"], gpkg["bounds"]):
            assert a == pytest.approx(b, abs=1e-6), q
    assert found == ["parcels", "parcels", "parcels", "projects", "wards"], found


def test_an_inspector_works_a_case_on_the_database(pair):  # type: ignore[no-untyped-def]
    pg = pair[1]
    headers = pg.auth("inspector")
    point = pg.client.get("/ogc/collections/parcels/items?limit=1",
                          headers=headers).json()["features"][0]["geometry"]["coordinates"]
    while isinstance(point[0], list):
        point = point[0]
    res = pg.client.post("/api/violations", headers=headers, json={
        "kind": "other", "geometry": {"type": "Point", "coordinates": point}, "notes": "PostGIS"})
    assert res.status_code == 201, res.text
    case = res.json()["case_id"]
    moved = pg.client.post(f"/api/violations/{case}/transitions", headers=headers,
                           json={"to": "VERIFYING", "note": "đã xuống hiện trường"})
    assert moved.status_code == 200, moved.text
    upload = pg.client.post(f"/api/violations/{case}/attachments", headers=headers,
                            files={"file": ("site.png", PNG, "image/png")},
                            data={"role": "photo"})
    assert upload.status_code == 201, upload.text
    shown = pg.client.get(f"/api/violations/{case}", headers=headers).json()
    assert shown["status"] == "VERIFYING" and len(shown["attachments"]) == 1
    assert [h["field"] for h in shown["history"]][:1] == ["created"]
    listed = pg.client.get("/ogc/collections/violations/items?limit=1000", headers=headers).json()
    assert case in {f["id"] for f in listed["features"]}  # the next read sees it
    dossier = pg.client.get(f"/api/violations/{case}/dossier.pdf", headers=headers)
    assert dossier.status_code == 200 and dossier.content.startswith(b"%PDF")
