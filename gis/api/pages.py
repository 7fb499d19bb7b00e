"""Pages: every HTML page is rendered here, in the request's language (``?lang=``, kept in a
cookie), with the signed-in user and the session's CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from gis.api.auth.security import User
from gis.api.deps import context
from gis.api.i18n import lang_of
from gis.text import LANGUAGE_NAMES, install_jinja

__all__ = ["render", "TEMPLATES"]

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
install_jinja(TEMPLATES.env)


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
