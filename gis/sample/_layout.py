"""Cell grid and parcel geometry of the synthetic district (internal).

The district is a grid of *cells*. Each cell holds one block of parcels at its lower left
plus two strips (one along its top, one along its right side) that become roads, canals
or the river, so cells and the parcels inside them tile the district with no gaps or
overlaps. A block is cut into an ``nx × ny`` grid of quadrilateral lots whose shared
vertices are jittered (at most 15 % of a lot in x, 12 % in y, which keeps every quad
convex); vertices on a block edge only slide along that edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gis.sample import names as N

CENTRE = (590_000.0, 2_330_000.0)
RES, FAC, AGR, GARDEN, POND, CEM, BCS = range(len(N.BLOCK_KINDS))
#: Allowed lot width range when the parcel count is tuned (m), per adjustable kind.
_LOT_WIDTH_RANGE = {RES: (6.0, 16.0), AGR: (12.0, 45.0), GARDEN: (8.0, 28.0)}
_JITTER_X, _JITTER_Y = 0.15, 0.12
BLOCK, TOP_STRIP, RIGHT_STRIP = 0, 1, 2


@dataclass
class Layout:
    """Cell grid of the district (internal; arrays are indexed by cell = row * C + col)."""

    xb: np.ndarray  # column breaks, C + 1
    yb: np.ndarray  # row breaks, R + 1
    top_w: np.ndarray  # width of the top strip per row, R
    right_w: np.ndarray  # width of the right strip per column, C
    river_row: int
    canal_col: np.ndarray  # bool per column: right strips through farmland are canals
    kind: np.ndarray  # block kind per cell
    ward: np.ndarray  # ward index per cell
    phuong: np.ndarray  # bool per ward
    nx: np.ndarray
    ny: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.yb.size - 1, self.xb.size - 1

    @property
    def side(self) -> float:
        return float(self.xb[-1] - self.xb[0])

    def block_bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x0, x1, y0, y1) of the block of every cell."""
        n_rows, n_cols = self.shape
        col = np.tile(np.arange(n_cols), n_rows)
        row = np.repeat(np.arange(n_rows), n_cols)
        x0, y0 = self.xb[col], self.yb[row]
        return x0, self.xb[col + 1] - self.right_w[col], y0, self.yb[row + 1] - self.top_w[row]

    def count(self) -> int:
        return int((self.nx * self.ny).sum()) + 2 * self.kind.size


def n_wards_for(n_parcels: int) -> int:
    """Number of wards: 4 at 1 000 parcels, growing with log10(size) to 13 at 1 000 000."""
    return int(np.clip(round(4 + 3 * math.log10(n_parcels / 1000)), 4, 16))


