"""Labels of coded values for people, in the reader's language (from the catalogue,
:mod:`gis.text`): violation kinds and case statuses. The codes are the domain's
(:data:`gis.core.violations.rules.KINDS`, :class:`gis.core.violations.cases.CaseStatus`); an
unknown code is shown as it is."""

from __future__ import annotations

from gis.text import NC_, Text, text

__all__ = ["KIND_LABELS", "CASE_STATUS_LABELS", "kind_label", "case_status_label"]

#: violation kinds (Decree 123/2024 categories)
KIND_LABELS: dict[str, Text] = {
    "construction_on_agricultural_land": NC_("violation kind", "Construction on agricultural land"),
    "encroachment_public_land": NC_("violation kind", "Encroachment public land"),
    "encroachment_neighbour": NC_("violation kind", "Encroachment neighbour"),
    "rice_land_conversion": NC_("violation kind", "Rice land conversion"),
    "forest_land_conversion": NC_("violation kind", "Forest land conversion"),
    "non_agricultural_misuse": NC_("violation kind", "Non agricultural misuse"),
    "land_destruction": NC_("violation kind", "Land destruction"),
    "obstructing_land_use": NC_("violation kind", "Obstructing land use"),
    "unregistered_land": NC_("violation kind", "Unregistered land"),
    "illegal_transfer": NC_("violation kind", "Illegal transfer"),
    "idle_land": NC_("violation kind", "Idle land"),
    "other": NC_("violation kind", "Other"),
}

#: the steps of a violation case
CASE_STATUS_LABELS: dict[str, Text] = {
    "DETECTED": NC_("case status", "Detected"),
    "VERIFYING": NC_("case status", "Verifying"),
    "MINUTES_ISSUED": NC_("case status", "Minutes issued"),
    "EXPLANATION": NC_("case status", "Explanation"),
    "DECISION_ISSUED": NC_("case status", "Penalty decision issued"),
    "FINE_PAID": NC_("case status", "Fine paid"),
    "REMEDY_PENDING": NC_("case status", "Remedy pending"),
    "ENFORCEMENT": NC_("case status", "Enforcement"),
    "CLOSED": NC_("case status", "Closed"),
    "ESCALATED": NC_("case status", "Escalated / land recovery"),
    "DISMISSED": NC_("case status", "Not a violation"),
}


def kind_label(kind: object, lang: str) -> str:
    """``encroachment_public_land`` → "Lấn, chiếm đất công" / "Encroachment public land"."""
    label = KIND_LABELS.get(str(kind))
    return text(label, lang) if label else str(kind or "")


def case_status_label(status: object, lang: str) -> str:
    """``MINUTES_ISSUED`` → "Đã lập biên bản" / "Minutes issued"."""
    label = CASE_STATUS_LABELS.get(str(status))
    return text(label, lang) if label else str(status or "")
