"""The service's FastAPI dependencies: the store, who is asking and may they, and the typed
query parameters shared by the routes (bounding box, CRS, paging, output format).

Handlers declare what they need with the ``Annotated`` aliases below (``store: StoreDep``,
``user: Reader``, ``bbox: BBox``, ``page: Paging``…); a parameter that cannot be used is refused
with 400 and a message naming it (:class:`gis.errors.RequestError`) before the handler runs.

A request is authenticated by, in this order: a bearer token (scripts), HTTP Basic (desktop GIS:
QGIS 3.22 cannot send bearer tokens), or the browser session cookie. Unsafe requests made with
the cookie must carry the session's CSRF token (``X-CSRF-Token`` header or ``csrf_token`` form
field). API requests without credentials get 401 with a Basic challenge; pages redirect to the
sign-in form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Query, Request
from pyproj import CRS
from starlette.status import HTTP_303_SEE_OTHER

from gis.api.auth.security import Permission, Role, User, UserDB, csrf_token
from gis.api.exports.formats import Format
from gis.api.exports.layers import parse_output_crs
from gis.api.ogc.collections import OutputCrs, parse_crs
from gis.core.bbox import parse_bbox
from gis.errors import GisError, PageRedirect, RequestError
from gis.settings import IngestSettings, ServiceSettings, StorageSettings
from gis.store import Store
from gis.text import N_, Message

__all__ = ["Context", "context", "current_user", "require", "require_page", "store_of",
           "SESSION_COOKIE", "PUBLIC", "PERSONAL", "visible_fields", "see_other",
           "StoreDep", "CurrentUser", "Reader", "Writer", "Exporter", "Admin", "PageReader",
           "PageWriter", "PageExporter", "PageAdmin", "BoundingBox", "BBox", "LonLatBBox",
           "OgcBBox", "Page", "paging", "Paging", "OutputFormat", "ExportCrs", "ExportBBoxCrs",
           "OgcCrs", "OgcBBoxCrs"]

SESSION_COOKIE = "gis_session"
PUBLIC = User("public", Role.VIEWER)
#: Fields never shown to anonymous readers (``public_read``): personal data and case work notes.
PERSONAL = frozenset({"owner_name", "owner_code", "notes", "inspector", "evidence"})


def visible_fields(user: User, fields):  # type: ignore[no-untyped-def]
    """``fields`` without the personal ones when the reader is anonymous."""
    return tuple(f for f in fields if user is not PUBLIC or f not in PERSONAL)


#: How long a worker keeps a verified HTTP Basic pair (QGIS sends Basic with every tile: argon2
#: runs once). Every hit still compares the user's credential stamp in the account store, so a
#: password or role change takes effect at the next request on every worker.
_BASIC_CACHE_SECONDS = 300.0


@dataclass
class Context:
    """What the app was created with (one per process)."""

    storage: StorageSettings
    ingest: IngestSettings
    service: ServiceSettings
    users: UserDB
    secret: bytes
    root: Path
    #: sha256(name, password) -> (user, or None once the pair stopped working; the stamp it was
    #: checked at; expiry on the monotonic clock)
    basic_cache: dict[str, tuple[User | None, int | None, float]]

    def store(self) -> Store:
        """The store (opened per use: cheap, and safe across workers)."""
        from gis.store import open_store

        return open_store(self.storage.store_location)


def context(request: Request) -> Context:
    """What the app was created with."""
    ctx: Context = request.app.state.gis
    return ctx


def store_of(request: Request) -> Store:
    """Dependency: the store, opened once per request."""
    return context(request).store()


StoreDep = Annotated[Store, Depends(store_of)]


def _basic_user(ctx: Context, header: str, client: str) -> User | None:
    try:
        name, _, password = base64.b64decode(header, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise HTTPException(400, "malformed Basic credentials") from None
    key = hashlib.sha256(f"{name}\0{password}".encode()).hexdigest()
    hit = ctx.basic_cache.get(key)
    now = time.monotonic()
    if hit and hit[2] > now:  # QGIS sends Basic on every page: argon2 once
        stamp = ctx.users.stamp(name)
        if stamp == hit[1]:
            return hit[0]
        # the password or role changed since: check again, outside the sign-in limits (this
        # pair was right before, it is no guess), and remember a pair that stopped working so a
        # desktop GIS replaying it neither runs argon2 nor locks its office out
        user, stamp = ctx.users.verify_stamped(name, password)
        ctx.basic_cache[key] = (user, stamp, hit[2])
        return user
    result = ctx.users.sign_in(name, password, client, per_name=ctx.service.login_attempts,
                               per_address=ctx.service.login_address_attempts, scope="basic")
    if result.limited:
        raise HTTPException(429, "too many failed sign-ins; wait 15 minutes")
    if result.user is None:
        return None
    ctx.basic_cache[key] = (result.user, result.stamp, now + _BASIC_CACHE_SECONDS)
    return result.user


def _check_csrf(request: Request, ctx: Context, sid: str, form_token: str | None) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get("x-csrf-token") or form_token or ""
    if not hmac.compare_digest(sent, csrf_token(ctx.secret, sid)):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")


async def current_user(request: Request) -> User | None:
    """The authenticated user, or None. Sets ``request.state.via`` to how."""
    ctx = context(request)
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    client = request.client.host if request.client else "?"
    if scheme.lower() == "bearer" and value:
        request.state.via = "token"
        user = ctx.users.token_user(value.strip())
        if user is None:
            raise HTTPException(401, "unknown or revoked token",
                                headers={"WWW-Authenticate": "Bearer"})
        return user
    if scheme.lower() == "basic" and value:
        request.state.via = "basic"
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            # browsers replay remembered Basic credentials cross-site: no CSRF protection, so
            # Basic is for reading (desktop GIS); scripts write with a bearer token
            raise HTTPException(401, "HTTP Basic is for reading; write with a bearer token "
                                     "(`gis users token`) or the browser session",
                                headers={"WWW-Authenticate": "Bearer"})
        user = _basic_user(ctx, value.strip(), client)
        if user is None:
            raise HTTPException(401, "wrong user name or password",
                                headers={"WWW-Authenticate": 'Basic realm="gis"'})
        return user
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        user = ctx.users.session_user(sid)
        if user is not None:
            request.state.via = "session"
            form_token = None
            if request.method not in ("GET", "HEAD", "OPTIONS") and \
                    request.headers.get("content-type", "").startswith(
                        ("application/x-www-form-urlencoded", "multipart/form-data")):
                form = await request.form()
                value_ = form.get("csrf_token")
                form_token = value_ if isinstance(value_, str) else None
            _check_csrf(request, ctx, sid, form_token)
            request.state.csrf = csrf_token(ctx.secret, sid)
            return user
    request.state.via = None
    return None


def _may_not(user: User, permission: Permission) -> Message:
    """The 403 answer, in the reader's language on a page (English in JSON)."""
    return Message(N_("the %(role)s role may not do this (needs %(permission)s)"),
                   {"role": user.role.value, "permission": permission.value})


