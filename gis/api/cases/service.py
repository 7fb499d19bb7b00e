"""What the case API (``/api/violations``) and the case pages (``/cases``) share: case rows as
JSON, filters, labels in Vietnamese and English, the fields each transition asks for, uploads
and the dossier. The work itself is :mod:`gis.violations`'s; nothing here changes a case.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis import crs as crsmod
from gis import labels
from gis.api.auth.security import User
from gis.api.scope import require_in_scope
from gis.core.violations.cases import EDITABLE, TRANSITIONS, CaseStatus
from gis.core.violations.rules import KINDS
from gis.errors import GisError, NotFoundError
from gis.fields import fold_name
from gis.store import Store
from gis.store.cases import CaseQuery
from gis.text import N_, NC_, Text, text
from gis.violations import (
    attachments_dir,
    case_attachments,
    case_detail,
    list_cases,
    with_case_units,
)

__all__ = ["LOCAL", "FIELD_LABELS", "TRANSITION_FIELDS", "CaseFilter",
           "kind_label", "status_label", "check_case_id", "require_case", "today_local",
           "local_time", "filtered_cases", "case_record", "case_geojson", "history_records",
           "attachment_records", "attachment_file", "feature_collection", "safe_filename",
           "dossier_pdf", "nearby_parcels", "allowed_transitions", "parse_status", "parse_kind",
           "case_payload", "transition_changes", "editable_changes", "ward_names",
           "unit_choices", "parse_unit", "field_label",
           "source_label", "local_date", "with_note", "json_value", "rounded_geometry",
           "to_wgs84"]

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")

#: labels of the case fields and of history lines
FIELD_LABELS: dict[str, Text] = {
    "case_id": N_("Case"),
    "kind": NC_("cases", "Kind"),
    "status": NC_("cases", "Status"),
    "source": NC_("cases", "Source"),
    "area_m2": N_("Area (m²)"),
    "ward_code": N_("Ward"),
    "unit_code": N_("Commune-level unit"),
    "parcel_keys": N_("Parcels (ward-sheet-number)"),
    "building_id": N_("Building"),
    "owner_name": N_("Offender"),
    "inspector": NC_("cases", "Inspector"),
    "minutes_no": NC_("cases", "Minutes no."),
    "minutes_date": N_("Minutes date"),
    "decision_no": NC_("cases", "Decision no."),
    "decision_date": N_("Decision date"),
    "conclusion_no": N_("Inspection conclusion no."),
    "conclusion_date": N_("Conclusion date"),
    "remedy_deadline": NC_("cases", "Remedy deadline"),
    "fine_vnd": N_("Fine (VND)"),
    "closed_reason": N_("Reason for closing"),
    "occurred_on": N_("Arose on"),
    "year_built": N_("Year built"),
    "evidence": NC_("cases", "Evidence"),
    "notes": N_("Notes"),
    "created_at": N_("Recorded"),
    "updated_at": N_("Updated"),
    "overdue": N_("Overdue"),
    "age_days": N_("Age (days)"),
    "created": N_("Case recorded"),
    "photo attached": N_("Photo attached"),
    "document attached": N_("Document attached"),
}
SOURCE_LABELS: dict[str, Text] = {
    "detection": N_("Map overlay"),
    "inspector": NC_("case source", "Inspector"),
    "citizen": N_("Citizen report"),
}

#: What the form of each transition shows: (field, required). Display only: the lifecycle rules
#: (gis.core.violations.cases) decide, and a test keeps this table in step with them.
TRANSITION_FIELDS: dict[str, tuple[tuple[str, bool], ...]] = {
    "VERIFYING": (("inspector", False),),
    "MINUTES_ISSUED": (("minutes_no", True), ("minutes_date", True), ("owner_name", False)),
    "EXPLANATION": (),
    "DECISION_ISSUED": (("decision_no", True), ("decision_date", True), ("fine_vnd", False),
                        ("remedy_deadline", False)),
    "FINE_PAID": (),
    "REMEDY_PENDING": (("remedy_deadline", True),),
    "ENFORCEMENT": (),
    "CLOSED": (("closed_reason", True),),
    "ESCALATED": (("conclusion_no", False), ("conclusion_date", False)),
    "DISMISSED": (("closed_reason", True),),
}
DATE_FIELDS = frozenset({"minutes_date", "decision_date", "conclusion_date", "remedy_deadline",
                         "occurred_on"})
_CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def kind_label(kind: object, lang: str = "vi") -> str:
    """``encroachment_public_land`` → "Lấn, chiếm đất công" (or the English words)."""
    return labels.kind_label(kind, lang)


def status_label(status: object, lang: str = "vi") -> str:
    return labels.case_status_label(status, lang)


def field_label(field: object, lang: str = "vi") -> str:
    label = FIELD_LABELS.get(str(field))
    return text(label, lang) if label else str(field)


def source_label(source: object, lang: str = "vi") -> str:
    label = SOURCE_LABELS.get(str(source))
    return text(label, lang) if label else str(source or "")


def parse_status(value: str, *, field: str = "status") -> str:
    """A status name, or a 422 error listing the valid ones."""
    try:
        return CaseStatus(str(value).strip().upper()).value
    except ValueError:
        raise GisError(f"unknown status {value!r}; valid: "
                       f"{', '.join(s.value for s in CaseStatus)}", field=field,
                       value=value) from None


def parse_kind(value: str, *, field: str = "kind") -> str:
    if value not in KINDS:
        raise GisError(f"unknown kind {value!r}; valid: {', '.join(KINDS)}", field=field,
                       value=value)
    return value


def allowed_transitions(status: object) -> list[str]:
    """The statuses a case may move to next, in lifecycle order."""
    try:
        current = CaseStatus(str(status))
    except ValueError:
        return []
    order = list(CaseStatus)
    return [s.value for s in sorted(TRANSITIONS[current], key=order.index)]


def check_case_id(case_id: str) -> str:
    """A case id as the API accepts it (no quotes, slashes or spaces): else 404."""
    if not _CASE_ID.match(case_id):
        raise NotFoundError(f"no case {case_id!r}", field="case_id", value=case_id)
    return case_id


def require_case(store: Store, case_id: str, user: User | None = None) -> None:
    """404 unless the case exists (a read by key, under the store's read lock); 403 when it
    lies outside the user's units."""
    check_case_id(case_id)
    scoped = user is not None and user.units is not None
    found = store.read_cases(CaseQuery(ids=(case_id,)), columns=["case_id", "ward_code"],
                             geometry=scoped)
    if found.empty:
        raise NotFoundError(f"no case {case_id!r}", field="case_id", value=case_id)
    if scoped:
        unit = with_case_units(store, found)["unit_code"].iloc[0]
        require_in_scope(user, unit, f"case {case_id}")


def today_local() -> dt.date:
    return dt.datetime.now(LOCAL).date()


def _stamp(value: object) -> pd.Timestamp | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        stamp = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        return None
    if pd.isna(stamp):
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp


def local_time(value: object) -> str:
    """An ISO UTC timestamp as Vietnam local time, dd/mm/yyyy hh:mm."""
    stamp = _stamp(value)
    return stamp.tz_convert(LOCAL).strftime("%d/%m/%Y %H:%M") if stamp is not None else ""


def local_date(value: object) -> str:
    """A date (or timestamp) as dd/mm/yyyy."""
    if value in (None, ""):
        return ""
    text = str(value)
    if len(text) == 10:
        try:
            return dt.date.fromisoformat(text).strftime("%d/%m/%Y")
        except ValueError:
            return text
    stamp = _stamp(value)
    return stamp.tz_convert(LOCAL).strftime("%d/%m/%Y") if stamp is not None else text


def json_value(value: object) -> object:
    """A JSON value from what pandas/numpy hold."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class CaseFilter:
    """The filters of the case list (API and page)."""

    ward: str | None = None
    unit: str | None = None  # a 2025 commune-level unit code
    kind: str | None = None
    status: str | None = None
    source: str | None = None
    overdue: bool | None = None
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: str = "EPSG:4326"


def filtered_cases(store: Store, f: CaseFilter, *, today: dt.date | None = None,
                   user: User | None = None) -> gpd.GeoDataFrame:
    """Cases matching the filter in the user's units, newest first, with ``overdue`` (reason
    or None)."""
    today = today or today_local()
    area = None
    if f.bbox is not None:
        area = crsmod.transform_box(f.bbox, crsmod.parse_crs(f.bbox_crs, option="bbox-crs"),
                                    store.crs(), parts=16)
    units = user.units if user is not None else None
    if f.unit:  # one unit, within the user's scope (outside it: nothing)
        units = tuple(u for u in (f.unit,) if units is None or u in units)
    cases = list_cases(store, ward=f.ward or None, kind=f.kind or None,
                       status=f.status or None, today=today,
                       bbox=None if area is None else tuple(area.bounds), units=units)
    if f.source:
        cases = cases[cases["source"] == f.source]
    if f.overdue is not None:
        cases = cases[cases["overdue"].notna() == f.overdue]
    if f.q:
        needle = fold_name(f.q)
        if needle and len(cases):
            columns = ["case_id", "parcel_keys", "building_id", "notes", "owner_name", "evidence",
                       "minutes_no", "decision_no", "conclusion_no", "inspector", "kind"]
            hay = cases[columns].astype(object).where(cases[columns].notna(), "") \
                .astype(str).agg(" ".join, axis=1)
            kinds = cases["kind"].map(lambda k: labels.kind_label(k, "vi") if k in KINDS else "")
            hay = (hay + " " + kinds).map(fold_name)
            cases = cases[hay.str.contains(needle, regex=False)]
    if area is not None:
        cases = cases[cases.intersects(area)]
    created = pd.to_datetime(cases["created_at"], utc=True, errors="coerce")
    order = pd.DataFrame({"c": created, "id": cases["case_id"].astype(str)}, index=cases.index)
    order = order.sort_values(["c", "id"], ascending=False, na_position="last")
    return cases.loc[order.index]


def _age(created_at: object, today: dt.date) -> int | None:
    stamp = _stamp(created_at)
    return (today - stamp.tz_convert(LOCAL).date()).days if stamp is not None else None


def case_record(row: Mapping[str, object], *, today: dt.date | None = None,
                lang: str = "vi") -> dict[str, object]:
    """One case as JSON (no geometry): its columns, parcel keys as a list, labels, age,
    overdue reason, the transitions it allows, and links."""
    from gis.violations import CASE_COLUMNS

    today = today or today_local()
    out: dict[str, object] = {c: json_value(row.get(c)) for c in CASE_COLUMNS}
    keys = out.get("parcel_keys") or ""
    out["parcel_keys"] = [k for k in str(keys).split(",") if k]
    for key in ("fine_vnd", "year_built"):
        value = out.get(key)
        if isinstance(value, (int, float)):
            out[key] = int(value)
    out["overdue"] = json_value(row.get("overdue"))
    out["kind_label"] = kind_label(out["kind"], lang)
    out["status_label"] = status_label(out["status"], lang)
    out["age_days"] = _age(out.get("created_at"), today)
    out["transitions"] = allowed_transitions(out["status"])
    case_id = out["case_id"]
    out["links"] = {"self": f"/api/violations/{case_id}", "page": f"/cases/{case_id}",
                    "attachments": f"/api/violations/{case_id}/attachments",
                    "dossier": f"/api/violations/{case_id}/dossier.pdf"}
    return out


def to_wgs84(geometries: Any, crs: Any) -> np.ndarray:
    """Geometries in WGS 84 through the pinned VN-2000 transformation."""
    return crsmod.transform_geometries(np.asarray(geometries, dtype=object), crs, crsmod.WGS84)


def rounded_geometry(geom: shapely.Geometry) -> dict[str, object]:
    return shapely.geometry.mapping(shapely.set_precision(geom, 1e-7))  # ~1 cm


def case_geojson(case: Mapping[str, object], crs: object) -> dict[str, object] | None:
    geom = case.get("geometry")
    if geom is None or getattr(geom, "is_empty", True):
        return None
    return rounded_geometry(to_wgs84([geom], crs)[0])


def feature_collection(cases: gpd.GeoDataFrame, *, today: dt.date | None = None,
                       lang: str = "vi") -> dict[str, object]:
    """Cases as a GeoJSON FeatureCollection in WGS 84."""
    today = today or today_local()
    geoms = to_wgs84(cases.geometry.values, cases.crs) if len(cases) else np.array([])
    records = cases.drop(columns="geometry").to_dict("records")
    features = [{"type": "Feature", "id": r["case_id"],
                 "geometry": rounded_geometry(g) if g is not None and not g.is_empty else None,
                 "properties": case_record(r, today=today, lang=lang)}
                for r, g in zip(records, geoms)]
    return {"type": "FeatureCollection", "features": features}


def history_records(history: pd.DataFrame, lang: str = "vi") -> list[dict[str, object]]:
    """History lines, oldest first, with Vietnam local time and a field label."""
    if history is None or len(history) == 0:
        return []
    frame = history.copy()
    frame["_t"] = pd.to_datetime(frame["at"], utc=True, errors="coerce")
    frame = frame.sort_values("_t", kind="stable")
    out = []
    for r in frame.drop(columns="_t").to_dict("records"):
        row = {k: json_value(r.get(k)) for k in ("at", "who", "field", "old", "new",
                                                 "unit_code")}
        row["at_local"] = local_time(row["at"])
        row["field_label"] = field_label(row["field"], lang)
        for key in ("old", "new"):
            value = row[key]
            if row["field"] == "status" and value:
                row[f"{key}_label"] = status_label(value, lang)
            elif row["field"] == "kind" and value:
                row[f"{key}_label"] = kind_label(value, lang)
            elif row["field"] == "created" and value:
                row[f"{key}_label"] = source_label(value, lang)
            elif row["field"] in DATE_FIELDS and value:
                row[f"{key}_label"] = local_date(value)
            else:
                row[f"{key}_label"] = value
        out.append(row)
    return out


def _attachments(store: Store, case_id: str) -> pd.DataFrame:
    table = case_attachments(store, case_id)
    if len(table) == 0:
        return table
    order = pd.to_datetime(table["added_at"], utc=True, errors="coerce")
    return table.assign(_t=order).sort_values(["_t"], kind="stable").drop(columns="_t") \
        .reset_index(drop=True)


def attachment_records(store: Store, case_id: str) -> list[dict[str, object]]:
    """A case's attachments, numbered from 1 in the order they were added."""
    out = []
    for n, r in enumerate(_attachments(store, case_id).to_dict("records"), start=1):
        row = {k: json_value(r.get(k)) for k in ("filename", "role", "mime", "size", "sha256", "note",
                                             "added_at", "who")}
        row["n"] = n
        row["added_local"] = local_time(row["added_at"])
        row["url"] = f"/api/violations/{case_id}/attachments/{n}"
        row["image"] = row["mime"] in ("image/jpeg", "image/png", "image/webp")
        out.append(row)
    return out


