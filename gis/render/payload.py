"""The compact map payload: properties as columns, geometry as delta-encoded integer rings.

Display only: geometry is simplified to 5 cm in the layer's projected CRS and quantised to
1e-6 degree (~0.1 m) in WGS 84. Never used for exports.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.io.write import reproject

__all__ = ["display_payload", "encode"]


def display_payload(frame: gpd.GeoDataFrame, keep: list[str]) -> dict[str, object]:
    """A compact payload the page turns back into GeoJSON: properties as columns (names written
    once), coordinates as integers of 1e-6 degree (~0.1 m), each ring's points as deltas from the
    previous one, closing points dropped. About half the size of GeoJSON text."""
    keep = [c for c in dict.fromkeys(keep) if c in frame.columns]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    geoms = shapely.simplify(geoms, 0.05, preserve_topology=True)  # display only
    wgs = reproject(gpd.GeoDataFrame(geometry=geoms, crs=frame.crs), "EPSG:4326")
    geoms = np.asarray(wgs.geometry.values, dtype=object)
    columns: dict[str, list[object]] = {}
    for column in keep:
        values = frame[column]
        if values.dtype.kind == "f":
            values = values.round(2)
        columns[column] = [None if v is None or (isinstance(v, float) and v != v) or v is pd.NA
                           else (v.item() if hasattr(v, "item") else v)
                           for v in values.astype(object).tolist()]
    return {"columns": columns, "geometries": [encode(g) for g in geoms]}


def encode(geom: shapely.Geometry | None) -> list[object] | None:
    """[type, parts]: type 0 point, 1 polygon(s); a polygon is a list of rings, a ring a flat
    list [x0, y0, dx1, dy1, …] of 1e-6 degree integers."""
    if geom is None or geom.is_empty:
        return None
    kind = shapely.get_type_id(geom)
    if kind == 0:
        return [0, [int(round(geom.x * 1e6)), int(round(geom.y * 1e6))]]
    polys = shapely.get_parts(geom) if kind == 6 else [geom]
    out = []
    for poly in polys:
        rings = [poly.exterior, *poly.interiors]
        encoded = []
        for ring in rings:
            xy = np.round(np.asarray(ring.coords)[:-1, :2] * 1e6).astype(np.int64)
            if len(xy) < 3:
                continue
            deltas = np.vstack([xy[:1], np.diff(xy, axis=0)])
            encoded.append(deltas.ravel().tolist())
        if encoded:
            out.append(encoded)
    return [1, out] if out else None
