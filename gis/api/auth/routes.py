"""Signing in and out: the sign-in form (``/login``), which opens a browser session, and
``/logout``. Scripts and desktop GIS authenticate on every request instead (bearer token, HTTP
Basic; see :mod:`gis.api.deps`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from gis.api.deps import SESSION_COOKIE, CurrentUser, context, see_other
from gis.api.pages import render
from gis.text import N_, Message

__all__ = ["router"]

router = APIRouter(tags=["sign-in"], include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", next=_safe_next(next), failed=None)


@router.post("/login")
async def login(request: Request, name: str = Form(...), password: str = Form(...),
                next: str = Form("/")) -> Response:
    ctx = context(request)
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.url.netloc:
        # another site posting our sign-in form would sign the browser into its account
        return render(request, "error.html", status=403, status_code=403,
                      message=Message(N_("sign-in from another site refused")))
    client = request.client.host if request.client else "?"
    result = ctx.users.sign_in(name, password, client, per_name=ctx.service.login_attempts,
                               per_address=ctx.service.login_address_attempts)
    if result.limited:
        return render(request, "login.html", next=_safe_next(next),
                      failed=N_("Too many failed sign-ins; try again in 15 minutes"),
                      status_code=429)
    user = result.user
    if user is None:
        return render(request, "login.html", next=_safe_next(next),
                      failed=N_("Wrong user name or password"),
                      status_code=401)
    sid = ctx.users.new_session(user.name, ctx.service.session_hours)
    response = see_other(_safe_next(next))
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https",
                        max_age=int(ctx.service.session_hours * 3600))
    return response


@router.post("/logout")
async def logout(request: Request, user: CurrentUser) -> Response:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        context(request).users.end_session(sid)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response