def require(permission: Permission, *, public: bool = True) -> Callable[..., User]:
    """API dependency: the user if they hold ``permission``; 401 or 403 otherwise. Reads are
    open to everyone when the ``public_read`` setting is on, unless ``public`` is False (case
    files: residents have their own page)."""

    async def dependency(request: Request, user: User | None = Depends(current_user)) -> User:
        if user is None:
            if permission is Permission.READ and public and context(request).service.public_read:
                return PUBLIC
            raise HTTPException(401, "sign in first (session, bearer token or HTTP Basic)",
                                headers={"WWW-Authenticate": 'Basic realm="gis"'})
        request.state.user = user  # error pages show who is signed in
        if not user.can(permission):
            raise HTTPException(403, _may_not(user, permission))
        return user

    dependency.permission = permission  # type: ignore[attr-defined]  (read by the role matrix test)
    dependency.page = False  # type: ignore[attr-defined]
    return dependency


def require_page(permission: Permission, *, public: bool = True) -> Callable[..., User]:
    """Page dependency: like :func:`require`, but a browser without a session is sent to the
    sign-in form and comes back afterwards."""

    async def dependency(request: Request, user: User | None = Depends(current_user)) -> User:
        if user is None:
            if permission is Permission.READ and public and context(request).service.public_read:
                return PUBLIC
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise PageRedirect(f"/login?next={quote(target, safe='')}")
        request.state.user = user
        if not user.can(permission):
            raise HTTPException(403, _may_not(user, permission))
        return user

    dependency.permission = permission  # type: ignore[attr-defined]
    dependency.page = True  # type: ignore[attr-defined]
    return dependency


