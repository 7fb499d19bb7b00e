"""Counts an inspection report quotes, and hotspots where cases cluster."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["counts", "hotspots_by_ward", "hotspots_on_grid"]


def counts(cases: pd.DataFrame) -> dict[str, object]:
    """Counts by kind, status and ward; area involved and overdue (dismissed cases, found not to
    be violations, are counted apart and not in the area)."""
    open_ = ~cases["status"].isin(["CLOSED", "DISMISSED"])
    dismissed = cases["status"] == "DISMISSED"
    by_status = cases.groupby("status").size().astype(int).to_dict()
    cases = cases[~dismissed]
    return {
        "cases": int(len(cases)),
        "dismissed": int(dismissed.sum()),
        "open": int(open_.sum()),
        "area_m2": round(float(pd.to_numeric(cases["area_m2"], errors="coerce").fillna(0).sum()), 2),
        "overdue": int(cases["overdue"].notna().sum()) if "overdue" in cases else 0,
        "by_kind": cases.groupby("kind").size().astype(int).to_dict(),
        "by_status": by_status,
        "by_ward": cases.groupby("ward_code").size().astype(int).to_dict(),
        "by_source": cases.groupby("source").size().astype(int).to_dict(),
        # the 2025 levels and projects, when the cases were placed (gis.units.place_cases)
        **{f"by_{level}": cases.groupby(column).size().astype(int).to_dict()
           for level, column in (("unit", "unit_code"), ("province", "province_code"))
           if column in cases},
        **({"by_project": cases["project_ids"].dropna().str.split(",").explode()
            .value_counts().astype(int).sort_index().to_dict()}
           if "project_ids" in cases else {}),
    }


def hotspots_by_ward(cases: pd.DataFrame, wards: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cases, open cases, area and cases per km² of ward, most first (dismissed left out)."""
    cases = cases[cases["status"] != "DISMISSED"]
    g = cases.groupby("ward_code")
    out = pd.DataFrame({"cases": g.size(),
                        "open": g["status"].apply(lambda s: int((~s.isin(["CLOSED", "DISMISSED"])).sum())),
                        "area_m2": g["area_m2"].sum()})
    if wards is not None and len(wards):
        area = wards.set_index("ward_code").geometry.area / 1e6
        out["per_km2"] = out["cases"] / area.reindex(out.index)
    return out.sort_values("cases", ascending=False).reset_index()


def hotspots_on_grid(cases: gpd.GeoDataFrame, *, cell: float = 250.0,
                     since: dt.date | None = None) -> gpd.GeoDataFrame:
    """Cases counted on a square grid (``cell`` metres), cells with cases only, most first
    (dismissed left out)."""
    cases = cases[cases["status"] != "DISMISSED"]
    if since is not None:
        cases = cases[pd.to_datetime(cases["created_at"], utc=True).dt.date >= since]
    if cases.empty:
        return gpd.GeoDataFrame({"cases": []}, geometry=[], crs=cases.crs)
    pts = shapely.point_on_surface(np.asarray(cases.geometry.values, dtype=object))
    ix = np.floor(shapely.get_x(pts) / cell).astype(np.int64)
    iy = np.floor(shapely.get_y(pts) / cell).astype(np.int64)
    frame = pd.DataFrame({"ix": ix, "iy": iy}).value_counts().rename("cases").reset_index()
    geoms = shapely.box(frame["ix"] * cell, frame["iy"] * cell, (frame["ix"] + 1) * cell,
                        (frame["iy"] + 1) * cell)
    return gpd.GeoDataFrame(frame[["cases"]], geometry=geoms, crs=cases.crs).sort_values(
        "cases", ascending=False).reset_index(drop=True)
