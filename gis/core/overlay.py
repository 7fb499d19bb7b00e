"""Parcels × project boundaries: which part of each parcel a project recovers.

Pure function over frames (no I/O), so it can run partitioned (dask-geopandas) unchanged.
Most parcels lie wholly inside or wholly outside a boundary; only the ones a boundary cuts need a
polygon intersection. Candidate pairs come from an STRtree, wholly-inside parcels are recognised
with a prepared ``contains`` test and take their own area, and only the rest are intersected.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gis.errors import CRSMismatchError

__all__ = ["OverlayConfig", "OverlayResult", "overlay_parcels_projects", "check_same_crs"]


@dataclass(frozen=True)
class OverlayConfig:
    """Sliver thresholds: an overlap below ``min_area_m2``, or below ``min_share`` of the parcel
    while also under ``share_cap_m2`` (so a 90 m² cut through a 2 ha field still counts), is
    ignored."""

    min_area_m2: float = 1.0
    min_share: float = 0.005
    share_cap_m2: float = 10.0


@dataclass
class OverlayResult:
    """Overlap pairs, the slivers left out (with the reason), and the count of touching-only pairs."""

    pairs: gpd.GeoDataFrame
    slivers: pd.DataFrame
    touching: int

    def summary(self) -> dict[str, int]:
        """Counts for reports."""
        return {"pairs": len(self.pairs), "parcels": int(self.pairs["parcel_key"].nunique()),
                "slivers_ignored": len(self.slivers), "touching_only": self.touching,
                "wholly_inside": int(self.pairs["inside"].sum())}


def check_same_crs(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, name_a: str, name_b: str) -> None:
    """Layers combined in one overlay must share their CRS; never reproject silently."""
    if a.crs is not None and b.crs is not None and \
            CRS.from_user_input(a.crs) != CRS.from_user_input(b.crs):
        raise CRSMismatchError(f"{name_a} are in {a.crs.name} but {name_b} in {b.crs.name}; "
                               "transform one first")


def _chunked(func: Callable[[slice], object], n: int, workers: int, *,
             min_items: int = 2000) -> list:  # type: ignore[type-arg]
    """Run ``func`` over slices of ``range(n)`` on threads (shapely 2 releases the GIL)."""
    if workers <= 1 or n < min_items:
        return [func(slice(0, n))]
    parts = workers * 4
    bounds = [(i * n // parts, (i + 1) * n // parts) for i in range(parts)]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda b: func(slice(*b)), bounds))


PAIR_COLUMNS = ["project_id", "parcel_key", "ward_code", "parcel_area_m2", "overlap_m2", "share",
                "inside"]


def _query(tree: shapely.STRtree, projects: np.ndarray, part: slice) -> tuple[np.ndarray, np.ndarray]:
    project_idx, parcel_idx = tree.query(projects[part], predicate="intersects")
    return project_idx + (part.start or 0), parcel_idx


def _tiles(projects: np.ndarray, tile: float) -> tuple[np.ndarray, np.ndarray]:
    """Cut sparse boundaries (a diagonal road corridor fills a sliver of its bounding box) into
    ``tile``-sized pieces, so the tree query tests far fewer bounding-box candidates. Returns the
    pieces and the project each came from; compact boundaries stay whole."""
    b = shapely.bounds(projects)
    box_area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    sparse = (box_area > 3 * shapely.area(projects)) & (np.maximum(b[:, 2] - b[:, 0],
                                                                   b[:, 3] - b[:, 1]) > 2 * tile)
    whole = np.flatnonzero(~sparse)
    cut = np.flatnonzero(sparse)
    if len(cut) == 0:
        return projects, np.arange(len(projects))
    nx = np.ceil((b[cut, 2] - b[cut, 0]) / tile).astype(int)
    ny = np.ceil((b[cut, 3] - b[cut, 1]) / tile).astype(int)
    count = nx * ny
    owner = np.repeat(cut, count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    ix, iy = offset % np.repeat(nx, count), offset // np.repeat(nx, count)
    x0, y0 = b[owner, 0] + ix * tile, b[owner, 1] + iy * tile
    pieces = shapely.intersection(projects[owner], shapely.box(x0, y0, x0 + tile, y0 + tile))
    keep = ~shapely.is_empty(pieces)
    return (np.concatenate([projects[whole], pieces[keep]]),
            np.concatenate([whole, owner[keep]]))


def overlay_parcels_projects(parcels: gpd.GeoDataFrame, projects: gpd.GeoDataFrame, *,
                             config: OverlayConfig = OverlayConfig(),
                             with_geometry: bool = True,
                             workers: int | None = None, tile: float = 400.0) -> OverlayResult:
    """Every parcel × every project boundary it overlaps, with the overlap area and share.

    Parameters
    ----------
    parcels
        Columns ``parcel_key``, ``ward_code`` and polygon geometry, in a projected CRS.
    projects
        Columns ``project_id`` and polygon geometry, in the same CRS.
    with_geometry
        Keep the overlap polygon (the project part of the parcel) for maps. When False,
        ``pairs`` has the same rows and columns but no geometry (nor CRS), and no polygon is
        copied.
    workers
        Threads for the tree query and the intersections (default: the CPU count).
    tile
        Size (CRS units, metres) of the pieces long thin boundaries are cut into for the search.

    Returns
    -------
    OverlayResult
        ``pairs`` has ``project_id, parcel_key, ward_code, parcel_area_m2, overlap_m2, share,
        inside`` (wholly inside the boundary) and the overlap geometry.

    Raises
    ------
    CRSMismatchError
        When the two layers are not in the same CRS.

    Examples
    --------
    >>> p = gpd.GeoDataFrame({"parcel_key": ["a", "b"], "ward_code": "00001"},
    ...                      geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])
    >>> j = gpd.GeoDataFrame({"project_id": ["P"]}, geometry=[shapely.box(5, 0, 30, 10)])
    >>> overlay_parcels_projects(p, j).pairs[["parcel_key", "overlap_m2", "inside"]].values.tolist()
    [['a', 50.0, False], ['b', 100.0, True]]
    """
    check_same_crs(parcels, projects, "parcels", "projects")
    workers = workers or os.cpu_count() or 1
    pg = np.asarray(parcels.geometry.values, dtype=object)
    jg = np.asarray(projects.geometry.values, dtype=object)
    tree = shapely.STRtree(pg)
    pieces_, owner = _tiles(jg, tile)
    shapely.prepare(pieces_)
    hits = _chunked(lambda s: _query(tree, pieces_, s), len(pieces_), workers, min_items=8)
    piece_idx = np.concatenate([h[0] for h in hits]) if hits else np.array([], dtype=int)
    parcel_idx = np.concatenate([h[1] for h in hits]) if hits else np.array([], dtype=int)
    pairs_ = np.unique(np.c_[owner[piece_idx], parcel_idx].astype(np.int64), axis=0) \
        if len(piece_idx) else np.empty((0, 2), dtype=np.int64)
    project_idx, parcel_idx = pairs_[:, 0], pairs_[:, 1]  # sorted by project, then parcel
    shapely.prepare(jg)
    inside = shapely.contains(jg[project_idx], pg[parcel_idx])
    parcel_area = shapely.area(pg[parcel_idx])
    overlap = parcel_area.copy()
    cut = np.flatnonzero(~inside)
    geometry = pg[parcel_idx].copy() if with_geometry else None
    if len(cut):
        a, b = pg[parcel_idx[cut]], jg[project_idx[cut]]
        pieces = np.concatenate(_chunked(lambda s: shapely.intersection(a[s], b[s]), len(cut),
                                         workers))
        overlap[cut] = shapely.area(pieces)
        if geometry is not None:
            geometry[cut] = pieces
    shapely.destroy_prepared(jg)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(parcel_area > 0, overlap / parcel_area, 0.0)
    frame = pd.DataFrame({
        "project_id": projects["project_id"].to_numpy()[project_idx],
        "parcel_key": parcels["parcel_key"].to_numpy()[parcel_idx],
        "ward_code": parcels["ward_code"].to_numpy()[parcel_idx],
        "parcel_area_m2": parcel_area, "overlap_m2": overlap, "share": share, "inside": inside,
    })
    touching = overlap <= 0
    sliver = ~touching & ((overlap < config.min_area_m2)
                          | ((share < config.min_share) & (overlap < config.share_cap_m2)))
    keep = ~touching & ~sliver
    slivers = frame.loc[sliver].reset_index(drop=True)
    slivers["reason"] = np.where(slivers["overlap_m2"] < config.min_area_m2,
                                 f"overlap under {config.min_area_m2:g} m²",
                                 f"overlap under {config.min_share:.1%} of the parcel")
    pairs = frame.loc[keep].reset_index(drop=True)
    if geometry is not None:
        pairs = gpd.GeoDataFrame(pairs, geometry=geometry[keep], crs=parcels.crs)
    else:  # a GeoDataFrame has no CRS without a geometry column: the plain columns only
        pairs = gpd.GeoDataFrame(pairs)
    return OverlayResult(pairs, slivers, int(touching.sum()))
