"""Detection by overlay: building footprints × parcels → violation candidates.

For every footprint the parcels it overlaps are found (STRtree) and the overlap computed; its
*home* parcel is the one holding most of it. Then, per the rules YAML:

- overlap with an agricultural parcel of at least ``min_area_m2`` → construction on agricultural
  land, area = the part on that parcel;
- overlap with a public parcel other than the home one, or with a public parcel whose use is not
  meant for buildings even when it is home, of at least ``min_area_m2`` → encroachment on public
  land;
- overlap with any other private, non-agricultural neighbour beyond ``neighbour_tolerance_m2``
  → encroachment on a neighbouring parcel.

Each candidate carries the overlap geometry, parcel keys, ward, area, rule, evidence and a stable
fingerprint (rule, parcel, footprint id), so detection can run again and add only new cases.
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.core.overlay import _chunked, check_same_crs
from gis.core.violations.rules import RuleSet

__all__ = ["detect_candidates", "describe", "fingerprint", "CANDIDATE_COLUMNS"]

CANDIDATE_COLUMNS = ["fingerprint", "kind", "rule", "building_id", "parcel_key", "home_parcel",
                     "parcel_keys", "ward_code", "land_use", "area_m2", "building_area_m2",
                     "year_built"]


def fingerprint(rule: str, parcel_key: str, building_id: str) -> str:
    """A stable id of a candidate: same rule, parcel and footprint → same fingerprint.

    >>> fingerprint("encroachment_public_land", "09880-5-165", "NHA0000190")[:12]
    '2dc38a20b3bb'
    """
    return hashlib.sha1(f"{rule}|{parcel_key}|{building_id}".encode()).hexdigest()


def detect_candidates(buildings: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, rules: RuleSet, *,
                      workers: int | None = None) -> gpd.GeoDataFrame:
    """Violation candidates (one per footprint × parcel × rule), with the overlap geometry.

    ``buildings`` needs ``building_id``; ``parcels`` needs ``parcel_key``, ``ward_code``,
    ``land_use`` and ``is_public``. Both in the same projected CRS (areas in m²).
    """
    import os

    check_same_crs(buildings, parcels, "buildings", "parcels")
    workers = workers or os.cpu_count() or 1
    bg = np.asarray(buildings.geometry.values, dtype=object)
    pg = np.asarray(parcels.geometry.values, dtype=object)
    tree = shapely.STRtree(pg)
    # bounding-box candidates only: at this scale (small footprints, small parcels) almost every
    # candidate is a real pair, and an unprepared covers/intersection per pair is cheaper than
    # evaluating a prepared predicate in the tree and again afterwards
    # land-use codes as integers (factorised once): no per-row string work on a million parcels
    lu_codes, lu_values = pd.factorize(parcels["land_use"])
    lu_values = np.asarray(lu_values, dtype=object)
    is_public = parcels["is_public"].fillna(False).to_numpy(dtype=bool)
    b_idx, p_idx = _box_pairs(tree, bg, _footprints_to_query(bg, pg, lu_codes, lu_values,
                                                             is_public, rules, workers), workers)
    keep = _relevant_pairs(b_idx, p_idx, lu_codes, lu_values, is_public, rules)
    b_idx, p_idx = b_idx[keep], p_idx[keep]
    if len(b_idx) == 0:
        return gpd.GeoDataFrame(columns=CANDIDATE_COLUMNS + ["geometry"], geometry="geometry",
                                crs=parcels.crs)
    order = np.argsort(p_idx, kind="stable")  # parcel order: better memory locality
    b_idx, p_idx = b_idx[order], p_idx[order]
    # most footprints lie wholly inside one parcel: the footprint is the piece, no overlay needed
    inside = np.concatenate(_chunked(lambda s: shapely.covers(pg[p_idx[s]], bg[b_idx[s]]),
                                     len(b_idx), workers))
    pieces = bg[b_idx].copy()
    cut = np.flatnonzero(~inside)
    if len(cut):
        a, b = bg[b_idx[cut]], pg[p_idx[cut]]
        # a box that only meets a neighbour's box has no overlap: GEOS's overlay costs far more
        # than the predicate, so it runs only where the shapes meet
        meets = np.concatenate(_chunked(lambda s: shapely.intersects(a[s], b[s]), len(cut),
                                        workers))
        pieces[cut[~meets]] = None
        cut, a, b = cut[meets], a[meets], b[meets]
        pieces[cut] = np.concatenate(_chunked(lambda s: shapely.intersection(a[s], b[s]),
                                              len(cut), workers)) if len(cut) else pieces[cut]
    area = np.nan_to_num(shapely.area(pieces))
    pairs = pd.DataFrame({"b": b_idx, "p": p_idx, "area": area})
    pairs = pairs[pairs["area"] > 0]
    home = pairs.sort_values(["b", "area"], ascending=[True, False]).drop_duplicates("b")
    home_of = pd.Series(home["p"].to_numpy(), index=home["b"].to_numpy())
    pairs["home"] = home_of.reindex(pairs["b"]).to_numpy()
    pairs["is_home"] = pairs["p"] == pairs["home"]
    lu = pd.Series(lu_codes[pairs["p"].to_numpy()], index=pairs.index)

    def codes_of(wanted: tuple[str, ...]) -> list[int]:
        return [i for i, v in enumerate(lu_values) if v in set(wanted)]

    public = pd.Series(is_public[pairs["p"].to_numpy()], index=pairs.index)
    out = []
    taken = pd.Series(False, index=pairs.index)
    for rule in rules.rules:
        minimum = rule.min_area_m2 if rule.min_area_m2 is not None else rules.min_area_m2
        if rule.land_use:  # agricultural (or any listed use)
            hit = lu.isin(codes_of(rule.land_use)) & (pairs["area"] >= minimum)
        elif rule.public:
            hit = public & (~pairs["is_home"] | ~lu.isin(codes_of(rule.buildings_allowed))) & \
                (pairs["area"] >= minimum)
        else:  # neighbour: a private neighbour (public and farm land have their own rules)
            guarded = lu.isin(codes_of(tuple(c for r in rules.rules if r.land_use for c in r.land_use)))
            hit = ~pairs["is_home"] & ~public & ~guarded & \
                (pairs["area"] > rules.neighbour_tolerance_m2)
        hit &= ~taken
        taken |= hit
        if hit.any():
            out.append(pairs[hit].assign(rule=rule.id, kind=rule.kind))
    if not out:
        return gpd.GeoDataFrame(columns=CANDIDATE_COLUMNS + ["geometry"], geometry="geometry",
                                crs=parcels.crs)
    found = pd.concat(out)
    b_area = shapely.area(bg).round(2)
    bi, pi, hi = found["b"].to_numpy(), found["p"].to_numpy(), found["home"].to_numpy()

    def take(column: pd.Series, rows: np.ndarray) -> np.ndarray:
        # only the candidates' values become Python strings
        values: np.ndarray = column.iloc[rows].astype(object).where(
            column.iloc[rows].notna(), None).to_numpy()
        return values

    kinds, rules_ = found["kind"].to_numpy(dtype=object), found["rule"].to_numpy(dtype=object)
    areas = found["area"].to_numpy().round(2)
    k, h = take(parcels["parcel_key"], pi), take(parcels["parcel_key"], hi)
    b_ids = take(buildings["building_id"].astype(str), bi)
    uses = (np.where(lu_codes[pi] >= 0, lu_values[np.maximum(lu_codes[pi], 0)], None)
            if len(lu_values) else np.full(len(pi), None, dtype=object))
    obj = {"dtype": object}
    frame = pd.DataFrame({
        "kind": pd.Series(kinds, **obj), "rule": pd.Series(rules_, **obj),
        "building_id": pd.Series(b_ids, **obj), "parcel_key": pd.Series(k, **obj),
        "home_parcel": pd.Series(h, **obj), "ward_code": pd.Series(take(parcels["ward_code"], hi), **obj),
        "land_use": pd.Series(uses, **obj), "area_m2": areas, "building_area_m2": b_area[bi],
        "year_built": (pd.to_numeric(buildings["year_built"], errors="coerce").to_numpy()[bi]
                       if "year_built" in buildings else np.full(len(bi), np.nan)),
    })
    frame["parcel_keys"] = pd.Series([a if a == b else f"{b},{a}" for a, b in zip(k.tolist(), h.tolist())],
                                     dtype=object)
    frame["fingerprint"] = _fingerprints(rules_, k, b_ids)
    # ``pairs`` kept the positional index of the intersection arrays through every filter
    return gpd.GeoDataFrame(frame[CANDIDATE_COLUMNS], geometry=pieces[found.index.to_numpy()],
                            crs=parcels.crs)


def _fingerprints(rules: np.ndarray, keys: np.ndarray, buildings: np.ndarray) -> list[str]:
    """:func:`fingerprint` of many candidates at once (one digest each, no call per row)."""
    sha1 = hashlib.sha1
    return [sha1(f"{r}|{k}|{b}".encode()).hexdigest()
            for r, k, b in zip(rules.tolist(), keys.tolist(), buildings.tolist())]


def _footprints_to_query(bg: np.ndarray, pg: np.ndarray, lu_codes: np.ndarray,
                         lu_values: np.ndarray, is_public: np.ndarray, rules: RuleSet,
                         workers: int) -> np.ndarray:
    """Positions of the footprints worth a look. With the neighbour rule, all (any footprint
    may cross into a neighbour); without it, only those whose box meets the box of a parcel a
    rule flags (listed uses, public land): a small tree of those parcels answers that, and the
    rest of the footprints never meet the whole tree."""
    if any(not r.land_use and not r.public for r in rules.rules):
        return np.arange(len(bg))
    listed = {c for r in rules.rules for c in r.land_use}
    flagged = np.isin(lu_codes, [i for i, v in enumerate(lu_values) if v in listed])
    if any(r.public for r in rules.rules):
        flagged |= is_public
    small = shapely.STRtree(pg[flagged])
    hits = _chunked(lambda s: _bbox_query(small, bg, s), len(bg), workers)
    b = np.concatenate([h[0] for h in hits]) if hits else np.array([], dtype=np.int64)
    return np.unique(b)


def _box_pairs(tree: shapely.STRtree, bg: np.ndarray, which: np.ndarray, workers: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """(footprint, parcel) positions of every pair whose boxes meet, for the footprints
    ``which``."""
    hits = _chunked(lambda s: _bbox_query(tree, bg[which], s), len(which), workers)
    b = np.concatenate([h[0] for h in hits]) if hits else np.array([], dtype=np.int64)
    p = np.concatenate([h[1] for h in hits]) if hits else np.array([], dtype=np.int64)
    return which[b], p


def _relevant_pairs(b_idx: np.ndarray, p_idx: np.ndarray, lu_codes: np.ndarray,
                    lu_values: np.ndarray, is_public: np.ndarray, rules: RuleSet) -> np.ndarray:
    """Which footprint × parcel box pairs need geometry: those of the footprints that some
    rule could flag. A rule on listed uses needs a pair with such a parcel; the public rule a
    public parcel; the neighbour rule a footprint meeting two parcels' boxes (its home and
    another). Every pair of a footprint kept is kept, so its home parcel is found as before;
    a footprint alone in one parcel of no flagged kind (most houses) needs no geometry at all."""
    if not len(b_idx):
        return np.zeros(0, dtype=bool)
    listed = {c for r in rules.rules for c in r.land_use}
    listed_codes = np.array([i for i, v in enumerate(lu_values) if v in listed], dtype=np.int64)
    flaggable = np.zeros(len(b_idx), dtype=bool)
    if len(listed_codes):
        flaggable |= np.isin(lu_codes[p_idx], listed_codes)
    if any(r.public for r in rules.rules):
        flaggable |= is_public[p_idx]
    wanted = np.zeros(int(b_idx.max()) + 1, dtype=bool)
    wanted[b_idx[flaggable]] = True
    if any(not r.land_use and not r.public for r in rules.rules):  # the neighbour rule
        wanted |= np.bincount(b_idx, minlength=len(wanted)) > 1
    keep: np.ndarray = wanted[b_idx]
    return keep


def describe(candidates: pd.DataFrame) -> list[str]:
    """The evidence line of each candidate, in Vietnamese as it goes into minutes and dossiers
    (built only for the candidates that become cases)."""
    return [f"Công trình {b} ({_vn(ba)} m²) chiếm {_vn(a)} m² trên thửa {key} ({u or '?'})"
            + ("" if key == home else f"; thửa của công trình: {home}")
            for b, ba, a, key, u, home in zip(
                candidates["building_id"].tolist(), candidates["building_area_m2"].tolist(),
                candidates["area_m2"].tolist(), candidates["parcel_key"].tolist(),
                candidates["land_use"].tolist(), candidates["home_parcel"].tolist())]


def _vn(value: float) -> str:
    """1 decimal, Vietnamese comma: 51,8."""
    return f"{value:.1f}".replace(".", ",")


def _bbox_query(tree: shapely.STRtree, geoms: np.ndarray, part: slice
                ) -> tuple[np.ndarray, np.ndarray]:
    b, p = tree.query(geoms[part])
    return b + (part.start or 0), p
