"""Violation cases in the store: the three tables, their columns and types, and the row-level
operations every backend provides (the "violation cases" block of :class:`~gis.store.base.Store`).

Callers never write SQL: they give structured filters (:class:`CaseQuery`), new rows
(:class:`NewCase`, :class:`NewAttachment`) and, for an update, a function that decides the new
row from the current one (:data:`CaseChange`). The store runs each operation atomically under its
writers' lock (one transaction), so two processes never take the same case id, never lose each
other's update, and a refused change writes nothing. The lifecycle itself is the domain's
(:func:`gis.core.violations.cases.apply_changes`); the store only keeps the rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["CASES", "HISTORY", "ATTACHMENTS", "CASE_COLUMNS", "HISTORY_COLUMNS",
           "ATTACHMENT_COLUMNS", "CASE_NUMBERS", "CASE_ID_DIGITS", "HistoryLine", "NewCase",
           "CaseQuery", "NewAttachment", "CaseChange", "case_id", "next_case_ids",
           "conform_cases", "conform_history", "conform_attachments", "plain", "cases_frame",
           "attachments_beside"]

CASES, HISTORY, ATTACHMENTS = "violation_cases", "violation_history", "violation_attachments"
#: the columns of ``violation_cases`` besides the geometry (point or polygon, store CRS);
#: ``ward_name`` and ``unit_name`` are the names beside the codes (gis.units)
CASE_COLUMNS = ["case_id", "fingerprint", "kind", "status", "source", "rule", "area_m2",
                "parcel_keys", "ward_code", "ward_name", "building_id", "evidence", "inspector",
                "notes", "owner_name", "minutes_no", "minutes_date", "decision_no",
                "decision_date", "conclusion_no", "conclusion_date", "remedy_deadline",
                "fine_vnd", "closed_reason", "occurred_on", "year_built", "created_at",
                "updated_at", "unit_code", "unit_name"]
#: numeric case columns (read as float64, missing as NaN); every other column is text
#: (pandas ``str``, missing as NaN): dates ``YYYY-MM-DD``, timestamps ISO 8601 in UTC
CASE_NUMBERS = ("area_m2", "fine_vnd", "year_built")
#: ``unit_code``: the 2025 unit of the case when the line was written (whose change it was)
HISTORY_COLUMNS = ["case_id", "at", "who", "field", "old", "new", "unit_code"]
ATTACHMENT_COLUMNS = ["case_id", "filename", "role", "mime", "size", "sha256", "stored_as",
                      "note", "added_at", "who"]
#: case ids are ``<prefix><number>``, the number zero-padded to this width (``VP-2026-00011``)
CASE_ID_DIGITS = 5


@dataclass(frozen=True)
class HistoryLine:
    """One line of a case's history: who changed which field when, from what to what."""

    at: str
    who: str
    field: str
    old: str | None = None
    new: str | None = None
    unit: str | None = None  # the case's 2025 unit code

    def row(self, case_id: str) -> dict[str, object]:
        """The line as a ``violation_history`` row."""
        return {"case_id": case_id, "at": self.at, "who": self.who, "field": self.field,
                "old": self.old, "new": self.new, "unit_code": self.unit}


@dataclass(frozen=True)
class NewCase:
    """A case to insert: its columns (without ``case_id``, which the store allocates), its
    geometry in the store CRS, and its first history lines."""

    fields: Mapping[str, object]
    geometry: Any
    history: tuple[HistoryLine, ...] = ()


@dataclass(frozen=True)
class CaseQuery:
    """Which cases to read; every given filter must hold (``None`` = no filter).

    ``ids`` are case ids (an empty tuple matches nothing), ``bbox`` is
    ``(minx, miny, maxx, maxy)`` in the store CRS and keeps cases whose box meets it.
    """

    ids: tuple[str, ...] | None = None
    ward: str | None = None
    kind: str | None = None
    status: str | None = None
    source: str | None = None
    bbox: tuple[float, float, float, float] | None = None

    def equalities(self) -> dict[str, str]:
        """The column = value filters."""
        pairs = {"ward_code": self.ward, "kind": self.kind, "status": self.status,
                 "source": self.source}
        return {k: v for k, v in pairs.items() if v is not None}


@dataclass(frozen=True)
class NewAttachment:
    """A checked file to attach to a case: the store keeps the bytes content-addressed
    (``<attachments dir>/<case_id>/<sha256><ext>``) and the row in ``violation_attachments``,
    with ``history`` appended to the case's history, in one transaction."""

    case_id: str
    filename: str
    role: str
    mime: str
    sha256: str
    ext: str
    data: bytes = field(repr=False)
    who: str
    added_at: str
    note: str | None = None
    history: HistoryLine | None = None

    @property
    def stored_as(self) -> str:
        """The file's path under the attachments folder."""
        return f"{self.case_id}/{self.sha256}{self.ext}"

    def row(self) -> dict[str, object]:
        """The ``violation_attachments`` row."""
        return {"case_id": self.case_id, "filename": self.filename, "role": self.role,
                "mime": self.mime, "size": len(self.data), "sha256": self.sha256,
                "stored_as": self.stored_as, "note": self.note, "added_at": self.added_at,
                "who": self.who}


