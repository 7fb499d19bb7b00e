"""Safe handling of zipped layers (.zip of a shapefile set, .kmz).

GDAL reads members in place through ``/vsizip/``, so nothing is extracted to disk; the archive is
still refused when a member name escapes the archive (``../``, absolute paths), or when the
declared uncompressed size or compression ratio says "zip bomb".
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gis.errors import DataSourceError, UnsafeArchiveError

__all__ = ["ArchiveLimits", "check_archive", "layer_members"]

LAYER_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".kml")


@dataclass(frozen=True)
class ArchiveLimits:
    """Refusal thresholds for archives."""

    max_members: int = 10_000
    max_total_bytes: int = 4 * 1024**3
    max_ratio: float = 200.0
    #: the ratio is only judged above this many uncompressed bytes (small text compresses well)
    ratio_floor_bytes: int = 10 * 1024**2


def check_archive(path: Path, limits: ArchiveLimits = ArchiveLimits()) -> list[str]:
    """Check a zip archive and return its member names.

    Raises
    ------
    UnsafeArchiveError
        Path traversal, too many members, or a declared size or ratio beyond the limits.
    DataSourceError
        The file is not a zip archive.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataSourceError(f"not a readable zip archive ({exc})", path=path) from None
    if len(infos) > limits.max_members:
        raise UnsafeArchiveError(f"{len(infos)} members, more than the limit {limits.max_members}",
                                 path=path)
    total = compressed = 0
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or (parts and parts[0].endswith(":")):
            raise UnsafeArchiveError(f"member {info.filename!r} points outside the archive "
                                     "(path traversal); refusing the archive", path=path)
        # One bomb member hidden among large, poorly compressible members keeps the overall
        # ratio low: judge each member too.
        if (info.file_size > limits.ratio_floor_bytes
                and info.file_size / max(info.compress_size, 1) > limits.max_ratio):
            raise UnsafeArchiveError(
                f"member {info.filename!r}: compression ratio "
                f"{info.file_size / max(info.compress_size, 1):,.0f}:1 exceeds "
                f"{limits.max_ratio:,.0f}:1 ({info.file_size:,} bytes declared; zip bomb?)",
                path=path)
        total += info.file_size
        compressed += info.compress_size
    if total > limits.max_total_bytes:
        raise UnsafeArchiveError(f"declared uncompressed size {total:,} bytes exceeds the limit "
                                 f"{limits.max_total_bytes:,} (zip bomb?)", path=path)
    if total > limits.ratio_floor_bytes and total / max(compressed, 1) > limits.max_ratio:
        raise UnsafeArchiveError(f"compression ratio {total / max(compressed, 1):,.0f}:1 exceeds "
                                 f"{limits.max_ratio:,.0f}:1 (zip bomb?)", path=path)
    return [i.filename for i in infos if not i.is_dir()]


def layer_members(names: list[str]) -> list[str]:
    """Members of an archive that are layers (nested folders included, macOS junk skipped)."""
    out = []
    for name in names:
        p = PurePosixPath(name)
        if p.name.startswith("._") or "__MACOSX" in p.parts:
            continue
        if p.suffix.lower() in LAYER_SUFFIXES:
            out.append(name)
    return sorted(out)
