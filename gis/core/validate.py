"""Validate a model frame before loading, and lose nothing.

Checks are vectorised (shapely 2, pandas). Each finding is an issue row (source row, key, rule,
severity, field, value, message). Rows with an ``error`` go to quarantine with their reasons; rows
with only warnings or notes load. Invalid geometries are repaired with ``make_valid`` and the
original is kept as WKT; 3D/measured coordinates are dropped to 2D; polygons are pulled out of
GeometryCollections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException

from gis.core.model import WARD_CODE_DIGITS, map_unique
from gis.fields import LayerKind
from gis.landuse import parse_land_use

__all__ = ["Severity", "ValidationConfig", "ValidationResult", "validate_frame", "ISSUE_COLUMNS"]

ISSUE_COLUMNS = ["row", "key", "rule", "severity", "field", "value", "message"]


class Severity(str, Enum):
    """How bad an issue is: errors quarantine the row, warnings and notes do not."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class ValidationConfig:
    """Thresholds of the checks."""

    area_tolerance: float = 0.05  # relative recorded-vs-computed difference before a warning
    area_tolerance_m2: float = 1.0  # ...and absolute, so tiny parcels do not all warn
    known_wards: frozenset[str] | None = None  # ward codes of the stored wards layer, if any


@dataclass
class ValidationResult:
    """Valid rows, quarantined rows, and every issue found."""

    kind: LayerKind
    valid: gpd.GeoDataFrame
    quarantine: gpd.GeoDataFrame
    issues: pd.DataFrame
    rows_total: int
    notes: list[str] = field(default_factory=list)

    def counts(self) -> pd.DataFrame:
        """Issue counts per rule and severity."""
        if self.issues.empty:
            return pd.DataFrame(columns=["rule", "severity", "rows"])
        return (self.issues.groupby(["rule", "severity"]).size().rename("rows").reset_index()
                .sort_values(["severity", "rows"], ascending=[True, False]))

    def summary(self) -> dict[str, object]:
        """Counts that add up: total = loaded + quarantined."""
        return {"kind": self.kind.value, "rows_total": self.rows_total,
                "rows_loaded": len(self.valid), "rows_quarantined": len(self.quarantine),
                "issues": {f"{r.rule} ({r.severity})": int(r.rows)
                           for r in self.counts().itertuples()}}


def _issues(mask: np.ndarray, frame: pd.DataFrame, rule: str, severity: Severity,
            message: str | pd.Series, field_name: str | None = None,
            value: pd.Series | None = None, key_col: str | None = None) -> pd.DataFrame:
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    if len(idx) == 0:
        return pd.DataFrame(columns=ISSUE_COLUMNS)
    sub = frame.iloc[idx]
    msg = message.iloc[idx].to_numpy() if isinstance(message, pd.Series) else message
    val = value.iloc[idx].astype("string").to_numpy() if value is not None else None
    return pd.DataFrame({
        "row": sub["source_row"].to_numpy(),
        "key": sub[key_col].astype("string").to_numpy() if key_col else None,
        "rule": rule, "severity": severity.value, "field": field_name, "value": val,
        "message": msg})


_KEY = {LayerKind.PARCELS: "parcel_key", LayerKind.PROJECTS: "project_id",
        LayerKind.BUILDINGS: "building_id", LayerKind.WARDS: "ward_code",
        LayerKind.UNITS: "unit_code"}


