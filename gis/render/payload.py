"""The compact map payload: properties as columns, geometry as two flat integer lists.

Display only: geometry is simplified to 5 cm in the layer's projected CRS and quantised to
1e-6 degree (~0.1 m) in WGS 84. Never used for exports.

``shapes`` says, row by row, what the row's geometry is: ``0`` none, ``-1`` a point, ``P > 0``
that many polygons, each followed by its number of rings, each ring by its number of points
(closing point dropped, at least 3). ``coords`` holds every point of the layer in that order,
x then y, each as the difference from the point before it (the layer's first point from 0,0):
one chain through the whole layer, so a parcel next to the previous one costs a few digits.
Flat lists parse several times faster in the page than nested ones (``JSON.parse`` makes three
arrays instead of four per feature) and decode straight into typed arrays.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.errors import GisError
from gis.io.write import reproject

__all__ = ["display_payload", "encode", "encode_flat", "decode", "column"]


def display_payload(frame: gpd.GeoDataFrame, keep: list[str]) -> dict[str, object]:
    """A compact payload the page turns into features: properties as columns (names written
    once, text columns as distinct values and codes when that is smaller), geometry as
    ``shapes`` and ``coords`` (see the module's docstring). About a third of GeoJSON's size."""
    keep = [c for c in dict.fromkeys(keep) if c in frame.columns]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    geoms = shapely.simplify(geoms, 0.05, preserve_topology=True)  # display only
    wgs = reproject(gpd.GeoDataFrame(geometry=geoms, crs=frame.crs), "EPSG:4326")
    columns: dict[str, object] = {}
    for name in keep:
        values = frame[name]
        if values.dtype.kind == "f":
            values = values.round(2)
        columns[name] = column([None if v is None or (isinstance(v, float) and v != v)
                                or v is pd.NA else (v.item() if hasattr(v, "item") else v)
                                for v in values.astype(object).tolist()])
    shapes, coords = encode_flat(np.asarray(wgs.geometry.values, dtype=object))
    return {"columns": columns, "shapes": shapes, "coords": coords}


def column(values: list[object]) -> object:
    """A column as written to the page: the list itself, or, for text whose values repeat
    enough (land-use groups, addresses, owners' names), ``{"values": [...], "codes": [...]}``:
    each distinct value once and a small integer per row, when that is the shorter."""
    if len(values) < 32 or not all(v is None or isinstance(v, str) for v in values):
        return values  # only text: 1 and True are one key of a dict, "1" and 1 are not
    distinct: dict[object, int] = {}
    codes = [distinct.setdefault(v, len(distinct)) for v in values]
    plain = sum(len(json.dumps(v, ensure_ascii=False)) + 1 for v in values)
    coded = sum(len(json.dumps(v, ensure_ascii=False)) + 1 for v in distinct) + \
        sum(len(str(c)) + 1 for c in codes)
    return {"values": list(distinct), "codes": codes} if coded < plain else values


def encode(geom: shapely.Geometry | None) -> list[object] | None:
    """One geometry as [type, parts]: type 0 point ([x, y]), 1 polygon(s); a polygon a list of
    rings, a ring a flat list [x0, y0, dx1, dy1, …] of 1e-6 degree integers, closing point
    dropped, rings under 3 points left out. The reference :func:`decode` gives back."""
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


def encode_flat(geoms: np.ndarray) -> tuple[list[int], list[int]]:
    """``shapes`` and ``coords`` of WGS 84 points, polygons and multipolygons (see the module's
    docstring), the coordinates of all of them quantised and chained in one numpy pass."""
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    rows: list[list[int]] = [[0]] * n
    if not n:
        return [], []
    kinds = shapely.get_type_id(geoms)  # -1 for None
    present = (kinds >= 0) & ~shapely.is_empty(geoms)
    bad = present & ~np.isin(kinds, (0, 3, 6))
    if bad.any():
        kind = shapely.get_type_id(geoms[np.flatnonzero(bad)[0]])
        raise GisError(f"a map layer holds {shapely.GeometryType(kind).name.lower()} geometries; "
                       "maps draw points, polygons and multipolygons", field="geometry")
    points = np.flatnonzero(present & (kinds == 0))
    for i in points.tolist():
        rows[i] = [-1]
    xy_parts = [shapely.get_coordinates(geoms[points])]
    row_parts = [points]
    areas = np.flatnonzero(present & (kinds != 0))
    if len(areas):
        parts, part_geom = shapely.get_parts(geoms[areas], return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)  # exterior, then holes
        coords, ring_of = shapely.get_coordinates(rings, return_index=True)
        counts = np.bincount(ring_of, minlength=len(rings))
        size = counts - 1  # points without the closing one
        keep = size >= 3
        position = np.arange(len(coords)) - (np.cumsum(counts) - counts)[ring_of]
        vertex = keep[ring_of] & (position < size[ring_of])
        rings_kept = np.bincount(ring_part[keep], minlength=len(parts))
        parts_kept = np.bincount(part_geom[rings_kept > 0], minlength=len(areas))
        body: dict[int, list[int]] = {}
        last = -1
        tokens: list[int] = []
        rings_of_part = rings_kept.tolist()
        geom_of_part = part_geom.tolist()
        for part, points_in_ring in zip(ring_part[keep].tolist(), size[keep].tolist()):
            if part != last:
                tokens = body.setdefault(geom_of_part[part], [])
                tokens.append(rings_of_part[part])
                last = part
            tokens.append(points_in_ring)
        polygons = parts_kept.tolist()
        for a, tokens in body.items():
            rows[int(areas[a])] = [polygons[a], *tokens]
        xy_parts.append(coords[vertex])
        row_parts.append(areas[part_geom[ring_part[ring_of[vertex]]]])
    xy = np.concatenate(xy_parts)
    order = np.argsort(np.concatenate(row_parts), kind="stable")  # row by row, as `shapes`
    q = np.round(xy[order] * 1e6).astype(np.int64)
    chain = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return [t for row in rows for t in row], chain.ravel().tolist()


def decode(payload: dict[str, object]) -> list[list[object] | None]:
    """A payload's geometry back as one :func:`encode` result per row (for tests and tools)."""
    shapes: list[int] = payload["shapes"]  # type: ignore[assignment]
    coords: list[int] = payload["coords"]  # type: ignore[assignment]
    out: list[list[object] | None] = []
    tokens = iter(shapes)
    c = x = y = 0
    for token in tokens:
        if token == 0:
            out.append(None)
            continue
        if token == -1:
            x, y = x + coords[c], y + coords[c + 1]
            c += 2
            out.append([0, [x, y]])
            continue
        polygons = []
        for _ in range(token):
            rings = []
            for _ in range(next(tokens)):
                ring: list[int] = []
                for k in range(next(tokens)):
                    px, py = x, y
                    x, y = x + coords[c], y + coords[c + 1]
                    c += 2
                    ring += [x, y] if k == 0 else [x - px, y - py]
                rings.append(ring)
            polygons.append(rings)
        out.append([1, polygons])
    return out
