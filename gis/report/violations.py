"""Violation reports: counts by kind, status and ward, overdue cases, hotspots; XLSX, CSV, JSON
and a chart of cases by kind and status (matplotlib's object API). The case dossier is
:mod:`gis.report.dossier`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.core.violations.rules import KINDS
from gis.io.files import atomic_write_csv
from gis.io.tables_out import keep_text_cells
from gis.report.figures import new_figure, png_bytes, svg_bytes

__all__ = ["STATUS_VI", "violations_chart", "write_report"]

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


def _chart_figure(cases: pd.DataFrame):  # type: ignore[no-untyped-def]
    """Cases by kind (rows) and status (stacked), as pandas' stacked ``barh`` draws them."""
    from matplotlib import rcParams

    table = cases.pivot_table(index="kind", columns="status", values="case_id", aggfunc="count",
                              fill_value=0)
    fig = new_figure((10, 4.5))
    ax = fig.add_subplot()
    if len(table):
        rows = np.arange(len(table))
        left = np.zeros(len(table))
        colours = rcParams["axes.prop_cycle"].by_key()["color"]  # read, not changed
        for i, status in enumerate(table.columns):
            width = table[status].to_numpy(dtype=float)
            ax.barh(rows, width, 0.5, left=left, color=colours[i % len(colours)],
                    label=STATUS_VI.get(status, status))
            left = left + width
        ax.set_ylim(-0.5, len(table) - 0.5)
        ax.set_yticks(rows, [KINDS.get(k, (k,))[0] for k in table.index])
        ax.legend(loc="best")
    ax.set_xlabel("Số vụ việc")
    ax.set_title("Vụ việc vi phạm theo loại và trạng thái")
    fig.tight_layout()
    return fig


def violations_chart(cases: pd.DataFrame, *, fmt: str = "png") -> bytes:
    """The chart of cases by kind and status as ``png`` or ``svg`` bytes."""
    fig = _chart_figure(cases)
    return png_bytes(fig) if fmt == "png" else svg_bytes(fig)


def _chart(cases: pd.DataFrame, stem: Path) -> list[Path]:
    fig = _chart_figure(cases)
    out = []
    for ext, data in (("png", png_bytes(fig)), ("svg", svg_bytes(fig))):
        target = stem.with_suffix(f".{ext}")
        target.write_bytes(data)
        out.append(target)
    return out
