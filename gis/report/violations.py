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

from gis.io.files import atomic_write_csv
from gis.io.tables_out import keep_text_cells
from gis.labels import case_status_label, kind_label
from gis.report.figures import new_figure, png_bytes, svg_bytes
from gis.text import DEFAULT_LANG, N_, NC_, Text, translator

__all__ = ["violations_chart", "write_report"]

#: the tables of the report: the CSV file suffix and the workbook sheet of each
_SHEETS: dict[str, Text] = {
    "by_kind": N_("By kind"), "by_status": N_("By status"), "by_ward": N_("By ward"),
    "overdue": NC_("report sheet", "Overdue"), "grid": N_("Hotspots (grid)"),
    "cases": N_("Case list"),
}


def _tables(cases: pd.DataFrame, hot_wards: pd.DataFrame, grid: gpd.GeoDataFrame
            ) -> dict[str, pd.DataFrame]:
    """The tables by :data:`_SHEETS` key; the names of kinds and statuses in Vietnamese (the
    ``kind_vi`` and ``status_vi`` columns)."""
    by = lambda col: cases.groupby(col).agg(cases=("case_id", "size"), area_m2=("area_m2", "sum")).reset_index()  # noqa: E731
    kind = by("kind")
    kind.insert(1, "kind_vi", kind["kind"].map(lambda k: kind_label(k, "vi")))
    status = by("status")
    status.insert(1, "status_vi", status["status"].map(lambda s: case_status_label(s, "vi")))
    overdue = cases[cases["overdue"].notna()][["case_id", "kind", "status", "ward_code", "overdue"]]
    return {"by_kind": kind, "by_status": status, "by_ward": hot_wards, "overdue": overdue,
            "grid": pd.DataFrame({"cases": grid["cases"], "cell_wkt": grid.geometry.to_wkt()})
            if len(grid) else pd.DataFrame(columns=["cases", "cell_wkt"]),
            "cases": cases.drop(columns="geometry")}


def write_report(cases: gpd.GeoDataFrame, summary: dict[str, object], hot_wards: pd.DataFrame,
                 grid: gpd.GeoDataFrame, out: str | os.PathLike[str], *, fmt: str,
                 lang: str = DEFAULT_LANG) -> list[Path]:
    """Write the report as ``xlsx`` (one sheet per table), ``csv`` (one file per table) or
    ``json``; a PNG/SVG chart of cases by kind and status is written beside it. Sheet names and
    chart labels in ``lang``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tables = _tables(cases, hot_wards, grid)
    written: list[Path] = []
    if fmt == "json":
        data = {"summary": summary,
                "hotspots_by_ward": json.loads(hot_wards.to_json(orient="records", force_ascii=False)),
                "hotspots_grid": json.loads(grid.to_json()) if len(grid) else None,
                "overdue": json.loads(tables["overdue"].to_json(orient="records", force_ascii=False))}
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        os.replace(tmp, out)
        written.append(out)
    elif fmt == "csv":
        for slug, frame in tables.items():
            target = out.with_name(f"{out.stem}_{slug}{out.suffix or '.csv'}")
            atomic_write_csv(frame, target)
            written.append(target)
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        wb.remove(wb.active)
        _ = translator(lang)
        for slug, frame in tables.items():
            ws = wb.create_sheet(_(_SHEETS[slug])[:31])
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
    written += _chart(cases, out.with_name(out.stem + "_chart"), lang)
    return written


def _chart_figure(cases: pd.DataFrame, lang: str):  # type: ignore[no-untyped-def]
    """Cases by kind (rows) and status (stacked), as pandas' stacked ``barh`` draws them."""
    from matplotlib import rcParams

    _ = translator(lang)
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
                    label=case_status_label(status, lang))
            left = left + width
        ax.set_ylim(-0.5, len(table) - 0.5)
        ax.set_yticks(rows, [kind_label(k, lang) for k in table.index])
        ax.legend(loc="best")
    ax.set_xlabel(_.pgettext("dashboard", "Cases"))
    ax.set_title(_("Violation cases by kind and status"))
    fig.tight_layout()
    return fig


def violations_chart(cases: pd.DataFrame, *, fmt: str = "png", lang: str = DEFAULT_LANG) -> bytes:
    """The chart of cases by kind and status as ``png`` or ``svg`` bytes."""
    fig = _chart_figure(cases, lang)
    return png_bytes(fig) if fmt == "png" else svg_bytes(fig)


def _chart(cases: pd.DataFrame, stem: Path, lang: str) -> list[Path]:
    fig = _chart_figure(cases, lang)
    out = []
    for ext, data in (("png", png_bytes(fig)), ("svg", svg_bytes(fig))):
        target = stem.with_suffix(f".{ext}")
        target.write_bytes(data)
        out.append(target)
    return out
