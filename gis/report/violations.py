"""Violation reports: counts by kind, status and ward, overdue cases, hotspots; XLSX, CSV, JSON,
a chart; and the case dossier as PDF (map, attributes, documents, photos, history)."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gis.core.violations.rules import KINDS
from gis.io.files import atomic_write_csv
from gis.io.tables_out import keep_text_cells

__all__ = ["write_report", "write_dossier", "STATUS_VI"]

STATUS_VI = {"DETECTED": "Phát hiện", "VERIFYING": "Đang xác minh",
             "MINUTES_ISSUED": "Đã lập biên bản", "EXPLANATION": "Giải trình",
             "DECISION_ISSUED": "Đã ra quyết định xử phạt", "FINE_PAID": "Đã nộp phạt",
             "REMEDY_PENDING": "Đang khắc phục hậu quả", "ENFORCEMENT": "Cưỡng chế",
             "CLOSED": "Đã kết thúc", "ESCALATED": "Chuyển cấp trên / thu hồi đất",
             "DISMISSED": "Không vi phạm"}


def _tables(cases: pd.DataFrame, hot_wards: pd.DataFrame, grid: gpd.GeoDataFrame) -> dict[str, pd.DataFrame]:
    by = lambda col: cases.groupby(col).agg(cases=("case_id", "size"), area_m2=("area_m2", "sum")).reset_index()  # noqa: E731
    kind = by("kind")
    kind.insert(1, "kind_vi", kind["kind"].map(lambda k: KINDS.get(k, (k,))[0]))
    status = by("status")
    status.insert(1, "status_vi", status["status"].map(STATUS_VI))
    overdue = cases[cases["overdue"].notna()][["case_id", "kind", "status", "ward_code", "overdue"]]
    return {"Theo loại": kind, "Theo trạng thái": status, "Theo phường xã": hot_wards,
            "Quá hạn": overdue,
            "Điểm nóng (lưới)": pd.DataFrame({"cases": grid["cases"],
                                               "cell_wkt": grid.geometry.to_wkt()})
            if len(grid) else pd.DataFrame(columns=["cases", "cell_wkt"]),
            "Danh sách vụ việc": cases.drop(columns="geometry")}


def write_report(cases: gpd.GeoDataFrame, summary: dict[str, object], hot_wards: pd.DataFrame,
                 grid: gpd.GeoDataFrame, out: str | os.PathLike[str], *, fmt: str) -> list[Path]:
    """Write the report as ``xlsx`` (one sheet per table), ``csv`` (one file per table) or
    ``json``; a PNG/SVG chart of cases by kind and status is written beside it."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tables = _tables(cases, hot_wards, grid)
    written: list[Path] = []
    if fmt == "json":
        data = {"summary": summary,
                "hotspots_by_ward": json.loads(hot_wards.to_json(orient="records", force_ascii=False)),
                "hotspots_grid": json.loads(grid.to_json()) if len(grid) else None,
                "overdue": json.loads(tables["Quá hạn"].to_json(orient="records", force_ascii=False))}
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        os.replace(tmp, out)
        written.append(out)
    elif fmt == "csv":
        slug = {"Theo loại": "by_kind", "Theo trạng thái": "by_status", "Theo phường xã": "by_ward",
                "Quá hạn": "overdue", "Điểm nóng (lưới)": "grid", "Danh sách vụ việc": "cases"}
        for title, frame in tables.items():
            target = out.with_name(f"{out.stem}_{slug[title]}{out.suffix or '.csv'}")
            atomic_write_csv(frame, target)
            written.append(target)
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        wb.remove(wb.active)
        for title, frame in tables.items():
            ws = wb.create_sheet(title[:31])
            ws.append([str(c) for c in frame.columns])
            for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
                ws.append([v.item() if hasattr(v, "item") else v for v in row])
            for cell in ws[1]:
                cell.font = Font(bold=True)
            keep_text_cells(ws)
            ws.freeze_panes = "A2"
        tmp = out.with_name(out.name + ".tmp")
        wb.save(tmp)
        os.replace(tmp, out)
        written.append(out)
    written += _chart(cases, out.with_name(out.stem + "_chart"))
    return written


def _chart(cases: pd.DataFrame, stem: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = cases.pivot_table(index="kind", columns="status", values="case_id", aggfunc="count",
                              fill_value=0)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    if len(table):
        table.index = [KINDS.get(k, (k,))[0] for k in table.index]
        table.columns = [STATUS_VI.get(c, c) for c in table.columns]
        table.plot.barh(stacked=True, ax=ax)
    ax.set_xlabel("Số vụ việc")
    ax.set_title("Vụ việc vi phạm theo loại và trạng thái")
    fig.tight_layout()
    out = []
    for ext in ("png", "svg"):
        target = stem.with_suffix(f".{ext}")
        fig.savefig(target, dpi=120)
        out.append(target)
    plt.close(fig)
    return out


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


def write_dossier(case: dict[str, object], parcels: gpd.GeoDataFrame, history: pd.DataFrame,
                  attachments: pd.DataFrame, attachment_root: Path,
                  out: str | os.PathLike[str]) -> Path:
    """The case dossier (hồ sơ vụ việc) as a PDF, in Vietnamese: a map of the case over its
    parcels, the attributes, documents, photos and history. Written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    geom = case["geometry"]
    with PdfPages(tmp) as pdf:
        fig = plt.figure(figsize=(8.27, 11.69))  # A4
        fig.suptitle(f"HỒ SƠ VỤ VIỆC VI PHẠM ĐẤT ĐAI — {case['case_id']}", fontsize=13,
                     fontweight="bold", y=0.97)
        ax = fig.add_axes([0.08, 0.52, 0.84, 0.40])
        if len(parcels):
            parcels.plot(ax=ax, facecolor="#fff3e0", edgecolor="#5d4037", linewidth=0.6)
            for r in parcels.itertuples():
                p = r.geometry.representative_point()
                use = r.land_use if isinstance(r.land_use, str) else ""
                ax.annotate(f"{r.parcel_key}\n{use}", (p.x, p.y), fontsize=6,
                            ha="center", va="center", color="#3e2723", clip_on=True)
        gpd.GeoSeries([geom], crs=parcels.crs).plot(ax=ax, facecolor="#e53935", alpha=0.6,
                                                    edgecolor="#b71c1c", linewidth=1.2,
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
            text = textwrap.fill(f"{label}: {value}", 100)
            lines.append(text)
        fig.text(0.08, 0.48, "\n".join(lines), fontsize=7.5, va="top", family="DejaVu Sans")
        pdf.savefig(fig)
        plt.close(fig)
        fig = plt.figure(figsize=(8.27, 11.69))
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
        photos = [r for r in attachments.itertuples() if r.mime in ("image/png", "image/jpeg")]
        for i, r in enumerate(photos[:4]):
            try:
                img = plt.imread(attachment_root / r.stored_as)
            except Exception:  # noqa: BLE001 - an unreadable photo is listed, not fatal
                continue
            axp = fig.add_axes([0.06 + (i % 2) * 0.46, 0.06 + (1 - i // 2) * 0.22, 0.42, 0.2])
            axp.imshow(img)
            axp.set_title(r.filename, fontsize=7)
            axp.axis("off")
        pdf.savefig(fig)
        plt.close(fig)
    os.replace(tmp, out)
    return out
