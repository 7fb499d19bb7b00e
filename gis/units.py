"""Commune-level units in the pipelines: checking codes of a layer against the national lists,
giving every parcel its 2025 unit and province, and re-placing stored parcels when the units
layer changes.

The decisions are in :mod:`gis.core.units`; the national lists come from
:func:`gis.io.admin_units.load_registry`; the store is reached only through the
:class:`~gis.store.base.Store` protocol, so both backends work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.core.units import (
    UNIT_COLUMNS,
    AdminRegistry,
    CodeSystem,
    UnitSource,
    assign_units,
    code_problems,
)
from gis.core.validate import ISSUE_COLUMNS
from gis.io.admin_units import load_registry
from gis.store.base import Store

__all__ = ["code_issues", "units_issues", "with_units", "place_stored_parcels",
           "unit_names", "registry", "resolve_unit", "check_units", "province_names",
           "store_provinces", "unlisted_units", "place_cases"]


def registry() -> AdminRegistry:
    """The national lists (read once per process)."""
    return load_registry()


def code_issues(frame: pd.DataFrame, column: str, system: CodeSystem, *,
                names: str | None = None, what: str = "ward code",
                reg: AdminRegistry | None = None, hint: str | None = None) -> pd.DataFrame:
    """Issue rows (:data:`~gis.core.validate.ISSUE_COLUMNS`) for the codes of ``column``
    declared in ``system``: other system, ambiguous, unknown, name mismatch."""
    reg = reg or registry()
    codes = frame[column].astype(object).where(frame[column].notna(), None).tolist()
    labels = None
    if names is not None and names in frame:
        labels = frame[names].astype(object).where(frame[names].notna(), None).tolist()
    found = code_problems(codes, system, reg, names=labels, what=what, hint=hint)
    rows = frame["source_row"].to_numpy()
    return pd.DataFrame([{"row": int(rows[i]), "key": None, "rule": rule, "severity": severity,
                          "field": column, "value": codes[i], "message": message}
                         for i, rule, severity, message in found], columns=ISSUE_COLUMNS)


#: what to do about a code of the other system in a units layer (always 2025 codes)
UNITS_HINT = ("a units layer holds only the commune-level units since 1 July 2025; legacy wards "
              "go in the wards layer (gis ingest wards)")


def units_issues(frame: gpd.GeoDataFrame, *, reg: AdminRegistry | None = None
                 ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """A units layer (2025 codes) checked against the 2025 list: the frame with
    ``province_code`` and ``province`` filled from the list, and the issue rows."""
    reg = reg or registry()
    issues = code_issues(frame, "unit_code", CodeSystem.CURRENT, names="name",
                         what="unit code", reg=reg, hint=UNITS_HINT)
    known = frame["unit_code"].map(reg.current["province_code"]).astype("string")
    given_province = frame["province_code"]
    wrong = given_province.notna() & known.notna() & (given_province != known)
    if wrong.any():
        extra = pd.DataFrame([{"row": int(r), "key": None, "rule": "province_mismatch",
                               "severity": "warning", "field": "province_code", "value": g,
                               "message": f"unit {c} is in province {k} "
                                          f"({reg.current.at[c, 'province']}), not {g}"}
                              for r, c, g, k in zip(frame.loc[wrong, "source_row"],
                                                    frame.loc[wrong, "unit_code"],
                                                    given_province[wrong], known[wrong])],
                             columns=ISSUE_COLUMNS)
        issues = pd.concat([issues, extra], ignore_index=True)
    frame, parts = _merge_parts(frame)
    issues = pd.concat([issues, parts], ignore_index=True)
    refused = set(issues.loc[issues["severity"] == "error", "row"].dropna().astype(int))
    issues = pd.concat([issues, _overlaps(frame[~frame["source_row"].isin(refused)])],
                       ignore_index=True)
    out = frame.copy()
    # the national list's name is the unit's name (a file's "sơn tây", "PHƯỜNG SƠN TÂY" or a
    # blank would otherwise reach every report); the file's own spelling is kept beside it
    official = frame["unit_code"].map(reg.current["name"]).astype("string")
    given = frame["name"].astype("string") if "name" in frame else official
    out["name"] = official.fillna(given)
    out["name_in_file"] = given.where(given.fillna("") != official.fillna(""))
    out["province_code"] = known.fillna(given_province).astype("string")
    out["province"] = frame["unit_code"].map(reg.current["province"]).astype("string").fillna(
        frame["province"])
    return out, issues


def _merge_parts(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Rows of one unit (the same code, the same name or none): the unit's parts (an island,
    a piece digitised apart). Their polygons are merged into the first row, which loads; the
    other rows are kept aside saying where their polygon went. Rows of one code with
    different names stay as they are (duplicate codes, refused by validation)."""
    import shapely

    from gis.core.units import fold_unit_name

    codes = frame["unit_code"].astype("string")
    repeated = codes.notna() & codes.duplicated(keep=False)
    if not repeated.any():
        return frame, pd.DataFrame(columns=ISSUE_COLUMNS)
    out = frame.copy()
    rows = []
    names = frame["name"] if "name" in frame else pd.Series([None] * len(frame), index=frame.index)
    for code, group in frame.loc[repeated].groupby(codes[repeated], sort=False):
        folded = {fold_unit_name(n) for n in names.loc[group.index] if fold_unit_name(n)}
        if len(folded) > 1:
            continue
        first = group.index[0]
        geoms = np.asarray(group.geometry.values, dtype=object)
        merged = shapely.union_all(shapely.make_valid(geoms[~shapely.is_missing(geoms)]))
        out.loc[first, "geometry"] = merged  # type: ignore[call-overload]
        first_row = int(frame.at[first, "source_row"])
        for i in group.index[1:]:
            rows.append({"row": int(frame.at[i, "source_row"]), "key": str(code),
                         "rule": "unit_part_merged", "severity": "error", "field": "geometry",
                         "value": str(code),
                         "message": f"row {int(frame.at[i, 'source_row'])} is a part of unit "
                                    f"{code}: its polygon is merged into row {first_row}, "
                                    "which is loaded with all the unit's parts"})
    return out, pd.DataFrame(rows, columns=ISSUE_COLUMNS)


