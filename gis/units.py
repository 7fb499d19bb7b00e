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
    NAME_COLUMNS,
    PLACE_COLUMNS,
    UNIT_COLUMNS,
    WARD_NAME,
    AdminRegistry,
    CodeSystem,
    UnitSource,
    assign_units,
    code_problems,
    name_places,
)
from gis.core.validate import ISSUE_COLUMNS
from gis.io.admin_units import load_registry
from gis.store.base import Store

__all__ = ["code_issues", "units_issues", "with_units", "with_names", "with_stored_names",
           "parcels_after", "renamed_parcels", "stored_layer",
           "name_stored_layers", "stale_names", "unit_names", "registry",
           "resolve_unit", "check_units", "province_names", "store_provinces",
           "unlisted_units", "place_cases"]


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
               wards: pd.DataFrame | None = None, system: CodeSystem | None = None,
               reg: AdminRegistry | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Parcels with :data:`~gis.core.units.PLACE_COLUMNS` decided (by the unit polygons when
    there are any, else by the conversion of their ward code), and warning rows for the
    parcels whose unit was assumed (split wards) or not found.

    The names go beside the codes: ``ward_name`` right after ``ward_code`` (the stored
    ``wards`` layer's name, else the national list's), ``unit_name`` and ``province_name``
    after their codes (the ``units`` layer's name, else the 2025 list's).

    ``system`` is the code system of ``ward_code``; None keeps each parcel's stored
    ``ward_system`` (legacy when it has none)."""
    reg = reg or registry()
    out = parcels.drop(columns=[c for c in PLACE_COLUMNS if c in parcels.columns])
    if system is not None:
        systems = pd.Series([system.value] * len(parcels), index=parcels.index)
    elif "ward_system" in parcels:
        systems = parcels["ward_system"].astype("string").fillna(CodeSystem.LEGACY.value)
    else:
        systems = pd.Series([CodeSystem.LEGACY.value] * len(parcels), index=parcels.index)
    names = _code_names(wards, "ward_code")
    parts = []
    for value in systems.unique():
        mask = (systems == value).to_numpy()
        parts.append(assign_units(parcels.loc[mask], reg, units=units,
                                  system=CodeSystem.parse(value), ward_names=names))
    decided = (pd.concat(parts).reindex(parcels.index) if parts
               else pd.DataFrame({c: pd.Series([], dtype="string") for c in PLACE_COLUMNS}))
    out = _placed(out, {c: decided[c] for c in PLACE_COLUMNS})
    issues = _assumed(out, reg, have_units=units is not None and len(units) > 0)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=parcels.crs), issues


def _code_names(layer: pd.DataFrame | None, code: str) -> dict[str, str] | None:
    """Code → name of a stored wards or units layer (None without one or without names)."""
    if layer is None or code not in layer or "name" not in layer:
        return None
    return {c: n for c, n in zip(layer[code], layer["name"])
            if isinstance(c, str) and isinstance(n, str)}


def _placed(frame: pd.DataFrame, columns: dict[str, pd.Series]) -> pd.DataFrame:
    """``frame`` with the place columns set: ``ward_name`` right after ``ward_code``, the
    unit columns after the parcel's own (in :data:`UNIT_COLUMNS` order), the geometry last."""
    out = frame.drop(columns=[c for c in columns if c in frame.columns])
    for column in UNIT_COLUMNS:
        if column in columns:
            out[column] = columns[column].astype("string").to_numpy()
    if WARD_NAME in columns:
        at = out.columns.get_loc("ward_code") + 1 if "ward_code" in out else len(out.columns)
        out.insert(at, WARD_NAME, columns[WARD_NAME].astype("string").to_numpy())
    if "geometry" in out.columns:
        out = out[[*(c for c in out.columns if c != "geometry"), "geometry"]]
    return out


#: each name column and the code it names
_CODE_OF = {WARD_NAME: "ward_code", "unit_name": "unit_code", "province_name": "province_code"}


def with_names(frame: pd.DataFrame, *, wards: pd.DataFrame | None = None,
               units: pd.DataFrame | None = None, reg: AdminRegistry | None = None
               ) -> pd.DataFrame:
    """``frame`` with the names beside the codes it has (:data:`NAME_COLUMNS` of its
    ``ward_code``, ``unit_code``, ``province_code``), from the stored ``wards`` and ``units``
    layers and the national lists, without deciding any unit again (a store loaded before the
    names were kept, cases)."""
    reg = reg or registry()
    named = name_places(frame, reg, ward_names=_code_names(wards, "ward_code"),
                        unit_names=_code_names(units, "unit_code"))
    present = {code: name for name, code in _CODE_OF.items()}
    wanted = {name: named[name] for code, name in present.items() if code in frame}
    out = frame.drop(columns=[c for c in wanted if c in frame.columns])
    for code, name in present.items():
        if name in wanted:
            out.insert(out.columns.get_loc(code) + 1, name, wanted[name].to_numpy())
    if isinstance(frame, gpd.GeoDataFrame):
        return gpd.GeoDataFrame(out, geometry=frame.geometry.name, crs=frame.crs)
    return out


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


def stored_layer(store: Store, layer: str) -> pd.DataFrame | None:
    """The codes and names of a stored wards or units layer (None without one): what
    :func:`with_units` and :func:`with_names` take as ``wards`` and ``units``."""
    if not store.has(layer):
        return None
    code = "ward_code" if layer == "wards" else "unit_code"
    fields = store.layer_info(layer).types
    return store.read(layer, columns=[c for c in (code, "name") if c in fields])


