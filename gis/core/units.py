"""Administrative units before and after 1 July 2025: codes with their system, conversion, and
which commune-level unit holds each parcel.

A 5-digit code means nothing without its system: Hà Nội's legacy 00118 is Phường Ngọc Thụy
(Quận Long Biên), the 2025 00118 is Phường Bồ Đề. Every code here travels with its
:class:`CodeSystem`. The national lists and the legacy → 2025 conversion are data
(:class:`AdminRegistry`, built by :func:`gis.io.admin_units.load_registry` from the
``vietnamadminunits`` package); this module only looks things up and decides, with no I/O.

Split wards: a legacy ward divided between several new units converts to the package's
default unit; only geometry (the units layer) can say which new unit holds a given parcel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.core.enums import ParsedEnum

__all__ = ["CodeSystem", "UnitCode", "AdminRegistry", "UnitSource", "Conversion",
           "assign_units", "code_problems", "name_places", "UNIT_COLUMNS", "NAME_COLUMNS",
           "PLACE_COLUMNS", "WARD_NAME", "fold_unit_name", "placement_summary"]

#: columns every parcel carries once units are known (beside ward_code, as surveyed), each
#: name right after its code
UNIT_COLUMNS = ("ward_system", "unit_code", "unit_name", "province_code", "province_name",
                "unit_source")
#: the name of the ward a parcel was surveyed in, kept right after ``ward_code``
WARD_NAME = "ward_name"
#: the names beside the codes (issue 13: "every report, page and export shows names beside
#: codes"): stored with the codes, so every reader of the layer has them without a join
NAME_COLUMNS = (WARD_NAME, "unit_name", "province_name")
#: everything :func:`assign_units` decides
PLACE_COLUMNS = (WARD_NAME, *UNIT_COLUMNS)


class CodeSystem(ParsedEnum):
    """Which list a commune-level code belongs to: before 1 July 2025 (63 provinces, districts)
    or after (34 provinces, no district)."""

    LEGACY = "legacy"
    CURRENT = "2025"

    @classmethod
    def what(cls) -> str:
        return "code system"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"old": "legacy", "cu": "legacy", "new": "2025", "moi": "2025", "current": "2025"}


class UnitSource(ParsedEnum):
    """How a parcel's unit was decided."""

    GEOMETRY = "geometry"  # the unit polygon holding the parcel
    CONVERSION = "conversion"  # the package's conversion of an undivided legacy ward
    DEFAULT = "default"  # a split ward's default unit: assumed, to be checked
    DECLARED = "declared"  # the parcel's code is already a 2025 unit code
    NONE = "none"  # no unit found

    @classmethod
    def what(cls) -> str:
        return "unit source"


@dataclass(frozen=True)
class UnitCode:
    """A code together with its system.

    >>> str(UnitCode("00118", CodeSystem.CURRENT))
    '00118 (2025)'
    """

    code: str
    system: CodeSystem

    def __str__(self) -> str:
        return f"{self.code} ({self.system.value})"


def fold_unit_name(name: object) -> str:
    """A unit name folded for comparison: case, accents, spaces and the type word ignored.

    >>> fold_unit_name("Phường  Bồ Đề"), fold_unit_name("bo de")
    ('bode', 'bode')
    """
    import unicodedata

    if not isinstance(name, str):
        return ""
    text = name.replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    words = text.lower().split()
    types = (("thi", "tran"), ("dac", "khu"), ("phuong",), ("xa",))
    for t in types:
        if tuple(words[:len(t)]) == t and len(words) > len(t):
            words = words[len(t):]
            break
    return "".join(words)


@dataclass(frozen=True)
class Conversion:
    """The 2025 unit of one legacy ward: the unit, and for a split ward every candidate."""

    ward: UnitCode
    unit: UnitCode | None
    candidates: tuple[UnitCode, ...]

    @property
    def split(self) -> bool:
        """True when the legacy ward was divided between several 2025 units."""
        return len(self.candidates) > 1


