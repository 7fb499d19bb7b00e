"""The web layer's shape: routers with one tag each, each included once; one error path that
answers JSON to API clients and the error page to browsers; typed parameters refused with 400."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from gis.errors import RequestError
from tests.api.conftest import make_service

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CLIENT = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def svc(tmp_path_factory, sample_store):  # type: ignore[no-untyped-def]
    """One service for these read-only tests (accounts cost argon2 hashes to create)."""
    with pytest.MonkeyPatch.context() as mp:
        yield make_service(tmp_path_factory.mktemp("layout"), sample_store, mp)


def _api_routes() -> list[APIRoute]:
    from gis.api.app import ROUTERS

    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def _module_routers() -> list[tuple[str, APIRouter]]:
    """Every router at the top of a module of ``gis.api`` (imported ones counted once)."""
    import gis.api

    found = []
    for info in pkgutil.walk_packages(gis.api.__path__, "gis.api."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, APIRouter):
                found.append((f"{info.name}.{name}", value))
    return found


def test_every_route_has_exactly_one_tag():
    untagged = [(sorted(r.methods), r.path, r.tags) for r in _api_routes() if len(r.tags) != 1]
    assert untagged == []


def test_every_router_is_included_once():
    from gis.api.app import ROUTERS

    assert len({id(r) for r in ROUTERS}) == len(ROUTERS), "a router is listed twice"
    defined = {id(router): name for name, router in _module_routers()}
    missing = sorted(name for key, name in defined.items()
                     if key not in {id(r) for r in ROUTERS})
    assert missing == [], "routers defined but not included"
    pairs = [(m, r.path) for r in _api_routes() for m in r.methods]
    assert len(pairs) == len(set(pairs)), "a route is served twice"
    assert len(pairs) >= 50


def test_routers_are_included_without_strings():
    from pathlib import Path

    text = Path(importlib.import_module("gis.api.app").__file__ or "").read_text("utf-8")
    assert "importlib" not in text and "import_module" not in text


# --- one error path ---------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "url", "role", "status", "words", "page_words"), [
    # the page speaks the reader's language (Vietnamese by default), the JSON English
    ("GET", "/exports", "viewer", 403, "the viewer role may not do this (needs export)",
     "vai trò viewer không được làm việc này (cần quyền export)"),
    ("GET", "/ogc/collections/nope", "viewer", 404, "no collection 'nope'", None),
    ("GET", "/cases?page=0", "inspector", 422, "page", None),
])
def test_the_same_error_is_json_for_clients_and_a_page_for_browsers(svc, method, url, role,
                                                                     status, words,
                                                                     page_words):
    as_json = svc.client.request(method, url, headers={**svc.auth(role), **CLIENT})
    assert as_json.status_code == status
    assert as_json.headers["content-type"].startswith("application/json")
    body = as_json.json()
    assert body["status"] == status and words in body["message"]
    as_page = svc.client.request(method, url, headers={**svc.auth(role), **BROWSER})
    assert as_page.status_code == status
    assert as_page.headers["content-type"].startswith("text/html")
    assert (page_words or words).replace("'", "&#39;") in as_page.text
    assert "<html" in as_page.text
    assert role in as_page.text  # the page knows who is signed in


def test_api_paths_answer_json_even_to_browsers(svc):
    res = svc.client.get("/api/export/nope", headers={**svc.auth("planner"), **BROWSER})
    assert res.status_code == 404 and "no layer 'nope'" in res.json()["message"]
    html = svc.client.get("/ogc/collections/nope?f=html", headers=svc.auth("viewer"))
    assert html.status_code == 404 and html.headers["content-type"].startswith("text/html")
    data = svc.client.get("/ogc/collections/nope?f=json", headers={**svc.auth("viewer"),
                                                                   **BROWSER})
    assert data.status_code == 404 and data.json()["status"] == 404


def test_unexpected_errors_answer_an_id_never_a_traceback(svc, monkeypatch, caplog):
    from fastapi.testclient import TestClient

    from gis.api.maps import routes as maps

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret detail /srv/gis/store.gpkg")

    monkeypatch.setattr(maps.service, "map_document", broken)
    client = TestClient(svc.app, raise_server_exceptions=False)
    ids = []
    with caplog.at_level(logging.ERROR, logger="gis.api"):
        for headers, kind in ((CLIENT, "application/json"), (BROWSER, "text/html")):
            res = client.get("/maps/district", headers={**svc.auth("viewer"), **headers})
            assert res.status_code == 500 and res.headers["content-type"].startswith(kind)
            assert "secret detail" not in res.text and "Traceback" not in res.text
            found = re.search(r"internal error ([0-9a-f]{12})", res.text)
            assert found, res.text
            ids.append(found.group(1))
            if kind == "application/json":
                assert res.json()["id"] == found.group(1)
    assert ids[0] != ids[1]
    for error_id in ids:  # the log has the id with the whole story
        record = next(r for r in caplog.records if error_id in r.getMessage())
        assert record.exc_info and "secret detail" in str(record.exc_info[1])


# --- typed parameters -------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "role", "words"), [
    ("/api/violations?bbox=a,b,c,d", "viewer", "bbox 'a,b,c,d' must be 4 numbers"),
    ("/api/layers/parcels.geojson?bbox=200,0,201,1", "viewer", "is not minlon,minlat"),
    ("/api/export/parcels?bbox=5,2,3,4", "planner", "the lower corner must come first"),
    ("/ogc/collections/parcels/items?bbox=1,2,3", "viewer", "must be 4 numbers"),
    ("/api/export/parcels?crs=EPSG:3857", "planner", "crs 'EPSG:3857' is not offered"),
    ("/api/export/parcels?bbox=1,2,3,4&bbox-crs=mercator", "planner", "bbox-crs 'mercator'"),
    ("/ogc/collections/parcels/items?crs=EPSG:3857", "viewer", "crs 'EPSG:3857' is not supported"),
    ("/api/violations?limit=ten", "viewer", "limit='ten' is not a whole number"),
    ("/api/violations?offset=-1", "viewer", "offset=-1 must be at least 0"),
    ("/ogc/collections/parcels/items?limit=0", "viewer", "limit=0 must be at least 1"),
    ("/api/export/parcels?format=dwg", "planner", "unknown format 'dwg'"),
])
def test_typed_parameters_are_refused_with_400_and_a_message(svc, url, role, words):
    res = svc.client.get(url, headers={**svc.auth(role), **CLIENT})
    assert res.status_code == 400, res.text
    assert words in res.json()["message"]


def test_the_dependencies_parse_what_they_accept():
    from gis.api.deps import Page, bbox_param, format_param, lonlat_bbox_param, paging
    from gis.api.exports.formats import Format

    assert bbox_param("1, 2, 3, 4") == (1.0, 2.0, 3.0, 4.0) and bbox_param(None) is None
    assert lonlat_bbox_param("105.8,21,105.9,21.1") == (105.8, 21.0, 105.9, 21.1)
    assert format_param("shapefile") is Format.SHP and format_param("EXCEL") is Format.XLSX
    assert paging(100, 5000)() == Page(100, 0)
    assert paging(100, 5000)(limit="20", offset="40") == Page(20, 40)
    assert paging(100, 1000, clamp=True)(limit="99999") == Page(1000, 0)  # OGC: the maximum
    with pytest.raises(RequestError, match="limit=99999 is more than 1000"):
        paging(100, 1000)(limit="99999")
    with pytest.raises(RequestError, match="bbox"):
        bbox_param("1,2,3,nan")
