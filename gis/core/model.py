"""Build the model frame of a layer kind from a source frame and its field mapping.

Columns are renamed to the model (English names, DESIGN.md "Data model"), typed, and normalised:
ward codes are 5-character text, map sheet and parcel number integers, land-use strings parsed
into 2024 codes with their system, Vietnamese capital-source and start-type words mapped to codes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.fields import FieldMapping, LayerKind, fold_name
from gis.landuse import (
    DEFAULT_PUBLIC_RULES,
    PublicLandRule,
    classify_public,
    parse_land_use,
)

__all__ = ["build_frame", "normalise_ward_code", "map_unique", "outline_hashes", "zero_parcels_kept",
           "MODEL_COLUMNS",
           "WARD_CODE_DIGITS"]

WARD_CODE_DIGITS = 5  # GSO ward/commune codes: 5 digits after normalisation

MODEL_COLUMNS: dict[LayerKind, tuple[str, ...]] = {
    LayerKind.PARCELS: (
        "parcel_key", "ward_code", "map_sheet", "parcel_no", "land_use", "land_use_codes",
        "land_use_source", "land_use_system", "land_group", "owner_name", "owner_code",
        "origin_code", "address", "area_recorded_m2", "legal_area_m2", "area_m2", "is_public",
        "public_rule"),
    LayerKind.PROJECTS: (
        "project_id", "name", "investor", "capital_source", "capital_source_text", "start_type",
        "key_project",
        "planned_area_ha", "ward_codes", "start_year", "capital_plan_vnd", "disbursed_vnd", "area_m2"),
    LayerKind.BUILDINGS: ("building_id", "floors", "year_built", "area_m2"),
    LayerKind.WARDS: ("ward_code", "name", "district", "province", "area_m2"),
    LayerKind.UNITS: ("unit_code", "name", "province_code", "province", "area_m2"),
}


def normalise_ward_code(value: object) -> str | None:
    """Ward codes are 5-character text with leading zeros.

    >>> normalise_ward_code(4), normalise_ward_code("20248"), normalise_ward_code(9880.0)
    ('00004', '20248', '09880')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if not text:
        return None
    return text.zfill(5) if text.isdigit() and len(text) < 5 else text


def _province_code(value: object) -> str | None:
    """Province codes are 2-character text: ``1`` → ``01``."""
    text = normalise_ward_code(value)
    return None if text is None else (text.lstrip("0").zfill(2) if text.isdigit() else text)