def attachment_file(store: Store, case_id: str, n: int) -> tuple[Path, dict[str, object]]:
    """The stored file of attachment ``n`` (1-based) and its row; the path comes from the
    table (the library's content-addressed name) and must stay under the attachments folder."""
    table = _attachments(store, case_id)
    if n < 1 or n > len(table):
        raise NotFoundError(f"case {case_id} has no attachment {n} (it has {len(table)})",
                            field="n", value=n)
    row = table.iloc[n - 1].to_dict()
    root = Path(attachments_dir(store)).resolve()
    path = (root / str(row["stored_as"])).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFoundError(f"the file of attachment {n} of {case_id} is missing",
                            field="n", value=n)
    return path, row


def safe_filename(name: str | None, *, default: str = "upload") -> str:
    """A client's file name reduced to a harmless base name (kept only as a label: files are
    stored under their SHA-256 by the library)."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = "".join(c if (c.isalnum() or c in "._- ()") else "_" for c in base).strip(" .")
    if not base:
        base = default
    stem, dot, ext = base.rpartition(".")
    if dot and len(ext) <= 8:
        return stem[:100] + "." + ext if stem else default + "." + ext
    return base[:100]


def nearby_parcels(store: Store, geom: shapely.Geometry, *, limit: int = 200) -> gpd.GeoDataFrame:
    """Parcels around a case (store CRS), for the small map and the dossier."""
    if not store.has("parcels"):
        return gpd.GeoDataFrame({"parcel_key": [], "land_use": []}, geometry=[], crs=store.crs())
    box = tuple(geom.buffer(max(25.0, (geom.area ** 0.5) * 2)).bounds)
    parcels = store.read("parcels", bbox=box, columns=["parcel_key", "land_use"])
    return parcels.iloc[:limit]


def dossier_pdf(store: Store, case_id: str) -> bytes:
    """The case dossier (PDF, Vietnamese, :func:`gis.report.dossier.dossier_pdf`) as bytes."""
    from gis.report import dossier

    case, history = case_detail(store, case_id)
    parcels = nearby_parcels(store, case["geometry"], limit=10_000)
    return dossier.dossier_pdf(case, parcels, history, case_attachments(store, case_id),
                               Path(attachments_dir(store)))


def editable_changes(body: Mapping[str, object], *, allow: tuple[str, ...] = EDITABLE
                     ) -> dict[str, object]:
    """Check the keys of a change (422 naming the first unknown one)."""
    unknown = [k for k in body if k not in allow]
    if unknown:
        raise GisError(f"cannot change {', '.join(map(str, unknown))}; editable: "
                       f"{', '.join(allow)}", field=str(unknown[0]))
    return dict(body)


def case_payload(store: Store, case_id: str, lang: str) -> dict[str, object]:
    """A case with its geometry (WGS 84), history and attachments."""
    case, history = case_detail(store, case_id)
    record = case_record({**case, "overdue": _overdue(case)}, lang=lang)
    record["geometry"] = case_geojson(case, store.crs())
    record["history"] = history_records(history, lang)
    record["attachments"] = attachment_records(store, case_id)
    return record


def _overdue(case: dict[str, object]) -> str | None:
    from gis.core.violations.cases import overdue

    return overdue(case, today=today_local())


def transition_changes(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The change a transition asks for, and its note: ``to`` becomes the status, ``note`` is
    returned to be added to the case's notes (dated and signed, under the store's lock: see
    :func:`gis.violations.update`), other keys must be editable fields."""
    if not isinstance(body, dict) or not body.get("to"):
        raise GisError('say where the case goes: {"to": "VERIFYING", ...}', field="to")
    fields = {k: v for k, v in body.items() if k not in ("to", "note") and v not in (None, "")}
    changes = editable_changes(fields, allow=tuple(f for f in EDITABLE if f != "notes"))
    if isinstance(changes.get("fine_vnd"), str):  # "5.000.000" as officers write amounts
        changes["fine_vnd"] = re.sub(r"[.,\s]", "", changes["fine_vnd"])
    changes["status"] = parse_status(str(body["to"]), field="to")
    note = str(body.get("note") or "").strip()
    return changes, note or None


