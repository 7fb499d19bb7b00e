"""OGC API – Features at ``/ogc``: parcels, projects, clearance, violations, wards (and buildings)
for planners' desktop GIS (QGIS, GDAL/ogr2ogr, ArcGIS Pro) and for the browser.

Parts 1 (core, GeoJSON, HTML, OpenAPI 3.0) and 2 (``crs``, ``bbox-crs``): the landing page,
conformance, collections, items with ``bbox``, ``limit``/``offset`` paging (``next``/``prev``
links), filters ``?column=value`` on any published column (Part 3 queryables), single items.
Every response comes as JSON or HTML (``f=json|html``, else the ``Accept`` header).

Reading needs the viewer role (bearer token, HTTP Basic for QGIS, or the browser session), or
the ``public_read`` setting; anonymous readers never get owner names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Annotated, Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pyproj import CRS

from gis.api.auth.security import Permission, User
from gis.api.deps import (
    PUBLIC,
    CurrentUser,
    OgcBBox,
    OgcBBoxCrs,
    OgcCrs,
    Page,
    paging,
    require,
    require_page,
    store_of,
)
from gis.api.ogc.collections import (
    COLLECTIONS,
    CRS84,
    Collection,
    OutputCrs,
    bbox_area,
    default_crs,
    supported_crs,
    to_lonlat_bounds,
    to_output,
)
from gis.api.ogc.format import dumps, feature_json, features_json, json_schema
from gis.api.ogc.pages import (
    html_collection,
    html_collections,
    html_conformance,
    html_item,
    html_items,
    html_landing,
)
from gis.api.ogc.query import Column, Layer, Query, StoreReader, reading
from gis.api.ogc.query import Page as Rows
from gis.errors import NotFoundError, RequestError
from gis.text import gettext

__all__ = ["router", "reader", "Published", "ItemsRequest", "MAX_LIMIT", "DEFAULT_LIMIT",
           "CONFORMANCE"]

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
_RESERVED = ("f", "lang", "limit", "offset", "bbox", "bbox-crs", "crs")


# --- who, what format -------------------------------------------------------------------------
def _wants_html(request: Request) -> bool:
    f = request.query_params.get("f")
    if f is not None:
        if f not in ("json", "html", "geojson"):
            raise RequestError(f"f={f!r} is not a format here; use f=json or f=html", field="f")
        return f == "html"
    return HTML in request.headers.get("accept", "")  # browsers; GDAL and QGIS ask for JSON


async def reader(request: Request, user: CurrentUser) -> User:
    """The reader (viewer role or better): browsers without a session go to the sign-in form,
    other clients get 401 with a Basic challenge (QGIS answers it from its authcfg)."""
    check = require_page if _wants_html(request) else require
    allowed = check(Permission.READ)(request, user)
    return await cast("Awaitable[User]", allowed)  # deps types them as plain callables


reader.permission = Permission.READ  # type: ignore[attr-defined]  (the role matrix test reads it)
reader.page = False  # type: ignore[attr-defined]  (JSON unless the client asks for HTML)
OgcReader = Annotated[User, Depends(reader)]
#: limit (1-MAX_LIMIT, larger values give MAX_LIMIT as the standard asks) and offset
OgcPaging = Annotated[Page, Depends(paging(DEFAULT_LIMIT, MAX_LIMIT, clamp=True,
                                           documented=False))]


@dataclass(frozen=True)
class Published:
    """A collection as this reader sees it in this store."""

    spec: Collection
    layer: Layer
    columns: tuple[Column, ...]
    crs: CRS

    def feature_id(self, fid: int, row: tuple[Any, ...]) -> str:
        values = [row[self.columns.index(c)] for c in self._id_columns()]
        if not values or any(v is None or v == "" for v in values):
            return f"fid-{fid}"
        return ":".join(str(v) for v in values)

    def _id_columns(self) -> list[Column]:
        cols = [next((c for c in self.columns if c.name == n), None) for n in self.spec.id_columns]
        return [c for c in cols if c is not None] if all(cols) else []

    def id_query(self, feature_id: str) -> Query:
        if feature_id.startswith("fid-") and feature_id[4:].isdigit():
            return Query(fid=int(feature_id[4:]))
        cols = self._id_columns()
        parts = feature_id.rsplit(":", len(cols) - 1) if cols else []
        if not cols or len(parts) != len(cols):
            raise NotFoundError(f"no feature {feature_id!r} in {self.spec.id}")
        try:
            return Query(equals=tuple((c.name, c.convert(p)) for c, p in zip(cols, parts)))
        except ValueError:
            raise NotFoundError(f"no feature {feature_id!r} in {self.spec.id}") from None


def _published(r: StoreReader, spec: Collection, user: User) -> Published | None:
    for table in spec.tables:
        layer = r.layer(table)
        if layer is not None:
            hidden = spec.hidden | (spec.personal if user is PUBLIC else frozenset())
            columns = tuple(c for c in layer.columns if c.name not in hidden)
            return Published(spec, layer, columns, r.crs(layer))
    return None


def _all(r: StoreReader, user: User) -> list[Published]:
    return [p for p in (_published(r, s, user) for s in COLLECTIONS) if p is not None]


def _one(r: StoreReader, collection_id: str, user: User) -> Published:
    spec = next((s for s in COLLECTIONS if s.id == collection_id), None)
    pub = _published(r, spec, user) if spec else None
    if pub is None:
        names = ", ".join(p.spec.id for p in _all(r, user)) or "none yet"
        raise NotFoundError(f"no collection {collection_id!r}; the collections are: {names}")
    return pub


def _store(request: Request, user: User):  # type: ignore[no-untyped-def]
    return reading(store_of(request), user)


def _lang(request: Request) -> str:
    from gis.api.i18n import lang_of

    return lang_of(request)


# --- links ------------------------------------------------------------------------------------
def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _url(request: Request, path: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{_root(request)}/ogc{path}" + (f"?{query}" if query else "")


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _self_links(request: Request, path: str, json_type: str = JSON,
                **params: Any) -> list[dict[str, str]]:
    json_first = not _wants_html(request)
    this = _link(_url(request, path, **params, f="json"), "self" if json_first else "alternate",
                 json_type, "JSON")
    html = _link(_url(request, path, **params, f="html"), "alternate" if json_first else "self",
                 HTML, "HTML")
    return [this, html]


# --- parameters -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemsRequest:
    """The parsed parameters of an items request."""

    query: Query
    limit: int
    offset: int
    crs: OutputCrs
    echo: dict[str, str]  # the parameters to repeat in paging links


def _items_request(request: Request, pub: Published, paged: Page, crs: OutputCrs | None,
                   bbox: tuple[float, float, float, float] | None,
                   bbox_crs: OutputCrs | None) -> ItemsRequest:
    """The filters of an items request (``?column=value`` on published columns), with the
    parameters the dependencies parsed."""
    params = request.query_params
    published = {c.name for c in pub.columns}
    unknown = [k for k in params if k not in _RESERVED and k not in published]
    filters = [k for k in params if k not in _RESERVED and params[k] != ""]  # empty: form "all"
    if unknown:
        names = ", ".join(c.name for c in pub.columns)
        raise RequestError(f"unknown parameter {unknown[0]!r}; filter on one of: {names} "
                           f"(or use {', '.join(_RESERVED)})", value=unknown[0])
    area = None
    if bbox is not None:
        area = bbox_area(bbox, bbox_crs or default_crs(), pub.crs, text=params["bbox"])
    elif bbox_crs is not None:
        raise RequestError("bbox-crs needs a bbox", field="bbox-crs")
    equals = []
    for name in filters:
        column = pub.layer.column(name)
        assert column is not None
        if len(params.getlist(name)) > 1:
            raise RequestError(f"{name} is given twice; give one value", field=name)
        try:
            equals.append((name, column.convert(params[name])))
        except ValueError:
            raise RequestError(f"{name}={params[name]!r} is not a {column.type} value",
                               field=name) from None
    echo = {k: v for k, v in params.items() if k not in ("f", "offset", "limit") and v != ""}
    return ItemsRequest(Query(equals=tuple(equals), area=area), paged.limit, paged.offset,
                        crs or default_crs(), echo)


# --- responses --------------------------------------------------------------------------------
def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _collection_doc(request: Request, r: StoreReader, pub: Published,
                    lang: str) -> dict[str, Any]:
    title, description = pub.spec.text(lang)
    cid = pub.spec.id
    extent = r.extent(pub.layer)
    doc: dict[str, Any] = {
        "id": cid, "title": title, "description": description, "itemType": "feature",
        "crs": supported_crs(pub.crs), "storageCrs": supported_crs(pub.crs)[-1],
        "links": [
            *_self_links(request, f"/collections/{cid}"),
            _link(_url(request, f"/collections/{cid}/items", f="json"), "items", GEOJSON,
                  "GeoJSON"),
            _link(_url(request, f"/collections/{cid}/items", f="html"), "items", HTML, "HTML"),
            _link(_url(request, f"/collections/{cid}/queryables"),
                  "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json",
                  "queryables"),
            _link(_url(request, f"/collections/{cid}/schema"), "describedBy",
                  "application/schema+json", "schema"),
        ],
    }
    if extent is not None:
        doc["extent"] = {"spatial": {"bbox": [to_lonlat_bounds(extent, pub.crs)], "crs": CRS84}}
    return doc


def _landing_links(request: Request) -> list[dict[str, str]]:
    return [*_self_links(request, ""),
            _link(f"{_root(request)}/openapi.json", "service-desc", OPENAPI, "OpenAPI 3"),
            _link(f"{_root(request)}/docs", "service-doc", HTML, "API"),
            _link(_url(request, "/conformance"), "conformance", JSON, "Conformance"),
            _link(_url(request, "/conformance"),
                  "http://www.opengis.net/def/rel/ogc/1.0/conformance", JSON, "Conformance"),
            _link(_url(request, "/collections"), "data", JSON, "Collections"),
            _link(_url(request, "/collections"), "http://www.opengis.net/def/rel/ogc/1.0/data",
                  JSON, "Collections")]


@router.get("", summary="Landing page", response_model=None)
def landing(request: Request, user: OgcReader) -> Response:
    lang = _lang(request)
    title, description = gettext("OGC API – Features data service", lang), gettext(
        "Parcels, land clearance projects and progress, land violations and ward boundaries as "
        "OGC API – Features: open them directly in QGIS, ArcGIS Pro or GDAL/ogr2ogr, in WGS 84 "
        "or VN-2000.", lang)
    if _wants_html(request):
        with _store(request, user) as r:
            pubs = _all(r, user)
            counts = {p.spec.id: r.count(p.layer, Query()) for p in pubs}
        return html_landing(request, user, title, description, pubs, counts)
    return _json({"title": title, "description": description, "links": _landing_links(request)})


@router.get("/conformance", summary="Conformance classes", response_model=None)
def conformance(request: Request, user: OgcReader) -> Response:
    if _wants_html(request):
        return html_conformance(request, user, CONFORMANCE)
    return _json({"conformsTo": CONFORMANCE, "links": _self_links(request, "/conformance")})


@router.get("/collections", summary="The collections", response_model=None)
def collections(request: Request, user: OgcReader) -> Response:
    lang = _lang(request)
    with _store(request, user) as r:
        pubs = _all(r, user)
        docs = [_collection_doc(request, r, p, lang) for p in pubs]
        if _wants_html(request):
            counts = {p.spec.id: r.count(p.layer, Query()) for p in pubs}
            return html_collections(request, user, pubs, docs, counts)
    crs = supported_crs(pubs[0].crs) if pubs else [CRS84]
    return _json({"links": _self_links(request, "/collections"), "crs": crs,
                  "collections": docs})


@router.get("/collections/{collectionId}", summary="One collection", response_model=None)
def collection(collectionId: str, request: Request,
               user: OgcReader) -> Response:
    with _store(request, user) as r:
        pub = _one(r, collectionId, user)
        doc = _collection_doc(request, r, pub, _lang(request))
        if _wants_html(request):
            return html_collection(request, user, pub, doc, r.count(pub.layer, Query()))
    return _json(doc)


@router.get("/collections/{collectionId}/queryables", summary="Queryables (JSON Schema)",
            response_model=None)
def queryables(collectionId: str, request: Request,
               user: OgcReader) -> Response:
    return _schema(collectionId, request, user, feature=False)


@router.get("/collections/{collectionId}/schema", summary="Feature schema (JSON Schema)",
            response_model=None)
def schema(collectionId: str, request: Request,
           user: OgcReader) -> Response:
    return _schema(collectionId, request, user, feature=True)


def _schema(collection_id: str, request: Request, user: User, *, feature: bool) -> Response:
    from gis.render.labels import field_labels

    lang = _lang(request)
    with _store(request, user) as r:
        pub = _one(r, collection_id, user)
    labels = field_labels([c.name for c in pub.columns], lang)
    uri = _url(request, f"/collections/{collection_id}/{'schema' if feature else 'queryables'}")
    body = json_schema(uri, pub.spec.text(lang)[0], pub.columns, labels,
                       geometry_type=pub.layer.geometry_type, feature=feature)
    return Response(dumps(body), media_type="application/schema+json")


_ITEMS_PARAMETERS = [
    {"name": "limit", "in": "query", "required": False, "style": "form", "explode": False,
     "description": f"Features per page (1-{MAX_LIMIT}; larger values give {MAX_LIMIT}).",
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT}},
    {"name": "offset", "in": "query", "required": False, "description": "Features to skip.",
     "schema": {"type": "integer", "minimum": 0, "default": 0}},
    {"name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
     "description": "minx,miny,maxx,maxy in bbox-crs (CRS84 lon/lat by default).",
     "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}},
    {"name": "bbox-crs", "in": "query", "required": False, "description": "CRS of bbox (URI).",
     "schema": {"type": "string", "format": "uri"}},
    {"name": "crs", "in": "query", "required": False,
     "description": "Output CRS: CRS84 (default), EPSG:4326 (lat/lon) or the store's VN-2000 zone.",
     "schema": {"type": "string", "format": "uri"}},
    {"name": "f", "in": "query", "required": False, "description": "json or html.",
     "schema": {"type": "string", "enum": ["json", "html"]}},
]


@router.get("/collections/{collectionId}/items", summary="Features",
            response_model=None, openapi_extra={"parameters": _ITEMS_PARAMETERS})
def items(collectionId: str, request: Request, user: OgcReader, paged: OgcPaging,
          crs: OgcCrs, bbox: OgcBBox, bbox_crs: OgcBBoxCrs) -> Response:
    html = _wants_html(request)
    with _store(request, user) as r:
        pub = _one(r, collectionId, user)
        ask = _items_request(request, pub, paged, crs, bbox, bbox_crs)
        page = r.page(pub.layer, ask.query, pub.columns, limit=ask.limit, offset=ask.offset)
        if html:
            return html_items(request, user, pub, page, ask, r, _paging(request, pub, ask,
                                                                      page, HTML))
    return _features_response(request, pub, page, ask)


def _paging(request: Request, pub: Published, ask: ItemsRequest, page: Rows,
            type_: str) -> dict[str, str]:
    """Hrefs of the next and previous pages (when there are such pages)."""
    path = f"/collections/{pub.spec.id}/items"
    f = "html" if type_ == HTML else "json"
    out = {}
    if ask.offset + len(page.fids) < page.matched and page.fids:
        out["next"] = _url(request, path, **ask.echo, limit=ask.limit,
                           offset=ask.offset + ask.limit, f=f)
    if ask.offset > 0:
        out["prev"] = _url(request, path, **ask.echo, limit=ask.limit,
                           offset=max(ask.offset - ask.limit, 0) or None, f=f)
    return out


def _features_response(request: Request, pub: Published, page: Rows,
                       ask: ItemsRequest) -> Response:
    path = f"/collections/{pub.spec.id}/items"
    here = {**ask.echo, "limit": ask.limit, "offset": ask.offset or None}
    links = _self_links(request, path, GEOJSON, **here)
    links += [_link(href, rel, GEOJSON, rel) for rel, href in
              _paging(request, pub, ask, page, GEOJSON).items()]
    links.append(_link(_url(request, f"/collections/{pub.spec.id}"), "collection", JSON))
    geoms = to_output(page.geometries, pub.crs, ask.crs)
    ids = [pub.feature_id(fid, row) for fid, row in zip(page.fids, page.rows)]
    head = (f'{{"type":"FeatureCollection","numberMatched":{page.matched},'
            f'"numberReturned":{len(page.fids)},"timeStamp":{dumps(_now())},'
            f'"links":{dumps(links)},"features":[')
    body = head + ",".join(features_json(ids, geoms, page.columns, page.rows)) + "]}"
    return Response(body.encode(), media_type=GEOJSON, headers=_crs_header(ask.crs))


def _crs_header(out: OutputCrs) -> dict[str, str]:
    return {"Content-Crs": f"<{out.uri}>"}


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace(
        "+00:00", "Z")


@router.get("/collections/{collectionId}/items/{featureId}", summary="One feature",
            response_model=None,
            openapi_extra={"parameters": [p for p in _ITEMS_PARAMETERS
                                          if p["name"] in ("crs", "f")]})
def item(collectionId: str, featureId: str, request: Request, user: OgcReader,
         crs: OgcCrs) -> Response:
    html = _wants_html(request)
    out = crs or default_crs()
    with _store(request, user) as r:
        pub = _one(r, collectionId, user)
        extra = [k for k in request.query_params if k not in ("f", "lang", "crs")]
        if extra:
            raise RequestError(f"unknown parameter {extra[0]!r} (use crs, f)", value=extra[0])
        page = r.page(pub.layer, pub.id_query(featureId), pub.columns, limit=1, offset=0)
        if not page.fids:
            raise NotFoundError(f"no feature {featureId!r} in {collectionId}")
        if html:
            return html_item(request, user, pub, page, featureId)
    path = f"/collections/{collectionId}/items/{featureId}"
    links = [*_self_links(request, path, GEOJSON),
             _link(_url(request, f"/collections/{collectionId}"), "collection", JSON)]
    geom = to_output(page.geometries, pub.crs, out)[0]
    body = feature_json(featureId, geom, page.columns, page.rows[0], links)
    return Response(body.encode(), media_type=GEOJSON, headers=_crs_header(out))

