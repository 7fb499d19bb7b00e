"""The Store protocol: what every backend (GeoPackage file, PostGIS) provides."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from gis.store.cases import CaseChange, CaseQuery, NewAttachment, NewCase
from gis.store.query import LayerInfo, LayerQuery, QueryResult, TileQuery

__all__ = ["Store", "IngestLogEntry", "LayerReplacement", "open_store"]


@dataclass(frozen=True)
class IngestLogEntry:
    """One line of the ingest log: who loaded what, when, from which file, with what result."""

    kind: str
    source_path: str
    source_layer: str | None
    source_sha256: str
    user: str
    started_at: str
    finished_at: str
    rows_total: int
    rows_loaded: int
    rows_quarantined: int
    crs_source: str | None
    crs_store: str
    engine: str
    added: int = 0
    removed: int = 0
    changed: int = 0
    issues_json: str = "{}"
    units: str = ""  # the 2025 units the change touched, comma-separated ("" when none)

    def as_dict(self) -> dict[str, object]:
        """Plain-dict form."""
        return asdict(self)


@dataclass(frozen=True)
class LayerReplacement:
    """What a read-modify-write of a spatial layer decides (:meth:`Store.replace_layer_with`):
    the layer's new content, its quarantine rows (replacing those of the kind, or only those of
    the wards in ``quarantine_scope``) and the ingest-log line to append; ``also`` names other
    spatial layers replaced in the same transaction (the parcels re-placed in a new units
    layer), so that a reader never sees one without the other."""

    frame: gpd.GeoDataFrame
    log: IngestLogEntry
    quarantine: gpd.GeoDataFrame | None = None
    quarantine_scope: list[str] | None = None
    also: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict)


def check_same_crs(frame: pd.DataFrame, store_crs: Any, path: str | os.PathLike[str] | None,
                   layer: str) -> None:
    """Refuse a layer whose CRS is not the store's (both given): a store holds one CRS."""
    crs = getattr(frame, "crs", None)
    if store_crs is None or crs is None:
        return
    if CRS.from_user_input(crs) != CRS.from_user_input(store_crs):
        from gis.errors import CRSMismatchError

        raise CRSMismatchError(f"layer CRS {CRS.from_user_input(crs).name} differs from the store "
                               f"CRS {CRS.from_user_input(store_crs).name}", path=path, layer=layer)


