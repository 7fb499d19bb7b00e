"""The case dossier (hồ sơ vụ việc vi phạm đất đai) as a two-page A4 PDF in Vietnamese: a map of
the case over its parcels with the case's attributes, then its documents, photos and history.

A pure function of the records the caller gathered (the case, the parcels around it, its history
and attachments): :func:`dossier_pdf` returns the bytes, :func:`write_dossier` writes them to
the caller's path atomically. Drawn with matplotlib's object API only (figures of their own,
saved through ``PdfPages`` into memory; no pyplot, no lock, no rcParams changed), so dossiers
are drawn on several threads at once.
"""

from __future__ import annotations

import io
import os
import textwrap
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gis.labels import CASE_STATUS_LABELS, case_status_label, kind_label
from gis.report.figures import add_geometry, new_figure
from gis.text import DEFAULT_LANG, NC_, Text, text, translator

__all__ = ["dossier_pdf", "write_dossier"]

_PAGE = (8.27, 11.69)  # A4 portrait, inches
_PHOTOS = ("image/png", "image/jpeg")

#: the case's fields on the first page, in this order
_LABELS: list[tuple[str, Text]] = [
    ("case_id", NC_("dossier", "Case")),
    ("kind", NC_("dossier", "Kind")),
    ("status", NC_("dossier", "Status")),
    ("source", NC_("dossier", "Source")),
    ("area_m2", NC_("dossier", "Area (m\u00b2)")),
    ("ward_code", NC_("dossier", "Ward code")),
    ("parcel_keys", NC_("dossier", "Parcels (ward-sheet-number)")),
    ("building_id", NC_("dossier", "Building")),
    ("owner_name", NC_("dossier", "Offender")),
    ("inspector", NC_("dossier", "Inspector")),
    ("minutes_no", NC_("dossier", "Violation minutes")),
    ("minutes_date", NC_("dossier", "Minutes date")),
    ("decision_no", NC_("dossier", "Penalty decision")),
    ("decision_date", NC_("dossier", "Decision date")),
    ("conclusion_no", NC_("dossier", "Inspection conclusion")),
    ("fine_vnd", NC_("dossier", "Fine (VND)")),
    ("remedy_deadline", NC_("dossier", "Remedy deadline")),
    ("closed_reason", NC_("dossier", "Closing reason")),
    ("evidence", NC_("dossier", "Evidence")),
    ("notes", NC_("dossier", "Notes")),
    ("created_at", NC_("dossier", "Created")),
    ("updated_at", NC_("dossier", "Updated")),
]
#: fields named in the history
_FIELDS = dict(_LABELS) | {
    "created": NC_("dossier", "Case recorded"),
    "photo attached": NC_("dossier", "Photo attached"),
    "document attached": NC_("dossier", "Document attached"),
    "occurred_on": NC_("dossier", "Arose on"),
}
#: how a case came to be known
_SOURCES: dict[str, Text] = {
    "detection": NC_("dossier", "found by map overlay"),
    "inspector": NC_("dossier", "an inspector"),
    "citizen": NC_("dossier", "a citizen's report"),
}


def _field(field: object, lang: str) -> str:
    label = _FIELDS.get(str(field))
    return text(label, lang) if label else str(field)


def _value(value: object, lang: str) -> str:
    """A source or a status in words (anything else as it is)."""
    if str(value) in _SOURCES:
        return text(_SOURCES[str(value)], lang)
    if str(value) in CASE_STATUS_LABELS:
        return case_status_label(value, lang)
    return str(value)


def _local(at: object) -> str:
    """An ISO UTC timestamp as Vietnam local time, dd/mm/yyyy hh:mm."""
    try:
        stamp = pd.Timestamp(str(at))
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize("UTC")
        return stamp.tz_convert("Asia/Ho_Chi_Minh").strftime("%d/%m/%Y %H:%M")
    except (ValueError, TypeError):
        return str(at)


