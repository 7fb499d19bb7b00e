"""Attachment checks: what a file really is (magic bytes), its size, its checksum."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from gis.errors import CaseError

__all__ = ["AttachmentInfo", "inspect_attachment", "MAX_BYTES", "IMAGE_TYPES", "DOCUMENT_TYPES"]

MAX_BYTES = 20 * 1024 * 1024
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic"}
DOCUMENT_TYPES = IMAGE_TYPES | {"application/pdf"}


@dataclass(frozen=True)
class AttachmentInfo:
    """A checked attachment."""

    filename: str
    mime: str
    size: int
    sha256: str
    role: str  # photo | document


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "image/heic"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def inspect_attachment(filename: str, data: bytes, *, role: str,
                       max_bytes: int = MAX_BYTES) -> AttachmentInfo:
    """Check an attachment by content, not by name: a photo must be an image (JPEG, PNG, WebP,
    HEIC), a document an image or a PDF; size within ``max_bytes``.

    >>> inspect_attachment("a.png", b"\\x89PNG\\r\\n\\x1a\\n" + b"0" * 10, role="photo").mime
    'image/png'
    """
    if role not in ("photo", "document"):
        raise CaseError(f"unknown attachment role {role!r}; valid: photo, document", field="role")
    if len(data) == 0:
        raise CaseError(f"{filename} is empty", field="attachment", value=filename)
    if len(data) > max_bytes:
        raise CaseError(f"{filename} is {len(data):,} bytes, over the limit of {max_bytes:,}",
                        field="attachment", value=filename)
    mime = _sniff(data)
    allowed = IMAGE_TYPES if role == "photo" else DOCUMENT_TYPES
    if mime not in allowed:
        what = mime or "not a known image or PDF"
        raise CaseError(f"{filename} is {what}; a {role} must be "
                        f"{'an image (JPEG, PNG, WebP, HEIC)' if role == 'photo' else 'an image or a PDF'}",
                        field="attachment", value=filename)
    return AttachmentInfo(filename, mime, len(data), hashlib.sha256(data).hexdigest(), role)