def _draw_layout(side: float, n_parcels: int, seed: int) -> Layout:
    rng = rng_for(seed, 1)
    n_cols, n_rows = max(2, round(side / 155)), max(2, round(side / 110))
    widths, heights = rng.uniform(110, 200, n_cols), rng.uniform(80, 140, n_rows)
    xb = CENTRE[0] - side / 2 + np.concatenate([[0], np.cumsum(widths * side / widths.sum())])
    yb = CENTRE[1] - side / 2 + np.concatenate([[0], np.cumsum(heights * side / heights.sum())])
    top_w = np.where(rng.random(n_rows) < 0.2, rng.uniform(12, 18, n_rows), rng.uniform(5, 8, n_rows))
    right_w = np.where(rng.random(n_cols) < 0.2, rng.uniform(12, 18, n_cols), rng.uniform(5, 8, n_cols))
    river_row = int(np.clip(n_rows // 2 + rng.integers(-(n_rows // 6), n_rows // 6 + 1), 0, n_rows - 1))
    top_w[river_row] = float(np.clip(0.3 * np.diff(yb)[river_row], 20, 50))
    canal_col = rng.random(n_cols) < 0.3
    # Wards: nearest of k seeds on a jittered grid; the seeds nearest the centre are phường.
    k = n_wards_for(n_parcels)
    g = math.ceil(math.sqrt(k))
    grid = (np.stack(np.meshgrid(np.arange(g), np.arange(g)), -1).reshape(-1, 2) + 0.5
            + rng.uniform(-0.3, 0.3, (g * g, 2))) / g
    seeds = CENTRE[0] - side / 2 + grid[rng.permutation(g * g)[:k]] * side
    seeds[:, 1] += CENTRE[1] - CENTRE[0]
    cx = np.tile((xb[:-1] + xb[1:]) / 2, n_rows)
    cy = np.repeat((yb[:-1] + yb[1:]) / 2, n_cols)
    nearest = np.argmin((cx[:, None] - seeds[:, 0]) ** 2 + (cy[:, None] - seeds[:, 1]) ** 2, axis=1)
    used, ward = np.unique(nearest, return_inverse=True)  # drop seeds that won no cell
    seeds = seeds[used]
    dist = np.hypot(seeds[:, 0] - CENTRE[0], seeds[:, 1] - CENTRE[1])
    phuong = np.zeros(len(seeds), bool)
    phuong[np.argsort(dist)[: max(1, round(0.35 * len(seeds)))]] = True
    # Number wards as official lists do: phường first, then north to south, west to east.
    counts = np.bincount(ward)
    wx, wy = np.bincount(ward, cx) / counts, np.bincount(ward, cy) / counts
    order = np.lexsort((wx, -np.round(wy, -2), ~phuong))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    ward, phuong = rank[ward], phuong[order]
    # Block kinds by distance from the centre: residential core, farmland on the edge.
    r = np.hypot(cx - CENTRE[0], cy - CENTRE[1]) / (side / 2)
    p = np.empty((r.size, len(N.BLOCK_KINDS)))
    p[:, RES] = np.clip(1.05 - 1.0 * r + 0.2 * phuong[ward], 0.05, 0.9)
    p[:, FAC] = np.where(r < 0.8, 0.07, 0.015)
    p[:, AGR] = np.clip(0.2 + 0.6 * r, 0, 0.8)
    p[:, GARDEN] = 0.1
    p[:, POND] = 0.05 * np.clip(r, 0.2, 1.2)
    p[:, CEM] = np.where((r > 0.35) & (r < 1.1), 0.02, 0.004)
    p[:, BCS] = 0.012
    cum = np.cumsum(p / p.sum(1, keepdims=True), axis=1)
    kind = np.minimum((rng.random(r.size)[:, None] > cum).sum(1), len(N.BLOCK_KINDS) - 1)
    layout = Layout(xb, yb, top_w, right_w, river_row, canal_col, kind, ward, phuong,
                    np.zeros(r.size, int), np.zeros(r.size, int))
    x0, x1, y0, y1 = layout.block_bounds()
    lots = np.array([N.LOT_SIZE[name] for name in N.BLOCK_KINDS])[kind]
    lots = lots * rng.uniform(0.85, 1.2, (r.size, 1))
    layout.nx = np.maximum(np.where(kind == RES, 2, 1), np.rint((x1 - x0) / lots[:, 0])).astype(int)
    layout.ny = np.maximum(1, np.rint((y1 - y0) / lots[:, 1])).astype(int)
    return layout


def _fit_count(layout: Layout, n_target: int, seed: int) -> None:
    """Tune lots per block (±1 column at a time) until the count is within a few parcels."""
    rng = rng_for(seed, 2)
    x0, x1, _, _ = layout.block_bounds()
    width = x1 - x0
    order = rng.permutation(layout.kind.size)
    deficit = n_target - layout.count()
    for kind, (lo, hi) in _LOT_WIDTH_RANGE.items():
        cells = order[layout.kind[order] == kind]
        for _ in range(40):
            changed = False
            for c in cells:
                if abs(deficit) < layout.ny[c]:
                    continue
                step = 1 if deficit > 0 else -1
                new = layout.nx[c] + step
                if new >= (2 if kind == RES else 1) and lo <= width[c] / new <= hi:
                    layout.nx[c] = new
                    deficit -= step * layout.ny[c]
                    changed = True
            if not changed or abs(deficit) <= 2:
                break


def plan_layout(n_parcels: int, seed: int) -> Layout:
    """Size the district so it holds about ``n_parcels`` parcels, then fit the count."""
    side = math.sqrt(n_parcels * 330.0)
    best: tuple[float, float] | None = None
    for _ in range(8):
        count = _draw_layout(side, n_parcels, seed).count()
        if best is None or abs(count - n_parcels) < best[0]:
            best = (abs(count - n_parcels), side)
        if abs(count - n_parcels) < 0.01 * n_parcels:
            break
        side *= math.sqrt(n_parcels / count)
    layout = _draw_layout(best[1], n_parcels, seed)  # type: ignore[index]
    _fit_count(layout, n_parcels, seed)
    if abs(layout.count() - n_parcels) > 0.01 * n_parcels:  # never seen; keep the promise loud
        raise RuntimeError(f"could not fit {n_parcels} parcels (got {layout.count()})")
    return layout


def _block_quads(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray,
                 nx: int, ny: int, rng: np.random.Generator) -> np.ndarray:
    """Quads (B·ny·nx, 5, 2) tiling B blocks, row-major, with shared jittered vertices."""
    b = x0.size
    u = np.broadcast_to(np.linspace(0, 1, nx + 1), (b, ny + 1, nx + 1)).copy()
    v = np.broadcast_to(np.linspace(0, 1, ny + 1)[:, None], (b, ny + 1, nx + 1)).copy()
    if nx > 1:
        u[:, :, 1:-1] += rng.uniform(-_JITTER_X, _JITTER_X, (b, ny + 1, nx - 1)) / nx
    if ny > 1:
        v[:, 1:-1, :] += rng.uniform(-_JITTER_Y, _JITTER_Y, (b, ny - 1, nx + 1)) / ny
    xs = x0[:, None, None] * (1 - u) + x1[:, None, None] * u
    ys = y0[:, None, None] * (1 - v) + y1[:, None, None] * v
    pts = np.stack([xs, ys], axis=-1)
    corners = [pts[:, :-1, :-1], pts[:, :-1, 1:], pts[:, 1:, 1:], pts[:, 1:, :-1], pts[:, :-1, :-1]]
    return np.stack(corners, axis=3).reshape(-1, 5, 2)


def _rect_quads(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
    xs = np.stack([x0, x1, x1, x0, x0], axis=1)
    ys = np.stack([y0, y0, y1, y1, y0], axis=1)
    return np.stack([xs, ys], axis=-1)


@dataclass
class ParcelArrays:
    """Per-parcel arrays before the final sort (internal)."""

    coords: np.ndarray  # (n, 5, 2) intended quads
    cell: np.ndarray
    part: np.ndarray  # BLOCK, TOP_STRIP or RIGHT_STRIP
    row: np.ndarray  # row / column of the lot inside its block (-1 for strips)
    col: np.ndarray
    nx: np.ndarray
    ny: np.ndarray
    top_strip: np.ndarray  # index of the top strip of the parcel's cell
    ward: np.ndarray
    kind: np.ndarray


def build_parcels(layout: Layout, seed: int) -> ParcelArrays:
    """Cut every block into lots and add the road/canal/river strips."""
    rng = rng_for(seed, 3)
    x0, x1, y0, y1 = layout.block_bounds()
    n_cells = x0.size
    n_rows, n_cols = layout.shape
    groups = layout.nx * 100_000 + layout.ny
    parts: list[tuple[np.ndarray, ...]] = []
    for key in np.unique(groups):
        cells = np.flatnonzero(groups == key)
        nx, ny = int(key // 100_000), int(key % 100_000)
        quads = _block_quads(x0[cells], x1[cells], y0[cells], y1[cells], nx, ny, rng)
        rr, cc = np.indices((ny, nx)).reshape(2, -1)
        parts.append((quads, np.repeat(cells, nx * ny), np.tile(rr, cells.size),
                      np.tile(cc, cells.size), np.full(quads.shape[0], nx), np.full(quads.shape[0], ny)))
    col, row = np.tile(np.arange(n_cols), n_rows), np.repeat(np.arange(n_rows), n_cols)
    top = _rect_quads(layout.xb[col], layout.xb[col + 1], y1, layout.yb[row + 1])
    right = _rect_quads(x1, layout.xb[col + 1], y0, y1)
    cells = np.arange(n_cells)
    minus = np.full(n_cells, -1)
    for quads in (top, right):
        parts.append((quads, cells, minus, minus, minus, minus))
    coords = np.concatenate([p[0] for p in parts])
    cell = np.concatenate([p[1] for p in parts])
    n_block = coords.shape[0] - 2 * n_cells
    part = np.repeat([BLOCK, TOP_STRIP, RIGHT_STRIP], [n_block, n_cells, n_cells])
    top_index = n_block + np.arange(n_cells)
    return ParcelArrays(
        coords=coords, cell=cell, part=part,
        row=np.concatenate([p[2] for p in parts]), col=np.concatenate([p[3] for p in parts]),
        nx=np.concatenate([p[4] for p in parts]), ny=np.concatenate([p[5] for p in parts]),
        top_strip=top_index[cell], ward=layout.ward[cell], kind=layout.kind[cell],
    )


def rng_for(seed: int, stream: int) -> np.random.Generator:
    """Independent random stream ``stream`` for ``seed`` (one per generation step)."""
    return np.random.default_rng([seed, stream])
