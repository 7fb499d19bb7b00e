"""Clearance projects (dự án GPMB) and the compensation board's status sheet (internal)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import shapely

from gis.sample import names as N
from gis.sample._attributes import Wards
from gis.sample._layout import Layout, rng_for

AS_OF = np.datetime64("2024-12-31")
_DAY = np.timedelta64(1, "D")


def _largest(geom: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    return parts[np.argmax(shapely.area(parts))]


def _corridor(rng: np.random.Generator, x0: float, y0: float, side: float) -> shapely.Geometry:
    centre = np.array([x0, y0]) + rng.uniform(0.2, 0.8, 2) * side
    theta, length = rng.uniform(0, math.pi), rng.uniform(0.6, 1.2) * side
    angles = theta + np.cumsum(rng.uniform(-0.2, 0.2, 3))
    steps = np.stack([np.cos(angles), np.sin(angles)], 1) * length / 3
    pts = centre - steps.sum(0) / 2 + np.vstack([[0, 0], np.cumsum(steps, 0)])
    width = rng.uniform(24, 50) * min(1.0, side / 800)
    return shapely.buffer(shapely.linestrings(pts), width / 2, cap_style="flat", join_style="mitre")


def _site(rng: np.random.Generator, x0: float, y0: float, side: float, scale: float) -> shapely.Geometry:
    centre = np.array([x0, y0]) + rng.uniform(0.12, 0.88, 2) * side
    radius = max(25.0, float(np.clip(0.05 * side, 45, 240)) * scale * rng.uniform(0.7, 1.0))
    m = int(rng.integers(7, 12))
    angles = 2 * math.pi * (np.arange(m) + rng.uniform(-0.3, 0.3, m)) / m + rng.uniform(0, 1)
    radii = radius * rng.uniform(0.6, 1.0, m)
    ring = centre + np.stack([np.cos(angles), np.sin(angles)], 1) * radii[:, None]
    return shapely.polygons(np.vstack([ring, ring[:1]]))


def make_projects(layout: Layout, ward_geoms: np.ndarray, wards: Wards, n_parcels: int,
                  seed: int) -> tuple[dict[str, list[Any]], np.ndarray]:
    """Project attributes (field name → values) and boundary polygons."""
    rng = rng_for(seed, 10)
    m = int(np.clip(round(n_parcels / 2200), 3, 60))
    n_corridors = max(1, round(0.3 * m))
    x0, y0, side = layout.xb[0], layout.yb[0], layout.side
    bbox = shapely.box(x0, y0, layout.xb[-1], layout.yb[-1])
    kinds = rng.permutation(np.r_[np.ones(n_corridors, bool), np.zeros(m - n_corridors, bool)])
    templates = rng.integers(0, 1 << 30, m)
    geoms = np.array([_largest(shapely.intersection(
        _corridor(rng, x0, y0, side) if corridor
        else _site(rng, x0, y0, side, N.SITE_NAMES[t % len(N.SITE_NAMES)][2]), bbox))
        for corridor, t in zip(kinds, templates)])
    overlap = shapely.area(shapely.intersection(geoms[:, None], ward_geoms[None, :]))
    cols: dict[str, list[Any]] = {k: [] for k in (
        "MaDuAn", "TenDuAn", "ChuDauTu", "NguonVon", "KhoiCong", "TrongDiem", "DienTichQH",
        "PhuongXa", "NamBD")}
    seen: set[str] = set()
    for i, corridor in enumerate(kinds):
        hit = np.flatnonzero(overlap[i] > 1.0)
        main = int(np.argmax(overlap[i]))
        other = int(hit[hit != main][0]) if (hit != main).any() else (main + 1) % len(wards.name)
        fmt = {"ward": wards.full[main], "name": wards.name[main], "name2": wards.name[other],
               "district": N.DISTRICT_SHORT}
        if corridor:
            name = N.CORRIDOR_NAMES[templates[i] % len(N.CORRIDOR_NAMES)].format(**fmt)
            budget = rng.random() < 0.9
            investor = N.CITY_TRANSPORT_PMU if rng.random() < 0.5 else N.PMU
        else:
            template, budget, _ = N.SITE_NAMES[templates[i] % len(N.SITE_NAMES)]
            name = template.format(**fmt)
            investor = N.PMU if rng.random() < 0.6 else f"UBND {wards.full[main]}"
        if not budget:
            investor = N.NON_BUDGET_INVESTORS[int(rng.integers(len(N.NON_BUDGET_INVESTORS)))]
        base, stage = name, 2
        while name in seen:
            name, stage = f"{base} (giai đoạn {stage})", stage + 1
        seen.add(name)
        carried = rng.random() < 0.55
        cols["MaDuAn"].append(f"DA-{i + 1:03d}")
        cols["TenDuAn"].append(name)
        cols["ChuDauTu"].append(investor)
        cols["NguonVon"].append(N.BUDGET if budget else N.NON_BUDGET)
        cols["KhoiCong"].append(N.CARRIED_OVER if carried else N.NEW)
        cols["TrongDiem"].append("Có" if rng.random() < (0.7 if corridor else 0.2) else "Không")
        cols["DienTichQH"].append(round(float(shapely.area(geoms[i])) / 1e4 * rng.uniform(0.97, 1.04), 2))
        cols["PhuongXa"].append(",".join(wards.code[w] for w in hit))
        cols["NamBD"].append(int(rng.integers(2021, 2024)) if carried else 2024)
    # Capital plan (kế hoạch vốn) and disbursed (giải ngân), VND; a separate stream so the draws
    # above stay as they were.
    money = rng_for(seed, 12)
    plan = [int(round(ha * money.uniform(15, 45) * 1e9, -6)) for ha in cols["DienTichQH"]]
    cols["KeHoachVon"] = plan
    cols["GiaiNgan"] = [int(round(p * money.uniform(0.2, 1.0), -6)) for p in plan]
    return cols, geoms


def _fmt_dates(days: np.ndarray, mask: np.ndarray) -> np.ndarray:
    text = pd.DatetimeIndex(days.astype("datetime64[ns]")).strftime("%d/%m/%Y").to_numpy(dtype=object)
    return np.where(mask, text, None)


def _fmt_vnd(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _unit_price(codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    base = pd.Series(codes).str.split("+").str[0].to_numpy()
    group = np.where(np.isin(base, ["ODT", "ONT"]), base,
                     np.where(np.isin(base, ["LUC", "LUK", "HNK", "BHK", "NHK", "CLN", "NTS"]), "AGR", "OTHER"))
    lo = np.array([N.UNIT_PRICE[g][0] for g in group])
    hi = np.array([N.UNIT_PRICE[g][1] for g in group])
    return lo + (hi - lo) * rng.random(codes.size)


def make_clearance(projects: dict[str, list[Any]], geoms: np.ndarray, parcels: dict[str, np.ndarray],
                   polys: np.ndarray, excluded: np.ndarray, seed: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per (project, parcel) overlapping by ≥ 1 m², minus "not started" parcels.

    ``parcels`` holds final-order arrays: MaXa, SoHieuToBa, SoThuTuThu, TenChu,
    MaDoiTuong, KyHieuMucD, area. Returns the sheet and its manifest section.
    """
    rng = rng_for(seed, 11)
    proj, par = shapely.STRtree(polys).query(geoms, predicate="intersects")
    over = shapely.area(shapely.intersection(geoms[proj], polys[par]))
    keep = over >= 1.0
    proj, par, over = proj[keep], par[keep], over[keep]
    truth = [[projects["MaDuAn"][p], *_key(parcels, q), round(float(o), 3)]
             for p, q, o in zip(proj, par, over)]
    started = ~np.isin(par, excluded) & (rng.random(par.size) >= 0.1)
    not_started = [{"MaDuAn": projects["MaDuAn"][p], "row": int(q), "key": _key(parcels, q)}
                   for p, q in zip(proj[~started], par[~started])]
    proj, par, over = proj[started], par[started], over[started]
    # Fake rows whose parcel key does not exist (~1 %): copies with an out-of-range number.
    n_fake = min(max(2, round(0.01 * par.size)), par.size)
    src = rng.choice(par.size, n_fake, replace=False)
    proj, par, over = np.r_[proj, proj[src]], np.r_[par, par[src]], np.r_[over, over[src]]
    r = par.size
    fake = np.r_[np.zeros(r - n_fake, bool), np.ones(n_fake, bool)]
    number = parcels["SoThuTuThu"][par].copy()
    number[fake] = parcels["SoThuTuThu"].max() + 100 + np.arange(n_fake)
    # Workflow dates and levels (0 notified … 4 handed over), capped by AS_OF.
    carried = np.array([k == N.CARRIED_OVER for k in projects["KhoiCong"]])
    first_day = np.array([f"{max(year, 2022)}-01-03" for year in projects["NamBD"]], dtype="datetime64[D]")
    notice_p = first_day + (rng.random(carried.size) * np.where(carried, 300, 150)).astype(int) * _DAY
    stages = np.where(carried[:, None], [0.04, 0.08, 0.13, 0.25, 0.5], [0.35, 0.3, 0.2, 0.1, 0.05])
    target = (rng.random(r)[:, None] > np.cumsum(stages, 1)[proj]).sum(1)
    d_n = notice_p[proj] + rng.choice([0, 0, 0, 14, 30, 45], r) * _DAY
    d_i = d_n + rng.integers(15, 90, r) * _DAY
    d_a = d_i + rng.integers(30, 150, r) * _DAY
    d_p = d_a + rng.integers(3, 28, r) * _DAY
    d_h = d_p + rng.integers(5, 60, r) * _DAY
    reach = sum((d <= AS_OF).astype(int) for d in (d_i, d_a, d_p, d_h))
    level = np.minimum(np.minimum(target, reach), 4)
    level[(level == 2) & (d_a < AS_OF - 30 * _DAY)] = 3  # paid within 30 days unless planted
    variant = rng.random(r)
    status = np.select([level == 0, (level == 1) & (variant < 0.12), level == 1, level == 2,
                        (level == 3) & (variant < 0.3), level == 3, (level == 4) & (variant < 0.06)],
                       [0, 2, 1, 3, 5, 4, 7], 6)
    public = np.isin(parcels["MaDoiTuong"][par], list(N.PUBLIC_OWNER_CODES))
    # Planted sheet problems, on disjoint real rows.
    k = max(2, round(0.003 * r))
    order = rng.permutation(np.flatnonzero(~fake))
    taken = np.zeros(r, bool)

    def pick(mask: np.ndarray) -> np.ndarray:
        chosen = order[mask[order] & ~taken[order]][:k]
        taken[chosen] = True
        return np.sort(chosen)

    unpaid = pick((level >= 2) & ~public)
    level[unpaid], status[unpaid] = 2, 3
    d_a[unpaid] = AS_OF - rng.integers(45, 200, unpaid.size) * _DAY
    d_i[unpaid] = np.minimum(d_i[unpaid], d_a[unpaid] - 20 * _DAY)
    d_n[unpaid] = np.minimum(d_n[unpaid], d_i[unpaid] - 15 * _DAY)
    no_approval = pick(status == 6)
    bad_status, bad_amount, bad_date = pick(np.ones(r, bool)), pick((level >= 2) & ~public), pick(level >= 1)
    approved = np.where(public, 0, np.round(over * _unit_price(parcels["KyHieuMucD"][par], rng), -3)).astype(np.int64)
    plain = rng.random(r) < 0.15
    money = np.array([int(v) if p else _fmt_vnd(int(v)) for v, p in zip(approved, plain)], dtype=object)
    owner = parcels["MaDoiTuong"][par]
    households = np.where(public, 0, np.where(np.isin(owner, ["GDC", "CNV"]),
                                              rng.choice([1, 2, 3], r, p=[0.85, 0.12, 0.03]), 1))
    complaint = (status == 2) | (status == 7) | (rng.random(r) < 0.03)
    handed = _fmt_dates(d_h, level >= 4)
    partial = over < 0.95 * parcels["area"][par]
    note = np.where(public, "Đất công do UBND quản lý, không bồi thường", None)
    note = np.where(~public & (status == 7), np.array([f"Cưỡng chế ngày {h}" for h in handed], object), note)
    part_txt = np.array([f"Thu hồi một phần thửa, {o:.1f} m²".replace(".", ",") for o in over], object)
    note = np.where((note == None) & partial, part_txt, note)  # noqa: E711
    texts = np.array([s[1] for s in N.STATUSES], dtype=object)
    sheet = pd.DataFrame({
        "STT": 0, "Mã dự án": np.array(projects["MaDuAn"], object)[proj], "Mã xã": parcels["MaXa"][par],
        "Số tờ": parcels["SoHieuToBa"][par], "Số thửa": number, "Chủ sử dụng": parcels["TenChu"][par],
        "Số hộ": households, "Trạng thái": texts[status],
        "Ngày thông báo": _fmt_dates(d_n, np.ones(r, bool)), "Ngày kiểm đếm": _fmt_dates(d_i, level >= 1),
        "Ngày phê duyệt PA": _fmt_dates(d_a, level >= 2),
        "Số tiền phê duyệt (đồng)": np.where(level >= 2, money, None),
        "Số tiền đã chi trả (đồng)": np.where(level >= 3, money, None),
        "Ngày chi trả": _fmt_dates(d_p, level >= 3), "Ngày bàn giao": handed,
        "Khiếu nại": np.where(complaint, "Có", "Không"), "Ghi chú": note,
    })
    for rows, column, choices in ((bad_status, "Trạng thái", N.UNKNOWN_STATUSES),
                                  (bad_amount, "Số tiền phê duyệt (đồng)", N.BAD_AMOUNTS),
                                  (bad_date, "Ngày kiểm đếm", N.BAD_DATES)):
        sheet.loc[rows, column] = [choices[i] for i in rng.integers(0, len(choices), rows.size)]
    sheet.loc[no_approval, "Ngày phê duyệt PA"] = None
    sort = np.lexsort((number, sheet["Số tờ"].to_numpy(), sheet["Mã xã"].to_numpy().astype(str), proj))
    sheet = sheet.iloc[sort].reset_index(drop=True)
    stt = np.empty(r, dtype=np.int64)
    stt[sort] = np.arange(1, r + 1)
    sheet["STT"] = np.arange(1, r + 1)

    def listing(rows: np.ndarray, column: str | None = None) -> list[dict[str, Any]]:
        out = []
        for i in rows:
            rec = {"STT": int(stt[i]), "MaDuAn": projects["MaDuAn"][proj[i]],
                   "key": [str(parcels["MaXa"][par[i]]), int(parcels["SoHieuToBa"][par[i]]), int(number[i])]}
            if column is not None:
                rec["column"], rec["value"] = column, sheet.at[int(stt[i]) - 1, column]
            out.append(rec)
        return sorted(out, key=lambda rec: rec["STT"])

    manifest = {
        "as_of": str(AS_OF),
        "statuses": [{"code": c, "text": t, "level": lv} for c, t, lv in N.STATUSES],
        "affected_pairs": int(keep.sum()),
        "pairs": truth, "rows": r, "not_started": not_started,
        "planted": {
            "unknown_parcel_key": listing(np.flatnonzero(fake)),
            "unknown_status": listing(bad_status, "Trạng thái"),
            "unparseable_amount": listing(bad_amount, "Số tiền phê duyệt (đồng)"),
            "unparseable_date": listing(bad_date, "Ngày kiểm đếm"),
            "handed_over_without_approval_date": listing(no_approval),
            "approved_unpaid_over_30_days": listing(unpaid, "Ngày phê duyệt PA"),
        },
    }
    return sheet, manifest


def _key(parcels: dict[str, np.ndarray], i: int) -> list[Any]:
    return [str(parcels["MaXa"][i]), int(parcels["SoHieuToBa"][i]), int(parcels["SoThuTuThu"][i])]
