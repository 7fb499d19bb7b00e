"""Mapbox vector tiles (MVT 2.1) written with numpy: tile arithmetic, flattened geometries and
the protobuf encoding, with no per-feature Python loop.

Every part of a tile layer's ``features`` is a protobuf varint (field tags below 128, lengths,
ids, packed tags, packed geometry commands), so a whole layer is built as one array of unsigned
integers and varint-encoded at once. Geometry is kept *flattened* (one coordinate array, ring
offsets, the feature of each ring), so a tile is a gather of coordinate ranges, an affine
transform, rounding to the tile grid (which is also the simplification: consecutive points that
fall on one grid cell merge, rings that collapse are dropped), orientation fixed as the
specification asks (exterior rings positive by the surveyor's formula in tile coordinates, y
down), and the command stream. Property values are encoded once per layer (``Column``); a tile
only gathers the bytes of the values its features use.

Measured against ``mapbox_vector_tile.encode`` on the sample district (benchmarks/
service_map_bench.py prints both): the same tile decodes to the same features.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from gis.crs import WEB_MERCATOR_HALF, web_mercator_tile

__all__ = [
    "BUFFER",
    "EXTENT",
    "MAX_ZOOM",
    "WORLD",
    "Column",
    "Flat",
    "column",
    "encode_layer",
    "flatten",
    "take",
    "tile_bounds",
    "tile_of",
]

EXTENT = 4096
BUFFER = 128          # tile units around the tile (8 px at 256 px): wider than any stroke we draw
WORLD = WEB_MERCATOR_HALF  # half the Web Mercator world, metres
MAX_ZOOM = 24

_POINT, _EXTERIOR, _INTERIOR = 0, 1, 2


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The tile's bounds in EPSG:3857 (XYZ scheme, y from the north)."""
    return web_mercator_tile(z, x, y)


def tile_of(x: float, y: float, z: int) -> tuple[int, int]:
    """The tile holding EPSG:3857 point (x, y) at zoom z."""
    n = 1 << z
    size = 2 * WORLD / n
    return (min(n - 1, max(0, math.floor((x + WORLD) / size))),
            min(n - 1, max(0, math.floor((WORLD - y) / size))))


# --- flattened geometry ---------------------------------------------------------------------

@dataclass(frozen=True)
class Flat:
    """Geometries as arrays: ring ``i`` is ``coords[ring_start[i]:ring_start[i + 1]]`` (no
    closing point), belongs to feature ``ring_feat[i]`` (non-decreasing) and is a point, an
    exterior or an interior ring (``ring_kind``: 0, 1, 2). A (multi)point feature has one
    one-point "ring" per point."""

    coords: np.ndarray
    ring_start: np.ndarray
    ring_feat: np.ndarray
    ring_kind: np.ndarray
    feat_ring: np.ndarray  # (n + 1,) first ring of each feature

    @property
    def size(self) -> int:
        return len(self.feat_ring) - 1


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + l)`` for each pair, without a Python loop."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift


def _single_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points and polygons of each geometry (collections and multi-parts opened, two levels)."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    kinds = shapely.get_type_id(parts)
    nested = np.isin(kinds, (4, 5, 6, 7))
    if nested.any():
        inner, inner_index = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        index = np.concatenate([index[~nested], index[nested][inner_index]])
        order = np.argsort(index, kind="stable")
        parts, index = parts[order], index[order]
        kinds = shapely.get_type_id(parts)
    keep = (kinds == 0) | (kinds == 3)
    keep &= ~shapely.is_empty(parts)
    return parts[keep], index[keep]


