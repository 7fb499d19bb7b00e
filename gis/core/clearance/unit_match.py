"""Sheets written in 2025 unit codes (issue 13): a row's (unit, map sheet, parcel number) → the
stored parcel, whose key stays legacy.

Parcel keys are built from the legacy ward code the parcels were surveyed with
(``<ward>-<sheet>-<number>``). Since 1 July 2025 a compensation board may write the 2025
commune-level unit's code in the ward column instead. A legacy ward's map sheets are numbered
within that ward only, so inside a unit made of several legacy wards one (sheet, number) may be
two parcels: such a row is never guessed, its candidates (keys and legacy wards) are named. A
parcel of a split ward whose unit was only assumed (the package's default unit, no unit
polygons) may lie in any unit its ward went to, so it is a candidate in each of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gis.core.clearance.places import NameIndex
from gis.core.model import normalise_ward_code
from gis.core.units import AdminRegistry, CodeSystem, code_problems

__all__ = ["UnitParcels", "UnitMatch", "key_numbers", "resolve_unit", "unit_code_findings"]


def key_numbers(key: str) -> tuple[str, int, int] | None:
    """The legacy ward, sheet and number of a parcel key (None for other keys, such as the
    ``ward-sheet-0-<hash>`` of unnumbered public land).

    >>> key_numbers("09574-3-12"), key_numbers("09574-3-0-1a2b3c4d")
    (('09574', 3, 12), None)
    """
    parts = key.split("-")
    if len(parts) != 3 or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    return parts[0], int(parts[1]), int(parts[2])


@dataclass(frozen=True)
class UnitMatch:
    """The parcel a row names (``key`` and its legacy ``ward``), or why none: ``rule``
    (``unknown_parcel``, ``ambiguous_parcel``) and ``message``."""

    key: str | None = None
    ward: str | None = None
    rule: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class UnitParcels:
    """The stored parcels by 2025 unit, for sheets in 2025 codes.

    ``by_number`` maps (unit code, sheet, number) to the keys of the parcels it may name;
    ``unit_names`` (2025 code → name) lists the units that hold stored parcels, ``ward_names``
    (legacy code → name) names the legacy wards in messages; ``assumed`` holds the keys whose
    unit was assumed (split wards without unit polygons).
    """

    by_number: Mapping[tuple[str, int, int], tuple[str, ...]]
    unit_names: Mapping[str, str]
    ward_names: Mapping[str, str]
    assumed: frozenset[str] = frozenset()

    @classmethod
    def from_parcels(cls, keys: Iterable[object], units: Iterable[Sequence[str]], *,
                     unit_names: Mapping[str, str], ward_names: Mapping[str, str],
                     assumed: Iterable[object] = ()) -> UnitParcels:
        """Index parcels: each key with the 2025 units it may lie in (one, or every unit of
        its split ward when its unit was assumed)."""
        index: dict[tuple[str, int, int], list[str]] = {}
        held: set[str] = set()
        for key, in_units in zip(keys, units):
            numbers = key_numbers(key) if isinstance(key, str) else None
            if numbers is None:
                continue
            for unit in dict.fromkeys(u for u in in_units if isinstance(u, str) and u):
                index.setdefault((unit, numbers[1], numbers[2]), []).append(str(key))
                held.add(unit)
        return cls({k: tuple(sorted(v)) for k, v in index.items()},
                   {u: unit_names.get(u, "") for u in sorted(held)}, dict(ward_names),
                   frozenset(str(k) for k in assumed if isinstance(k, str)))

    def unit_label(self, unit: str) -> str:
        """``09574 Phường Sơn Tây`` (the code alone when the name is unknown)."""
        name = self.unit_names.get(unit)
        return f"{unit} {name}" if name else unit

    def _candidate(self, key: str) -> str:
        ward = key.split("-")[0]
        name = self.ward_names.get(ward)
        note = ", its unit assumed: the ward was split" if key in self.assumed else ""
        return f"{key} (legacy ward {ward}{' ' + name if name else ''}{note})"

    def match(self, unit: str, sheet: int, number: int) -> UnitMatch:
        """The stored parcel that sheet ``sheet``, number ``number`` of ``unit`` names."""
        found = self.by_number.get((unit, sheet, number), ())
        if len(found) == 1:
            key = found[0]
            return UnitMatch(key=key, ward=key.split("-")[0])
        if found:
            named = [self._candidate(k) for k in found]
            listed = ", ".join(named[:-1]) + " and " + named[-1]
            return UnitMatch(rule="ambiguous_parcel", message=(
                f"sheet {sheet} parcel {number} of unit {self.unit_label(unit)} is "
                f"{len(found)} parcels: {listed}; legacy wards number their map sheets "
                "separately, so the unit code cannot say which; kept aside, not guessed (load "
                "this row with its legacy ward code, --units legacy)"))
        if unit not in self.unit_names:
            held = ", ".join(self.unit_label(u) for u in self.unit_names) or "none"
            return UnitMatch(rule="unknown_parcel", message=(
                f"no stored parcel lies in unit {unit}: the parcels layer holds units {held}"))
        return UnitMatch(rule="unknown_parcel", message=(
            f"sheet {sheet} parcel {number} is not among the stored parcels of unit "
            f"{self.unit_label(unit)}"))


def unit_code_findings(codes: Sequence[object], names: Sequence[object] | None,
                       registry: AdminRegistry) -> dict[int, list[tuple[str, str, str]]]:
    """Problems of the 2025 codes of a sheet's ward column by position: ``(rule, severity,
    message)``: a legacy-only code (naming that ward), a code valid in both systems used
    ambiguously (naming both units), a code of no unit, a name that is not the unit's
    (:func:`gis.core.units.code_problems`)."""
    normal = [normalise_ward_code(c) for c in codes]
    out: dict[int, list[tuple[str, str, str]]] = {}
    for i, rule, severity, message in code_problems(normal, CodeSystem.CURRENT, registry,
                                                    names=names, what="unit code"):
        out.setdefault(i, []).append((rule, severity, message))
    return out


def resolve_unit(value: object, parcels: UnitParcels, units: NameIndex,
                 wards: NameIndex | None = None) -> tuple[str | None, str | None]:
    """A 2025 unit from a code ("9574", "09574") or a name ("P. Sơn Tây") among the units
    holding stored parcels: (code, None) or (None, the problem). A code is checked against the
    national list separately (:func:`unit_code_findings`)."""
    code = normalise_ward_code(value)
    if code is not None and code.isdigit():
        if len(code) != 5:
            return None, f"{value!s} is not a unit code (5 digits)"
        return code, None
    hits = units.find(value)
    if len(hits) == 1:
        return next(iter(hits)), None
    if len(hits) > 1:
        return None, (f"unit name {value!s} is ambiguous: "
                      + ", ".join(parcels.unit_label(c) for c in sorted(hits))
                      + "; use the unit code")
    legacy = sorted(wards.find(value)) if wards is not None else []
    held = ", ".join(parcels.unit_label(u) for u in parcels.unit_names) or "none"
    if legacy:
        return None, (f"{value!s} is a legacy ward ({', '.join(legacy)}), not a 2025 unit; "
                      f"the sheet is read in 2025 units (--units 2025): {held}")
    return None, f"{value!s} is not a 2025 unit of the stored parcels ({held})"