#: overlap between two units' polygons worth a warning: this many m², and this share of the
#: smaller (digitising slivers along a shared boundary are below both)
OVERLAP_M2, OVERLAP_SHARE = 100.0, 0.001


def _overlaps(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """A warning per pair of units whose polygons overlap: a parcel in the overlap takes the
    first unit in the layer, which the officer should know."""
    import shapely

    geoms = np.asarray(frame.geometry.values, dtype=object)
    present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
                             & shapely.is_valid(geoms))
    if len(present) < 2 or frame.crs is None or not frame.crs.is_projected:
        return pd.DataFrame(columns=ISSUE_COLUMNS)
    tree = shapely.STRtree(geoms[present])
    left, right = tree.query(geoms[present], predicate="intersects")
    pairs = left < right
    left, right = present[left[pairs]], present[right[pairs]]
    rows = []
    codes, sources = frame["unit_code"].astype(str).to_numpy(), frame["source_row"].to_numpy()
    for a, b in zip(left, right):
        shared = float(shapely.area(shapely.intersection(geoms[a], geoms[b])))
        smaller = min(float(shapely.area(geoms[a])), float(shapely.area(geoms[b])))
        if shared >= OVERLAP_M2 and smaller > 0 and shared / smaller >= OVERLAP_SHARE:
            rows.append({"row": int(sources[b]), "key": codes[b], "rule": "units_overlap",
                         "severity": "warning", "field": "geometry", "value": codes[a],
                         "message": f"units {codes[a]} (row {int(sources[a])}) and {codes[b]} "
                                    f"(row {int(sources[b])}) overlap by {shared:,.0f} m² "
                                    f"({shared / smaller:.1%} of the smaller): a parcel in the "
                                    f"overlap is placed in {codes[a]}, the first in the layer"})
    return pd.DataFrame(rows, columns=ISSUE_COLUMNS)


