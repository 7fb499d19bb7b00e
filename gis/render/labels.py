"""Field labels, number formats and value labels for map popups, in Vietnamese and English.

Numbers are formatted in the page with ``toLocaleString`` ("vi-VN" gives 1.052,19); the table
here says which unit, scale and digits each field takes (money in billions of đồng, as the
compensation boards report it: 182,9 tỷ đồng).
"""

from __future__ import annotations

from gis.catalog import StyleSpec
from gis.labels import CASE_STATUS_LABELS, KIND_LABELS
from gis.text import DEFAULT_LANG, N_, NC_, Text, gettext, text, translator

__all__ = ["column_headers", "field_labels", "field_formats", "value_labels"]

_FIELDS: dict[str, Text] = {
    "parcel_key": N_("Parcel (ward-sheet-no)"),
    "map_sheet": N_("Map sheet"),
    "parcel_no": N_("Parcel no."),
    "land_use": N_("Land use"),
    "area_m2": N_("Area"),
    "owner_name": N_("Land user"),
    "address": N_("Address"),
    "project_id": N_("Project ID"),
    "name": N_("Name"),
    "investor": N_("Investor"),
    "capital_source": N_("Capital source"),
    "start_type": N_("Start"),
    "key_project": NC_("map", "Key project"),
    "planned_area_ha": N_("Planned area"),
    "ward_code": N_("Ward code"),
    "district": NC_("map", "District"),
    "building_id": N_("Building"),
    "floors": N_("Floors"),
    "year_built": N_("Year built"),
    "case_id": N_("Case no."),
    "kind": N_("Violation"),
    "status": NC_("map", "Status"),
    "parcel_keys": N_("Parcels"),
    "notes": N_("Notes"),
    "minutes_no": NC_("map", "Minutes no."),
    "decision_no": NC_("map", "Decision no."),
    "age_days": N_("Age"),
    "source": NC_("map", "Source"),
    "status_date": N_("Status date"),
    "share": N_("Share inside"),
    "households": N_("Households"),
    "approved_vnd": N_("Approved"),
    "paid_vnd": N_("Paid"),
    "handed_over": N_("Handed over"),
    "parcels_affected": NC_("map", "Parcels affected"),
    "parcels_handed_over": NC_("map", "Parcels handed over"),
    "compensation_approved_vnd": N_("Compensation approved"),
    "compensation_paid_vnd": N_("Compensation paid"),
    "pct_area_recovered": N_("Area recovered"),
    "pct_plans_approved": N_("Plans approved"),
    "pct_paid": N_("Paid"),
    "capital_plan_vnd": N_("Capital plan"),
    "disbursed_vnd": N_("Disbursed"),
    "is_public": N_("Public land"),
    "land_group": N_("Land group"),
    "public_rule": NC_("map", "Rule"),
    "ward_name": N_("Ward name"),
    "ward_system": N_("Ward code system"),
    "unit_code": N_("Unit code (2025)"),
    "unit_name": N_("Unit name (2025)"),
    "province_code": N_("Province code"),
    "province_name": N_("Province name"),
    "unit_source": N_("Unit decided by"),
    "ward_codes": N_("Ward codes"),
    "province": N_("Province"),
    "land_use_codes": N_("Land use codes"),
    "land_use_source": NC_("map", "Land use (as found)"),
    "land_use_system": N_("Land use code system"),
    "owner_code": N_("Land user code"),
    "origin_code": N_("Origin of use"),
    "area_recorded_m2": N_("Recorded area"),
    "legal_area_m2": N_("Legal area"),
    "geometry_repaired": NC_("map", "Geometry repaired"),
    "geometry_original_wkt": N_("Original geometry (WKT)"),
    "source_row": N_("Source row"),
    "extra": N_("Other fields"),
    "start_year": N_("Start year"),
    "overlap_m2": N_("Area inside the project"),
    "parcel_area_m2": N_("Parcel area"),
    "approval_date": N_("Approval date"),
    "cleared_date": N_("Cleared date"),
    "as_of": NC_("map", "As of"),
    "overdue": N_("Overdue"),
    "occurred_on": N_("Occurred on"),
    "created_at": N_("Created at"),
    "fine_vnd": N_("Fine"),
    "inspector": NC_("map", "Inspector"),
    "closed_reason": N_("Reason closed"),
    "remedy_deadline": NC_("map", "Remedy deadline"),
    "wkt": N_("Geometry (WKT)"),
}



