"""Errors and warnings of the land-parcel service.

One root, :class:`GisError`, and flat subclasses. Each carries the context a land officer needs to
find the problem (``path``, ``layer``, ``row``, ``field``, ``value``); the message names them.
Builtins are mixed in where they mean something (``OSError`` for unreadable sources, ``ValueError``
for bad values), as rasterio and Fiona do.
"""

from __future__ import annotations

from os import PathLike
from typing import Any

__all__ = [
    "GisError",
    "EngineError",
    "NotFoundError",
    "DataSourceError",
    "UnsafeArchiveError",
    "LayerConfigError",
    "FieldMappingError",
    "CRSError",
    "CRSMismatchError",
    "PlaceError",
    "EncodingDetectionError",
    "ParcelValidationError",
    "StoreError",
    "CaseError",
    "AuthError",
    "RequestError",
    "QueryError",
    "UnitCodeError",
    "UploadRefused",
    "PageRedirect",
    "GisWarning",
    "CRSWarning",
]


class GisError(Exception):
    """Root of every error the service raises on purpose.

    Parameters
    ----------
    message
        What was expected and what was found.
    path, layer, row, field, value
        Where the problem is. ``row`` is the 1-based feature/row number in the source.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike[str] | None = None,
        layer: str | None = None,
        row: int | None = None,
        field: str | None = None,
        value: Any = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.layer = layer
        self.row = row
        self.field = field
        self.value = value
        super().__init__(self.__str__())

    def where(self) -> str:
        """Return the location part of the message ("file x.shp, layer parcels, row 12, field MaXa";
        "database postgresql://…" for a PostGIS store)."""
        parts = []
        if self.path:  # a store in a database is no file
            database = self.path.startswith(("postgresql://", "postgres://"))
            parts.append(f"{'database' if database else 'file'} {self.path}")
        if self.layer:
            parts.append(f"layer {self.layer}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field {self.field}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message


class DataSourceError(GisError, OSError):
    """A layer or table cannot be read: missing, truncated, unsupported or empty."""


class UnsafeArchiveError(DataSourceError):
    """A zip/kmz refused for safety: path traversal, zip bomb, too many members."""


class LayerConfigError(GisError, ValueError):
    """A layer or map YAML is invalid; ``field`` holds the key path."""


class FieldMappingError(GisError, ValueError):
    """Required model fields cannot be found among the source fields."""


class CRSError(GisError, ValueError):
    """The coordinate reference system is missing, ambiguous or contradicts the coordinates."""


class CRSMismatchError(CRSError):
    """Two layers that must share a CRS do not."""


class EncodingDetectionError(GisError, ValueError):
    """Legacy Vietnamese text cannot be decoded with confidence."""


class ParcelValidationError(GisError, ValueError):
    """Validation found rows that cannot be loaded (raised in strict mode); ``report`` holds all."""

    def __init__(self, message: str, *, report: Any = None, **where: Any) -> None:
        self.report = report
        super().__init__(message, **where)


class StoreError(GisError, OSError):
    """The store cannot be opened or written."""


class NotFoundError(GisError, LookupError):
    """A case, layer, project or file that does not exist."""


class CaseError(GisError, ValueError):
    """A violation-case change that is not allowed (transition, document number, geometry)."""


class AuthError(GisError, PermissionError):
    """Sign-in refused, or a role that may not do this."""


class RequestError(GisError, ValueError):
    """A query parameter of the web API that cannot be used (answered with 400)."""


class UploadRefused(GisError):
    """An upload refused before validation: ``status`` is the HTTP answer (413, 415, 422)."""

    def __init__(self, message: str, *, status: int, **where: Any) -> None:
        self.status = status
        super().__init__(message, **where)


class EngineError(GisError, RuntimeError):
    """The batch engine cannot run (``--engine dask``: no scheduler at the address)."""


class PageRedirect(Exception):
    """Not an error: raised by the service's page dependencies to leave a handler and send the
    browser elsewhere (the sign-in form); answered with 303 to ``location``."""

    def __init__(self, location: str) -> None:
        self.location = location
        super().__init__(location)


class GisWarning(UserWarning):
    """Root of the service's warnings."""


class CRSWarning(GisWarning):
    """A CRS was read from a source that is known to be imprecise (e.g. a .prj without TOWGS84)."""


class PlaceError(GisError, ValueError):
    """A layer lies where it cannot be: outside the stored wards or the province named."""


class QueryError(RequestError):
    """A structured store query the layer cannot answer: a column it does not have, an order
    or a key column it lacks, a negative limit or offset."""


class UnitCodeError(GisError, ValueError):
    """An administrative-unit code that is not in its code system, or is ambiguous between the
    legacy and the 2025 lists (the message names both units)."""