@dataclass(frozen=True, eq=False)
class AdminRegistry:
    """The national lists of both systems and the legacy → 2025 conversion, as frames.

    Attributes
    ----------
    legacy : pandas.DataFrame
        Indexed by legacy ward code: ``name``, ``district_code``, ``district``,
        ``province_code``, ``province``.
    current : pandas.DataFrame
        Indexed by 2025 unit code: ``name``, ``province_code``, ``province``.
    conversion : pandas.DataFrame
        One row per (legacy ward, 2025 unit) piece: ``ward_code``, ``unit_code``,
        ``is_default`` (the unit the package assumes for the whole ward).
    """

    legacy: pd.DataFrame
    current: pd.DataFrame
    conversion: pd.DataFrame

    def table(self, system: CodeSystem | str) -> pd.DataFrame:
        """The list of one system."""
        return self.legacy if CodeSystem.parse(system) is CodeSystem.LEGACY else self.current

    def has(self, code: UnitCode) -> bool:
        """True when the code exists in its system."""
        return code.code in self.table(code.system).index

    def name(self, code: UnitCode) -> str | None:
        """The unit's name (``Phường Bồ Đề``), or None for an unknown code."""
        table = self.table(code.system)
        return str(table.at[code.code, "name"]) if code.code in table.index else None

    def describe(self, code: UnitCode) -> str:
        """The unit named for people: ``Phường Ngọc Thụy, Quận Long Biên, Thành phố Hà Nội
        (legacy 00118)``; an unknown code says so."""
        table = self.table(code.system)
        if code.code not in table.index:
            return f"{code.code} (not a {code.system.value} code)"
        row = table.loc[code.code]
        parts = [row["name"]]
        if code.system is CodeSystem.LEGACY and isinstance(row.get("district"), str):
            parts.append(row["district"])
        parts.append(row["province"])
        return f"{', '.join(str(p) for p in parts)} ({code.system.value} {code.code})"

    def convert(self, ward_code: str) -> Conversion:
        """The 2025 unit of a legacy ward (the default one when the ward was split)."""
        ward = UnitCode(ward_code, CodeSystem.LEGACY)
        rows = self.conversion[self.conversion["ward_code"] == ward_code]
        if not len(rows):
            return Conversion(ward, None, ())
        rows = rows.sort_values("is_default", ascending=False, kind="stable")
        units = tuple(UnitCode(str(c), CodeSystem.CURRENT) for c in rows["unit_code"])
        return Conversion(ward, units[0], units)

    def convert_many(self, ward_codes: Iterable[object]) -> pd.DataFrame:
        """Per distinct legacy code: ``unit_code`` (the default unit), ``split`` and
        ``candidates`` (comma-separated 2025 codes), indexed by ward code."""
        codes = sorted({c for c in ward_codes if isinstance(c, str)})
        conv = self.conversion[self.conversion["ward_code"].isin(codes)]
        conv = conv.sort_values(["ward_code", "is_default"], ascending=[True, False],
                                kind="stable")
        grouped = conv.groupby("ward_code", sort=True)["unit_code"]
        out = pd.DataFrame({"unit_code": grouped.first(),
                            "split": grouped.size() > 1,
                            "candidates": grouped.agg(lambda s: ",".join(s))})
        return out.reindex(codes)

    def province_of(self, unit_codes: pd.Series) -> pd.Series:
        """The 2025 province code of each 2025 unit code (NA when unknown)."""
        mapped = unit_codes.map(self.current["province_code"])
        return mapped.astype("string")

    def province_names(self) -> dict[str, str]:
        """2025 province code → its name (``01`` → ``Thành phố Hà Nội``)."""
        rows = self.current.drop_duplicates("province_code")
        return dict(zip(rows["province_code"].astype(str), rows["province"].astype(str)))

    def former_districts(self, ward_codes: Iterable[object]) -> list[str]:
        """The legacy districts (names with their province) that hold these legacy wards."""
        codes = [c for c in ward_codes if isinstance(c, str) and c in self.legacy.index]
        rows = self.legacy.loc[codes].drop_duplicates(["district_code"])
        return [f"{d}, {p}" for d, p in zip(rows["district"], rows["province"])]


