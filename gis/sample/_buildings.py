"""Building footprints, with planted violations (internal).

Ordinary footprints are the host lot shrunk about its vertex mean (lots are convex, so a
factor below 1 keeps the footprint strictly inside). Planted footprints are checked with
shapely before they are kept, so the manifest states measured overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from gis.sample import names as N
from gis.sample._layout import BLOCK, ParcelArrays, rng_for

AGRICULTURAL = "construction_on_agricultural_land"
BELOW_THRESHOLD = "below_threshold"
PUBLIC = "encroachment_public_land"
NEIGHBOUR = "encroachment_neighbour"


@dataclass
class Buildings:
    """Footprints before the final ordering (internal)."""

    geometry: np.ndarray  # shapely polygons
    host: np.ndarray  # parcel index (pre-sort) the footprint starts from
    floors: np.ndarray
    year: np.ndarray
    planted: list[dict[str, Any]]  # {"building", "kind", "parcels", "area_m2"}


def _scaled(coords: np.ndarray, factor: np.ndarray) -> np.ndarray:
    centre = coords[:, :4].mean(axis=1, keepdims=True)
    return centre + factor[:, None, None] * (coords - centre)


def _rects(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
    xs = np.stack([x0, x1, x1, x0, x0], axis=1)
    ys = np.stack([y0, y0, y1, y1, y0], axis=1)
    return np.stack([xs, ys], axis=-1)


def _straddling(fp: np.ndarray, own: np.ndarray, other: np.ndarray,
                polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Footprints that lie within ``own`` ∪ ``other``; returns (ok mask, area in other)."""
    geoms = shapely.polygons(fp)
    a_own = shapely.area(shapely.intersection(geoms, polys[own]))
    a_other = shapely.area(shapely.intersection(geoms, polys[other]))
    ok = shapely.is_valid(geoms) & (np.abs(a_own + a_other - shapely.area(geoms)) < 1e-6)
    return ok, a_other


def make_buildings(arrays: ParcelArrays, codes: np.ndarray, owner: np.ndarray,
                   area: np.ndarray, excluded: np.ndarray, seed: int) -> Buildings:
    """Footprints on ~40 % of household residential lots plus the planted violations."""
    rng = rng_for(seed, 9)
    coords, n = arrays.coords, codes.size
    polys = shapely.polygons(coords)
    free = np.ones(n, bool)
    free[excluded] = False
    lot = (arrays.part == BLOCK) & free
    res = lot & np.isin(codes, list(N.RESIDENTIAL_CODES)) & np.isin(owner, ["GDC", "CNV"])
    agri = lot & np.isin(codes, list(N.AGRICULTURAL_CODES)) & (area >= 300)
    n_agri, n_small = max(3, round(n * 8e-4)), max(2, round(n * 2e-4))
    n_public, n_neighbour = max(3, round(n * 5e-4)), max(3, round(n * 5e-4))
    footprints: list[np.ndarray] = []
    hosts: list[np.ndarray] = []
    planted: list[dict] = []

    def keep(fp: np.ndarray, host: np.ndarray, kind: str, others: np.ndarray | None,
             overlap: np.ndarray) -> None:
        base = sum(h.size for h in hosts)
        for i in range(host.size):
            parcels = [int(host[i])] + ([int(others[i])] if others is not None else [])
            planted.append({"building": base + i, "kind": kind, "parcels": parcels,
                            "area_m2": round(float(overlap[i]), 1)})
        footprints.append(fp)
        hosts.append(host)

    # Construction on agricultural land, and tiny sheds below the 5 m² threshold.
    cand = rng.permutation(np.flatnonzero(agri))
    for kind, size, lo, hi in ((AGRICULTURAL, n_agri, 30.0, 150.0),
                               (BELOW_THRESHOLD, n_small, 2.0, 4.5)):
        host, cand = cand[:size], cand[size:]
        fp = _scaled(coords[host], np.sqrt(rng.uniform(lo, hi, host.size) / area[host]))
        keep(fp, host, kind, None, shapely.area(shapely.polygons(fp)))
    used = np.zeros(n, bool)
    # Front of a lot pushed into the road / canal / river strip along the block top.
    cand = rng.permutation(np.flatnonzero(res & (arrays.row == arrays.ny - 1)))[: 4 * n_public + 20]
    q, strip = coords[cand], arrays.top_strip[cand]
    xl = np.maximum(q[:, 0, 0], q[:, 3, 0]) + 0.8
    xr = np.minimum(q[:, 1, 0], q[:, 2, 0]) - 0.8
    top = q[:, 3, 1]
    depth_in = np.minimum(rng.uniform(4, 8, cand.size), top - np.maximum(q[:, 0, 1], q[:, 1, 1]) - 0.8)
    strip_w = coords[strip, 2, 1] - coords[strip, 0, 1]
    d_out = np.minimum(rng.uniform(2.0, 3.5, cand.size), 0.6 * strip_w)
    fp = _rects(xl, xr, top - depth_in, top + d_out)
    ok, overlap = _straddling(fp, cand, strip, polys)
    sel = np.flatnonzero(ok & (overlap >= 12.0) & (depth_in > 2.0))[:n_public]
    keep(fp[sel], cand[sel], PUBLIC, strip[sel], overlap[sel])
    used[cand[sel]] = True
    # Side wall pushed across the shared edge into the next lot of the same row.
    cand = np.flatnonzero(res & ~used & (arrays.col < arrays.nx - 1))
    cand = rng.permutation(cand[res[cand + 1] & ~used[cand + 1]])[: 4 * n_neighbour + 20]
    e0, e1 = coords[cand, 1], coords[cand, 2]
    a, b = rng.uniform(3.0, 4.5, cand.size)[:, None], rng.uniform(1.3, 2.2, cand.size)[:, None]
    lo_pt, hi_pt = e0 + 0.3 * (e1 - e0), e0 + 0.7 * (e1 - e0)
    dx = np.array([1.0, 0.0])
    fp = np.stack([lo_pt - a * dx, lo_pt + b * dx, hi_pt + b * dx, hi_pt - a * dx, lo_pt - a * dx], axis=1)
    ok, overlap = _straddling(fp, cand, cand + 1, polys)
    chosen: list[int] = []
    for i in np.flatnonzero(ok & (overlap >= 6.0)):
        if len(chosen) == n_neighbour:
            break
        if not used[cand[i]] and not used[cand[i] + 1]:
            chosen.append(int(i))
            used[[cand[i], cand[i] + 1]] = True
    sel = np.array(chosen, dtype=np.int64)
    keep(fp[sel], cand[sel], NEIGHBOUR, cand[sel] + 1, overlap[sel])
    # Ordinary houses well inside ~40 % of the remaining household residential lots.
    rest = np.flatnonzero(res & ~used)
    host = np.sort(rng.choice(rest, size=round(0.4 * rest.size), replace=False))
    footprints.append(_scaled(coords[host], rng.uniform(0.45, 0.75, host.size)))
    hosts.append(host)
    host_all = np.concatenate(hosts)
    m = host_all.size
    floors = rng.choice([1, 2, 3, 4, 5, 6], size=m, p=[0.25, 0.33, 0.22, 0.12, 0.06, 0.02])
    year = np.minimum(2024, 1975 + np.floor(50 * np.sqrt(rng.random(m)))).astype(np.int64)
    for rec in planted:  # violations are recent (Decree 123/2024 era)
        year[rec["building"]] = 2020 + rec["building"] % 5
    return Buildings(shapely.polygons(np.concatenate(footprints)), host_all, floors, year, planted)