def with_note(current_notes: object, note: str, who: str) -> str:
    """The case's notes with one more dated, signed line (today in Vietnam)."""
    from gis.violations import with_note as noted

    return noted(current_notes, note, who, on=today_local())


def parse_unit(text: str) -> str:
    """A 2025 commune-level unit code as typed (``9574`` → ``09574``); a legacy-only or
    unknown code is an error naming it (:func:`gis.units.resolve_unit`)."""
    from gis.core.units import CodeSystem
    from gis.units import resolve_unit

    return resolve_unit(text, CodeSystem.CURRENT, hint="a legacy ward code filters by ward")


def unit_choices(store: Store, user: User | None = None) -> dict[str, str]:
    """2025 unit code → name for the case filters: the user's units, else the stored units
    layer's, else those the parcels were placed in."""
    from gis.units import unit_names

    if user is not None and user.units is not None:
        codes = list(user.units)
    elif store.has("units"):
        codes = [str(c) for c in store.distinct("units", "unit_code")]
    elif store.has("parcels") and "unit_code" in store.layer_info("parcels").types:
        codes = [str(c) for c in store.distinct("parcels", "unit_code")]
    else:
        return {}
    names = unit_names(store)
    return {c: names.get(c, c) for c in sorted(codes)}


def ward_names(store: Store) -> dict[str, str]:
    """Ward code → name (for filters and labels)."""
    if not store.has("wards"):
        return {}
    wards = store.read("wards", columns=["ward_code", "name"])
    names = wards["name"] if "name" in wards.columns else wards["ward_code"]
    return {str(c): str(n) for c, n in sorted(zip(wards["ward_code"], names))}
