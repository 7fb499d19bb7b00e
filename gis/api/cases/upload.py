"""Attachments sent to the service: size limited before and while reading, type checked by
content (the library's magic-byte check), the client's file name kept only as a label, and
thumbnails of photos for the case page."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from starlette.datastructures import UploadFile

from gis.api.cases.service import safe_filename
from gis.api.deps import context
from gis.core.violations.attachments import IMAGE_TYPES, MAX_BYTES, inspect_attachment
from gis.errors import CaseError, GisError
from gis.store import Store
from gis.violations import attach

__all__ = ["Upload", "upload_limit", "body_limit", "read_upload", "store_upload", "thumbnail",
           "UPLOAD_OPENAPI"]

_MB = 1024 * 1024
_FORM_OVERHEAD = 256 * 1024  # multipart boundaries, the role and note fields
_MAX_PIXELS = 60_000_000  # thumbnails of photos up to 60 megapixels

#: the multipart body, for the OpenAPI document (the handler parses it itself, after the
#: length check, so that an oversized upload is refused before it is read)
UPLOAD_OPENAPI: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "JPEG, PNG, WebP or HEIC photo, or a PDF document"},
        "role": {"type": "string", "enum": ["photo", "document"],
                 "description": "default: photo for images, document for PDF"},
        "note": {"type": "string"}}}}}}}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    role: str | None
    note: str | None


def upload_limit(request: Request) -> int:
    """Bytes allowed for one attachment: the service setting and the library's limit."""
    return min(context(request).service.max_upload_mb * _MB, MAX_BYTES)


def _too_big(limit: int) -> HTTPException:
    return HTTPException(413, f"the file is over the limit of {limit / _MB:g} MB")


async def body_limit(request: Request) -> None:
    """Dependency declared before the user's: refuse an oversized body by its Content-Length,
    before anything reads it."""
    length = request.headers.get("content-length")
    if length is None:
        raise HTTPException(411, "send the upload with a Content-Length")
    try:
        size = int(length)
    except ValueError:
        raise HTTPException(400, f"Content-Length {length!r} is not a number") from None
    limit = upload_limit(request)
    if size > limit + _FORM_OVERHEAD:
        raise _too_big(limit)


def _text(value: object, limit: int = 2000) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:limit]


async def read_upload(request: Request) -> Upload:
    """The ``file`` (first non-empty one), ``role`` and ``note`` fields of a multipart form."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise GisError("send the file as multipart/form-data in the field 'file'", field="file")
    limit = upload_limit(request)
    form = await request.form()
    files = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
    if not files:
        raise GisError("no file: send it in the multipart field 'file'", field="file")
    data = await files[0].read(limit + 1)
    if len(data) > limit:
        raise _too_big(limit)
    name = safe_filename(files[0].filename)
    if not data:
        raise GisError(f"{name} is empty", field="file", value=name)
    role = _text(form.get("role"), 20)
    if role not in (None, "photo", "document"):
        raise GisError(f"unknown role {role!r}; valid: photo, document", field="role", value=role)
    return Upload(name, data, role, _text(form.get("note")))


def store_upload(store: Store, case_id: str, upload: Upload, *, who: str, limit: int
                 ) -> dict[str, object]:
    """Check the content (415 when it is not an image or PDF, or not an image for a photo) and
    attach it through the library, which stores it under its SHA-256."""
    try:
        info = inspect_attachment(upload.filename, upload.data, role=upload.role or "document",
                                  max_bytes=limit)
    except CaseError as exc:
        raise HTTPException(415, exc.message) from None
    role = upload.role or ("photo" if info.mime in IMAGE_TYPES else "document")
    with tempfile.TemporaryDirectory(prefix="gis-upload-") as tmp:
        # a fresh private folder; the name inside is the sanitised label, never a client path
        path = Path(tmp) / upload.filename
        path.write_bytes(upload.data)
        return attach(store, case_id, path, role=role, who=who, note=upload.note)


def thumbnail(path: Path, *, size: int = 480) -> bytes | None:
    """A JPEG thumbnail of a photo (EXIF orientation applied), or None when Pillow cannot read
    it (HEIC without a plug-in)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as source:
            width, height = source.size
            if width * height > _MAX_PIXELS:  # a small file can unpack to gigabytes
                return None
            source.draft("RGB", (size * 2, size * 2))  # JPEG: decode at a reduced scale
            image = ImageOps.exif_transpose(source)
            image.thumbnail((size, size))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=80)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
