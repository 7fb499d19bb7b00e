"""Place checks: do parcels lie where their ward codes say?

A layer whose ``.prj`` names the wrong VN-2000 zone is read without complaint (the numbers still
land in Vietnam) but every parcel ends up tens or hundreds of kilometres away. Against the stored
wards this shows: parcels outside every ward, and parcels outside the ward they declare. Pure
functions of two frames in the same CRS (DESIGN.md "Place checks").
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException

__all__ = ["PlaceCheck", "check_places", "parcel_points", "OUTSIDE_SHARE_REFUSED",
           "WARD_TOLERANCE_M"]

#: A layer with more than this share of its placed rows outside every stored ward is refused.
OUTSIDE_SHARE_REFUSED = 0.5
#: A parcel's point may lie this far outside a ward (metres) before it counts as outside:
#: ward boundaries from other sources are drawn more coarsely than cadastral parcels.
WARD_TOLERANCE_M = 50.0


@dataclass(frozen=True)
class PlaceCheck:
    """Findings of :func:`check_places`."""

    issues: pd.DataFrame  # issue rows (gis.core.validate.ISSUE_COLUMNS)
    outside_all: np.ndarray  # per row: placed and outside every ward
    placed: int  # rows with a usable geometry
    nearest_m: float  # distance of the outside rows' middle point to the nearest ward

    @property
    def share_outside(self) -> float:
        """Share of placed rows outside every ward."""
        return float(self.outside_all.sum()) / self.placed if self.placed else 0.0


def parcel_points(geoms: np.ndarray) -> np.ndarray:
    """A point inside each polygon (centroid for the ones GEOS cannot handle; None for none)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    for i in np.flatnonzero(present):
        try:
            out[i] = shapely.point_on_surface(geoms[i])
        except GEOSException:
            try:
                out[i] = shapely.centroid(geoms[i])
            except GEOSException:
                out[i] = None
    return out


def check_places(frame: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, *,
                 tolerance_m: float = WARD_TOLERANCE_M) -> PlaceCheck:
    """Compare parcels with the wards (both in the same projected CRS).

    A parcel whose point lies more than ``tolerance_m`` outside every ward is an error
    (``outside_wards``); one that lies inside some ward but more than ``tolerance_m`` outside
    the ward its code names is a warning (``outside_declared_ward``).
    """
    columns = ["row", "key", "rule", "severity", "field", "value", "message"]
    points = parcel_points(frame.geometry.values)
    placed = np.array([p is not None for p in points], dtype=bool)
    ward_geoms = np.asarray(wards.geometry.values, dtype=object)
    ward_geoms = np.array([g if g is not None and shapely.is_valid(g) else
                           (shapely.make_valid(g) if g is not None else None)
                           for g in ward_geoms], dtype=object)
    tree = shapely.STRtree(ward_geoms)
    near = np.zeros(len(frame), dtype=bool)
    if placed.any():
        idx = np.flatnonzero(placed)
        hits = tree.query(points[idx], predicate="dwithin", distance=tolerance_m)
        near[idx[np.unique(hits[0])]] = True
    outside_all = placed & ~near
    nearest = float("nan")
    if outside_all.any():
        middle = shapely.centroid(shapely.multipoints(list(points[outside_all])))
        nearest = float(np.min(shapely.distance(middle, ward_geoms[~shapely.is_missing(ward_geoms)])))
    issues = []
    if outside_all.any():
        sub = frame.loc[outside_all]
        issues.append(pd.DataFrame({
            "row": sub["source_row"].to_numpy(), "key": None, "rule": "outside_wards",
            "severity": "error", "field": "geometry", "value": None,
            "message": f"the parcel lies outside every stored ward (more than {tolerance_m:g} m)"}))
    by_code = {str(c): g for c, g in zip(wards["ward_code"].astype("string"), ward_geoms)
               if c is not None and c is not pd.NA and g is not None}
    codes = frame["ward_code"].astype("string").to_numpy(dtype=object)
    check = np.flatnonzero(near & np.array([isinstance(c, str) and c in by_code for c in codes]))
    if len(check):
        own = np.array([by_code[codes[i]] for i in check], dtype=object)
        dist = shapely.distance(points[check].astype(object), own)
        off = check[dist > tolerance_m]
        if len(off):
            sub = frame.iloc[off]
            issues.append(pd.DataFrame({
                "row": sub["source_row"].to_numpy(), "key": None,
                "rule": "outside_declared_ward", "severity": "warning", "field": "ward_code",
                "value": sub["ward_code"].astype("string").to_numpy(),
                "message": [f"the parcel lies {d:,.0f} m outside its declared ward"
                            for d in dist[dist > tolerance_m]]}))
    found = pd.concat(issues, ignore_index=True) if issues else pd.DataFrame(columns=columns)
    return PlaceCheck(found[columns], outside_all, int(placed.sum()), nearest)
