"""Who is asking, and may they: the service's FastAPI dependencies.

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
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from starlette.status import HTTP_303_SEE_OTHER

from gis.api.auth.security import Permission, Role, User, UserDB, csrf_token
from gis.settings import IngestSettings, ServiceSettings, StorageSettings
from gis.text import N_, Message

__all__ = ["Context", "context", "current_user", "require", "require_page", "store_of",
           "PageRedirect", "SESSION_COOKIE", "PUBLIC", "PERSONAL", "visible_fields"]

SESSION_COOKIE = "gis_session"
PUBLIC = User("public", Role.VIEWER)
#: Fields never shown to anonymous readers (``public_read``): personal data and case work notes.
PERSONAL = frozenset({"owner_name", "owner_code", "notes", "inspector", "evidence"})


def visible_fields(user: User, fields):  # type: ignore[no-untyped-def]
    """``fields`` without the personal ones when the reader is anonymous."""
    return tuple(f for f in fields if user is not PUBLIC or f not in PERSONAL)


#: How long a worker keeps a verified HTTP Basic pair (QGIS sends Basic with every tile: argon2
#: runs once). Every hit still compares the user's credential stamp in service.db, so a password
#: or role change takes effect at the next request on every worker.
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


class PageRedirect(Exception):
    """Raised by page dependencies to send the browser to the sign-in form."""

    def __init__(self, location: str) -> None:
        self.location = location


def context(request: Request) -> Context:
    return request.app.state.gis


def store_of(ctx: Context):  # type: ignore[no-untyped-def]
    """The GeoPackage store (opened per request: cheap, and safe across workers)."""
    from gis.store import open_store

    return open_store(ctx.storage.store_path)


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
        if not user.can(permission):
            raise HTTPException(403, _may_not(user, permission))
        return user

    dependency.permission = permission  # type: ignore[attr-defined]
    dependency.page = True  # type: ignore[attr-defined]
    return dependency


def see_other(url: str):  # type: ignore[no-untyped-def]
    from starlette.responses import RedirectResponse

    return RedirectResponse(url, status_code=HTTP_303_SEE_OTHER)