def code_problems(codes: Sequence[object], system: CodeSystem, registry: AdminRegistry, *,
                  names: Sequence[object] | None = None, what: str = "ward code",
                  hint: str | None = None) -> list[tuple[int, str, str, str]]:
    """Problems with codes declared in ``system``: ``(position, rule, severity, message)``.

    - a code only in the other system: an error naming that unit;
    - a code in both systems, used ambiguously: the row's name is the other system's unit, or
      the file holds codes that exist only in the other system and the row's name (if any) is
      not its own system's unit: an error naming both units;
    - a code in neither system: an error for 2025 units (the list is the law), a warning for a
      legacy ward (test and training districts use invented codes);
    - a name that is not the system's name for the code: a warning.
    """
    other = CodeSystem.CURRENT if system is CodeSystem.LEGACY else CodeSystem.LEGACY
    own, theirs = registry.table(system).index, registry.table(other).index
    values = [c if isinstance(c, str) else None for c in codes]
    only_other = sorted({c for c in values if c and c in theirs and c not in own})
    out: list[tuple[int, str, str, str]] = []
    for i, code in enumerate(values):
        if code is None:
            continue
        mine, yours = UnitCode(code, system), UnitCode(code, other)
        name = names[i] if names is not None else None
        folded = fold_unit_name(name)
        if code not in own and code in theirs:
            out.append((i, "code_other_system", "error",
                        f"{what} {code} is not a {system.value} code: it is "
                        f"{registry.describe(yours)}; " + (
                            hint or f"pass --units {other.value} if the file uses "
                                    f"{other.value} codes")))
        elif code not in own:
            out.append((i, "code_unknown", "error" if system is CodeSystem.CURRENT else "warning",
                        f"{what} {code} is in neither the legacy nor the 2025 list of "
                        "commune-level units"))
        elif code in theirs and (
                (folded and folded == fold_unit_name(registry.name(yours))
                 and folded != fold_unit_name(registry.name(mine)))
                or (only_other and not (folded and folded == fold_unit_name(
                    registry.name(mine))))):
            why = (f"the row names {name!r}" if folded and folded == fold_unit_name(
                registry.name(yours)) else f"the same file holds {other.value}-only codes "
                   f"({', '.join(only_other[:3])})")
            out.append((i, "code_ambiguous", "error",
                        f"{what} {code} is ambiguous: {registry.describe(mine)} or "
                        f"{registry.describe(yours)}, and {why}; " + (
                            hint or "use one code system per file (--units legacy|2025)")))
        elif folded and folded != fold_unit_name(registry.name(mine)):
            out.append((i, "name_mismatch", "warning",
                        f"{what} {code} is {registry.describe(mine)} in the national list, "
                        f"not {name!r}"))
    return out


def _names(codes: pd.Series, *lookups: Mapping[str, object] | None) -> pd.Series:
    """The name of each code: the first lookup that has one (NA when none has)."""
    out = pd.Series([pd.NA] * len(codes), index=codes.index, dtype="string")
    for lookup in lookups:
        clean = {c: n.strip() for c, n in (lookup or {}).items()
                 if isinstance(c, str) and isinstance(n, str) and n.strip()}
        if clean:
            out = out.fillna(codes.map(clean).astype("string"))
    return out


