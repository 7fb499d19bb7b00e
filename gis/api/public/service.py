"""What the residents' page publishes, read from the store through the case service: confirmed
cases by an allow-list of fields with a point each, and project progress without households or
money."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from gis.api.auth.security import Role, User
from gis.api.cases import service as data
from gis.api.scope import filter_frame, row_filter
from gis.errors import RequestError
from gis.store import Store

__all__ = ["CONFIRMED_EXCLUDED", "CASE_FIELDS", "PROJECT_FIELDS", "public_cases",
           "public_projects", "features", "outlines", "unit_scope", "unit_title"]

#: statuses that are not (yet) a confirmed violation: detected by overlay or reported, being
#: verified, or found not to be a violation
CONFIRMED_EXCLUDED = frozenset({"DETECTED", "VERIFYING", "DISMISSED"})
#: what a resident sees of a case (allow-list)
CASE_FIELDS = ("case_id", "kind", "kind_label", "status", "status_label", "ward_code",
               "ward_name", "recorded_on", "updated_on", "area_m2")
#: what a resident sees of a project (allow-list: no households, no money)
PROJECT_FIELDS = ("project_id", "name", "ward_codes", "ward_names", "key_project", "start_year",
                  "planned_area_ha", "parcels_affected", "parcels_handed_over",
                  "parcels_not_started", "area_affected_ha", "area_recovered_ha",
                  "pct_area_recovered", "pct_plans_approved", "completed", "as_of")


def unit_scope(code: str | None, store: Store | None = None) -> User | None:
    """The residents' page of one 2025 unit (``?unit=CODE``): the code checked against the
    2025 list (400 naming the unit of the other system, or saying it is in neither) and the
    ``store``'s province (400 naming the unit's province and the store's), as a scope; None
    for the whole store."""
    if not code or not code.strip():
        return None
    from gis.errors import UnitCodeError
    from gis.units import check_units

    try:
        units = check_units(code, store=store)
    except UnitCodeError as exc:
        raise RequestError(exc.message, field="unit", value=code) from None
    return User("public", Role.VIEWER, units)


def unit_title(scope: User | None) -> str | None:
    """The unit's name and code for the page's heading."""
    if scope is None or not scope.units:
        return None
    from gis.units import unit_names

    names = unit_names()
    return ", ".join(f"{names.get(c, c)} ({c})" for c in scope.units)


def public_cases(store: Store, *, ward: str | None = None, lang: str = "vi",
                 scope: User | None = None) -> tuple[list[dict[str, object]], np.ndarray]:
    """Confirmed cases (of the ``scope``'s unit, or all) as allow-listed records, and a point
    (WGS 84) for each."""
    cases = data.filtered_cases(store, data.CaseFilter(ward=ward or None), user=scope)
    cases = cases[~cases["status"].isin(CONFIRMED_EXCLUDED)]
    wards = data.ward_names(store)
    points = shapely.point_on_surface(cases.geometry.values) if len(cases) else np.array([])
    points = data.to_wgs84(points, cases.crs) if len(points) else points
    records = []
    for r in cases.drop(columns="geometry").to_dict("records"):
        area = r.get("area_m2")
        records.append({
            "case_id": r["case_id"], "kind": r["kind"], "kind_label": data.kind_label(r["kind"], lang),
            "status": r["status"], "status_label": data.status_label(r["status"], lang),
            "ward_code": r["ward_code"], "ward_name": wards.get(str(r["ward_code"]), ""),
            "recorded_on": _day(r.get("created_at")), "updated_on": _day(r.get("updated_at")),
            "area_m2": None if area is None or pd.isna(area) else round(float(area), 1)})
    return [{k: rec[k] for k in CASE_FIELDS} for rec in records], points


def _day(value: object) -> str | None:
    text = data.local_date(value)
    if not text:
        return None
    d, m, y = text.split("/")
    return f"{y}-{m}-{d}"


def public_projects(store: Store, scope: User | None = None) -> list[dict[str, object]]:
    """Clearance progress per project from ``clearance_projects`` (written by `gis clearance
    report`), allow-listed; empty before the first report. With a ``scope`` (one unit's
    page), the projects meeting that unit, with their whole figures."""
    if not store.has("clearance_projects"):
        return []
    table = store.read_table("clearance_projects")
    meeting = row_filter(store, "projects", scope) if store.has("projects") else None
    if meeting is not None and "project_id" in table:
        table = table[table["project_id"].astype(str).isin(set(meeting.values))]
    wards = data.ward_names(store)
    out = []
    for r in table.drop(columns="geometry", errors="ignore").to_dict("records"):
        codes = [c for c in str(r.get("ward_codes") or "").split(",") if c]
        rec = {k: data.json_value(r.get(k)) for k in PROJECT_FIELDS}
        rec.update(ward_codes=codes, ward_names=[wards.get(c, c) for c in codes],
                   area_affected_ha=_ha(r.get("area_affected_m2")),
                   area_recovered_ha=_ha(r.get("area_recovered_m2")))
        for key in ("pct_area_recovered", "pct_plans_approved"):
            rec[key] = None if rec[key] is None else round(float(rec[key]), 1)  # type: ignore[arg-type]
        out.append({k: rec.get(k) for k in PROJECT_FIELDS})
    return sorted(out, key=lambda p: str(p["project_id"]))


def _ha(value: object) -> float | None:
    clean = data.json_value(value)
    return None if clean is None else round(float(clean) / 10_000, 3)  # type: ignore[arg-type]


def features(records: list[dict[str, object]], points: np.ndarray) -> dict[str, object]:
    """The published cases as a GeoJSON FeatureCollection of points (WGS 84, about 1 m)."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": rec["case_id"],
         "geometry": {"type": "Point", "coordinates": [round(p.x, 5), round(p.y, 5)]},
         "properties": rec} for rec, p in zip(records, points)]}


def outlines(store: Store, layer: str, columns: list[str], scope: User | None = None
             ) -> dict[str, object]:
    """Simplified outlines (5 m) in WGS 84 for the page's map (of the ``scope``'s unit)."""
    if not store.has(layer):
        return {"type": "FeatureCollection", "features": []}
    frame = filter_frame(store, layer, store.read(layer, columns=columns), scope)
    geoms = data.to_wgs84(shapely.simplify(frame.geometry.values, 5.0), frame.crs)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": data.rounded_geometry(g),
         "properties": {c: data.json_value(v) for c, v in zip(columns, vals)}}
        for g, *vals in zip(geoms, *(frame[c] for c in columns)) if g is not None]}
