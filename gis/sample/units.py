"""The synthetic district moved onto a real former district, and unit polygons built over it.

The sample's ward codes (09880, 09883, … step 3) are real Hà Nội legacy codes, but of wards of
two different former districts (09880 Xã An Thượng, Huyện Hoài Đức; 09886 Phường Dương Nội,
Quận Hà Đông) with invented names. To test the 2025 reorganisation on real codes,
:func:`on_real_district` gives every sample ward the code and name of a ward of one real former
district (phường for phường, xã for xã), and :func:`unit_polygons` builds the 2025 units over
it from the national conversion: undivided wards dissolve into their unit, a split ward is cut
into strips, one per unit it went to (the default unit first, west to east).

Pure: the national lists come in as an :class:`~gis.core.units.AdminRegistry`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.core.units import AdminRegistry
from gis.sample.generate import SampleDistrict

__all__ = ["RealWard", "district_wards", "on_real_district", "unit_polygons"]


@dataclass(frozen=True)
class RealWard:
    """A legacy ward of a real former district."""

    code: str
    name: str
    district: str
    province: str

    @property
    def urban(self) -> bool:
        """A phường or thị trấn (residential land is ODT)."""
        return self.name.startswith(("Phường", "Thị trấn"))


def district_wards(registry: AdminRegistry, district: str, province: str) -> list[RealWard]:
    """The legacy wards of a former district, in code order."""
    rows = registry.legacy[(registry.legacy["district"] == district)
                           & (registry.legacy["province"] == province)].sort_index()
    if not len(rows):
        raise ValueError(f"no former district {district!r} in {province!r}")
    return [RealWard(str(c), str(r["name"]), district, province) for c, r in rows.iterrows()]


def on_real_district(sample: SampleDistrict, wards: list[RealWard]) -> SampleDistrict:
    """The sample with each ward's code and name replaced by a real ward's (phường → an urban
    ward, xã → a rural one, in code order); parcels, wards, projects and the clearance sheet
    agree. Keys change with the codes (``<ward>-<sheet>-<number>``)."""
    urban = [w for w in wards if w.urban]
    rural = [w for w in wards if not w.urban]
    mapping: dict[str, RealWard] = {}
    for code, title in zip(sample.wards["MaXa"], sample.wards["TenXa"]):
        pool = urban if str(title).startswith("Phường") and urban else rural or urban
        if not pool:
            raise ValueError(f"{wards[0].district} has too few wards for the sample's "
                             f"{len(sample.wards)}")
        mapping[str(code)] = pool.pop(0)
    codes = {old: w.code for old, w in mapping.items()}
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, codes)) + r")\b")

    def swap(value: object) -> object:
        return pattern.sub(lambda m: codes[m.group(1)], value) if isinstance(value, str) else value

    parcels = sample.parcels.copy()
    parcels["MaXa"] = parcels["MaXa"].map(codes).fillna(parcels["MaXa"])
    ward_frame = sample.wards.copy()
    ward_frame["TenXa"] = [mapping[str(c)].name for c in ward_frame["MaXa"]]
    ward_frame["Huyen"] = wards[0].district
    ward_frame["Tinh"] = wards[0].province
    ward_frame["MaXa"] = ward_frame["MaXa"].map(codes)
    projects = sample.projects.copy()
    for column in projects.columns.drop("geometry"):
        if not pd.api.types.is_numeric_dtype(projects[column]):
            projects[column] = projects[column].map(swap)
    clearance = sample.clearance.copy()
    for column in clearance.columns:
        if not pd.api.types.is_numeric_dtype(clearance[column]):
            clearance[column] = clearance[column].map(swap)
    manifest = {**sample.manifest, "real_district": {
        "district": wards[0].district, "province": wards[0].province,
        "codes": {old: w.code for old, w in mapping.items()}}}
    return replace(sample, parcels=parcels, wards=ward_frame, projects=projects,
                   clearance=clearance, manifest=manifest)


def unit_polygons(wards: gpd.GeoDataFrame, registry: AdminRegistry, *,
                  code: str = "MaXa") -> gpd.GeoDataFrame:
    """Polygons of the 2025 units over legacy wards (``code``: legacy codes), as an office's
    units layer would come: ``MaXa``, ``TenXa``, ``Tinh`` (2025 code, name, province).

    An undivided ward goes whole to its unit; a split ward is cut into vertical strips of equal
    width, one per unit it went to, the default unit first (west)."""
    pieces: list[tuple[str, shapely.Geometry]] = []
    for ward_code, geom in zip(wards[code].astype(str), wards.geometry):
        conv = registry.convert(ward_code)
        if conv.unit is None:
            continue
        units = [u.code for u in conv.candidates]
        if len(units) == 1:
            pieces.append((units[0], geom))
            continue
        minx, miny, maxx, maxy = geom.bounds
        edges = np.linspace(minx, maxx, len(units) + 1)
        for unit, x0, x1 in zip(units, edges[:-1], edges[1:]):
            part = shapely.intersection(geom, shapely.box(x0, miny - 1, x1, maxy + 1))
            if not part.is_empty:
                pieces.append((unit, part))
    frame = pd.DataFrame(pieces, columns=["unit", "geometry"])
    merged = frame.groupby("unit", sort=True)["geometry"].agg(
        lambda g: shapely.union_all(np.asarray(list(g), dtype=object)))
    codes = merged.index.tolist()
    return gpd.GeoDataFrame({
        "MaXa": codes,
        "TenXa": [registry.current.at[c, "name"] for c in codes],
        "Tinh": [registry.current.at[c, "province"] for c in codes],
    }, geometry=list(merged.to_numpy()), crs=wards.crs)