def name_places(places: pd.DataFrame, registry: AdminRegistry, *,
                ward_names: Mapping[str, object] | None = None,
                unit_names: Mapping[str, object] | None = None) -> pd.DataFrame:
    """The names beside the codes of ``places`` (``ward_code``, ``ward_system``, ``unit_code``,
    ``province_code``; the ones present), as :data:`NAME_COLUMNS` aligned with it.

    A ward's name is the stored wards layer's (``ward_names``, code → name) when it has the
    code, else the national list of the ward's system (legacy unless ``ward_system`` says
    2025); a unit's the stored units layer's (``unit_names``) over the 2025 list's; a
    province's the 2025 list's. Unknown codes have no name (NA), never a guessed one.
    """
    index = places.index
    empty = pd.Series([pd.NA] * len(places), index=index, dtype="string")
    ward = places["ward_code"].astype("string") if "ward_code" in places else empty
    system = places["ward_system"].astype("string").fillna(CodeSystem.LEGACY.value) \
        if "ward_system" in places else pd.Series([CodeSystem.LEGACY.value] * len(places),
                                                   index=index, dtype="string")
    legacy = registry.legacy["name"].astype(str).to_dict()
    current = registry.current["name"].astype(str).to_dict()
    in_2025 = (system == CodeSystem.CURRENT.value).to_numpy()
    ward_name = _names(ward, ward_names, legacy)
    if in_2025.any():  # a ward code declared in 2025 codes is a 2025 unit
        ward_name = ward_name.where(~in_2025, _names(ward, ward_names, current))
    unit = places["unit_code"].astype("string") if "unit_code" in places else empty
    province = places["province_code"].astype("string") if "province_code" in places else empty
    return pd.DataFrame({WARD_NAME: ward_name,
                         "unit_name": _names(unit, unit_names, current),
                         "province_name": _names(province, registry.province_names())},
                        index=index)


def assign_units(parcels: gpd.GeoDataFrame, registry: AdminRegistry, *,
                 units: gpd.GeoDataFrame | None = None,
                 system: CodeSystem = CodeSystem.LEGACY,
                 ward_names: Mapping[str, object] | None = None) -> pd.DataFrame:
    """The 2025 unit and province of each parcel, and how it was decided, with the names
    beside the codes (:func:`name_places`: ``ward_names`` are the stored wards layer's, the
    units' names those of ``units`` when it has a ``name`` column).

    With ``units`` (unit_code, geometry; same CRS as ``parcels``) a parcel takes the unit
    holding its representative point (point on surface), or, when that falls in none (edges of
    coarse boundaries), the unit it overlaps most. Without units, or for parcels in none, the
    conversion of its legacy ``ward_code`` (a split ward: the default unit, ``unit_source``
    ``default``); a ward code declared 2025 is the unit itself.

    Returns a frame aligned with ``parcels``: :data:`PLACE_COLUMNS`.
    """
    n = len(parcels)
    ward = parcels["ward_code"].astype("string") if "ward_code" in parcels else pd.Series(
        [pd.NA] * n, dtype="string")
    unit = pd.Series([pd.NA] * n, dtype="string", index=parcels.index)
    source = pd.Series([UnitSource.NONE.value] * n, dtype="string", index=parcels.index)
    if units is not None and len(units) and n:
        if units.crs is not None and parcels.crs is not None and units.crs != parcels.crs:
            units = units.to_crs(parcels.crs)
        geoms = np.asarray(parcels.geometry.values, dtype=object)
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        points = np.full(n, None, dtype=object)
        points[present] = shapely.point_on_surface(geoms[present])
        polys = np.asarray(units.geometry.values, dtype=object)
        codes = units["unit_code"].astype("string").to_numpy()
        tree = shapely.STRtree(polys)
        hit = tree.query(points[present], predicate="within")
        found = np.full(n, -1, dtype=np.int64)
        idx = np.flatnonzero(present)
        # a point on a shared edge can fall in two: the first unit in the layer wins
        first = pd.Series(hit[1]).groupby(hit[0]).min()
        found[idx[first.index.to_numpy()]] = first.to_numpy()
        missing = idx[found[idx] < 0]
        if len(missing):
            pairs = tree.query(geoms[missing], predicate="intersects")
            if len(pairs[0]):
                area = shapely.area(shapely.intersection(geoms[missing][pairs[0]],
                                                         polys[pairs[1]]))
                best = pd.DataFrame({"p": pairs[0], "u": pairs[1], "a": area})
                best = best[best["a"] > 0].sort_values(["p", "a"], ascending=[True, False])
                best = best.drop_duplicates("p")
                found[missing[best["p"].to_numpy()]] = best["u"].to_numpy()
        located = found >= 0
        unit[located] = codes[found[located]]
        source[located] = UnitSource.GEOMETRY.value
    rest = unit.isna().to_numpy()
    if rest.any():
        if system is CodeSystem.CURRENT:
            declared = ward[rest].where(ward[rest].isin(registry.current.index))
            unit[rest] = declared.to_numpy()
            source[rest] = np.where(declared.notna(), UnitSource.DECLARED.value,
                                    UnitSource.NONE.value)
        else:
            conv = registry.convert_many(ward[rest].dropna().unique())
            units_of = conv["unit_code"].dropna().to_dict()
            split_of = conv["split"].dropna().astype(bool).to_dict()
            got = pd.Series([units_of.get(c) for c in ward[rest]], dtype="string")
            split = np.array([bool(split_of.get(c, False)) for c in ward[rest]], dtype=bool)
            unit[rest] = got.to_numpy()
            source[rest] = np.where(got.isna(), UnitSource.NONE.value,
                                    np.where(split, UnitSource.DEFAULT.value,
                                             UnitSource.CONVERSION.value))
    out = pd.DataFrame({"ward_code": ward.set_axis(parcels.index),
                        "ward_system": pd.Series([system.value] * n, dtype="string",
                                                 index=parcels.index),
                        "unit_code": unit,
                        "province_code": registry.province_of(unit),
                        "unit_source": source}, index=parcels.index)
    stored_units = None
    if units is not None and "name" in units and "unit_code" in units:
        stored_units = dict(zip(units["unit_code"], units["name"]))
    out = out.join(name_places(out, registry, ward_names=ward_names, unit_names=stored_units))
    return out[list(PLACE_COLUMNS)]