def renamed_parcels(store: Store, wards: pd.DataFrame) -> gpd.GeoDataFrame | None:
    """The stored parcels with the ward names of a new ``wards`` layer, or None when no
    parcel's ward name changes (nothing to rewrite; only the codes and names are read to
    tell). No unit is decided again."""
    if not store.has("parcels"):
        return None
    fields = store.layer_info("parcels").types
    if "ward_code" not in fields:
        return None
    current = store.read("parcels", columns=[c for c in ("ward_code", "ward_system", WARD_NAME)
                                             if c in fields])
    named = name_places(current, registry(), ward_names=_code_names(wards, "ward_code"))
    if WARD_NAME in current and named[WARD_NAME].fillna("\0").equals(
            current[WARD_NAME].astype("string").fillna("\0")):
        return None
    parcels = store.read("parcels")
    return with_names(parcels, wards=wards, units=stored_layer(store, "units"))


def parcels_after(store: Store, kind: str, new: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """The stored parcels as a new ``units`` layer places them, or with a new ``wards``
    layer's names (only when a name changes), to be written with the new layer in one
    transaction (:attr:`gis.store.base.LayerReplacement.also`); nothing for other kinds or
    without parcels."""
    if kind == "units" and store.has("parcels"):
        placed, _ = with_units(store.read("parcels"), units=new,
                               wards=stored_layer(store, "wards"))
        return {"parcels": placed}
    if kind == "wards":
        renamed = renamed_parcels(store, new)
        return {} if renamed is None else {"parcels": renamed}
    return {}


#: the name columns each stored table carries beside its codes (``gis db upgrade`` fills
#: them in a store loaded before they were kept)
NAMED_TABLES = {"parcels": NAME_COLUMNS, "violation_cases": (WARD_NAME, "unit_name"),
                "project_parcels": NAME_COLUMNS}


def stale_names(store: Store) -> list[str]:
    """Stored tables whose names are not those of their codes (columns missing, or rows
    without names: cases recorded into an older table, which it widened), read by their code
    and name columns only."""
    out = []
    wards, units, reg = stored_layer(store, "wards"), stored_layer(store, "units"), registry()
    for table, names in NAMED_TABLES.items():
        if not store.has(table):
            continue
        fields = store.layer_info(table).types
        wanted = [n for n in names if _CODE_OF[n] in fields]
        if not wanted:
            continue
        columns = [c for c in ("ward_system", *(_CODE_OF[n] for n in wanted), *wanted)
                   if c in fields]
        frame = pd.DataFrame(store.read(table, columns=columns)).drop(
            columns="geometry", errors="ignore")
        named = with_names(frame.drop(columns=wanted, errors="ignore"), wards=wards,
                           units=units, reg=reg)
        for name in wanted:
            given = frame[name].astype("string") if name in frame else \
                pd.Series(pd.NA, index=frame.index, dtype="string")
            if not named[name].astype("string").fillna("\0").equals(given.fillna("\0")):
                out.append(table)
                break
    return out


def name_stored_layers(store: Store) -> dict[str, int]:
    """Give the stored parcels, clearance parts and cases the names of their codes where they
    lack them (a store loaded before the names were kept; cases recorded into its table), in
    one read-modify-write under the writers' lock; no unit is decided again. Returns table →
    rows named (nothing when every name is there)."""
    counted: dict[str, int] = {}
    if not stale_names(store):  # asked first: a GeoPackage transaction copies the file
        return counted

    def change(working: Store) -> dict[str, pd.DataFrame]:
        wards, units = stored_layer(working, "wards"), stored_layer(working, "units")
        reg = registry()
        out = {}
        for table in stale_names(working):
            frame = working.read(table)
            out[table] = with_names(frame, wards=wards, units=units, reg=reg)
            counted[table] = len(frame)
        return out

    store.modify(change)
    return counted


def with_stored_names(frame: pd.DataFrame, store: Store, *,
                      reg: AdminRegistry | None = None) -> pd.DataFrame:
    """:func:`with_names` from the store's own wards and units layers."""
    return with_names(frame, wards=stored_layer(store, "wards"),
                      units=stored_layer(store, "units"), reg=reg)


def unit_names(store: Store | None = None, reg: AdminRegistry | None = None) -> dict[str, str]:
    """2025 unit code → name: the stored units layer's names over the national list's."""
    reg = reg or registry()
    names = reg.current["name"].astype(str).to_dict()
    if store is not None:
        names.update(_code_names(stored_layer(store, "units"), "unit_code") or {})
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
    """Violation cases with ``unit_code``, ``unit_name``, ``province_code``,
    ``province_name`` (the unit holding the case, else the unit of its parcel's ward; names
    as :func:`with_units` gives them), ``ward_name`` beside ``ward_code`` and ``project_ids``
    (the clearance projects it touches, comma-separated), for counts and lists per unit,
    province and project."""
    out = cases.copy()
    placed_columns = ("unit_code", "unit_name", "province_code", "province_name")
    if not len(out):
        for column in (*placed_columns, "project_ids"):
            out[column] = pd.Series([], dtype="string")
        if "ward_code" in out and WARD_NAME not in out:
            out.insert(out.columns.get_loc("ward_code") + 1, WARD_NAME,
                       pd.Series([], dtype="string"))
        return out
    units = store.read("units") if store.has("units") else None
    placed, _ = with_units(out.assign(parcel_key=out.get("case_id")), units=units,
                           wards=stored_layer(store, "wards"))
    for column in placed_columns:
        out[column] = placed[column].to_numpy()
    if "ward_code" in out:
        out = out.drop(columns=[WARD_NAME], errors="ignore")
        out.insert(out.columns.get_loc("ward_code") + 1, WARD_NAME, placed[WARD_NAME].to_numpy())
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
