"""The HTML face of ``/ogc``: what a planner sees in the browser (Vietnamese by default).

Every page extends ``base.html``; values are escaped by Jinja2 and, on the map, set with
``textContent`` by ``static/ogc.js``, which draws the page's features from the same URL with
``f=json`` (no data in the page's script, no network beyond this server).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from gis.api.auth.security import User
from gis.api.ogc.format import display
from gis.api.ogc.query import Column, Page, StoreReader
from gis.api.pages import render
from gis.text import DEFAULT_LANG, N_, NC_, Text, gettext, text

if TYPE_CHECKING:
    from gis.api.ogc.routes import ItemsRequest, Published

__all__ = ["html_landing", "html_conformance", "html_collections",
           "html_collection", "html_items", "html_item", "labels"]


_MORE_LABELS: dict[str, Text] = {
    "land_use_codes": N_("Land-use codes"),
    "land_use_source": NC_("ogc", "Land use (as found)"),
    "land_use_system": N_("Code system"),
    "owner_code": N_("User type"),
    "origin_code": N_("Origin"),
    "area_recorded_m2": N_("Recorded area (m²)"),
    "legal_area_m2": N_("Legal area (m²)"),
    "geometry_repaired": NC_("ogc", "Geometry repaired"),
    "province": N_("Province"),
    "ward_codes": NC_("ogc", "Wards"),
    "start_year": N_("Start year"),
    "parcels_not_started": N_("Parcels not started"),
    "area_affected_m2": N_("Area affected (m²)"),
    "area_recovered_m2": N_("Area recovered (m²)"),
    "plans_total": N_("Plans"),
    "plans_approved": N_("Plans approved"),
    "overdue_payments": N_("Overdue payments"),
    "complaints": NC_("ogc", "Complaints"),
    "completed": N_("Completed"),
    "area_recovered_this_year_m2": N_("Recovered this year (m²)"),
    "area_recovered_last_year_m2": N_("Recovered last year (m²)"),
    "disbursement_pct": N_("Disbursed (%)"),
    "as_of": NC_("ogc", "As of"),
    "parcel_area_m2": N_("Parcel area (m²)"),
    "overlap_m2": N_("Area in project (m²)"),
    "inside": N_("Wholly inside"),
    "approval_date": N_("Plan approved on"),
    "approval_date_recorded": N_("Approval date (recorded)"),
    "paid_date": N_("Paid on"),
    "cleared_date": N_("Handed over on"),
    "complaint": N_("Complaint"),
    "plan_approved": N_("Plan approved"),
    "overdue_payment": N_("Payment overdue"),
    "ahead_of_paperwork": N_("Ahead of paperwork"),
    "recovered_this_year_m2": N_("Recovered this year (m²)"),
    "recovered_last_year_m2": N_("Recovered last year (m²)"),
    "rule": NC_("ogc", "Rule"),
    "evidence": NC_("ogc", "Evidence"),
    "created_at": N_("Created"),
    "updated_at": N_("Updated"),
    "inspector": NC_("ogc", "Inspector"),
    "minutes_date": N_("Minutes date"),
    "decision_date": N_("Decision date"),
    "conclusion_no": N_("Conclusion no."),
    "conclusion_date": N_("Conclusion date"),
    "remedy_deadline": NC_("ogc", "Remedy deadline"),
    "fine_vnd": N_("Fine (VND)"),
    "closed_reason": N_("Closing reason"),
    "occurred_on": N_("Occurred on"),
    "floors": N_("Floors"),
}

#: Long texts shown on a feature's own page, not in the list.
_LIST_HIDDEN = frozenset({"evidence", "notes", "land_use_source"})


def labels(columns: list[str], lang: str) -> dict[str, str]:
    """Column labels for people (the column name when none is known)."""
    from gis.render.labels import field_labels

    out = field_labels(columns, lang)
    for name in columns:
        if name in _MORE_LABELS:
            out[name] = text(_MORE_LABELS[name], lang)
    return out


def _value_labels(request: Request, collection: str, lang: str) -> dict[str, dict[str, str]]:
    """Labels of coded values: land groups (from the catalog's land-use style), violation kinds
    and case statuses, and in Vietnamese the steps of land clearance."""
    if collection == "parcels":
        from gis.api.deps import context
        from gis.catalog import load_style
        from gis.errors import GisError

        path = Path(context(request).ingest.catalog) / "styles" / "landuse.yaml"
        try:
            style = load_style(path) if path.exists() else None
        except GisError:
            style = None
        if style is None or not style.by or not style.labels:
            return {}
        return {style.by: {k: t.text(lang) for k, t in style.labels.items()}}
    if collection == "violations":
        from gis.labels import CASE_STATUS_LABELS, KIND_LABELS

        return {"status": {k: text(v, lang) for k, v in CASE_STATUS_LABELS.items()},
                "kind": {k: text(v, lang) for k, v in KIND_LABELS.items()}}
    if lang != DEFAULT_LANG:  # the steps of land recovery have Vietnamese names only
        return {}
    if collection == "clearance":
        from gis.core.clearance.status import LABELS_VI, Status

        return {"status": {s.value: LABELS_VI[s] for s in Status}}
    return {}


def _yes_no(lang: str) -> tuple[str, str]:
    return gettext("Yes", lang), gettext("No", lang)


def _cell(column: Column, value: Any, lang: str, coded: dict[str, dict[str, str]]) -> str:
    if column.name in coded and value in coded[column.name]:
        return coded[column.name][value]
    return display(column, value, lang, _yes_no(lang))


def _page(request: Request, template: str, user: User, **values: Any) -> HTMLResponse:
    from gis.api.i18n import lang_of

    return render(request, template, user=user, ogc=f"{str(request.base_url).rstrip('/')}/ogc", lang_code=lang_of(request),
                  **values)


def html_landing(request: Request, user: User, title: str, description: str,
                 pubs: list[Published], counts: dict[str, int]) -> HTMLResponse:
    from gis.api.i18n import lang_of

    lang = lang_of(request)
    rows = [(p.spec.id, p.spec.text(lang)[0], counts[p.spec.id]) for p in pubs]
    return _page(request, "ogc_landing.html", user, title=title, description=description,
                 rows=rows, fmt=lambda n: display(Column("n", "integer"), n, lang, ("", "")))


def html_conformance(request: Request, user: User, classes: list[str]) -> HTMLResponse:
    return _page(request, "ogc_conformance.html", user, classes=classes)


def html_collections(request: Request, user: User, pubs: list[Published],
                     docs: list[dict[str, Any]], counts: dict[str, int]) -> HTMLResponse:
    return _page(request, "ogc_collections.html", user, docs=docs,
                 counts=[counts[p.spec.id] for p in pubs])


def html_collection(request: Request, user: User, pub: Published, doc: dict[str, Any],
                    count: int) -> HTMLResponse:
    from gis.api.i18n import lang_of

    lang = lang_of(request)
    names = labels([c.name for c in pub.columns], lang)
    fields = [(c.name, names[c.name], c.type) for c in pub.columns]
    return _page(request, "ogc_collection.html", user, doc=doc, count=count, fields=fields)


def html_items(request: Request, user: User, pub: Published, page: Page, ask: ItemsRequest,
               r: StoreReader, paging: dict[str, str]) -> HTMLResponse:
    from gis.api.i18n import lang_of

    lang = lang_of(request)
    coded = _value_labels(request, pub.spec.id, lang)
    shown = [c for c in page.columns if c.name not in _LIST_HIDDEN]
    names = labels([c.name for c in shown], lang)
    index = [page.columns.index(c) for c in shown]
    rows = [(pub.feature_id(fid, row), [_cell(c, row[i], lang, coded) for c, i in zip(shown, index)])
            for fid, row in zip(page.fids, page.rows)]
    # the id column itself carries the link when the id is one column's value
    ids = pub.spec.id_columns
    link = next((k for k, c in enumerate(shown) if len(ids) == 1 and c.name == ids[0]), None)
    if link is not None and any(fid.startswith("fid-") for fid, _ in rows):
        link = None
    filters = []
    current = dict(ask.query.equals)
    for name in pub.spec.filters:
        column = next((c for c in pub.columns if c.name == name), None)
        if column is None:
            continue
        values = r.distinct(pub.layer, column)
        options = None if len(values) > 200 else [
            (str(int(v) if column.type == "boolean" else v),
             _cell(column, v, lang, coded)) for v in values]
        chosen = current.get(name)
        filters.append({"name": name, "label": labels([name], lang)[name], "options": options,
                        "value": "" if chosen is None else str(chosen)})
    base = f"/ogc/collections/{pub.spec.id}/items"
    json_href = request.url.include_query_params(f="json")
    return _page(request, "ogc_items.html", user, pub=pub, title=pub.spec.text(lang)[0],
                 columns=[(c.name, names[c.name], c.type) for c in shown], rows=rows, link=link,
                 matched=page.matched, first=ask.offset + 1 if page.fids else 0,
                 last=ask.offset + len(page.fids), paging=paging, filters=filters,
                 limit=ask.limit, bbox=request.query_params.get("bbox", ""),
                 base=base, json_href=str(json_href), limits=(10, 100, 1000, 10000))


def html_item(request: Request, user: User, pub: Published, page: Page,
              feature_id: str) -> HTMLResponse:
    from gis.api.i18n import lang_of

    lang = lang_of(request)
    coded = _value_labels(request, pub.spec.id, lang)
    names = labels([c.name for c in page.columns], lang)
    row = page.rows[0]
    attributes = [(c.name, names[c.name], _cell(c, v, lang, coded))
                  for c, v in zip(page.columns, row)]
    json_href = request.url.include_query_params(f="json")
    return _page(request, "ogc_item.html", user, pub=pub, title=pub.spec.text(lang)[0],
                 feature_id=feature_id, attributes=attributes, json_href=str(json_href))
