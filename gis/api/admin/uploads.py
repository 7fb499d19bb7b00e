"""Administrators' uploads: kept apart until committed.

An upload is a folder ``<data_dir>/uploads/<id>/`` (``id``: 16 random hex digits, the only part
of any path that comes from a request, and checked) holding ``source.<ext>`` (never the client's
file name), ``meta.json`` (who, when, the client's file name for display, options, state) and
``report.json`` (the validation report of :func:`gis.ingest.prepare_layer` or
:func:`gis.clearance.prepare_clearance`, written before anything touches the store). Committing
runs the library's ingest with the administrator's name for the ingest log; discarding deletes
the folder. Committed uploads stay: they are the files the ingest log names.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from gis.errors import DataSourceError, GisError, NotFoundError, UploadRefused

__all__ = ["KINDS", "LAYER_KINDS", "Upload", "UploadOptions", "UploadRefused", "Uploads"]

LAYER_KINDS = ("parcels", "projects", "buildings", "wards", "units")
KINDS = (*LAYER_KINDS, "clearance")
#: what each kind accepts, by extension (the content is checked too)
ACCEPTED = {**dict.fromkeys(LAYER_KINDS, (".zip", ".gpkg")), "clearance": (".xlsx", ".xls", ".ods", ".csv")}
_ID = re.compile(r"[0-9a-f]{16}")
_CHUNK = 1 << 20
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class UploadOptions:
    """The ``gis ingest`` options an upload can carry."""

    crs: str | None = None        # CRS of a source that declares none (EPSG:5897)
    layer: str | None = None      # layer of a GeoPackage or zip holding several
    province: str | None = None   # to pick the VN-2000 zone of a source without .prj
    ward: str | None = None       # ward code for parcels without a MaXa field
    replace_all: bool = False     # parcels, units: replace all, not only those in the file
    strict: bool = False          # refuse the whole file if any row fails
    sheet: str | None = None      # clearance: the XLSX sheet
    known_on: str | None = None   # clearance: the day the sheet describes (ISO date)
    units: str | None = None      # parcels, clearance: the code system of the ward codes

    @classmethod
    def parse(cls, kind: str, values: dict[str, Any]) -> UploadOptions:
        """From form fields or JSON: blanks dropped, dates checked, options of another kind
        refused (a ``--known-on`` for parcels is a mistake worth saying)."""
        clean: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            value = values.get(name)
            if isinstance(value, str):
                value = value.strip()
            if value in (None, "", False, "false", "off", "0"):
                continue
            if name in ("replace_all", "strict"):
                clean[name] = True
            else:
                clean[name] = str(value)[:200]
        layer_only = {"crs", "layer", "province", "ward", "replace_all"}
        wrong = sorted((layer_only if kind == "clearance" else {"sheet", "known_on"}) & set(clean))
        if wrong:
            raise UploadRefused(f"option(s) {', '.join(wrong)} do not apply to {kind}",
                                status=422, field=wrong[0])
        if clean.get("replace_all") and kind not in ("parcels", "units"):
            raise UploadRefused("replace_all applies to parcels and units only (other layers "
                                "are always replaced whole)", status=422, field="replace_all")
        if "units" in clean:
            from gis.core.units import CodeSystem

            if kind not in ("parcels", "clearance"):
                raise UploadRefused(f"units (the code system) applies to parcels and clearance "
                                    f"sheets, not {kind}", status=422, field="units")
            try:
                clean["units"] = CodeSystem.parse(clean["units"]).value
            except ValueError as exc:
                raise UploadRefused(f"units: {exc}", status=422, field="units") from None
        if "known_on" in clean:
            from gis.core.clearance.values import parse_date

            try:
                day = parse_date(clean["known_on"])
            except ValueError as exc:
                raise UploadRefused(f"known_on: {exc}; use YYYY-MM-DD or dd/mm/yyyy",
                                    status=422, field="known_on") from None
            clean["known_on"] = day.isoformat() if day else None
        return cls(**clean)

    def known_on_date(self) -> dt.date | None:
        return dt.date.fromisoformat(self.known_on) if self.known_on else None


@dataclass
class Upload:
    """One upload: its folder's ``meta.json``."""

    id: str
    kind: str
    filename: str          # the client's name, for display only
    stored: str            # source.<ext>, inside the folder
    size: int
    sha256: str
    format: str            # zip, gpkg, xlsx, xls, ods, csv
    uploaded_by: str
    uploaded_at: str
    options: dict[str, Any] = field(default_factory=dict)
    state: str = "pending"  # pending, committed
    committed_by: str | None = None
    committed_at: str | None = None
    result: dict[str, Any] | None = None
    #: the 2025 units the file touches (:func:`gis.api.admin.ingest.touched_units`); None: the
    #: whole store (a layer of wards, units, projects or buildings), or not known (an upload
    #: kept before units were recorded): then only its uploader and the province see it
    units: list[str] | None = None

    @property
    def opts(self) -> UploadOptions:
        return UploadOptions(**self.options)

    def public(self) -> dict[str, Any]:
        """What clients see (no server paths)."""
        out = asdict(self)
        out.pop("stored")
        return out


