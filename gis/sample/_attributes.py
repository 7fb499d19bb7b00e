"""Parcel attributes: wards, land use, owners, addresses, keys, planted problems (internal).

All functions are pure and vectorised over parcels; randomness comes from a dedicated
stream per step (see :func:`gis.sample._layout.rng_for`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gis.sample import names as N
from gis.sample._layout import (
    BLOCK,
    CEM,
    RIGHT_STRIP,
    TOP_STRIP,
    Layout,
    ParcelArrays,
    rng_for,
)

_CATEGORIES = ("person", "company") + N.NAME_CATEGORIES
_CAT = {name: i for i, name in enumerate(_CATEGORIES)}
_FIELD_KINDS = np.array([kind not in ("RES", "FAC") for kind in N.BLOCK_KINDS])


@dataclass
class Wards:
    """Ward names and codes, in code order (internal)."""

    code: list[str]
    name: list[str]  # "An Bình"
    phuong: np.ndarray
    hamlets: list[list[str]]  # thôn (xã) or tổ dân phố numbers (phường)
    fields: list[list[str]]

    @property
    def prefix(self) -> list[str]:
        return ["phường" if p else "xã" for p in self.phuong]

    @property
    def full(self) -> list[str]:
        """'phường An Bình' / 'xã Đông Hòa' (as inside an address or after 'UBND')."""
        return [f"{p} {n}" for p, n in zip(self.prefix, self.name)]

    @property
    def title(self) -> list[str]:
        """'Phường An Bình' / 'Xã Đông Hòa' (TenXa)."""
        return [f[0].upper() + f[1:] for f in self.full]


def make_wards(layout: Layout, seed: int) -> Wards:
    rng = rng_for(seed, 4)
    k = layout.phuong.size
    names = [N.WARD_NAMES[i] for i in rng.permutation(len(N.WARD_NAMES))[:k]]
    hamlets, fields = [], []
    for is_phuong in layout.phuong:
        if is_phuong:
            hamlets.append([str(t) for t in range(1, int(rng.integers(8, 25)) + 1)])
        else:
            hamlets.append([N.HAMLETS[i] for i in rng.permutation(len(N.HAMLETS))[: rng.integers(5, 9)]])
        fields.append([N.FIELDS[i] for i in rng.permutation(len(N.FIELDS))[:4]])
    codes = [f"{N.WARD_CODE_START + N.WARD_CODE_STEP * i:05d}" for i in range(k)]
    return Wards(codes, names, layout.phuong.copy(), hamlets, fields)


def _choose(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    return rng.choice(weights.size, size=size, p=weights / weights.sum())


def land_use(arrays: ParcelArrays, layout: Layout, seed: int) -> np.ndarray:
    """Land-use code per parcel (KyHieuMucDichSuDung), by block kind and ward type."""
    rng = rng_for(seed, 5)
    n = arrays.cell.size
    codes = np.empty(n, dtype=object)
    phuong = layout.phuong[arrays.ward]
    for k, kind in enumerate(N.BLOCK_KINDS):
        idx = np.flatnonzero((arrays.part == BLOCK) & (arrays.kind == k))
        table = N.LAND_USE_BY_KIND[kind]
        weights = np.array([w for _, w in table])
        pick = _choose(rng, weights, idx.size)
        if kind in ("AGR", "GARDEN", "POND"):  # fields are mostly one crop per block
            main = np.where(weights >= 0.05, weights, 0.0)  # a block is not all canal or waste
            per_cell = _choose(rng, main, layout.kind.size)[arrays.cell[idx]]
            pick = np.where(rng.random(idx.size) < 0.7, per_cell, pick)
        odt = np.array([c.replace("{R}", "ODT") for c, _ in table], dtype=object)
        ont = np.array([c.replace("{R}", "ONT") for c, _ in table], dtype=object)
        codes[idx] = np.where(phuong[idx], odt[pick], ont[pick])
    n_rows, n_cols = layout.shape
    farm = _FIELD_KINDS[arrays.kind] & (arrays.kind != CEM)
    top = arrays.part == TOP_STRIP
    row = arrays.cell // n_cols
    codes[top] = np.where(row[top] == layout.river_row, "SON",
                          np.where(farm[top] & (rng.random(int(top.sum())) < 0.35), "DTL", "DGT"))
    right = arrays.part == RIGHT_STRIP
    canal = layout.canal_col[arrays.cell[right] % n_cols] & farm[right]
    codes[right] = np.where(canal, "DTL", "DGT")
    return codes


def _person_pool() -> list[str]:
    pool = []
    for middles, givens in ((N.MIDDLE_MALE, N.GIVEN_MALE), (N.MIDDLE_FEMALE, N.GIVEN_FEMALE)):
        pool += [f"{f} {m} {g}" for f, _ in N.FAMILY_NAMES for m in middles for g in givens]
    return pool


def _ward_names(wards: Wards, w: int, category: str) -> list[str]:
    full, name = wards.full[w], wards.name[w]
    community = (
        [f"Cộng đồng dân cư tổ dân phố số {t}" for t in wards.hamlets[w][:6]]
        if wards.phuong[w] else [f"Cộng đồng dân cư thôn {h}" for h in wards.hamlets[w]]
    )
    religion = [f"Chùa {p}" for p in N.PAGODAS[w % 3: w % 3 + 2]] + [f"Đình {name}"]
    return {
        "company": list(N.COMPANIES), "ubnd": [f"UBND {full}"], "police": [f"Công an {full}"],
        "school": [f"Trường Mầm non {name}", f"Trường Tiểu học {name}", f"Trường THCS {name}"],
        "health": [f"Trạm Y tế {full}"], "community": community, "religion": religion,
        "coop": [f"Hợp tác xã Nông nghiệp {name}"], "landfund": [N.LAND_FUND_CENTRE],
    }[category]


def owners(codes: np.ndarray, arrays: ParcelArrays, wards: Wards, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Owner code (MaDoiTuong) and owner name (TenChu) per parcel."""
    rng = rng_for(seed, 6)
    n = codes.size
    owner = np.empty(n, dtype=object)
    category = np.zeros(n, dtype=np.int64)
    factor, uniques = pd.factorize(codes, sort=True)
    for u, code in enumerate(uniques):
        idx = np.flatnonzero(factor == u)
        options = N.OWNERS_BY_CODE.get(code, N.DEFAULT_OWNERS)
        pick = _choose(rng, np.array([o[2] for o in options]), idx.size)
        owner[idx] = np.array([o[0] for o in options], dtype=object)[pick]
        category[idx] = np.array([_CAT[o[1]] for o in options])[pick]
    persons = _person_pool()
    pool: list[str] = list(persons)
    k = len(wards.code)
    start = np.zeros((k, len(_CATEGORIES)), dtype=np.int64)
    length = np.ones((k, len(_CATEGORIES)), dtype=np.int64)
    for w in range(k):
        for c, name in enumerate(_CATEGORIES[1:], start=1):
            entries = _ward_names(wards, w, name)
            start[w, c], length[w, c] = len(pool), len(entries)
            pool += entries
    # Person: family name by frequency, 70 % male household heads, uniform middle/given.
    fam_w = np.array([w for _, w in N.FAMILY_NAMES])
    fam = _choose(rng, fam_w, n)
    male = rng.random(n) < 0.7
    n_male = len(N.FAMILY_NAMES) * len(N.MIDDLE_MALE) * len(N.GIVEN_MALE)
    m_idx = (fam * len(N.MIDDLE_MALE) + rng.integers(0, len(N.MIDDLE_MALE), n)) * len(N.GIVEN_MALE) \
        + rng.integers(0, len(N.GIVEN_MALE), n)
    f_idx = n_male + (fam * len(N.MIDDLE_FEMALE) + rng.integers(0, len(N.MIDDLE_FEMALE), n)) \
        * len(N.GIVEN_FEMALE) + rng.integers(0, len(N.GIVEN_FEMALE), n)
    person = np.where(male, m_idx, f_idx)
    other = start[arrays.ward, category] + rng.integers(0, 1 << 30, n) % length[arrays.ward, category]
    names = np.array(pool, dtype=object)[np.where(category == 0, person, other)]
    return owner, names