def placement_summary(parcels: pd.DataFrame, registry: AdminRegistry, *,
                      unit_names: dict[str, str] | None = None) -> pd.DataFrame:
    """How the parcels of each surveyed ward were placed, one row per (ward, unit, source):
    ``ward_code``, ``ward_name``, ``unit_code``, ``unit_name``, ``unit_source``, ``parcels``
    and, for a split ward placed by default, ``candidates`` (the other units it was split
    into, named). One line per ward instead of a warning per parcel for the officer; the
    per-parcel warnings stay in the full report.

    ``unit_names`` overrides the national list's names (the stored units layer's)."""
    columns = ["ward_code", "ward_name", "unit_code", "unit_name", "unit_source", "parcels",
               "candidates"]
    if not len(parcels) or "unit_code" not in parcels or "ward_code" not in parcels:
        return pd.DataFrame(columns=columns)
    names = registry.current["name"].astype(str).to_dict()
    names.update(unit_names or {})
    keys = pd.DataFrame({"ward_code": parcels["ward_code"].astype("string").fillna(""),
                         "unit_code": parcels["unit_code"].astype("string").fillna(""),
                         "unit_source": parcels["unit_source"].astype("string").fillna(
                             UnitSource.NONE.value)})
    counts = keys.value_counts(sort=False).rename("parcels").reset_index()
    counts = counts.sort_values(["ward_code", "parcels"], ascending=[True, False],
                                kind="stable").reset_index(drop=True)
    legacy = registry.legacy["name"].astype(str).to_dict()
    systems = (parcels.groupby(parcels["ward_code"].astype("string").fillna(""))["ward_system"]
               .first().astype("string").fillna(CodeSystem.LEGACY.value).to_dict()
               if "ward_system" in parcels else {})
    counts["ward_name"] = [  # a code written in 2025 codes is the unit itself, not a ward
        names.get(c, "") if systems.get(c) == CodeSystem.CURRENT.value else legacy.get(c, "")
        for c in counts["ward_code"]]
    counts["unit_name"] = counts["unit_code"].map(names).fillna("")
    default = counts["unit_source"] == UnitSource.DEFAULT.value
    conv = registry.convert_many(counts.loc[default, "ward_code"].unique())
    counts["candidates"] = ""
    for i in np.flatnonzero(default.to_numpy()):
        row = counts.iloc[i]
        cands = [c for c in str(conv.at[row["ward_code"], "candidates"]).split(",")
                 if c and c != row["unit_code"]]
        counts.iat[i, counts.columns.get_loc("candidates")] = ", ".join(
            f"{names.get(c, c)} ({c})" for c in cands)
    return counts[columns].replace({"": None})