def _repair_geometries(frame: gpd.GeoDataFrame, key: str, found: list[pd.DataFrame],
                       unreadable: np.ndarray | None = None) -> gpd.GeoDataFrame:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    original_wkt = pd.Series([None] * len(frame), dtype="string", index=frame.index)
    null = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    # rows whose geometry could not be read already carry their own error
    found.append(_issues(null & ~(unreadable if unreadable is not None else False), frame,
                         "empty_geometry", Severity.ERROR, "null or empty geometry", key_col=key))
    present = ~null
    has_z = present & (shapely.has_z(geoms) | shapely.has_m(geoms))
    if has_z.any():
        geoms = np.where(has_z, shapely.force_2d(geoms), geoms)
        found.append(_issues(has_z, frame, "z_dropped", Severity.NOTE,
                             "3D/measured coordinates dropped to 2D", key_col=key))
    types = shapely.get_type_id(geoms)
    collection = present & (types == 7)
    if collection.any():
        geoms = geoms.copy()
        for i in np.flatnonzero(collection):
            parts = [p for p in shapely.get_parts(geoms[i]) if shapely.get_type_id(p) in (3, 6)]
            geoms[i] = shapely.union_all(parts)
        found.append(_issues(collection, frame, "geometry_collection", Severity.WARNING,
                             "GeometryCollection: its polygons kept, other parts dropped",
                             key_col=key))
        types = shapely.get_type_id(geoms)
    polygonal = (types == 3) | (types == 6)
    non_polygon = present & ~polygonal & ~(collection & shapely.is_empty(geoms))
    type_names = pd.Series(shapely.get_type_id(geoms)).map(
        {0: "Point", 1: "LineString", 2: "LinearRing", 4: "MultiPoint", 5: "MultiLineString",
         7: "GeometryCollection", -1: "None"})
    found.append(_issues(non_polygon | (collection & shapely.is_empty(geoms)), frame, "non_polygon",
                         Severity.ERROR, "geometry is " + type_names.fillna("?") + ", expected a polygon",
                         key_col=key))
    check = present & polygonal
    invalid = np.zeros(len(frame), dtype=bool)
    invalid[check] = ~shapely.is_valid(geoms[check])
    if invalid.any():
        reasons = pd.Series([None] * len(frame), dtype="string")
        reasons[invalid] = shapely.is_valid_reason(geoms[invalid])
        original_wkt[invalid] = shapely.to_wkt(geoms[invalid], rounding_precision=3)
        repaired = np.asarray([_repair(g) for g in geoms[invalid]], dtype=object)
        geoms[invalid] = repaired
        lost = np.zeros(len(frame), dtype=bool)
        lost[invalid] = shapely.is_empty(repaired)
        found.append(_issues(invalid & ~lost, frame, "invalid_geometry_repaired", Severity.WARNING,
                             "invalid geometry (" + reasons.fillna("") + ") repaired with make_valid; "
                             "original kept", key_col=key))
        found.append(_issues(lost, frame, "invalid_geometry", Severity.ERROR,
                             "invalid geometry (" + reasons.fillna("") + ") that cannot be repaired",
                             key_col=key))
    out = frame.copy()
    out["geometry"] = geoms
    out = out.set_geometry("geometry", crs=frame.crs)
    out["geometry_repaired"] = invalid
    out["geometry_original_wkt"] = original_wkt.values
    if invalid.any() or has_z.any() or collection.any():
        out["area_m2"] = np.asarray(shapely.area(geoms), dtype="float64")
    return out


def _make_valid(geom: shapely.Geometry) -> shapely.Geometry:
    """``make_valid`` of one geometry; empty when GEOS cannot repair it (a row error, no crash)."""
    try:
        return shapely.make_valid(geom, method="structure", keep_collapsed=False)
    except GEOSException:
        try:
            return shapely.make_valid(geom)
        except GEOSException:
            return shapely.from_wkt("POLYGON EMPTY")


def _repair(geom: shapely.Geometry) -> shapely.Geometry:
    """A valid (multi)polygon from an invalid one, or empty. GEOS's "structure" repair can give
    parts that share an edge (an invalid multipolygon): they are dissolved, and the "linework"
    repair is the last resort."""
    out = _polygonal(_make_valid(geom))
    if not shapely.is_valid(out):
        try:
            out = _polygonal(shapely.union_all(shapely.get_parts(out)))
        except GEOSException:
            out = shapely.from_wkt("POLYGON EMPTY")
    if not shapely.is_valid(out):
        try:
            out = _polygonal(shapely.make_valid(geom))
        except GEOSException:
            out = shapely.from_wkt("POLYGON EMPTY")
    return out if shapely.is_valid(out) else shapely.from_wkt("POLYGON EMPTY")


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    polys = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) == 3]
    return shapely.multipolygons(polys) if polys else shapely.from_wkt("POLYGON EMPTY")