#: ``change(current_row)`` → ``(new_row, history_rows)``: called by the store under its lock
#: with the case as it is then (``None`` for missing values, no geometry); raises to refuse
#: (then nothing is written). ``new_row`` holds the columns to keep; the store writes the ones
#: that differ from ``current_row``.
CaseChange = Callable[[Mapping[str, object]],
                      tuple[Mapping[str, object], Sequence[Mapping[str, object]]]]


def case_id(prefix: str, number: int) -> str:
    """``case_id("VP-2026-", 11)`` → ``"VP-2026-00011"``."""
    return f"{prefix}{number:0{CASE_ID_DIGITS}d}"


def next_case_ids(existing: Sequence[object], prefix: str, n: int) -> list[str]:
    """The ``n`` ids after the highest one of ``prefix`` in ``existing``.

    >>> next_case_ids(["VP-2026-00002", "VP-2025-00009", None], "VP-2026-", 2)
    ['VP-2026-00003', 'VP-2026-00004']
    """
    used = [int(text[len(prefix):]) for text in (str(c) for c in existing if isinstance(c, str))
            if text.startswith(prefix) and text[len(prefix):].isdigit()]
    start = max(used, default=0) + 1
    return [case_id(prefix, i) for i in range(start, start + n)]


def plain(value: object) -> object:
    """A cell as a plain Python value: missing (None, NaN, NA, NaT) → None, numpy scalars →
    Python ones, dates and timestamps → ISO text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        value = item()
        if isinstance(value, float) and value != value:
            return None
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return str(isoformat())
    return value


def _conform(frame: pd.DataFrame, columns: Sequence[str], numbers: Sequence[str],
             integers: Sequence[str] = ()) -> pd.DataFrame:
    for column in columns:
        if column not in frame.columns:
            frame[column] = pd.Series(float("nan"), index=frame.index, dtype="float64") \
                if column in numbers or column in integers else \
                pd.Series(float("nan"), index=frame.index, dtype="str")
        elif column in integers:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("int64")
        elif column in numbers:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        else:
            frame[column] = frame[column].astype("str")
    return frame


def conform_cases(frame: pd.DataFrame, *, add_missing: bool = True) -> pd.DataFrame:
    """Cases as every backend returns them: the :data:`CASE_COLUMNS` (all of them unless
    ``add_missing`` is False) with their types (:data:`CASE_NUMBERS` float64, the others
    text)."""
    present = [c for c in CASE_COLUMNS if add_missing or c in frame.columns]
    return _conform(frame, present, CASE_NUMBERS)


def conform_history(frame: pd.DataFrame) -> pd.DataFrame:
    """History lines as every backend returns them: :data:`HISTORY_COLUMNS`, all text."""
    return _conform(frame, HISTORY_COLUMNS, ())[HISTORY_COLUMNS]


def conform_attachments(frame: pd.DataFrame) -> pd.DataFrame:
    """Attachment rows as every backend returns them: :data:`ATTACHMENT_COLUMNS`, ``size`` an
    int64, the others text."""
    return _conform(frame, ATTACHMENT_COLUMNS, (), ("size",))[ATTACHMENT_COLUMNS]


def cases_frame(frame: pd.DataFrame | None, wanted: Sequence[str], *, geometry: bool,
                crs: Callable[[], Any]) -> pd.DataFrame:
    """What :meth:`Store.read_cases` returns, from the rows a backend read (None: no table, or
    no ids asked): the ``wanted`` columns first with their types (missing ones added empty),
    then any others, then the geometry; ``crs()`` is asked only for an empty frame."""
    if frame is None:
        frame = pd.DataFrame({c: [] for c in wanted})
        if geometry:
            import geopandas as gpd

            frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([]), crs=crs())
    out = conform_cases(frame, add_missing=False)
    for column in wanted:  # asked for, but older stores may lack it
        if column not in out.columns:
            out = conform_cases(out.assign(**{column: None}), add_missing=False)
    extra = [c for c in out.columns if c not in wanted and c != "geometry"]
    return out[[*wanted, *extra, *(["geometry"] if "geometry" in out.columns else [])]]


def attachments_beside(store_path: str | os.PathLike[str]) -> Path:
    """The attachments folder of a store file: ``<store>_attachments`` beside it."""
    path = Path(store_path)
    return path.with_name(path.stem + "_attachments")