def addresses(arrays: ParcelArrays, centroids: np.ndarray, wards: Wards) -> np.ndarray:
    """Address (DiaChi): tổ/thôn for built-up land, xứ đồng for farmland, ward for strips."""
    pool: list[str] = []
    k = len(wards.code)
    start = np.zeros((k, 3), dtype=np.int64)
    length = np.zeros((k, 3), dtype=np.int64)
    for w in range(k):
        full = wards.full[w]
        lists = (
            [f"Tổ {t}, {full}" if wards.phuong[w] else f"Thôn {t}, {full}" for t in wards.hamlets[w]],
            [f"{'Khu đồng' if wards.phuong[w] else 'Xứ đồng'} {f}, {full}" for f in wards.fields[w]],
            [full],
        )
        for c, entries in enumerate(lists):
            start[w, c], length[w, c] = len(pool), len(entries)
            pool += entries
    category = np.where(arrays.part != BLOCK, 2, np.where(_FIELD_KINDS[arrays.kind], 1, 0))
    tile = np.floor(centroids / 350.0).astype(np.int64)
    local = (tile[:, 0] * 7 + tile[:, 1] * 13) % length[arrays.ward, category]
    return np.array(pool, dtype=object)[start[arrays.ward, category] + local]


def sheet_size(side: float, n_wards: int) -> float:
    """Side of a map-sheet tile (m): several sheets per ward, at most 600 m."""
    return min(side / max(2.0, 2.5 * math.sqrt(n_wards)), 600.0)