def flatten(geoms: np.ndarray) -> Flat:
    """Flatten shapely points and polygons (multi-parts, collections); lines are left out."""
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    parts, part_feat = _single_parts(geoms)
    kinds = shapely.get_type_id(parts)
    is_poly = kinds == 3
    # polygons: rings in part order, exterior first; points: a ring of one point
    rings, ring_part = shapely.get_rings(parts[is_poly], return_index=True)
    poly_part = np.flatnonzero(is_poly)[ring_part]
    first = np.r_[True, ring_part[1:] != ring_part[:-1]] if len(ring_part) else np.zeros(0, bool)
    coords_r, coord_ring = shapely.get_coordinates(rings, return_index=True)
    ring_len = np.bincount(coord_ring, minlength=len(rings)) - 1  # without the closing point
    closing = np.cumsum(ring_len + 1) - 1
    keep = np.ones(len(coords_r), dtype=bool)
    keep[closing] = False
    coords_r = coords_r[keep]
    point_part = np.flatnonzero(~is_poly)
    coords_p = shapely.get_coordinates(parts[~is_poly])
    # merge polygon rings and point "rings" in part order (= feature order)
    ring_parts = np.concatenate([poly_part, point_part])
    ring_lens = np.concatenate([ring_len, np.ones(len(point_part), dtype=np.int64)])
    ring_kinds = np.concatenate([np.where(first, _EXTERIOR, _INTERIOR),
                                 np.full(len(point_part), _POINT)]).astype(np.int8)
    src_start = np.concatenate([np.cumsum(ring_len) - ring_len,
                                len(coords_r) + np.arange(len(point_part))])
    order = np.argsort(ring_parts, kind="stable")
    all_coords = np.concatenate([coords_r, coords_p]) if len(coords_p) else coords_r
    lens = ring_lens[order]
    coords = all_coords[_ranges(src_start[order], lens)] if len(order) else np.zeros((0, 2))
    ring_feat = part_feat[ring_parts[order]] if len(order) else np.zeros(0, dtype=np.int64)
    ring_start = np.r_[0, np.cumsum(lens)].astype(np.int64)
    feat_ring = np.searchsorted(ring_feat, np.arange(n + 1)).astype(np.int64)
    return Flat(np.ascontiguousarray(coords[:, :2], dtype=np.float64), ring_start,
                ring_feat.astype(np.int64), ring_kinds[order], feat_ring)


def take(flat: Flat, features: np.ndarray) -> Flat:
    """The rings of ``features`` (indices into ``flat``), renumbered 0..len(features)-1."""
    features = np.asarray(features, dtype=np.int64)
    first, last = flat.feat_ring[features], flat.feat_ring[features + 1]
    rings = _ranges(first, last - first)
    lens = flat.ring_start[rings + 1] - flat.ring_start[rings]
    coords = flat.coords[_ranges(flat.ring_start[rings], lens)]
    counts = last - first
    ring_feat = np.repeat(np.arange(len(features), dtype=np.int64), counts)
    return Flat(coords, np.r_[0, np.cumsum(lens)].astype(np.int64), ring_feat,
                flat.ring_kind[rings], np.r_[0, np.cumsum(counts)].astype(np.int64))


def concat(a: Flat, b: Flat) -> Flat:
    """``a``'s features then ``b``'s."""
    return Flat(np.concatenate([a.coords, b.coords]),
                np.r_[a.ring_start[:-1], b.ring_start + a.ring_start[-1]],
                np.r_[a.ring_feat, b.ring_feat + a.size],
                np.r_[a.ring_kind, b.ring_kind],
                np.r_[a.feat_ring[:-1], b.feat_ring + a.feat_ring[-1]])


# --- protobuf pieces ------------------------------------------------------------------------

_THRESHOLDS = np.array([1 << (7 * k) for k in range(1, 10)], dtype=np.uint64)


def _varint_sizes(values: np.ndarray) -> np.ndarray:
    return 1 + np.searchsorted(_THRESHOLDS, np.asarray(values, dtype=np.uint64), side="right")


