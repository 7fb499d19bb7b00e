"""Charts of clearance progress (matplotlib, PNG and SVG), per project and per ward."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from gis.core.clearance.progress import Progress

__all__ = ["write_charts"]

_TEXT = {
    "vi": {"projects": "Tiến độ GPMB theo dự án", "wards": "Diện tích thu hồi theo phường/xã",
           "area": "Diện tích đã thu hồi (%)", "plans": "Phương án đã phê duyệt (%)",
           "affected": "Phải thu hồi (ha)", "recovered": "Đã thu hồi (ha)", "as_of": "Tính đến"},
    "en": {"projects": "Clearance progress by project", "wards": "Area to recover by ward",
           "area": "Area recovered (%)", "plans": "Plans approved (%)",
           "affected": "To recover (ha)", "recovered": "Recovered (ha)", "as_of": "As of"},
}


def write_charts(progress: Progress, out_dir: str | os.PathLike[str], *, lang: str = "vi"
                 ) -> list[Path]:
    """Write ``projects.png/.svg`` and ``wards.png/.svg`` into ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = _TEXT[lang]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    day = progress.as_of.strftime("%d/%m/%Y")

    p = progress.projects.sort_values("project_id")
    fig, ax = plt.subplots(figsize=(10, max(3, 0.35 * len(p) + 1.5)))
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
    written += _save(fig, out_dir / "projects")
    plt.close(fig)

    w = progress.wards.sort_values("ward_code")
    fig, ax = plt.subplots(figsize=(10, 4.5))
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
    written += _save(fig, out_dir / "wards")
    plt.close(fig)
    return written


def _save(fig, stem: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    out = []
    for ext in ("png", "svg"):
        target = stem.with_suffix(f".{ext}")
        tmp = target.with_name(f".{target.name}.tmp")
        fig.savefig(tmp, format=ext, dpi=120)
        os.replace(tmp, target)
        out.append(target)
    return out