@runtime_checkable
class Store(Protocol):
    """Persistent layers of one land office. All writes are atomic per call."""

    def crs(self) -> CRS | None:
        """The working CRS of the store (the VN-2000 zone of its data), or None when empty."""

    def layers(self) -> dict[str, int]:
        """Layer name → feature count."""

    def has(self, kind: str) -> bool:
        """True when the layer exists."""

    def read(self, kind: str, *, bbox: tuple[float, float, float, float] | None = None,
             where: str | None = None, columns: list[str] | None = None) -> gpd.GeoDataFrame:
        """Read a layer, optionally filtered by a box (store CRS) and an SQL where clause."""

    def replace_layer(self, kind: str, frame: gpd.GeoDataFrame, *,
                      quarantine: gpd.GeoDataFrame | None, log: IngestLogEntry,
                      quarantine_scope: list[str] | None = None) -> None:
        """Replace a layer, its quarantine rows (of the wards in ``quarantine_scope``, or all of
        the kind) and append the log line, all or nothing."""

    def replace_layer_with(self, kind: str,
                           change: Callable[[Any], LayerReplacement]) -> LayerReplacement:
        """Read-modify-write of a spatial layer in one writer transaction: ``change`` reads the
        store as it is under the writers' lock (the working copy, or the open transaction of a
        database) and returns the layer, its quarantine and the log line, which are written
        all or nothing (as :meth:`replace_layer`). Nothing is written if ``change`` raises."""

    def quarantine(self, kind: str | None = None) -> gpd.GeoDataFrame:
        """Quarantined rows, with the reason each was kept out."""

    def ingest_log(self) -> pd.DataFrame:
        """The ingest log, oldest first."""

    def read_table(self, name: str) -> pd.DataFrame:
        """Read a table (attribute or spatial); an empty frame when it does not exist."""

    def write_tables(self, tables: dict[str, pd.DataFrame], *,
                     log: IngestLogEntry | None = None) -> None:
        """Replace several tables (and append ``log``), all or nothing."""

    def modify(self, change: Callable[[Any], Mapping[str, pd.DataFrame]], *,
               log: IngestLogEntry | None = None) -> None:
        """Read-modify-write under the store's lock: ``change(working_store)`` returns the
        tables to replace (and ``log`` is appended); all or nothing."""

    # -- violation cases (gis.store.cases): row-level, each call one transaction ---------------
    def read_cases(self, query: CaseQuery | None = None, *,
                   columns: Sequence[str] | None = None,
                   geometry: bool = True) -> gpd.GeoDataFrame:
        """Cases matching the structured filters of ``query`` (all cases without one), in the
        order they were recorded, with the columns (:data:`~gis.store.cases.CASE_COLUMNS`
        first, or only ``columns`` in their order) and types of
        :func:`gis.store.cases.conform_cases`; a plain DataFrame when ``geometry`` is False.
        An empty frame while the store has no cases."""

    def case_history(self, case_id: str) -> pd.DataFrame:
        """The history lines of one case (:data:`~gis.store.cases.HISTORY_COLUMNS`), oldest
        first; empty for an unknown case."""

    def insert_cases(self, cases: Sequence[NewCase], *, id_prefix: str) -> list[str]:
        """Insert new cases and their first history lines in one transaction; return their ids,
        ``<id_prefix><number>`` with numbers after the highest of that prefix, allocated inside
        the transaction (two processes never take the same id)."""

    def insert_cases_with(self, decide: Callable[[Any], Sequence[NewCase]], *,
                          id_prefix: str) -> list[str]:
        """Read-modify-write for detection: ``decide(working)`` reads the store as it is under
        the writers' lock (layers and cases, through this protocol) and returns the new cases,
        which are inserted as :meth:`insert_cases` does in the same transaction. Nothing is
        written if ``decide`` raises."""

    def update_cases(self, case_ids: Sequence[str], change: CaseChange
                     ) -> list[dict[str, object]]:
        """Change cases, all or nothing: under the writers' lock each case is read as it is
        then and ``change(current)`` decides the new row and its history lines (so a second
        officer's change sees the first's result); the changed columns and the history lines
        are written in one transaction. Raises :class:`~gis.errors.CaseError` (writing
        nothing) for an unknown case or when ``change`` refuses. Returns the history lines."""

    def attachments_dir(self) -> Path:
        """The folder where attachment files are kept, content-addressed
        (``<case_id>/<sha256><ext>``, the ``stored_as`` of their rows)."""

    def add_attachment(self, attachment: NewAttachment) -> dict[str, object]:
        """Attach a checked file to an existing case in one transaction: the file kept under
        :meth:`attachments_dir`, its row, and its history line. Raises
        :class:`~gis.errors.CaseError` for an unknown case or a file already attached to it
        (same SHA-256). Returns the row."""

    def case_attachments(self, case_id: str) -> pd.DataFrame:
        """The attachment rows of one case (:data:`~gis.store.cases.ATTACHMENT_COLUMNS`), in
        the order they were added."""

    # -- structured reads and change tokens (issue 11: the web layer reads only through these)
    def query(self, kind: str, q: LayerQuery) -> QueryResult:
        """The rows of a layer or table that ``q`` selects (filters by box, area, wards, keys,
        fids and attribute equality; columns; order; page), with the number of all matches
        when ``q.count`` (from the same snapshot). Unknown columns raise
        :class:`~gis.errors.QueryError`; an unknown layer :class:`~gis.errors.StoreError`."""

    def scan(self, kind: str, q: LayerQuery, *, batch_size: int = 10_000
             ) -> Iterator[QueryResult]:
        """The rows ``q`` selects in frames of at most ``batch_size``, read as they are
        consumed (one snapshot), so a whole district never sits in memory."""

    def layer_info(self, kind: str) -> LayerInfo:
        """A layer's fields and their types, geometry type, feature count, extent and CRS."""

    #: True when the store makes vector tiles (:meth:`vector_tile`), so the service asks it
    #: for each tile, click and search instead of holding layers in memory
    makes_tiles: bool

    def vector_tile(self, kind: str, q: TileQuery) -> bytes | None:
        """One Mapbox vector tile of a layer made by the store (b"" when empty), or None when
        the store does not make tiles (the GeoPackage file: the service keeps such layers in
        memory, which is faster there)."""

    def distinct(self, kind: str, column: str, *, limit: int | None = None) -> list[Any]:
        """The distinct non-null values of a column, in order (at most ``limit``)."""

    def change_token(self, kind: str | None = None) -> str:
        """A cheap token that changes whenever the layer ``kind`` (or, for None, anything in
        the store) changes, whichever process wrote it; equal tokens mean unchanged data.
        A layer the store does not have has the token :data:`~gis.store.query.ABSENT`, a store
        that does not exist :data:`~gis.store.query.NO_STORE`. For
        caches (tiles, OGC pages, dashboard figures)."""


def open_store(location: str | os.PathLike[str]) -> Store:
    """Open the store named by a path (``.gpkg``) or URL (``postgresql://`` later)."""
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        from gis.store.postgis import PostGISStore

        return PostGISStore(text)
    from gis.store.geopackage import GeoPackageStore

    return GeoPackageStore(Path(location))