def see_other(url: str):  # type: ignore[no-untyped-def]
    from starlette.responses import RedirectResponse

    return RedirectResponse(url, status_code=HTTP_303_SEE_OTHER)


# --- who: the current user and the permission a route needs ----------------------------------
CurrentUser = Annotated[User | None, Depends(current_user)]
Reader = Annotated[User, Depends(require(Permission.READ))]
Writer = Annotated[User, Depends(require(Permission.WRITE))]
Exporter = Annotated[User, Depends(require(Permission.EXPORT))]
Admin = Annotated[User, Depends(require(Permission.ADMIN))]
PageReader = Annotated[User, Depends(require_page(Permission.READ))]
PageWriter = Annotated[User, Depends(require_page(Permission.WRITE))]
PageExporter = Annotated[User, Depends(require_page(Permission.EXPORT))]
PageAdmin = Annotated[User, Depends(require_page(Permission.ADMIN))]


# --- bounding boxes ---------------------------------------------------------------------------
BoundingBox = tuple[float, float, float, float]
_BBOX_HELP = "minx,miny,maxx,maxy"


def _bbox(text: str | None, *, six: bool = False, lonlat: bool = False) -> BoundingBox | None:
    """The one bounding-box parser (:func:`gis.core.bbox.parse_bbox`), refusing with 400."""
    try:
        return parse_bbox(text, six=six, lonlat=lonlat)
    except GisError as exc:
        raise RequestError(exc.message, field="bbox", value=text) from None


def bbox_param(bbox: Annotated[str | None, Query(
        description=f"{_BBOX_HELP} (in bbox-crs where the route has one)")] = None
        ) -> BoundingBox | None:
    """Dependency: ``bbox`` as four numbers, or None."""
    return _bbox(bbox)


def lonlat_bbox_param(bbox: Annotated[str | None, Query(
        description="minlon,minlat,maxlon,maxlat in WGS 84")] = None) -> BoundingBox | None:
    """Dependency: ``bbox`` as longitudes and latitudes in WGS 84, or None."""
    return _bbox(bbox, lonlat=True)


def ogc_bbox_param(bbox: Annotated[str | None, Query(include_in_schema=False)] = None
                   ) -> BoundingBox | None:
    """Dependency: OGC API's ``bbox`` (4 numbers, or 6 with heights, which are dropped), in
    ``bbox-crs`` axis order; documented by the OGC routes themselves."""
    return _bbox(bbox, six=True)


BBox = Annotated[BoundingBox | None, Depends(bbox_param)]
LonLatBBox = Annotated[BoundingBox | None, Depends(lonlat_bbox_param)]
OgcBBox = Annotated[BoundingBox | None, Depends(ogc_bbox_param)]


# --- paging -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    """Which rows of a result: ``limit`` rows from ``offset``."""

    limit: int
    offset: int


def _whole(name: str, text: str | None, default: int, low: int) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise RequestError(f"{name}={text!r} is not a whole number", field=name,
                           value=text) from None
    if value < low:
        raise RequestError(f"{name}={value} must be at least {low}", field=name, value=value)
    if value > 2**53:
        raise RequestError(f"{name}={value} is too large", field=name, value=value)
    return value


