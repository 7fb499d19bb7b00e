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

from gis.core.violations.rules import KINDS
from gis.report.figures import add_geometry, new_figure
from gis.report.violations import STATUS_VI

__all__ = ["dossier_pdf", "write_dossier"]

_PAGE = (8.27, 11.69)  # A4 portrait, inches
_PHOTOS = ("image/png", "image/jpeg")

_LABELS = [("case_id", "Mã vụ việc"), ("kind", "Loại vi phạm"), ("status", "Trạng thái"),
           ("source", "Nguồn"), ("area_m2", "Diện tích (m²)"), ("ward_code", "Mã phường/xã"),
           ("parcel_keys", "Thửa đất (xã-tờ-thửa)"), ("building_id", "Công trình"),
           ("owner_name", "Người vi phạm"), ("inspector", "Cán bộ thụ lý"),
           ("minutes_no", "Biên bản VPHC"), ("minutes_date", "Ngày lập biên bản"),
           ("decision_no", "Quyết định xử phạt"), ("decision_date", "Ngày quyết định"),
           ("conclusion_no", "Kết luận thanh tra"), ("fine_vnd", "Tiền phạt (đồng)"),
           ("remedy_deadline", "Hạn khắc phục"), ("closed_reason", "Lý do kết thúc"),
           ("evidence", "Căn cứ phát hiện"), ("notes", "Ghi chú"), ("created_at", "Ngày tạo"),
           ("updated_at", "Cập nhật")]

_FIELDS_VI = dict(_LABELS) | {"created": "Tạo vụ việc", "photo attached": "Đính kèm ảnh",
                              "document attached": "Đính kèm tài liệu",
                              "occurred_on": "Ngày phát sinh"}
_VALUES_VI = STATUS_VI | {"detection": "phát hiện bằng chồng lớp bản đồ",
                          "inspector": "cán bộ kiểm tra", "citizen": "người dân phản ánh"}


def _field_vi(field: object) -> str:
    return _FIELDS_VI.get(str(field), str(field))


def _value_vi(value: object) -> str:
    return _VALUES_VI.get(str(value), str(value))


def _local(at: object) -> str:
    """An ISO UTC timestamp as Vietnam local time, dd/mm/yyyy hh:mm."""
    try:
        stamp = pd.Timestamp(str(at))
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize("UTC")
        return stamp.tz_convert("Asia/Ho_Chi_Minh").strftime("%d/%m/%Y %H:%M")
    except (ValueError, TypeError):
        return str(at)


def _map_page(case: dict[str, object], parcels: gpd.GeoDataFrame) -> Any:
    geom = case["geometry"]
    fig = new_figure(_PAGE, canvas="pdf")
    fig.suptitle(f"HỒ SƠ VỤ VIỆC VI PHẠM ĐẤT ĐAI — {case['case_id']}", fontsize=13,
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
    ax.set_xlabel("Hoành độ Y (m)", fontsize=7)
    ax.set_ylabel("Tung độ X (m)", fontsize=7)
    ax.set_title("Vị trí vụ việc trên bản đồ địa chính (VN-2000)", fontsize=9)
    ax.tick_params(labelsize=6)
    ax.ticklabel_format(useOffset=False, style="plain")
    lines = []
    for key, label in _LABELS:
        value = case.get(key)
        if value is None or (isinstance(value, float) and value != value) or value == "":
            continue
        if key == "kind":
            value = f"{value} — {KINDS.get(str(value), ('',))[0]}"
        if key == "status":
            value = f"{value} — {STATUS_VI.get(str(value), '')}"
        if key == "source":
            value = _value_vi(value)
        if key in ("created_at", "updated_at"):
            value = _local(value)
        lines.append(textwrap.fill(f"{label}: {value}", 100))
    fig.text(0.08, 0.48, "\n".join(lines), fontsize=7.5, va="top", family="DejaVu Sans")
    return fig


def _files_page(case: dict[str, object], history: pd.DataFrame, attachments: pd.DataFrame,
                attachment_root: Path) -> Any:
    from matplotlib.image import imread

    fig = new_figure(_PAGE, canvas="pdf")
    fig.suptitle(f"Tài liệu, hình ảnh và lịch sử xử lý — {case['case_id']}", fontsize=12, y=0.97)
    roles = {"photo": "Ảnh", "document": "Tài liệu"}
    docs = [f"• {roles.get(r.role, r.role)}: {r.filename} ({r.mime}, {int(r.size):,} byte, "
            f"SHA-256 {r.sha256[:16]}…)"
            for r in attachments.itertuples()] or ["(chưa có tài liệu đính kèm)"]
    hist = [f"• {_local(r.at)}  {r.who}: {_field_vi(r.field)}: "
            f"{_value_vi(r.old) if isinstance(r.old, str) else '—'} → {_value_vi(r.new)}"
            for r in history.itertuples()]
    fig.text(0.06, 0.92, "Tài liệu đính kèm:\n" + "\n".join(docs) + "\n\nLịch sử:\n"
             + "\n".join(textwrap.fill(h, 110) for h in hist), fontsize=7.5, va="top")
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
                attachments: pd.DataFrame, attachment_root: str | os.PathLike[str]) -> bytes:
    """The dossier as PDF bytes. ``case`` is the case's record with its ``geometry`` (store
    CRS), ``parcels`` those around it (``parcel_key``, ``land_use``), ``history`` and
    ``attachments`` the case's tables; photos (PNG, JPEG) are read from ``attachment_root``,
    the first four shown."""
    from matplotlib.backends.backend_pdf import PdfPages

    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        pdf.savefig(_map_page(case, parcels))
        pdf.savefig(_files_page(case, history, attachments, Path(attachment_root)))
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
