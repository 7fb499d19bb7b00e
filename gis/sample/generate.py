"""Deterministic synthetic district generator (``gis sample``).

Pure: no file I/O, no printing, no environment reads. ``generate_district(n, seed=s)``
returns identical frames for the same ``(n, s)``. The work is split over private modules:
``_layout`` (cell grid, wards, parcel quads), ``_attributes`` (codes, owners, keys,
planted parcel problems), ``_buildings`` and ``_projects`` (projects and the clearance
sheet); this module assembles the frames and the manifest.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.sample import _attributes as A
from gis.sample import names as N
from gis.sample._buildings import make_buildings
from gis.sample._layout import Layout, build_parcels, plan_layout, rng_for
from gis.sample._projects import make_clearance, make_projects

__all__ = ["CRS", "SampleDistrict", "generate_district", "PARCEL_FIELDS"]

#: VN-2000 / TM-3 zone 482 (central meridian 105°00'), the cadastral CRS of Hà Nội.
CRS = "EPSG:5897"
MIN_PARCELS, MAX_PARCELS = 1_000, 1_000_000
#: Parcel fields as truncated by the DBF 10-character limit (SoHieuToBanDo → SoHieuToBa …).
PARCEL_FIELDS = ("MaXa", "SoHieuToBa", "SoThuTuThu", "DienTich", "KyHieuMucD", "TenChu",
                 "MaDoiTuong", "DiaChi")
PROJECT_FIELDS = ("MaDuAn", "TenDuAn", "ChuDauTu", "NguonVon", "KhoiCong", "TrongDiem",
                  "DienTichQH", "PhuongXa", "NamBD", "KeHoachVon", "GiaiNgan")
BUILDING_FIELDS = ("MaNha", "SoTang", "NamXD")
WARD_FIELDS = ("MaXa", "TenXa", "Huyen", "Tinh")


@dataclass(frozen=True, eq=False)
class SampleDistrict:
    """A synthetic district as a land office would receive it.

    Attributes
    ----------
    parcels, projects, buildings, wards : geopandas.GeoDataFrame
        Layers in EPSG:5897 with cadastral-export field names: parcels (thửa đất),
        clearance project boundaries (ranh giới dự án GPMB), building footprints (nhà),
        wards/communes (phường/xã).
    clearance : pandas.DataFrame
        The compensation board's status sheet (bảng tiến độ GPMB), Vietnamese headers.
    manifest : dict
        JSON-serialisable description of what was generated and every planted problem.
    """

    parcels: gpd.GeoDataFrame
    projects: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame
    clearance: pd.DataFrame
    manifest: dict[str, Any]


def _check_args(n_parcels: object, seed: object) -> None:
    if isinstance(n_parcels, bool) or not isinstance(n_parcels, (int, np.integer)):
        raise TypeError(f"n_parcels must be an int, got {type(n_parcels).__name__}")
    if not MIN_PARCELS <= n_parcels <= MAX_PARCELS:
        raise ValueError(f"n_parcels must be between {MIN_PARCELS} and {MAX_PARCELS}, got {n_parcels}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")


def _ward_geometries(layout: Layout) -> np.ndarray:
    n_rows, n_cols = layout.shape
    col, row = np.tile(np.arange(n_cols), n_rows), np.repeat(np.arange(n_rows), n_cols)
    boxes = shapely.box(layout.xb[col], layout.yb[row], layout.xb[col + 1], layout.yb[row + 1])
    geoms = np.array([shapely.coverage_union_all(boxes[layout.ward == w])
                      for w in range(layout.phuong.size)])
    if (shapely.get_type_id(geoms) == 6).any():  # keep one geometry type per layer
        geoms = np.array([shapely.multipolygons(shapely.get_parts(g)) for g in geoms])
    return geoms


def generate_district(n_parcels: int, *, seed: int = 0) -> SampleDistrict:
    """Generate a synthetic district of about ``n_parcels`` parcels.

    Parameters
    ----------
    n_parcels : int
        Requested number of parcels (thửa), 1 000 to 1 000 000. The result is within
        1 % of it; ``manifest["counts"]["parcels"]`` gives the exact number.
    seed : int, default 0
        Non-negative seed. The same ``(n_parcels, seed)`` always gives identical output.

    Returns
    -------
    SampleDistrict
        Parcels, projects, buildings, wards (EPSG:5897), the clearance sheet and the
        manifest of planted data problems.

    Raises
    ------
    TypeError
        If ``n_parcels`` is not an int.
    ValueError
        If ``n_parcels`` is out of range or ``seed`` is not a non-negative int.

    Examples
    --------
    >>> d = generate_district(1000, seed=1)
    >>> abs(len(d.parcels) - 1000) <= 10, d.parcels.crs.to_epsg()
    (True, 5897)
    """
    _check_args(n_parcels, seed)
    n_req, seed = int(n_parcels), int(seed)
    layout = plan_layout(n_req, seed)
    arrays = build_parcels(layout, seed)
    wards = A.make_wards(layout, seed)
    polys = shapely.polygons(arrays.coords)
    area = shapely.area(polys)
    centroids = arrays.coords[:, :4].mean(axis=1)
    codes = A.land_use(arrays, layout, seed)
    owner, owner_name = A.owners(codes, arrays, wards, seed)
    address = A.addresses(arrays, centroids, wards)
    sheet, number, key_order = A.keys(centroids, arrays.ward, layout)
    planted = A.plant_parcel_problems(arrays, arrays.ward, sheet, number, key_order, seed)
    number[planted.zero_number] = 0
    number[planted.duplicate] = number[planted.duplicate_of]
    start = int(rng_for(seed, 12).integers(len(N.UNKNOWN_CODES)))
    codes[planted.unknown_code] = [N.UNKNOWN_CODES[(start + i) % len(N.UNKNOWN_CODES)]
                                   for i in range(planted.unknown_code.size)]
    recorded = A.recorded_area(area, planted, seed)
    houses = make_buildings(arrays, codes, owner, area, planted.all, seed)
    geometry = polys.copy()
    geometry[planted.bow_tie] = shapely.polygons(arrays.coords[planted.bow_tie][:, [0, 1, 3, 2, 0]])

    # Final order: ward, sheet, parcel number (as a cadastral export lists them).
    order = np.lexsort((number, sheet, arrays.ward))
    inv = np.empty_like(order)
    inv[order] = np.arange(order.size)
    ward_codes = np.array(wards.code, dtype=object)
    columns = {
        "MaXa": ward_codes[arrays.ward], "SoHieuToBa": sheet, "SoThuTuThu": number,
        "DienTich": recorded, "KyHieuMucD": codes, "TenChu": owner_name, "MaDoiTuong": owner,
        "DiaChi": address,
    }
    columns = {name: values[order] for name, values in columns.items()}
    parcels = gpd.GeoDataFrame(columns, geometry=geometry[order], crs=CRS)
    ward_geoms = _ward_geometries(layout)
    wards_gdf = gpd.GeoDataFrame({
        "MaXa": wards.code, "TenXa": wards.title, "Huyen": N.DISTRICT, "Tinh": N.PROVINCE,
    }, geometry=ward_geoms, crs=CRS)
    proj_cols, proj_geoms = make_projects(layout, ward_geoms, wards, n_req, seed)
    projects = gpd.GeoDataFrame(proj_cols, geometry=proj_geoms, crs=CRS)
    clearance, clearance_manifest = make_clearance(
        proj_cols, proj_geoms, {**columns, "area": area[order]}, polys[order], inv[planted.all], seed)
    b_order = np.argsort(inv[houses.host], kind="stable")
    b_pos = np.empty_like(b_order)
    b_pos[b_order] = np.arange(b_order.size)
    buildings = gpd.GeoDataFrame({
        "MaNha": [f"NHA{i + 1:07d}" for i in range(b_order.size)],
        "SoTang": houses.floors[b_order], "NamXD": houses.year[b_order],
    }, geometry=houses.geometry[b_order], crs=CRS)

    def key(row: int) -> list[Any]:
        return [str(columns["MaXa"][row]), int(columns["SoHieuToBa"][row]), int(columns["SoThuTuThu"][row])]

    def entries(idx: np.ndarray) -> list[dict[str, Any]]:
        return [{"row": r, "key": key(r)} for r in sorted(int(inv[i]) for i in idx)]

    planted_buildings = []
    for rec in sorted(houses.planted, key=lambda rec: b_pos[rec["building"]]):
        rows = [int(inv[p]) for p in rec["parcels"]]
        planted_buildings.append({
            "MaNha": buildings["MaNha"].iat[b_pos[rec["building"]]], "expected_kind": rec["kind"],
            "parcel_rows": rows, "parcel_keys": [key(r) for r in rows],
            "land_use": [str(columns["KyHieuMucD"][r]) for r in rows], "area_m2": rec["area_m2"],
        })
    area_sorted = area[order]
    sheets_per_ward = pd.Series(columns["SoHieuToBa"]).groupby(columns["MaXa"]).nunique()
    parcels_per_ward = pd.Series(columns["MaXa"]).value_counts()
    manifest: dict[str, Any] = {
        "generator": "gis.sample", "format_version": 1, "seed": seed, "n_parcels_requested": n_req,
        "crs": CRS, "bounds": [float(v) for v in (layout.xb[0], layout.yb[0], layout.xb[-1], layout.yb[-1])],
        "district": {"Huyen": N.DISTRICT, "Tinh": N.PROVINCE},
        "counts": {"parcels": len(parcels), "projects": len(projects), "buildings": len(buildings),
                   "wards": len(wards_gdf), "clearance_rows": len(clearance),
                   "map_sheets": int(sheets_per_ward.sum())},
        "fields": {"parcels": list(PARCEL_FIELDS), "projects": list(PROJECT_FIELDS),
                   "buildings": list(BUILDING_FIELDS), "wards": list(WARD_FIELDS),
                   "clearance": list(N.CLEARANCE_COLUMNS)},
        "wards": [{"MaXa": c, "TenXa": t, "kind": "phường" if p else "xã",
                   "parcels": int(parcels_per_ward.get(c, 0)), "map_sheets": int(sheets_per_ward.get(c, 0))}
                  for c, t, p in zip(wards.code, wards.title, wards.phuong)],
        "land_use_counts": dict(sorted(Counter(map(str, columns["KyHieuMucD"])).items())),
        "owner_code_counts": dict(sorted(Counter(map(str, columns["MaDoiTuong"])).items())),
        "planted": {
            "parcels": {
                "bow_tie": entries(planted.bow_tie),
                "zero_parcel_number": entries(planted.zero_number),
                "duplicate_key": sorted(
                    ({"key": key(int(inv[a])), "rows": sorted([int(inv[a]), int(inv[b])])}
                     for a, b in zip(planted.duplicate, planted.duplicate_of)), key=lambda e: e["rows"]),
                "area_mismatch": [
                    {**e, "DienTich": float(columns["DienTich"][e["row"]]),
                     "area_m2": round(float(area_sorted[e["row"]]), 2)}
                    for e in entries(planted.area_mismatch)],
                "unknown_code": [{**e, "code": str(columns["KyHieuMucD"][e["row"]])}
                                 for e in entries(planted.unknown_code)],
            },
            "buildings": planted_buildings,
        },
        "clearance": clearance_manifest,
        "notes": [
            "Rows are 0-based positions in the parcels layer (= shapefile FID).",
            "Bow-tie parcels keep the DienTich of their intended (valid) outline.",
            "Clearance rows exist only for parcels overlapping a project by >= 1 m2; parcels with "
            "a planted problem never get a row and are listed under clearance.not_started.",
            "COC is a 2007-era code (grass for livestock) absent from the 2014/2018/2024 tables; "
            "it is planted as an unknown code like XYZ.",
        ],
    }
    return SampleDistrict(parcels, projects, buildings, wards_gdf, clearance, manifest)
