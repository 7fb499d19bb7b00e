"""One table from the library's errors to HTTP statuses. Clients get the message (file, row,
field as the library words it), never a traceback; unexpected errors are logged in full and
answered with a short message."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from gis.api.deps import PageRedirect
from gis.errors import (
    AuthError,
    CaseError,
    DataSourceError,
    GisError,
    NotFoundError,
    ParcelValidationError,
    RequestError,
    StoreError,
    UnsafeArchiveError,
    UploadRefused,
)
from gis.text import N_, Message

__all__ = ["STATUS", "install"]

log = logging.getLogger("gis.api")

#: Most specific first.
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


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith(("/api", "/ogc", "/tiles"))


def _answer(request: Request, status: int, message: str | Message, field: str | None = None,
            headers: dict[str, str] | None = None, report: object = None) -> Response:
    """The error as a page in the reader's language, or as JSON (English) for API clients."""
    if _wants_html(request):
        from gis.api.deps import current_user  # noqa: F401  (user is optional on error pages)
        from gis.api.i18n import lang_of
        from gis.api.pages import render

        text = message.text(lang_of(request)) if isinstance(message, Message) else message
        return render(request, "error.html", status=status, message=text, status_code=status,
                      user=None)
    body: dict[str, object] = {"status": status, "message": str(message)}
    if field:
        body["field"] = field
    if report is not None:
        body["report"] = report
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(PageRedirect)
    async def _redirect(request: Request, exc: PageRedirect) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, Message) else str(exc.detail)
        return _answer(request, exc.status_code, detail, headers=exc.headers,
                       report=getattr(exc, "report", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _answer(request, 422, f"{where}: {first.get('msg', 'invalid request')}", where)

    @app.exception_handler(GisError)
    async def _gis(request: Request, exc: GisError) -> Response:
        status = next(code for kind, code in STATUS if isinstance(exc, kind))
        return _answer(request, status, str(exc), getattr(exc, "field", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _answer(request, 500, Message(N_("internal error; the server log has the details")))
