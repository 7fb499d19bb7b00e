"""The service's one error path: one table from the library's errors to HTTP statuses, and one
answer for every error — JSON for API clients, the error page for browsers (:func:`wants_html`).

Clients get the message (file, row, field as the library words it), never a traceback; an
unexpected error is logged in full under a short id, and the answer gives only that id (the
officer quotes it, the administrator finds it in the log).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from gis.errors import (
    AuthError,
    CaseError,
    DataSourceError,
    GisError,
    NotFoundError,
    PageRedirect,
    ParcelValidationError,
    RequestError,
    StoreError,
    UnsafeArchiveError,
    UploadRefused,
)
from gis.text import Message

__all__ = ["STATUS", "install", "status_of", "message_of", "wants_html", "error_response"]

log = logging.getLogger("gis.api")

#: Most specific first. (:class:`UploadRefused` carries its own status: 413, 415 or 422.)
STATUS: list[tuple[type[BaseException], int]] = [
    (AuthError, 403),
    (RequestError, 400),
    (UploadRefused, 422),
    (NotFoundError, 404),
    (UnsafeArchiveError, 400),
    (ParcelValidationError, 422),
    (CaseError, 409),
    (DataSourceError, 400),
    (StoreError, 503),
    (GisError, 422),
]

#: Paths that are API only: JSON whatever the browser accepts. (``/ogc`` negotiates: HTML for
#: browsers, ``f=json|html`` to choose.)
API_PATHS = ("/api/", "/tiles/")


def status_of(exc: BaseException) -> int:
    """The HTTP status of an error, from the one table (500 for anything unexpected)."""
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, RequestValidationError):
        return 422
    if isinstance(exc, UploadRefused):
        return exc.status
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 500)


def message_of(exc: BaseException) -> str:
    """What the client reads: the library's message, the HTTP detail, or the first invalid
    parameter with what is wrong with it."""
    if isinstance(exc, HTTPException):
        return str(exc.detail)
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = _where(first)
        return f"{where}: {first.get('msg', 'invalid request')}" if where else \
            str(first.get("msg", "invalid request"))
    return str(exc)


def _where(error: dict[str, Any]) -> str:
    return ".".join(str(p) for p in error.get("loc", ()))


def wants_html(request: Request) -> bool:
    """True when the client is a browser on a page: ``f=html`` asks for it, ``f=json`` (or
    geojson) refuses it; otherwise the ``Accept`` header must name ``text/html`` and the path
    must not be an API-only one (``/api/``, ``/tiles/``)."""
    f = request.query_params.get("f")
    if f is not None and f in ("json", "geojson", "html"):
        return f == "html"
    if "text/html" not in request.headers.get("accept", ""):
        return False
    path = request.url.path
    return not (path + "/").startswith(API_PATHS)


def error_response(request: Request, status: int, message: str | Message, *,
                   field: str | None = None,
                   headers: Mapping[str, str] | None = None, report: object = None,
                   error_id: str | None = None) -> Response:
    """The answer for an error: the error page (with the signed-in user, when the request got
    that far) or ``{"status", "message"[, "field", "report", "id"]}``."""
    if wants_html(request):
        from gis.api.i18n import lang_of
        from gis.api.pages import render

        text = message.text(lang_of(request)) if isinstance(message, Message) else message
        page = render(request, "error.html", status=status, message=text, status_code=status,
                      user=getattr(request.state, "user", None), error_id=error_id)
        page.headers.update(headers or {})
        return page
    body: dict[str, object] = {"status": status, "message": str(message)}
    if field:
        body["field"] = field
    if report is not None:
        body["report"] = report
    if error_id:
        body["id"] = error_id
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``: every error the service answers goes through
    :func:`error_response`."""

    @app.exception_handler(PageRedirect)
    async def _redirect(request: Request, exc: PageRedirect) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, Message) else message_of(exc)
        return error_response(request, exc.status_code, detail, headers=exc.headers,
                              report=getattr(exc, "report", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        return error_response(request, 422, message_of(exc), field=_where(first) or None)

    @app.exception_handler(GisError)
    async def _gis(request: Request, exc: GisError) -> Response:
        return error_response(request, status_of(exc), str(exc), field=exc.field)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        error_id = uuid.uuid4().hex[:12]
        log.error("unexpected error %s on %s %s", error_id, request.method, request.url.path,
                  exc_info=exc)
        return error_response(request, 500, f"internal error {error_id}; the server log has "
                              "the details", error_id=error_id)