def _map_page(case: dict[str, object], parcels: gpd.GeoDataFrame, lang: str) -> Any:
    _ = translator(lang)
    geom = case["geometry"]
    fig = new_figure(_PAGE, canvas="pdf")
    fig.suptitle(_("LAND VIOLATION CASE FILE — %(case)s", case=case["case_id"]), fontsize=13,
                 fontweight="bold", y=0.97)
    ax = fig.add_axes([0.08, 0.52, 0.84, 0.40])
    for r in parcels.itertuples():
        if r.geometry is None or r.geometry.is_empty:
            continue
        add_geometry(ax, r.geometry, facecolor="#fff3e0", edgecolor="#5d4037", linewidth=0.6)
    for r in parcels.itertuples():
        if r.geometry is None or r.geometry.is_empty:
            continue
        p = r.geometry.representative_point()
        use = r.land_use if isinstance(r.land_use, str) else ""
        ax.annotate(f"{r.parcel_key}\n{use}", (p.x, p.y), fontsize=6, ha="center",
                    va="center", color="#3e2723", clip_on=True)
    add_geometry(ax, geom, facecolor="#e53935", alpha=0.6, edgecolor="#b71c1c", linewidth=1.2,
                 markersize=60)
    minx, miny, maxx, maxy = geom.bounds
    pad = max(30.0, 2.0 * max(maxx - minx, maxy - miny))
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_xlabel(_("Easting Y (m)"), fontsize=7)
    ax.set_ylabel(_("Northing X (m)"), fontsize=7)
    ax.set_title(_("The case on the cadastral map (VN-2000)"), fontsize=9)
    ax.tick_params(labelsize=6)
    ax.ticklabel_format(useOffset=False, style="plain")
    lines = []
    for key, label in _LABELS:
        value = case.get(key)
        if value is None or (isinstance(value, float) and value != value) or value == "":
            continue
        if key == "kind":
            value = f"{value} — {kind_label(value, lang)}"
        if key == "status":
            value = f"{value} — {case_status_label(value, lang)}"
        if key == "source":
            value = _value(value, lang)
        if key in ("created_at", "updated_at"):
            value = _local(value)
        lines.append(textwrap.fill(f"{_(label)}: {value}", 100))
    fig.text(0.08, 0.48, "\n".join(lines), fontsize=7.5, va="top", family="DejaVu Sans")
    return fig


def _files_page(case: dict[str, object], history: pd.DataFrame, attachments: pd.DataFrame,
                attachment_root: Path, lang: str) -> Any:
    from matplotlib.image import imread

    _ = translator(lang)
    fig = new_figure(_PAGE, canvas="pdf")
    fig.suptitle(_("Documents, photos and history — %(case)s", case=case["case_id"]),
                 fontsize=12, y=0.97)
    roles = {"photo": _.pgettext("dossier", "Photo"), "document": _.pgettext("dossier", "Document")}
    docs = [f"• {roles.get(r.role, r.role)}: {r.filename} ({r.mime}, {int(r.size):,} byte, "
            f"SHA-256 {r.sha256[:16]}…)"
            for r in attachments.itertuples()] or [_("(no attachments yet)")]
    hist = [f"• {_local(r.at)}  {r.who}: {_field(r.field, lang)}: "
            f"{_value(r.old, lang) if isinstance(r.old, str) else '—'} → {_value(r.new, lang)}"
            for r in history.itertuples()]
    fig.text(0.06, 0.92, _("Attachments:") + "\n" + "\n".join(docs) + "\n\n" + _("History:")
             + "\n" + "\n".join(textwrap.fill(h, 110) for h in hist), fontsize=7.5, va="top")
    photos = [r for r in attachments.itertuples() if r.mime in _PHOTOS]
    for i, r in enumerate(photos[:4]):
        try:
            img = imread(Path(attachment_root) / r.stored_as)
        except Exception:  # noqa: BLE001 - an unreadable photo is listed, not fatal
            continue
        axp = fig.add_axes([0.06 + (i % 2) * 0.46, 0.06 + (1 - i // 2) * 0.22, 0.42, 0.2])
        axp.imshow(img)
        axp.set_title(r.filename, fontsize=7)
        axp.axis("off")
    return fig


def dossier_pdf(case: dict[str, object], parcels: gpd.GeoDataFrame, history: pd.DataFrame,
                attachments: pd.DataFrame, attachment_root: str | os.PathLike[str], *,
                lang: str = DEFAULT_LANG) -> bytes:
    """The dossier as PDF bytes. ``case`` is the case's record with its ``geometry`` (store
    CRS), ``parcels`` those around it (``parcel_key``, ``land_use``), ``history`` and
    ``attachments`` the case's tables; photos (PNG, JPEG) are read from ``attachment_root``,
    the first four shown. Vietnamese, the language of the case file, unless ``lang`` says
    otherwise."""
    from matplotlib.backends.backend_pdf import PdfPages

    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        pdf.savefig(_map_page(case, parcels, lang))
        pdf.savefig(_files_page(case, history, attachments, Path(attachment_root), lang))
    return buf.getvalue()


def write_dossier(case: dict[str, object], parcels: gpd.GeoDataFrame, history: pd.DataFrame,
                  attachments: pd.DataFrame, attachment_root: str | os.PathLike[str],
                  out: str | os.PathLike[str]) -> Path:
    """:func:`dossier_pdf` written to ``out`` atomically (folders made as needed)."""
    data = dossier_pdf(case, parcels, history, attachments, attachment_root)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return out
