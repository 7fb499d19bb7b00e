"""Where a source's features are: its CRS (declared, given on the command line or in the layer
config, or inferred from the coordinates and the province), the province when none is given
(the layer's own province field, the stored ward holding lon/lat data, the province of its ward
or unit codes), and the checks that the features lie where they claim (inside the stored
wards, near the declared province's zone). Part of the ingest pipeline (:mod:`gis.ingest`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from gis import crs as crsmod
from gis.catalog import LayerSpec
from gis.core.place import OUTSIDE_SHARE_REFUSED, WARD_TOLERANCE_M, check_places, parcel_points
from gis.errors import CRSError, PlaceError
from gis.fields import FieldMapping, LayerKind
from gis.io.read import SourceInfo
from gis.units import registry

__all__ = ["describe_crs", "frame_bounds", "resolve_crs", "province_from_data", "place_check",
           "province_check"]


def describe_crs(crs: CRS) -> str:
    epsg = crs.to_epsg(min_confidence=90)
    return f"EPSG:{epsg} {crs.name}" if epsg else crs.name


def frame_bounds(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    geoms = frame.geometry
    present = geoms[~(geoms.isna() | geoms.is_empty)]
    b = present.total_bounds if len(present) else np.array([np.nan] * 4)
    return tuple(float(v) for v in b)  # type: ignore[return-value]


def resolve_crs(raw: gpd.GeoDataFrame, info: SourceInfo, *, crs: str | None, spec: LayerSpec | None,
                 province: str | None, store_crs: CRS | None) -> tuple[CRS, CRS, list[str]]:
    notes: list[str] = []
    bounds = frame_bounds(raw)
    if any(np.isnan(bounds)):
        raise CRSError("no geometry to locate: every feature is null or empty",
                       path=info.path, layer=info.layer)
    declared: CRS | None
    if crs is not None:
        declared = crsmod.parse_crs(crs)
        notes.append(f"CRS given on the command line: {describe_crs(declared)}")
    elif info.crs is not None:
        declared = info.crs
    elif spec is not None and spec.crs:
        declared = crsmod.parse_crs(spec.crs, option="layer config crs")
        notes.append(f"the source declares no CRS; layer config says {describe_crs(declared)}")
    else:
        declared = None
    source = crsmod.resolve_source_crs(declared, bounds, province=province, path=info.path,
                                       layer=info.layer)
    if declared is None:
        notes.append(f"the source declares no CRS; coordinates and province give {describe_crs(source)}")
    zone = crsmod.zone_of_crs(source)
    if zone is not None and source.to_epsg(min_confidence=90) != zone.epsg:
        notes.append(f"CRS {source.name!r} recognised as {zone.name} (EPSG:{zone.epsg}) by its "
                     "parameters; the national VN-2000→WGS 84 parameters (EPSG:6960) apply")
        source = zone.crs
    # Areas are measured in the source's own zone (or the province's), even when the store keeps
    # another zone: the layer is moved into the store's CRS only after validation.
    own_zone = source.is_projected and (zone is not None or "mercator" not in (
        source.coordinate_operation.method_name.lower() if source.coordinate_operation else "")
        or "transverse" in source.coordinate_operation.method_name.lower())
    if province is None and store_crs is not None and not own_zone:
        working = store_crs  # lon/lat data with no province: the office's own zone
    else:
        working = crsmod.working_crs(source, bounds, province=province)
    if working != source:
        notes.append(f"transformed {describe_crs(source)} → {describe_crs(working)}"
                     + (" with EPSG:6960 pinned" if crsmod.zone_of_crs(working) or zone else ""))
    if (crsmod.zone_of_crs(working) is not None and crsmod.zone_of_crs(working).is_utm
            and crsmod.zone_of_crs(source) is None):
        notes.append("no province known (no --province, no province field, no stored ward "
                     "holding the data): the VN-2000 UTM zone is used; pass --province for the "
                     "province's TM-3 zone")
    notes.append(f"areas computed in {describe_crs(working)}")
    if store_crs is not None and store_crs != working:
        notes.append(f"stored in the store's CRS {describe_crs(store_crs)} (EPSG:6960 pinned)")
    return source, working, notes


def province_from_data(decoded: gpd.GeoDataFrame, info: SourceInfo, mapping: FieldMapping,
                        kind: LayerKind, wards: gpd.GeoDataFrame | None,
                        declared: bool) -> tuple[str | None, str | None]:
    """A province for the CRS when none is given: the layer's own province field (wards), or
    the stored ward that holds lon/lat data. Returns (province, how) or (None, None)."""
    def one_zone(names: list[str]) -> str | None:
        zones = {}
        for name in names:
            try:
                zones.setdefault(crsmod.zone_for_province(name).epsg, name)
            except CRSError:
                continue
        return next(iter(zones.values())) if len(zones) == 1 else None

    if kind is LayerKind.WARDS and "province" in mapping.sources:
        values = decoded[mapping.sources["province"]].dropna().astype(str).unique().tolist()
        found = one_zone(values)
        if found:
            return found, f"the layer's {mapping.sources['province']} field"
    bounds = frame_bounds(decoded)
    if (wards is not None and len(wards) and "province" in wards.columns and wards.crs is not None
            and not any(np.isnan(bounds)) and crsmod.looks_geographic(bounds)
            and (info.crs is None or info.crs.is_geographic) and declared):
        points = parcel_points(decoded.geometry.values)
        points = points[[p is not None for p in points]]
        if len(points) > 500:
            points = points[:: len(points) // 500]
        moved = crsmod.transform_geometries(points, crsmod.WGS84, wards.crs)
        tree = __import__("shapely").STRtree(np.asarray(wards.geometry.values, dtype=object))
        hits = tree.query(moved, predicate="within")
        names = wards["province"].iloc[np.unique(hits[1])].dropna().astype(str).unique().tolist()
        found = one_zone(names)
        if found:
            return found, "the stored wards that hold the data"
    if declared and (info.crs is None or info.crs.is_geographic):
        found, field_name = _province_of_codes(decoded, mapping, kind)
        if found:
            one = one_zone(found)
            if one:
                return one, f"the layer's {field_name} codes"
    return None, None


def _province_of_codes(decoded: gpd.GeoDataFrame, mapping: FieldMapping, kind: LayerKind
                       ) -> tuple[list[str] | None, str | None]:
    """The (legacy) provinces of the layer's ward or unit codes, which fix the VN-2000 zone
    when a file declares no CRS: legacy ward codes name their province; a 2025 unit, the
    provinces of the legacy wards it was made of."""
    column = {LayerKind.PARCELS: "ward_code", LayerKind.WARDS: "ward_code",
              LayerKind.UNITS: "unit_code"}.get(kind)
    if column is None or column not in mapping.sources:
        return None, None
    source = mapping.sources[column]
    values = decoded[source].dropna().unique()[:500]
    codes = set()
    for value in values:
        text = str(value).strip()
        if text.endswith(".0"):
            text = text[:-2]
        if text.isdigit():
            codes.add(text.zfill(5))
    reg = registry()
    if kind is LayerKind.UNITS:
        codes = set(reg.conversion.loc[reg.conversion["unit_code"].isin(codes), "ward_code"])
    provinces = reg.legacy.loc[reg.legacy.index.intersection(sorted(codes)), "province"]
    names = sorted(provinces.dropna().astype(str).unique())
    return (names or None), source


def place_check(frame: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, raw: gpd.GeoDataFrame,
                 source_crs: CRS, info: SourceInfo, notes: list[str]) -> pd.DataFrame:
    """Row issues of parcels outside the stored wards; refuse the layer when most are."""
    local = wards
    if wards.crs is not None and wards.crs != frame.crs:
        local = gpd.GeoDataFrame(wards.drop(columns="geometry"), crs=frame.crs,
                                 geometry=crsmod.transform_geometries(wards.geometry.values,
                                                                      wards.crs, frame.crs))
    check = check_places(frame, local)
    notes.append(f"place check: {check.placed - int(check.outside_all.sum())} of {check.placed} "
                 f"parcels within {WARD_TOLERANCE_M:g} m of a stored ward")
    if check.placed and check.share_outside > OUTSIDE_SHARE_REFUSED:
        hint = ""
        zone = crsmod.zone_of_crs(source_crs)
        if zone is not None and not zone.is_utm:
            import shapely

            points = parcel_points(raw.geometry.values)
            points = points[[p is not None for p in points]]
            if len(points) > 200:
                points = points[:: len(points) // 200]
            tree = shapely.STRtree(np.asarray(wards.geometry.values, dtype=object))

            def fits(moved: np.ndarray) -> np.ndarray:
                ok = np.zeros(len(moved), dtype=bool)
                hit = tree.query(moved, predicate="dwithin", distance=WARD_TOLERANCE_M)
                ok[np.unique(hit[0])] = True
                return ok

            best = crsmod.zones_placing(points, wards.crs, fits, exclude=zone)
            if best:
                z, share = best[0]
                hint = (f"; read in {z.name} (EPSG:{z.epsg}) instead of the declared {zone.name} "
                        f"the same numbers fall inside the wards ({share:.0%} of them): pass "
                        f"--crs EPSG:{z.epsg} or fix the .prj")
        away = f" (about {check.nearest_m / 1000:,.0f} km from the nearest)" if np.isfinite(
            check.nearest_m) else ""
        raise PlaceError(
            f"{int(check.outside_all.sum())} of {check.placed} parcels lie outside every stored "
            f"ward{away}, more than {OUTSIDE_SHARE_REFUSED:.0%} of the layer: wrong CRS or wrong "
            f"file{hint}; nothing was written", path=info.path, layer=info.layer)
    return check.issues


def province_check(frame: gpd.GeoDataFrame, raw: gpd.GeoDataFrame, province: str,
                    source_crs: CRS, info: SourceInfo) -> None:
    """With no stored wards: data whose middle lies farther than 1.5° of longitude from the
    central meridian of the province's zone is not in that province (coarse: no polygons)."""
    import shapely

    zone = crsmod.zone_for_province(province)
    present = frame.geometry[~(frame.geometry.isna() | frame.geometry.is_empty)]
    if not len(present):
        return
    middle = shapely.box(*present.total_bounds).centroid
    lon = crsmod.transform_geometries(np.array([middle]), frame.crs, crsmod.WGS84)[0].x
    if abs(lon - zone.central_meridian) <= 1.5:
        return
    hint = ""
    own = crsmod.zone_of_crs(source_crs)
    if own is not None and not own.is_utm:
        raw_mid = shapely.box(*frame_bounds(raw)).centroid
        x = crsmod.transform_geometries(np.array([raw_mid]), zone.crs, crsmod.WGS84)[0].x
        if own.epsg != zone.epsg and abs(x - zone.central_meridian) <= 1.5:
            hint = (f"; read in {zone.name} (EPSG:{zone.epsg}) instead of the declared "
                    f"{own.name} the same numbers fall there: pass --crs EPSG:{zone.epsg} or "
                    "fix the .prj")
    raise PlaceError(f"the data lies at longitude {lon:.2f}°, not in {province} (its TM-3 zone "
                     f"is centred on {zone.central_meridian:g}°){hint}; nothing was written",
                     path=info.path, layer=info.layer)