def with_units(parcels: gpd.GeoDataFrame, *, units: gpd.GeoDataFrame | None,
               system: CodeSystem | None = None, reg: AdminRegistry | None = None
               ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Parcels with :data:`~gis.core.units.UNIT_COLUMNS` decided (by the unit polygons when
    there are any, else by the conversion of their ward code), and warning rows for the
    parcels whose unit was assumed (split wards) or not found.

    ``system`` is the code system of ``ward_code``; None keeps each parcel's stored
    ``ward_system`` (legacy when it has none)."""
    reg = reg or registry()
    out = parcels.drop(columns=[c for c in UNIT_COLUMNS if c in parcels.columns])
    if system is not None:
        systems = pd.Series([system.value] * len(parcels), index=parcels.index)
    elif "ward_system" in parcels:
        systems = parcels["ward_system"].astype("string").fillna(CodeSystem.LEGACY.value)
    else:
        systems = pd.Series([CodeSystem.LEGACY.value] * len(parcels), index=parcels.index)
    parts = []
    for value in systems.unique():
        mask = (systems == value).to_numpy()
        parts.append(assign_units(parcels.loc[mask], reg, units=units,
                                  system=CodeSystem.parse(value)))
    decided = (pd.concat(parts).reindex(parcels.index) if parts
               else pd.DataFrame({c: pd.Series([], dtype="string") for c in UNIT_COLUMNS}))
    for column in UNIT_COLUMNS:
        out[column] = decided[column].astype("string")
    issues = _assumed(out, reg, have_units=units is not None and len(units) > 0)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=parcels.crs), issues


def _assumed(parcels: pd.DataFrame, reg: AdminRegistry, *, have_units: bool = False
             ) -> pd.DataFrame:
    """Warnings for parcels of split wards placed in the default unit, and parcels in no
    unit."""
    rows = []
    default = parcels["unit_source"] == UnitSource.DEFAULT.value
    if default.any():
        conv = reg.convert_many(parcels.loc[default, "ward_code"].unique())
        for r in parcels.loc[default].itertuples():
            cands = str(conv.at[r.ward_code, "candidates"]).split(",")
            names = ", ".join(f"{reg.current.at[c, 'name']} ({c})" for c in cands)
            ward_name = reg.legacy.at[r.ward_code, "name"] if r.ward_code in reg.legacy.index \
                else r.ward_code
            rows.append({"row": r.source_row if "source_row" in parcels else None,
                         "key": r.parcel_key, "rule": "unit_default_assumed",
                         "severity": "warning", "field": "unit_code", "value": r.unit_code,
                         "message": _assumed_message(
                             r.ward_code, ward_name, names, r.unit_code,
                             reg.current.at[r.unit_code, "name"], have_units)})
    none = parcels["unit_source"] == UnitSource.NONE.value
    for r in parcels.loc[none].itertuples():
        rows.append({"row": r.source_row if "source_row" in parcels else None,
                     "key": r.parcel_key, "rule": "unit_unknown", "severity": "warning",
                     "field": "unit_code", "value": None,
                     "message": f"parcel {r.parcel_key} lies in no stored unit and its ward "
                                f"code {r.ward_code} converts to no 2025 unit: no unit "
                                "assigned"})
    return pd.DataFrame(rows, columns=ISSUE_COLUMNS)


def _assumed_message(ward_code: str, ward_name: str, names: str, unit_code: str,
                     unit_name: str, have_units: bool) -> str:
    """Why a split ward's parcel was placed in its default unit, and what would place it."""
    why = ("it lies outside every stored unit polygon (check the units layer's coverage)"
           if have_units else "load the units' polygons (gis ingest units) to place the parcel "
                              "by its geometry")
    return (f"ward {ward_code} ({ward_name}) was split between {names}: the default unit "
            f"{unit_name} ({unit_code}) was assumed; {why}")


def place_stored_parcels(store: Store) -> int:
    """Give every stored parcel its unit again (after the units layer changed), in one
    read-modify-write under the writers' lock. Returns the number of parcels placed."""
    counted: list[int] = []

    def change(working: Store) -> dict[str, pd.DataFrame]:
        if not working.has("parcels"):
            counted.append(0)
            return {}
        parcels = working.read("parcels")
        units = working.read("units") if working.has("units") else None
        placed, _ = with_units(parcels, units=units)
        counted.append(len(placed))
        return {"parcels": placed}

    store.modify(change)
    return counted[0]


def unit_names(store: Store | None = None, reg: AdminRegistry | None = None) -> dict[str, str]:
    """2025 unit code → name: the stored units layer's names over the national list's."""
    reg = reg or registry()
    names = reg.current["name"].astype(str).to_dict()
    if store is not None and store.has("units"):
        stored = store.read("units", columns=["unit_code", "name"])
        names.update({c: n for c, n in zip(stored["unit_code"], stored["name"])
                      if isinstance(c, str) and isinstance(n, str)})
    return names


def resolve_unit(code: str, system: CodeSystem, *, reg: AdminRegistry | None = None,
                 hint: str | None = None) -> str:
    """A code typed by an officer (``--unit``), checked in its system; an error names the unit
    of the other system when the code belongs only there."""
    from gis.errors import UnitCodeError

    reg = reg or registry()
    text = code.strip().zfill(5) if code.strip().isdigit() else code.strip()
    problems = [p for p in code_problems([text], system, reg, what="unit code", hint=hint)
                if p[2] == "error" or p[1] == "code_unknown"]
    if problems:
        raise UnitCodeError(problems[0][3], field="units", value=code)
    return text



def check_units(text: str | Sequence[str], *, reg: AdminRegistry | None = None,
                store: Store | None = None) -> tuple[str, ...]:
    """A user's scope as typed (``09574,09604`` or a list): 2025 commune-level unit codes, each
    checked against the 2025 list (:func:`resolve_unit`: a legacy-only code is an error naming
    its legacy ward, an unknown one says so) and, given the ``store``, against the store's
    province(s) (:func:`store_provinces`: a unit of another province is an error naming both;
    an empty store takes any). Sorted, without repeats."""
    from gis.errors import UnitCodeError

    parts = re.split(r"[,;\s]+", text) if isinstance(text, str) else list(text)
    codes = [p.strip() for p in parts if p and p.strip()]
    if not codes:
        raise UnitCodeError("give one or more 2025 unit codes, e.g. 09574,09604",
                            field="units", value=str(text))
    reg = reg or registry()
    checked = set()
    for code in codes:
        checked.add(resolve_unit(code, CodeSystem.CURRENT, reg=reg,
                                 hint="a user works in 2025 commune-level units"))
    provinces, source = store_provinces(store) if store is not None else (set(), "")
    if provinces:
        current = reg.current
        for code in sorted(checked):
            province = str(current.at[code, "province_code"])
            if province in provinces:
                continue
            held = province_names(sorted(provinces), reg)
            raise UnitCodeError(
                f"unit {code} {current.at[code, 'name']} is in {current.at[code, 'province']} "
                f"({province}), not in this store's province: {held} (by its {source}); "
                "give units of the store's province", field="units", value=code)
    return tuple(sorted(checked))


def _province_name(reg: AdminRegistry, code: str) -> str:
    found = reg.current.loc[reg.current["province_code"] == code, "province"]
    return str(found.iloc[0]) if len(found) else code


def province_names(codes: Sequence[str], reg: AdminRegistry | None = None) -> str:
    """2025 province codes named for people: ``Thành phố Hà Nội (01), …``."""
    reg = reg or registry()
    return ", ".join(f"{_province_name(reg, c)} ({c})" for c in codes)


def store_provinces(store: Store) -> tuple[set[str], str]:
    """The province codes a store holds and where they were read: the stored ``units``
    layer's, else the parcels' ``province_code`` (an empty set: an empty store)."""
    if store.has("units") and store.layer_info("units").field("province_code") is not None:
        found = {str(c) for c in store.distinct("units", "province_code") if c}
        if found:
            return found, "units layer"
    if store.has("parcels") and store.layer_info("parcels").field("province_code") is not None:
        found = {str(c) for c in store.distinct("parcels", "province_code") if c}
        if found:
            return found, "parcels"
    return set(), ""


def unlisted_units(codes: Sequence[str], store: Store) -> list[str]:
    """The codes a store's ``units`` layer does not hold (none without a units layer): a scope
    worth a warning, as no polygon of the store places a parcel in them (yet)."""
    if not store.has("units"):
        return []
    stored = {str(c) for c in store.distinct("units", "unit_code") if c}
    return [c for c in codes if c not in stored]


def place_cases(store: Store, cases: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Violation cases with ``unit_code``, ``province_code`` (the unit holding the case, else
    the unit of its parcel's ward) and ``project_ids`` (the clearance projects it touches,
    comma-separated), for counts per unit, province and project."""
    out = cases.copy()
    if not len(out):
        for column in ("unit_code", "province_code", "project_ids"):
            out[column] = pd.Series([], dtype="string")
        return out
    units = store.read("units") if store.has("units") else None
    placed, _ = with_units(out.assign(parcel_key=out.get("case_id")), units=units)
    out["unit_code"] = placed["unit_code"].to_numpy()
    out["province_code"] = placed["province_code"].to_numpy()
    projects = store.read("projects", columns=["project_id"]) if store.has("projects") else None
    ids = pd.Series([None] * len(out), index=out.index, dtype="string")
    if projects is not None and len(projects):
        import shapely

        geoms = np.asarray(out.geometry.values, dtype=object)
        tree = shapely.STRtree(np.asarray(projects.geometry.values, dtype=object))
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        hit = tree.query(geoms[present], predicate="intersects")
        rows = np.flatnonzero(present)[hit[0]]
        names = projects["project_id"].astype(str).to_numpy()[hit[1]]
        joined = pd.Series(names).groupby(rows).agg(lambda s: ",".join(sorted(set(s))))
        ids.iloc[joined.index.to_numpy()] = joined.to_numpy()
    out["project_ids"] = ids
    return out