def _varints(values: np.ndarray) -> bytes:
    """The varints of ``values`` (uint64), concatenated: one row of 7-bit groups per value,
    the groups a value needs picked in row order."""
    values = np.asarray(values, dtype=np.uint64)
    if len(values) == 0:
        return b""
    sizes = _varint_sizes(values)
    width = int(sizes.max())
    groups = np.empty((len(values), width), dtype=np.uint8)
    for k in range(width):
        groups[:, k] = ((values >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8)
        groups[:, k] |= (sizes > k + 1).view(np.uint8) << 7
    return groups[np.arange(width) < sizes[:, None]].tobytes()


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _zigzag(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.int64)
    return ((v << 1) ^ (v >> 63)).astype(np.uint64)


def _field(number: int, payload: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def _value(v: object) -> bytes:
    """A ``Tile.Value`` message."""
    if isinstance(v, (bool, np.bool_)):
        return b"\x38" + (b"\x01" if v else b"\x00")
    if isinstance(v, (int, np.integer)):
        i = int(v)
        return b"\x30" + _varint((i << 1) ^ (i >> 63) if i < 0 else i << 1)
    if isinstance(v, (float, np.floating)):
        return b"\x19" + struct.pack("<d", float(v))
    text = v.isoformat() if hasattr(v, "isoformat") else str(v)
    return _field(1, text.encode("utf-8"))


@dataclass(frozen=True)
class Column:
    """One property, encoded once per layer: a code per feature (-1 for null) and, for each
    distinct value, its ``values`` entry of a tile layer (field 4, length, ``Value``)."""

    name: str
    codes: np.ndarray
    blob: np.ndarray
    offsets: np.ndarray


def _string_entry(text: str) -> bytes:
    data = text.encode("utf-8")
    n = len(data)
    if n < 126:  # one-byte lengths: the common case, without the general path
        return bytes((0x22, n + 2, 0x0A, n)) + data
    return _field(4, _field(1, data))


def column(name: str, values: pd.Series) -> Column:
    """Factorise a property column (NaN, None and NA are null) and encode each distinct value
    once (floats all at once with numpy)."""
    if values.dtype.kind == "f":
        codes, uniques = pd.factorize(values.to_numpy(), use_na_sentinel=True)
        doubles = np.asarray(uniques, dtype="<f8")
        rows = np.empty((len(doubles), 11), dtype=np.uint8)
        rows[:, :3] = (0x22, 0x09, 0x19)  # values entry, 9 bytes, Value.double_value
        rows[:, 3:] = doubles.view(np.uint8).reshape(-1, 8)
        return Column(name, codes.astype(np.int64), rows.ravel(),
                      np.arange(len(doubles) + 1, dtype=np.int64) * 11)
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    entries = [_string_entry(u) if isinstance(u, str)
               else _field(4, _value(u.item() if hasattr(u, "item") else u)) for u in uniques]
    blob = np.frombuffer(b"".join(entries), dtype=np.uint8)
    offsets = np.r_[0, np.cumsum([len(e) for e in entries])].astype(np.int64)
    return Column(name, codes.astype(np.int64), blob, offsets)


# --- a tile layer ---------------------------------------------------------------------------

def _geometry(flat: Flat, bounds: tuple[float, float, float, float], extent: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Command streams: (features kept, their MVT type, values, value count per kept feature)."""
    minx, _, maxx, maxy = bounds
    k = extent / (maxx - minx)
    xy = np.empty((len(flat.coords), 2), dtype=np.int64)
    xy[:, 0] = np.rint((flat.coords[:, 0] - minx) * k)
    xy[:, 1] = np.rint((maxy - flat.coords[:, 1]) * k)
    nr = len(flat.ring_kind)
    if nr == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.uint64), empty
    lens = np.diff(flat.ring_start)
    rid = np.repeat(np.arange(nr, dtype=np.int64), lens)
    # points that fall on the previous one's grid cell merge; so does a last point on the first
    same = np.zeros(len(xy), dtype=bool)
    same[1:] = (rid[1:] == rid[:-1]) & (xy[1:] == xy[:-1]).all(axis=1)
    xy, rid = xy[~same], rid[~same]
    counts = np.bincount(rid, minlength=nr)
    starts = np.r_[0, np.cumsum(counts)][:-1]
    has = counts > 1
    lasts = starts + counts - 1
    wraps = np.zeros(nr, dtype=bool)
    wraps[has] = (xy[lasts[has]] == xy[starts[has]]).all(axis=1) & (flat.ring_kind[has] != _POINT)
    if wraps.any():
        drop = np.zeros(len(xy), dtype=bool)
        drop[lasts[wraps]] = True
        xy, rid = xy[~drop], rid[~drop]
        counts = np.bincount(rid, minlength=nr)
        starts = np.r_[0, np.cumsum(counts)][:-1]
    # surveyor's formula per ring, in tile coordinates (y down)
    nxt = np.arange(1, len(xy) + 1)
    nonempty = counts > 0
    nxt[(starts + counts - 1)[nonempty]] = starts[nonempty]  # a ring's last point wraps
    x, y = xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)
    area2 = np.bincount(rid, weights=x * y[nxt] - x[nxt] * y, minlength=nr)
    kind = flat.ring_kind
    is_point = kind == _POINT
    valid = np.where(is_point, counts >= 1, (counts >= 3) & (area2 != 0))
    part = np.cumsum(kind != _INTERIOR) - 1  # an interior ring belongs to the exterior before it
    part_ok = np.zeros(part[-1] + 1, dtype=bool)
    heads = np.flatnonzero(kind != _INTERIOR)
    part_ok[part[heads]] = valid[heads]
    ok = valid & part_ok[part]
    # keep one kind per feature (the first ring's): a tile feature is points or polygons
    feat_kind = np.full(flat.size, -1, dtype=np.int64)
    okr = np.flatnonzero(ok)
    okf = flat.ring_feat[okr]
    heads_ok = okr[np.r_[True, okf[1:] != okf[:-1]]] if len(okr) else okr
    feat_kind[flat.ring_feat[heads_ok]] = np.where(is_point[heads_ok], 1, 3)
    ok &= np.where(is_point, feat_kind[flat.ring_feat] == 1, feat_kind[flat.ring_feat] == 3)
    reverse = ok & ~is_point & (((kind == _EXTERIOR) & (area2 < 0)) | ((kind == _INTERIOR) & (area2 > 0)))
    # the points of the rings kept, each ring in its final orientation
    rings = np.flatnonzero(ok)
    rlen = counts[rings]
    pos_in_ring = _ranges(np.zeros(len(rings), dtype=np.int64), rlen)
    rev = np.repeat(reverse[rings], rlen)
    rlen_pt = np.repeat(rlen, rlen)
    src = np.repeat(starts[rings], rlen) + np.where(rev, rlen_pt - 1 - pos_in_ring, pos_in_ring)
    pts = xy[src]
    ring_of_pt = np.repeat(rings, rlen)
    feat_of_pt = flat.ring_feat[ring_of_pt]
    # deltas: from the previous point of the same feature, the first from (0, 0)
    delta = pts.copy()
    if len(pts) > 1:
        cont = feat_of_pt[1:] == feat_of_pt[:-1]
        delta[1:][cont] = pts[1:][cont] - pts[:-1][cont]
    zz = _zigzag(delta.ravel()).reshape(-1, 2)
    # segments: polygon ring [MoveTo(1) x y LineTo(L-1) ... ClosePath], points [MoveTo(n) x y ...]
    rfeat = flat.ring_feat[rings]
    rpoint = is_point[rings]
    first_of_feat = np.r_[True, rfeat[1:] != rfeat[:-1]] if len(rings) else np.zeros(0, bool)
    seg = np.where(rpoint, 2 + first_of_feat, 2 * rlen + 3)
    seg_start = np.r_[0, np.cumsum(seg)][:-1]
    out = np.zeros(int(seg.sum()), dtype=np.uint64)
    poly = ~rpoint
    out[seg_start[poly]] = 9                                      # MoveTo, count 1
    out[seg_start[poly] + 3] = (2 | ((rlen[poly] - 1) << 3)).astype(np.uint64)  # LineTo
    out[seg_start[poly] + seg[poly] - 1] = 15                     # ClosePath
    pts_per_feat = np.bincount(rfeat[rpoint], minlength=flat.size)
    heads_pt = rpoint & first_of_feat
    out[seg_start[heads_pt]] = (1 | (pts_per_feat[rfeat[heads_pt]] << 3)).astype(np.uint64)
    j = pos_in_ring
    ring_seg = np.repeat(seg_start, rlen)
    offset = np.where(np.repeat(rpoint, rlen), np.repeat(first_of_feat.astype(np.int64), rlen),
                      np.where(j == 0, 1, 2 * j + 2))
    at = ring_seg + offset
    out[at] = zz[:, 0]
    out[at + 1] = zz[:, 1]
    per_feat = np.bincount(rfeat, weights=seg, minlength=flat.size).astype(np.int64)
    kept = np.flatnonzero(per_feat > 0)
    return kept, feat_kind[kept], out, per_feat[kept]


def encode_layer(name: str, flat: Flat, rows: np.ndarray, columns: list[Column],
                 bounds: tuple[float, float, float, float], *, extent: int = EXTENT
                 ) -> bytes:
    """One tile holding one layer ``name``; ``flat`` is in EPSG:3857 (clipped to the buffered
    tile), ``rows`` gives each of its features' row in ``columns`` (ids are ``rows + 1``).
    Returns b"" when no feature is left."""
    kept, kinds, gstream, gcount = _geometry(flat, bounds, extent)
    if len(kept) == 0:
        return b""
    rows = np.asarray(rows, dtype=np.int64)[kept]
    n = len(rows)
    # tags: per feature (key, value) pairs of the non-null properties, tile-local value ids
    value_ids = np.full((n, len(columns)), -1, dtype=np.int64)
    value_parts, base = [], 0
    for j, col in enumerate(columns):
        codes = col.codes[rows]
        present = codes >= 0
        used = np.zeros(len(col.offsets) - 1, dtype=bool)
        used[codes[present]] = True
        uniq = np.flatnonzero(used)
        local = np.cumsum(used) - 1  # code -> tile-local value id
        value_ids[present, j] = base + local[codes[present]]
        base += len(uniq)
        lo, hi = col.offsets[uniq], col.offsets[uniq + 1]
        value_parts.append(col.blob[_ranges(lo, hi - lo)].tobytes())
    present = value_ids >= 0
    keys = np.broadcast_to(np.arange(len(columns), dtype=np.int64), value_ids.shape)
    tags = np.column_stack([keys[present], value_ids[present]]).ravel().astype(np.uint64)
    tcount = 2 * present.sum(axis=1)
    tag_sizes = _varint_sizes(tags)
    tbytes = np.bincount(np.repeat(np.arange(n), tcount), weights=tag_sizes,
                         minlength=n).astype(np.int64)
    gsizes = _varint_sizes(gstream)
    gbytes = np.bincount(np.repeat(np.arange(n), gcount), weights=gsizes,
                         minlength=n).astype(np.int64)
    ids = (rows + 1).astype(np.uint64)
    flen = (1 + _varint_sizes(ids) + 1 + _varint_sizes(tbytes.astype(np.uint64)) + tbytes
            + 2 + 1 + _varint_sizes(gbytes.astype(np.uint64)) + gbytes)
    # [0x12 flen | 0x08 id 0x12 tlen tags... 0x18 type 0x22 glen geometry...] per feature
    seg = 10 + tcount + gcount
    start = np.r_[0, np.cumsum(seg)][:-1]
    out = np.empty(int(seg.sum()), dtype=np.uint64)
    out[start] = 0x12
    out[start + 1] = flen.astype(np.uint64)
    out[start + 2] = 0x08
    out[start + 3] = ids
    out[start + 4] = 0x12
    out[start + 5] = tbytes.astype(np.uint64)
    out[_ranges(start + 6, tcount)] = tags
    after = start + 6 + tcount
    out[after] = 0x18
    out[after + 1] = kinds.astype(np.uint64)
    out[after + 2] = 0x22
    out[after + 3] = gbytes.astype(np.uint64)
    out[_ranges(after + 4, gcount)] = gstream
    layer = b"".join([
        b"\x78\x02",                                  # version 2
        _field(1, name.encode("utf-8")),
        _varints(out),
        *(_field(3, c.name.encode("utf-8")) for c in columns),
        *value_parts,
        b"\x28" + _varint(extent),
    ])
    return _field(3, layer)