def display_name(name: str | None) -> str:
    """The client's file name reduced to a label: last path part, no control characters."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    base = "".join(c for c in base if c.isprintable())
    return base[:200] or "upload"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Uploads:
    """The uploads folder of one data directory."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def folder(self, upload_id: str) -> Path:
        if not _ID.fullmatch(upload_id or ""):
            raise NotFoundError(f"no upload {upload_id!r}", field="id", value=upload_id)
        return self.root / upload_id

    # -- receiving -------------------------------------------------------------------------
    def receive(self, source: BinaryIO, filename: str | None, kind: str,
                options: UploadOptions, *, who: str, limit_bytes: int) -> Upload:
        """Copy the client's bytes into a new folder (at most ``limit_bytes``), check the type
        by extension and content; nothing is left behind when refused."""
        if kind not in KINDS:
            raise UploadRefused(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}",
                                status=422, field="kind", value=kind)
        name = display_name(filename)
        ext = PurePosixPath(name.lower()).suffix
        if ext not in ACCEPTED[kind]:
            raise UploadRefused(f"{kind}: expected {' or '.join(ACCEPTED[kind])}, got "
                                f"{ext or 'no extension'} ({name})", status=415, field="file")
        self.root.mkdir(parents=True, exist_ok=True)
        upload_id = secrets.token_hex(8)
        folder = self.root / upload_id
        folder.mkdir()
        try:
            target = folder / f"source{ext}"
            digest, size = hashlib.sha256(), 0
            with open(target, "wb") as out:
                for block in iter(lambda: source.read(_CHUNK), b""):
                    size += len(block)
                    if size > limit_bytes:
                        raise UploadRefused(f"the file is larger than the limit of "
                                            f"{limit_bytes // 2**20} MB", status=413, field="file")
                    digest.update(block)
                    out.write(block)
            if size == 0:
                raise UploadRefused(f"{name} is empty", status=422, field="file")
            fmt = sniff(target, ext, kind, name)
            upload = Upload(upload_id, kind, name, target.name, size, digest.hexdigest(), fmt,
                            who, _now(), {k: v for k, v in asdict(options).items()
                                          if v not in (None, False)})
            self.save(upload)
            return upload
        except BaseException as exc:
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(exc, GisError) and exc.path:
                exc.path = name  # the client's name, never ours
            raise

    # -- the folder's files ----------------------------------------------------------------
    def save(self, upload: Upload) -> None:
        _write_json(self.folder(upload.id) / "meta.json", asdict(upload))

    def get(self, upload_id: str) -> Upload:
        meta = self.folder(upload_id) / "meta.json"
        try:
            return Upload(**json.loads(meta.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise NotFoundError(f"no upload {upload_id!r}", field="id", value=upload_id) from None

    def source(self, upload: Upload) -> Path:
        return self.folder(upload.id) / upload.stored

    def save_report(self, upload: Upload, report: dict[str, Any]) -> None:
        _write_json(self.folder(upload.id) / "report.json", report)

    def report(self, upload: Upload) -> dict[str, Any]:
        path = self.folder(upload.id) / "report.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def list(self) -> list[Upload]:
        """Every upload, newest first (folders without a readable meta.json are skipped)."""
        if not self.root.is_dir():
            return []
        out = []
        for folder in self.root.iterdir():
            if _ID.fullmatch(folder.name) and (folder / "meta.json").exists():
                with contextlib.suppress(ValueError, TypeError, OSError):
                    out.append(self.get(folder.name))
        return sorted(out, key=lambda u: u.uploaded_at, reverse=True)

    def by_source_path(self) -> dict[str, Upload]:
        """Stored source path → upload, to name the files of the ingest log."""
        return {str(self.source(u).resolve()): u for u in self.list()}

    def discard(self, upload_id: str) -> Upload:
        upload = self.get(upload_id)
        if upload.state == "committed":
            raise UploadRefused("a committed upload is part of the ingest log and stays",
                                status=409, field="id", value=upload_id)
        with self.claim(upload_id):
            shutil.rmtree(self.folder(upload_id))
        return upload

    @contextlib.contextmanager
    def claim(self, upload_id: str) -> Iterator[Upload]:
        """Hold the upload alone (commit, discard); 409 if someone else does, or it is not
        pending any more."""
        folder = self.folder(upload_id)
        self.get(upload_id)
        with open(folder / ".lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadRefused("this upload is being committed or discarded right now",
                                    status=409, field="id", value=upload_id) from None
            try:
                upload = self.get(upload_id)
                if upload.state != "pending":
                    raise UploadRefused(f"this upload was already committed by "
                                        f"{upload.committed_by} at {upload.committed_at}",
                                        status=409, field="id", value=upload_id)
                yield upload
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def scrub(self, text: str, upload: Upload) -> str:
        """A message without server paths: the stored file is called by the client's name."""
        text = text.replace(str(self.source(upload).resolve()), upload.filename)
        text = text.replace(str(self.source(upload)), upload.filename)
        text = text.replace(str(self.folder(upload.id).resolve()), "…")
        return text.replace(str(self.root.resolve()), "…").replace(str(self.root), "…")


def _write_json(path: Path, value: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    tmp.write_text(json.dumps(value, ensure_ascii=False, default=str, indent=1),
                   encoding="utf-8")
    os.replace(tmp, path)


def sniff(path: Path, ext: str, kind: str, name: str) -> str:
    """The format of an upload from its first bytes, which must agree with its extension.

    Raises
    ------
    UploadRefused
        415 when the content is not what the extension says (a renamed file).
    UnsafeArchiveError
        A zip with members outside the archive (``../``) or a zip bomb.
    """
    from gis.io.archive import check_archive, layer_members

    with open(path, "rb") as fh:
        head = fh.read(4096)
    if ext == ".xls":
        # Excel 97-2003 is an OLE2 compound file; old web software also sends HTML or CSV
        # named .xls, which the sheet reader recognises by its bytes
        if head.startswith(b"\xd0\xcf\x11\xe0") or head.lstrip()[:1] == b"<" or (
                b"\x00" not in head and head[:4] not in _ZIP_MAGIC):
            return "xls"
        raise UploadRefused(f"{name} is not an Excel 97-2003 workbook", status=415, field="file")
    if ext == ".ods":
        if head[:4] in _ZIP_MAGIC and b"opendocument.spreadsheet" in head[:200]:
            return "ods"
        raise UploadRefused(f"{name} is not an OpenDocument spreadsheet", status=415,
                            field="file")
    if ext in (".zip", ".xlsx"):
        if head[:4] not in _ZIP_MAGIC or not zipfile.is_zipfile(path):
            raise UploadRefused(f"{name} is not a zip archive (its content does not start like "
                                "one)", status=415, field="file")
        try:
            members = check_archive(path)
        except DataSourceError as exc:
            if type(exc) is DataSourceError:  # unreadable; unsafe archives keep their class
                raise UploadRefused(f"{name} is not a readable zip archive", status=415,
                                    field="file") from None
            raise
        workbook = any(m.startswith("xl/") for m in members)
        if ext == ".xlsx":
            if not workbook:
                raise UploadRefused(f"{name} is a zip but not an Excel workbook (no xl/ part)",
                                    status=415, field="file")
            return "xlsx"
        if not layer_members(members):
            raise UploadRefused(f"{name} holds no layer (.shp, .gpkg, .geojson, .kml); a zipped "
                                "shapefile needs its .shp, .shx and .dbf", status=415,
                                field="file")
        return "zip"
    if ext == ".gpkg":
        if not head.startswith(_SQLITE_MAGIC):
            raise UploadRefused(f"{name} is not a GeoPackage (no SQLite header)", status=415,
                                field="file")
        return "gpkg"
    if ext == ".csv":
        utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode text"
        if (b"\x00" in head and not utf16) or head[:4] in _ZIP_MAGIC or \
                head.startswith(_SQLITE_MAGIC):
            raise UploadRefused(f"{name} is not a text (CSV) file", status=415, field="file")
        return "csv"
    raise UploadRefused(f"{kind}: {ext} files are not accepted", status=415, field="file")