def map_unique(series: pd.Series, func, dtype: str | None = None) -> pd.Series:  # type: ignore[no-untyped-def]
    """``series.map(func)`` computed once per distinct value (cadastral columns repeat a lot).

    Missing values map to None without calling ``func``.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    values = [func(u) for u in uniques]
    if dtype is not None:
        # convert the few distinct values, then take: far cheaper than converting every row
        array = pd.array(values + [None], dtype=dtype)
        return pd.Series(array.take(np.where(codes < 0, len(values), codes)), index=series.index)
    mapped = np.empty(len(values) + 1, dtype=object)
    mapped[:-1] = values
    mapped[-1] = None
    return pd.Series(mapped[codes], index=series.index, dtype=object)


def _nfc(value: str) -> str:
    return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)


def _text(series: pd.Series) -> pd.Series:
    out = series.astype("string").str.strip()
    out = out.where(out != "", pd.NA)
    return map_unique(out, _nfc, "string")


def _integer(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("Float64").round().astype("Int64")


def _float(series: pd.Series) -> pd.Series:
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        series = series.astype("string").str.replace(",", ".", regex=False)
    return pd.to_numeric(series, errors="coerce").astype("float64")


_CAPITAL = {"ngansach": "STATE_BUDGET", "vonngansach": "STATE_BUDGET", "nsnn": "STATE_BUDGET",
            "dautucong": "STATE_BUDGET", "statebudget": "STATE_BUDGET", "ns": "STATE_BUDGET",
            "ngoaingansach": "NON_BUDGET", "vonngoaingansach": "NON_BUDGET",
            "nonbudget": "NON_BUDGET", "nns": "NON_BUDGET"}
_START = {"chuyentiep": "CARRIED_OVER", "chuyentiepnamtruoc": "CARRIED_OVER",
          "carriedover": "CARRIED_OVER", "moi": "NEW", "trienkhaimoi": "NEW", "khoicongmoi": "NEW",
          "new": "NEW"}
_TRUE = {"co", "x", "1", "true", "yes", "y", "trongdiem"}


def _vocab(series: pd.Series, table: Mapping[str, str]) -> pd.Series:
    return series.map(lambda v: table.get(fold_name(str(v))) if isinstance(v, str) else None
                      ).astype("string")


def outline_hashes(geometry: gpd.GeoSeries | np.ndarray, *, grid: float = 0.1) -> list[str | None]:
    """Short SHA-1 of each outline rounded to ``grid`` metres, stable across re-extracts.

    Invalid outlines (bow-ties) are made valid first, so that rounding never raises; a geometry
    GEOS cannot handle at all is hashed from its coordinates rounded to the grid.
    """
    import hashlib

    import shapely

    geoms = np.asarray(getattr(geometry, "values", geometry), dtype=object)
    out: list[str | None] = []
    for g in geoms:
        if g is None or shapely.is_empty(g):
            out.append(None)
            continue
        try:
            fixed = g if shapely.is_valid(g) else shapely.make_valid(g)
            rounded = shapely.set_precision(fixed, grid)
            data = None if shapely.is_empty(rounded) else shapely.to_wkb(shapely.normalize(rounded))
        except shapely.errors.GEOSException:
            data = None
        if data is None:  # a sliver that vanishes on the grid, or GEOS gives up: its vertices
            coords = np.round(shapely.get_coordinates(shapely.normalize(g)) / grid)
            data = coords.astype("int64").tobytes()
        out.append(hashlib.sha1(data).hexdigest()[:12])
    return out


def zero_parcels_kept(frame: pd.DataFrame, rules: tuple[PublicLandRule, ...] = DEFAULT_PUBLIC_RULES
                      ) -> np.ndarray:
    """Rows with parcel number 0 whose land use is one the public-land rules name (roads DGT,
    irrigation DTL, rivers SON, water MNC, ...): state-managed land that is never numbered."""
    codes = {c for rule in rules for c in rule.land_use}
    zero = (frame["parcel_no"] == 0).fillna(False).to_numpy(dtype=bool)
    public: np.ndarray = frame["land_use"].astype("string").isin(codes).fillna(False).to_numpy(
        dtype=bool)
    kept: np.ndarray = zero & public
    return kept


def _geometry_ids(geometry: gpd.GeoSeries) -> pd.Series:
    """Ids for footprints the source gives none: a hash of the outline rounded to 0.1 m, so the
    same footprint keeps its id (and its violation fingerprint) when a file is re-extracted."""
    return pd.Series([None if h is None else "G" + h for h in outline_hashes(geometry)],
                     dtype="string")


def build_frame(source: gpd.GeoDataFrame, mapping: FieldMapping, *,
                defaults: Mapping[str, object] | None = None,
                public_rules: tuple[PublicLandRule, ...] = DEFAULT_PUBLIC_RULES,
                source_rows: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """Return the model frame: model columns, ``source_row`` (1-based) and ``extra`` (JSON).

    Parcels also get ``_src_parcel_no`` / ``_src_map_sheet`` (the key values as found) and
    ``_src_zero_kept`` (number 0 on public land, keyed by outline), which
    :func:`gis.core.validate.validate_frame` reads and drops.

    ``source`` must already be in the working (projected) CRS so that ``area_m2`` is in m².
    ``source_rows`` are the 1-based row numbers in the file when ``source`` is a subset of it.
    """
    defaults = dict(defaults or {})
    kind = mapping.kind
    n = len(source)
    cols: dict[str, pd.Series] = {}

    def raw(model_field: str) -> pd.Series:
        if model_field in mapping.sources:
            return source[mapping.sources[model_field]].reset_index(drop=True)
        return pd.Series([defaults.get(model_field)] * n, dtype=object)

    geometry = source.geometry.reset_index(drop=True)
    sources: dict[str, pd.Series] = {}  # raw key text, for validation messages (dropped there)
    area = pd.Series(np.asarray(geometry.area), dtype="float64")
    if kind is LayerKind.PARCELS:
        cols["ward_code"] = map_unique(raw("ward_code"), normalise_ward_code, "string")
        cols["map_sheet"] = _integer(raw("map_sheet"))
        cols["parcel_no"] = _integer(raw("parcel_no"))
        cols["parcel_key"] = (cols["ward_code"].fillna("?") + "-" + cols["map_sheet"].astype("string")
                              .fillna("?") + "-" + cols["parcel_no"].astype("string").fillna("?"))
        sources = {"_src_parcel_no": raw("parcel_no").astype("string"),
                   "_src_map_sheet": raw("map_sheet").astype("string")}
        land = _text(raw("land_use_source"))
        cols["land_use"] = map_unique(land, lambda v: parse_land_use(v).primary, "string")
        cols["land_use_codes"] = map_unique(land, lambda v: "+".join(parse_land_use(v).codes),
                                            "string")
        cols["land_use_source"] = land
        cols["land_use_system"] = map_unique(land, lambda v: parse_land_use(v).system, "string")
        cols["land_group"] = map_unique(
            land, lambda v: g.value if (g := parse_land_use(v).group) else None, "string")
        for f in ("owner_name", "owner_code", "origin_code", "address"):
            cols[f] = _text(raw(f))
        cols["area_recorded_m2"] = _float(raw("area_recorded_m2"))
        cols["legal_area_m2"] = _float(raw("legal_area_m2"))
        cols["area_m2"] = area
        frame = pd.DataFrame(cols)
        frame["public_rule"] = classify_public(frame, public_rules).astype("string")
        frame["is_public"] = frame["public_rule"].notna()
        # Parcel number 0 on state-managed land (roads, canals, rivers...): keyed by its outline,
        # marked for validation, which keeps them instead of quarantining
        # so public-land rules see it (DESIGN.md "Parcel number 0").
        zero = zero_parcels_kept(frame, public_rules) & frame["ward_code"].notna().to_numpy() & \
            frame["map_sheet"].notna().to_numpy()
        sources["_src_zero_kept"] = pd.Series(zero)
        if zero.any():
            hashes = outline_hashes(geometry.values[zero])
            keys = frame.loc[zero, "parcel_key"].to_numpy(dtype=object)
            frame.loc[zero, "parcel_key"] = [k if h is None else f"{k}-{h[:8]}"
                                             for k, h in zip(keys, hashes)]
    elif kind is LayerKind.PROJECTS:
        cols["project_id"] = _text(raw("project_id"))
        cols["name"] = _text(raw("name"))
        cols["investor"] = _text(raw("investor"))
        # the code is decided with the vocabulary (gis.core.clearance.wording) when figures are
        # computed; the words the office wrote are kept as they are
        cols["capital_source"] = _vocab(raw("capital_source"), _CAPITAL)
        cols["capital_source_text"] = _text(raw("capital_source"))
        cols["start_type"] = _vocab(raw("start_type"), _START)
        cols["key_project"] = raw("key_project").map(
            lambda v: fold_name(str(v)) in _TRUE if v is not None and v is not pd.NA else False
        ).astype(bool)
        cols["planned_area_ha"] = _float(raw("planned_area_ha"))
        cols["ward_codes"] = _text(raw("ward_codes"))
        cols["start_year"] = _integer(raw("start_year"))
        cols["capital_plan_vnd"] = _float(raw("capital_plan_vnd"))
        cols["disbursed_vnd"] = _float(raw("disbursed_vnd"))
        cols["area_m2"] = area
        frame = pd.DataFrame(cols)
    elif kind is LayerKind.BUILDINGS:
        ids = _text(raw("building_id"))
        cols["building_id"] = ids.fillna(_geometry_ids(geometry))
        cols["floors"] = _integer(raw("floors"))
        cols["year_built"] = _integer(raw("year_built"))
        cols["area_m2"] = area
        frame = pd.DataFrame(cols)
    elif kind is LayerKind.UNITS:
        cols["unit_code"] = map_unique(raw("unit_code"), normalise_ward_code, "string")
        cols["name"] = _text(raw("name"))
        cols["province_code"] = map_unique(raw("province_code"), _province_code, "string")
        cols["province"] = _text(raw("province"))
        cols["area_m2"] = area
        frame = pd.DataFrame(cols)
    else:
        cols["ward_code"] = map_unique(raw("ward_code"), normalise_ward_code, "string")
        for f in ("name", "district", "province"):
            cols[f] = _text(raw(f))
        cols["area_m2"] = area
        frame = pd.DataFrame(cols)
    frame = frame[list(MODEL_COLUMNS[kind])]
    frame.insert(0, "source_row", np.arange(1, n + 1, dtype="int64") if source_rows is None
                 else np.asarray(source_rows, dtype="int64"))
    if mapping.unmapped:
        extra = pd.DataFrame(source[list(mapping.unmapped)]).reset_index(drop=True)
        lines = extra.to_json(orient="records", lines=True, force_ascii=False,
                              date_format="iso", default_handler=str)
        frame["extra"] = pd.Series(lines.rstrip("\n").split("\n") if n else [], dtype="string")
    else:
        frame["extra"] = pd.Series([None] * n, dtype="string")
    for name, values in sources.items():
        frame[name] = values.to_numpy()
    return gpd.GeoDataFrame(frame, geometry=geometry.values, crs=source.crs)
