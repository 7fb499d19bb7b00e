"""Charts of clearance progress (PNG and SVG), per project and per ward, drawn with matplotlib's
object API (figures of their own; no pyplot, no lock), so several are drawn at once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from gis.core.clearance.progress import Progress
from gis.report.figures import new_figure, png_bytes, svg_bytes
from gis.text import N_, NC_, Text, text

__all__ = ["clearance_charts", "write_charts"]

_TEXT: dict[str, Text] = {
    "projects": N_("Clearance progress by project"), "wards": N_("Area to recover by ward"),
    "area": NC_("chart", "Area recovered (%)"), "plans": NC_("chart", "Plans approved (%)"),
    "affected": N_("To recover (ha)"), "recovered": N_("Recovered (ha)"),
    "as_of": NC_("chart", "As of"),
}


def _figures(progress: Progress, lang: str) -> dict[str, Any]:
    t = {k: text(v, lang) for k, v in _TEXT.items()}
    day = progress.as_of.strftime("%d/%m/%Y")

    p = progress.projects.sort_values("project_id")
    fig = new_figure((10, max(3, 0.35 * len(p) + 1.5)))
    ax = fig.add_subplot()
    y = range(len(p))
    ax.barh([v + 0.2 for v in y], p["pct_area_recovered"], height=0.4, label=t["area"],
            color="#2e7d32")
    ax.barh([v - 0.2 for v in y], p["pct_plans_approved"], height=0.4, label=t["plans"],
            color="#1565c0")
    labels = [f"{pid} {str(name)[:40]}" for pid, name in zip(p["project_id"], p.get("name", p["project_id"]))]
    ax.set_yticks(list(y), labels, fontsize=8)
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_title(f"{t['projects']} — {t['as_of']} {day}")
    ax.legend(loc="lower right")
    fig.tight_layout()
    projects = fig

    w = progress.wards.sort_values("ward_code")
    fig = new_figure((10, 4.5))
    ax = fig.add_subplot()
    x = range(len(w))
    ax.bar([v - 0.2 for v in x], pd.to_numeric(w["area_affected_m2"]) / 1e4, width=0.4,
           label=t["affected"], color="#ffb74d")
    ax.bar([v + 0.2 for v in x], pd.to_numeric(w["area_recovered_m2"]) / 1e4, width=0.4,
           label=t["recovered"], color="#2e7d32")
    ax.set_xticks(list(x), list(w["ward_code"]), rotation=45)
    ax.set_ylabel("ha")
    ax.set_title(f"{t['wards']} — {t['as_of']} {day}")
    ax.legend()
    fig.tight_layout()
    return {"projects": projects, "wards": fig}


def clearance_charts(progress: Progress, *, lang: str = "vi", fmt: str = "png"
                     ) -> dict[str, bytes]:
    """``{"projects": …, "wards": …}`` as ``png`` or ``svg`` bytes."""
    save = png_bytes if fmt == "png" else svg_bytes
    return {name: save(fig) for name, fig in _figures(progress, lang).items()}


def write_charts(progress: Progress, out_dir: str | os.PathLike[str], *, lang: str = "vi"
                 ) -> list[Path]:
    """Write ``projects.png/.svg`` and ``wards.png/.svg`` into ``out_dir`` (each atomically)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, fig in _figures(progress, lang).items():
        for ext, save in (("png", png_bytes), ("svg", svg_bytes)):
            target = out_dir / f"{name}.{ext}"
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(save(fig))
            os.replace(tmp, target)
            written.append(target)
    return written