def paging(default: int, maximum: int, *, clamp: bool = False,
           documented: bool = True) -> Callable[..., Page]:
    """A dependency for ``limit`` (1 to ``maximum``, ``default`` when absent) and ``offset``
    (0 or more). A limit over the maximum is refused, or with ``clamp`` taken as the maximum
    (OGC API – Features requires that). ``documented=False`` leaves them out of the OpenAPI
    document for routes that describe them themselves."""

    def dependency(limit: str | None = None, offset: str | None = None) -> Page:
        n = _whole("limit", limit, default, 1)
        if n > maximum:
            if not clamp:
                raise RequestError(f"limit={n} is more than {maximum}; page with offset",
                                   field="limit", value=n)
            n = maximum
        return Page(n, _whole("offset", offset, 0, 0))

    # the parameters' documentation depends on the arguments: given to FastAPI as objects
    # (annotations are strings here, evaluated in the module, where these names do not exist)
    limit_query = Query(include_in_schema=documented,
                        description=f"rows per page, 1-{maximum} (default {default})")
    offset_query = Query(include_in_schema=documented, description="rows to skip (default 0)")
    keyword = inspect.Parameter.KEYWORD_ONLY
    dependency.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("limit", keyword, default=None,
                           annotation=Annotated[str | None, limit_query]),
         inspect.Parameter("offset", keyword, default=None,
                           annotation=Annotated[str | None, offset_query])],
        return_annotation=Page)
    return dependency


#: limit/offset for lists of records (100 rows by default, at most 5000)
Paging = Annotated[Page, Depends(paging(100, 5000))]


# --- output format (exports) ------------------------------------------------------------------
def format_param(format: Annotated[str, Query(
        description="shp (zip), gpkg, geojson, kml, csv, xlsx")] = "gpkg") -> Format:
    """Dependency: the export format (aliases such as ``shapefile`` or ``excel`` accepted)."""
    try:
        return Format.parse(format)
    except GisError as exc:
        raise RequestError(exc.message, field="format", value=format) from None


OutputFormat = Annotated[Format, Depends(format_param)]


# --- CRSs -------------------------------------------------------------------------------------
def _store_crs(store: Store) -> CRS | None:
    return store.crs()


def _export_crs(name: str, value: str | None, store: Store) -> CRS | None:
    """A CRS the export offers for this store (its VN-2000 zone or WGS 84), or None when not
    given (the format decides) or the store is empty (the route says so)."""
    if value is None or not value.strip():
        return None
    store_crs = _store_crs(store)
    if store_crs is None:
        return None
    try:
        return parse_output_crs(value, store_crs, name=name)
    except GisError as exc:
        raise RequestError(exc.message, field=name, value=value) from None


def export_crs_param(store: StoreDep, crs: Annotated[str | None, Query(
        description="vn2000 (the layer's zone; default except GeoJSON and KML) or "
                    "wgs84")] = None) -> CRS | None:
    """Dependency: the CRS of an export's file."""
    return _export_crs("crs", crs, store)


def export_bbox_crs_param(store: StoreDep, bbox_crs: Annotated[str | None, Query(
        alias="bbox-crs", description="CRS of bbox: wgs84 (default) or vn2000")] = None
        ) -> CRS | None:
    """Dependency: the CRS an export's ``bbox`` is written in."""
    return _export_crs("bbox-crs", bbox_crs, store)


def _ogc_crs(name: str, value: str | None, store: Store) -> OutputCrs | None:
    """A CRS OGC API serves for this store (CRS84, EPSG:4326 or the store's zone, as OGC URIs
    or ``EPSG:<code>``), or None when not given or the store is empty."""
    if value is None or value == "":
        return None
    store_crs = _store_crs(store)
    if store_crs is None:
        return None
    return parse_crs(value, store_crs, parameter=name)  # RequestError: 400


def ogc_crs_param(store: StoreDep, crs: Annotated[str | None, Query(
        include_in_schema=False)] = None) -> OutputCrs | None:
    """Dependency: OGC API's output ``crs`` (None: CRS84)."""
    return _ogc_crs("crs", crs, store)


def ogc_bbox_crs_param(store: StoreDep, bbox_crs: Annotated[str | None, Query(
        alias="bbox-crs", include_in_schema=False)] = None) -> OutputCrs | None:
    """Dependency: OGC API's ``bbox-crs`` (None: CRS84)."""
    return _ogc_crs("bbox-crs", bbox_crs, store)


ExportCrs = Annotated[CRS | None, Depends(export_crs_param)]
ExportBBoxCrs = Annotated[CRS | None, Depends(export_bbox_crs_param)]
OgcCrs = Annotated[OutputCrs | None, Depends(ogc_crs_param)]
OgcBBoxCrs = Annotated[OutputCrs | None, Depends(ogc_bbox_crs_param)]
