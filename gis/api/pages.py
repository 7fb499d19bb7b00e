"""Sign-in, sign-out, the language switch and the home page (pick a map)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from gis.api.auth.security import Permission, User
from gis.api.deps import SESSION_COOKIE, context, current_user, require_page, see_other
from gis.api.i18n import lang_of
from gis.text import LANGUAGE_NAMES, N_, Message, install_jinja

__all__ = ["router", "render", "TEMPLATES"]

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
install_jinja(TEMPLATES.env)
router = APIRouter(include_in_schema=False)


def render(request: Request, template: str, *, user: User | None = None, status_code: int = 200,
           **values: Any) -> HTMLResponse:
    """A page in the request's language (its texts from the catalogue, :mod:`gis.text`); every
    value is escaped by Jinja2's autoescape."""
    lang = lang_of(request)
    ctx = context(request)
    response = TEMPLATES.TemplateResponse(request, template, {
        "lang": lang, "other_lang": next(x for x in LANGUAGE_NAMES if x != lang),
        "language_names": LANGUAGE_NAMES, "user": user,
        "csrf": getattr(request.state, "csrf", ""), "residents": ctx.service.residents_page,
        **values}, status_code=status_code)
    if request.query_params.get("lang") in ("vi", "en"):
        response.set_cookie("gis_lang", lang, max_age=365 * 86400, samesite="lax")
    return response


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
        return render(request, "login.html", next=_safe_next(next), failed=N_("Too many failed sign-ins; try again in 15 minutes"),
                      status_code=429)
    user = result.user
    if user is None:
        return render(request, "login.html", next=_safe_next(next), failed=N_("Wrong user name or password"),
                      status_code=401)
    sid = ctx.users.new_session(user.name, ctx.service.session_hours)
    response = see_other(_safe_next(next))
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https",
                        max_age=int(ctx.service.session_hours * 3600))
    return response


@router.post("/logout")
async def logout(request: Request, user: User | None = Depends(current_user)) -> Response:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        context(request).users.end_session(sid)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, user: User = Depends(require_page(Permission.READ))) -> HTMLResponse:
    from gis.catalog import load_map_spec

    ctx = context(request)
    maps = [load_map_spec(p) for p in sorted(Path(ctx.service.maps).glob("*.yaml"))]
    return render(request, "home.html", user=user, maps=maps)