def field_labels(fields: tuple[str, ...] | list[str], lang: str) -> dict[str, str]:
    """The label of each field (the field name itself when none is known)."""
    return {f: text(_FIELDS[f], lang) if f in _FIELDS else f for f in fields}


def _unit(field: str, lang: str) -> str:
    """The unit a raw model column is written in (exports keep m² and đồng, unconverted)."""
    if field.endswith("_m2"):
        return "m²"
    if field.endswith("_vnd"):
        return gettext("VND", lang)
    if field.endswith("_ha"):
        return "ha"
    if field.startswith("pct_"):
        return "%"
    return ""


def column_headers(columns: tuple[str, ...] | list[str], lang: str) -> dict[str, str]:
    """Column headers for a table people read (CSV, XLSX exports): the field label with its
    unit (``Diện tích (m²)``); a label two columns would share keeps its field name too."""
    labels = field_labels(list(columns), lang)
    out = {}
    for c in columns:
        unit = _unit(c, lang) if c in _FIELDS else ""
        out[c] = f"{labels[c]} ({unit})" if unit else labels[c]
    seen: dict[str, int] = {}
    for header in out.values():
        seen[header] = seen.get(header, 0) + 1
    return {c: (f"{h} [{c}]" if seen[h] > 1 and h != c else h) for c, h in out.items()}


def field_formats(fields: tuple[str, ...] | list[str], lang: str) -> dict[str, dict[str, object]]:
    """How the page formats each numeric field: ``scale``, ``digits``, ``unit``."""
    _ = translator(lang)
    out: dict[str, dict[str, object]] = {}
    for f in fields:
        if f.endswith("_vnd"):
            out[f] = {"scale": 1e-9, "digits": 1, "unit": _("bn VND")}
        elif f.startswith("pct_") or f == "share":
            out[f] = {"scale": 100.0 if f == "share" else 1.0, "digits": 1, "unit": "%"}
        elif f == "area_m2":
            out[f] = {"digits": 2, "unit": "m²"}
        elif f.endswith("_ha"):
            out[f] = {"digits": 2, "unit": "ha"}
        elif f == "age_days":
            out[f] = {"digits": 0, "unit": _.pgettext("unit", "days")}
        elif f in ("map_sheet", "parcel_no", "year_built", "start_year"):
            out[f] = {"digits": 0, "grouping": False}
    return out


def yes_no(lang: str) -> tuple[str, str]:
    """The words for true and false."""
    return gettext("Yes", lang), gettext("No", lang)


def value_labels(style: StyleSpec, fields: tuple[str, ...] | list[str],
                 lang: str) -> dict[str, dict[str, str]]:
    """Labels for coded values: the style's own labels for its ``by`` field, violation kinds,
    case statuses and (in Vietnamese, the only language they are named in) the steps of land
    clearance, wherever those fields appear."""
    from gis.core.clearance.status import LABELS_VI, Status

    out: dict[str, dict[str, str]] = {}
    if "kind" in fields:
        out["kind"] = {k: text(v, lang) for k, v in KIND_LABELS.items()}
    if "status" in fields:
        out["status"] = {k: text(v, lang) for k, v in CASE_STATUS_LABELS.items()}
        if lang == DEFAULT_LANG:
            out["status"].update({s.value: LABELS_VI[s] for s in Status})
    if style.by and style.labels:
        out[style.by] = {k: t.text(lang) for k, t in style.labels.items()}
    return out