def _parcel_checks(frame: gpd.GeoDataFrame, config: ValidationConfig, found: list[pd.DataFrame],
                   blocked: np.ndarray) -> None:
    key = "parcel_key"
    for col, label in (("ward_code", "ward code"), ("map_sheet", "map sheet"),
                       ("parcel_no", "parcel number")):
        src = frame.get(f"_src_{col}")
        given = (src.astype("string").str.strip().fillna("").ne("").to_numpy(dtype=bool)
                 if src is not None else np.zeros(len(frame), dtype=bool))
        missing = frame[col].isna().to_numpy()
        found.append(_issues(missing & ~given, frame, "missing_key", Severity.ERROR,
                             f"{label} is missing" + ("" if src is not None else " or not a number"),
                             col, key_col=key))
        found.append(_issues(missing & given, frame, "bad_key", Severity.ERROR,
                             f"{label} is not a whole number", col, src, key))
        if col != "ward_code":
            negative = (frame[col] < 0).fillna(False).to_numpy(dtype=bool)
            found.append(_issues(negative, frame, "bad_key", Severity.ERROR,
                                 f"{label} is negative", col, frame[col], key))
    ward = frame["ward_code"].astype("string")
    malformed = (ward.notna() & ~ward.str.fullmatch(rf"\d{{{WARD_CODE_DIGITS}}}").fillna(False)
                 ).to_numpy(dtype=bool)
    found.append(_issues(malformed, frame, "bad_ward_code", Severity.ERROR,
                         f"ward code is not a {WARD_CODE_DIGITS}-digit GSO code (an internal id?)",
                         "ward_code", ward, key))
    if config.known_wards is not None:
        unknown = (ward.notna().to_numpy(dtype=bool) & ~malformed
                   & ~ward.isin(config.known_wards).fillna(False).to_numpy(dtype=bool))
        found.append(_issues(unknown, frame, "unknown_ward", Severity.ERROR,
                             "ward code not in the stored wards layer", "ward_code", ward, key))
    kept = (frame["_src_zero_kept"].fillna(False).to_numpy(dtype=bool) if "_src_zero_kept" in frame
            else np.zeros(len(frame), dtype=bool))
    zero_all = (frame["parcel_no"] == 0).fillna(False).to_numpy(dtype=bool)
    zero = zero_all & ~kept
    found.append(_issues(zero, frame, "parcel_number_zero", Severity.ERROR,
                         "parcel number 0 (unnumbered parcel), land use not public",
                         "parcel_no", frame["parcel_no"], key))
    found.append(_issues(zero_all & kept, frame, "parcel_number_zero_public", Severity.NOTE,
                         "parcel number 0 on public land (" + frame["public_rule"].astype("string")
                         .fillna("") + "): kept, keyed by its outline", "parcel_no",
                         frame["parcel_no"], key))
    keyed = frame[["ward_code", "map_sheet", "parcel_no"]].notna().all(axis=1).to_numpy() & ~zero
    dup = np.zeros(len(frame), dtype=bool)
    dup[keyed] = frame.loc[keyed, "parcel_key"].duplicated(keep=False).to_numpy()
    if dup.any():
        first_row = frame.loc[dup].groupby("parcel_key")["source_row"].transform(
            lambda s: ", ".join(map(str, s.tolist()[:5])) + (" …" if len(s) > 5 else ""))
        msg = pd.Series([None] * len(frame), dtype="string")
        msg[dup] = ("duplicate parcel key, shared by rows " + first_row).to_numpy()
        found.append(_issues(dup, frame, "duplicate_key", Severity.ERROR, msg, "parcel_key",
                             key_col=key))
    recorded = frame["area_recorded_m2"].to_numpy(dtype="float64", na_value=np.nan)
    computed = frame["area_m2"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(computed - recorded) / recorded
    off = (~np.isnan(recorded) & (recorded > 0) & (rel > config.area_tolerance)
           & (np.abs(computed - recorded) > config.area_tolerance_m2))
    msg = pd.Series([None] * len(frame), dtype="string")
    msg[off] = [f"recorded area {r:,.1f} m² vs computed {c:,.1f} m² ({(c - r) / r:+.1%})"
                for r, c in zip(recorded[off], computed[off])]
    found.append(_issues(off, frame, "area_mismatch", Severity.WARNING, msg, "area_recorded_m2",
                         frame["area_recorded_m2"], key))
    zero_area = ~np.isnan(recorded) & (recorded <= 0)
    found.append(_issues(zero_area, frame, "area_recorded_zero", Severity.WARNING,
                         "recorded area is 0 or negative", "area_recorded_m2",
                         frame["area_recorded_m2"], key))
    source = frame["land_use_source"]
    codes = frame["land_use_codes"].fillna("")
    no_code = source.isna().to_numpy()
    found.append(_issues(no_code, frame, "missing_land_use", Severity.WARNING,
                         "no land-use code", "land_use_source", key_col=key))
    unknown_text = map_unique(source, lambda v: "+".join(parse_land_use(v).unknown), "string")
    unknown = unknown_text.fillna("").ne("").to_numpy(dtype=bool)
    found.append(_issues(unknown, frame, "unknown_land_use", Severity.WARNING,
                         "unknown land-use code(s) " + unknown_text.fillna("")
                         + " (not in the 2024 list or the legacy table)", "land_use_source",
                         source, key))
    composite = map_unique(source, lambda v: parse_land_use(v).composite).fillna(False)
    found.append(_issues(composite.to_numpy(dtype=bool), frame, "composite_land_use",
                         Severity.NOTE, "composite code split into " + codes.astype("string"),
                         "land_use_source", source, key))
    legacy_text = map_unique(source, lambda v: ", ".join(f"{a}→{b}" for a, b in p.legacy)
                             + f" (system {p.system})" if (p := parse_land_use(v)).legacy else "",
                             "string")
    legacy = legacy_text.fillna("").ne("").to_numpy(dtype=bool)
    found.append(_issues(legacy, frame, "legacy_land_use", Severity.NOTE,
                         "legacy code mapped: " + legacy_text.fillna(""), "land_use_source",
                         source, key))


def _unique_key_check(frame: gpd.GeoDataFrame, kind: LayerKind, found: list[pd.DataFrame],
                      refused: np.ndarray | None = None) -> None:
    """Keys present and unique among the rows not already refused (``refused``: a row kept
    aside for another reason does not make its key's other row ambiguous)."""
    key = _KEY[kind]
    missing = frame[key].isna().to_numpy()
    found.append(_issues(missing, frame, "missing_key", Severity.ERROR, f"{key} is missing", key,
                         key_col=key))
    candidates = ~missing & (~refused if refused is not None else True)
    dup = np.zeros(len(frame), dtype=bool)
    dup[candidates] = frame.loc[candidates, key].duplicated(keep=False).to_numpy()
    rows = frame.loc[dup].groupby(key)["source_row"].agg(
        lambda s: ", ".join(str(int(r)) for r in s))
    message = pd.Series([f"duplicate {key}, shared by rows {rows.get(v, '')}" if d else ""
                         for v, d in zip(frame[key], dup)], index=frame.index, dtype=object)
    found.append(_issues(dup, frame, "duplicate_key", Severity.ERROR, message, key,
                         frame[key], key))


def validate_frame(frame: gpd.GeoDataFrame, kind: LayerKind, *,
                   config: ValidationConfig = ValidationConfig(),
                   extra_issues: pd.DataFrame | None = None) -> ValidationResult:
    """Check a model frame (from :func:`gis.core.model.build_frame`) and split it.

    Returns valid rows (geometry repaired where needed), quarantined rows with a ``reason``
    column, and every issue. ``len(valid) + len(quarantine) == len(frame)`` always.
    ``extra_issues`` (columns :data:`ISSUE_COLUMNS`) are findings made elsewhere (a geometry
    the reader could not decode, a parcel outside its ward); their errors quarantine too.
    """
    frame = frame.reset_index(drop=True)
    key = _KEY[kind]
    found: list[pd.DataFrame] = []
    unreadable = None
    if extra_issues is not None and len(extra_issues):
        extra = extra_issues[ISSUE_COLUMNS].copy()
        rows = frame["source_row"]
        extra["key"] = extra["row"].map(dict(zip(rows, frame[key].astype("string")))).astype(object)
        found.append(extra)
        geom_errors = extra[(extra["severity"] == Severity.ERROR.value)
                            & (extra["field"] == "geometry")]["row"]
        unreadable = rows.isin(set(geom_errors)).to_numpy()
    refused = None
    if extra_issues is not None and len(extra_issues):
        errors_before = extra_issues.loc[extra_issues["severity"] == Severity.ERROR.value, "row"]
        refused = frame["source_row"].isin(set(errors_before)).to_numpy()
    frame = _repair_geometries(frame, key, found, unreadable)
    blocked = np.zeros(len(frame), dtype=bool)
    if kind is LayerKind.PARCELS:
        _parcel_checks(frame, config, found, blocked)
    elif kind in (LayerKind.PROJECTS, LayerKind.WARDS, LayerKind.UNITS):
        _unique_key_check(frame, kind, found, refused)
    nonempty = [f for f in found if not f.empty]
    issues = (pd.concat(nonempty, ignore_index=True) if nonempty
              else pd.DataFrame(columns=ISSUE_COLUMNS))
    issues = issues.sort_values(["row", "severity"], kind="stable").reset_index(drop=True)
    errors = issues[issues["severity"] == Severity.ERROR.value]
    bad_rows = set(errors["row"].tolist())
    is_bad = frame["source_row"].isin(bad_rows).to_numpy()
    valid = frame.loc[~is_bad].reset_index(drop=True)
    quarantine = frame.loc[is_bad].reset_index(drop=True)
    reasons = errors.groupby("row").agg(rules=("rule", lambda s: ",".join(dict.fromkeys(s))),
                                        reason=("message", lambda s: "; ".join(dict.fromkeys(s))))
    quarantine = quarantine.merge(reasons, left_on="source_row", right_index=True, how="left")
    quarantine = gpd.GeoDataFrame(quarantine, geometry="geometry", crs=frame.crs)
    helpers = [c for c in frame.columns if str(c).startswith("_src_")]
    valid, quarantine = valid.drop(columns=helpers), quarantine.drop(columns=helpers)
    return ValidationResult(kind, gpd.GeoDataFrame(valid, geometry="geometry", crs=frame.crs),
                            quarantine, issues, len(frame))