def keys(centroids: np.ndarray, ward: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map sheet (tờ) per ward and parcel number (thửa) per sheet, north-west first.

    Returns ``(sheet, number, order)`` where ``order`` sorts parcels by ward, sheet, number.
    """
    size = sheet_size(layout.side, layout.phuong.size)
    x0, y1 = layout.xb[0], layout.yb[-1]
    tx = np.floor((centroids[:, 0] - x0) / size).astype(np.int64)
    ty = np.floor((y1 - centroids[:, 1]) / size).astype(np.int64)
    tiles, inv = np.unique(ward * 10**8 + ty * 10**4 + tx, return_inverse=True)
    tile_ward = tiles // 10**8
    sheet = (np.arange(tiles.size) - np.searchsorted(tile_ward, tile_ward) + 1)[inv]
    band = np.floor((y1 - centroids[:, 1]) / 25.0)
    order = np.lexsort((centroids[:, 0], band, sheet, ward))
    group = (ward * 10**6 + sheet)[order]
    new = np.r_[True, group[1:] != group[:-1]]
    starts = np.flatnonzero(new)
    rank = np.arange(order.size) - starts[np.cumsum(new) - 1]
    number = np.empty(order.size, dtype=np.int64)
    number[order] = rank + 1
    return sheet, number, order


@dataclass
class Planted:
    """Indices (before the final sort) of parcels carrying planted problems."""

    bow_tie: np.ndarray
    area_mismatch: np.ndarray
    unknown_code: np.ndarray
    zero_number: np.ndarray
    duplicate: np.ndarray  # parcels whose number was set to that of `duplicate_of`
    duplicate_of: np.ndarray
    all: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.all = np.unique(np.concatenate([
            self.bow_tie, self.area_mismatch, self.unknown_code, self.zero_number,
            self.duplicate, self.duplicate_of,
        ]))


def plant_parcel_problems(
    arrays: ParcelArrays, ward: np.ndarray, sheet: np.ndarray, number: np.ndarray,
    order: np.ndarray, seed: int,
) -> Planted:
    """Choose the parcels that get a bow-tie, a wrong area, an unknown code, number 0 or a
    duplicated key. Only lots inside blocks are used, never strips."""
    rng = rng_for(seed, 7)
    n = ward.size
    few, handful = max(3, round(n * 5e-4)), max(3, round(n * 3e-4))
    pool = list(rng.permutation(np.flatnonzero(arrays.part == BLOCK)))
    bow, mismatch, unknown = pool[:few], pool[few: 2 * few], pool[2 * few: 2 * few + handful]
    rest = pool[2 * few + handful:]
    used = set(bow + mismatch + unknown)
    zero: list[int] = []
    zero_sheets: set[tuple[int, int]] = set()
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    dup: list[int] = []
    dup_of: list[int] = []
    for i in rest:
        if len(zero) < few:
            if (ward[i], sheet[i]) not in zero_sheets:
                zero.append(i)
                zero_sheets.add((ward[i], sheet[i]))
                used.add(i)
            continue
        if len(dup) >= few:
            break
        if number[i] < 2 or i in used:
            continue
        j = int(order[position[i] - 1])
        if j in used or (ward[j], sheet[j]) in zero_sheets:
            continue
        dup.append(i)
        dup_of.append(j)
        used.update((i, j))
    return Planted(_ints(sorted(bow)), _ints(sorted(mismatch)), _ints(sorted(unknown)),
                   _ints(sorted(zero)), _ints(dup), _ints(dup_of))


def _ints(items: list[int]) -> np.ndarray:
    return np.array(items, dtype=np.int64)


def recorded_area(area: np.ndarray, planted: Planted, seed: int) -> np.ndarray:
    """DienTich: computed area ± ≤ 0.25 % noise, rounded to 0.1 m²; 8-25 % off where planted."""
    rng = rng_for(seed, 8)
    factor = 1 + rng.uniform(-0.0025, 0.0025, area.size)
    m = planted.area_mismatch
    factor[m] = 1 + rng.choice([-1, 1], m.size) * rng.uniform(0.08, 0.25, m.size)
    return np.round(area * factor, 1)


def residential_mask(codes: np.ndarray) -> np.ndarray:
    return np.isin(codes, list(N.RESIDENTIAL_CODES))
