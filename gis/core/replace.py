"""What a load replaces in a stored layer, and what it must keep.

A file replaces the stored rows of its own scope: the parcels of the wards it holds (in its own
code system: the legacy 09574 is Phường Ngô Quyền, the 2025 09574 Phường Sơn Tây, and one must
never replace the other), the units it holds; other kinds the whole layer. Whatever the scope:

- a stored row whose new version was kept aside (quarantined) keeps its stored version: the
  officer fixes the row and loads again, and nothing is lost meanwhile;
- a new row whose key is already a stored row outside the scope (the same ward code in the other
  code system) is not loaded over it: it is kept aside with its reason.

No I/O: frames in, frames out (:func:`plan_replacement`), for ``gis.ingest`` and the upload
preview alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["Replacement", "plan_replacement", "same_land", "SAME_LAND_SHARE"]

LEGACY = "legacy"


@dataclass(frozen=True)
class Replacement:
    """The stored rows a load replaces (``old``: diffed against the new rows), the stored rows
    it keeps (``kept``), and the new rows it must not load (``conflicts``, a mask over the new
    valid rows: their key belongs to a stored row of another scope)."""

    old: pd.DataFrame
    kept: pd.DataFrame
    conflicts: np.ndarray
    scope: list[str] | None
    kept_other: int  # stored rows outside the file's scope
    kept_quarantined: int  # stored rows whose new version was kept aside


def _system(frame: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None or column not in frame:
        return pd.Series([LEGACY] * len(frame), index=frame.index, dtype="string")
    return frame[column].astype("string").fillna(LEGACY)


def plan_replacement(old: pd.DataFrame, new: pd.DataFrame, quarantine: pd.DataFrame, *,
                     key: str, scope_column: str | None = None,
                     system_column: str | None = None, system: str | None = None,
                     replace_all: bool = False) -> Replacement:
    """Split the stored rows ``old`` for a load of ``new`` (valid rows) and ``quarantine``.

    ``scope_column`` (``ward_code``, ``unit_code``) limits the replacement to the stored rows
    whose value the file holds, and, with ``system_column``/``system``, to those of the file's
    code system; None or ``replace_all`` replaces the whole layer.
    """
    scope: list[str] | None = None
    if scope_column is not None and not replace_all and scope_column in old:
        codes = set(new[scope_column].dropna().astype(str)) if scope_column in new else set()
        if scope_column in quarantine:
            codes |= set(quarantine[scope_column].dropna().astype(str))
        in_scope = old[scope_column].astype("string").isin(codes).fillna(False).to_numpy(bool)
        if system is not None:
            in_scope = in_scope & (_system(old, system_column) == system).to_numpy(bool)
        scope = sorted(codes)
    else:
        in_scope = np.ones(len(old), dtype=bool)
    old_keys = old[key].astype("string") if key in old else pd.Series([], dtype="string")
    new_keys = new[key].astype("string") if key in new else pd.Series([], dtype="string")
    outside = set(old_keys[~in_scope].dropna())
    conflicts = new_keys.isin(outside).fillna(False).to_numpy(bool)
    failed = set()
    if key in quarantine:
        failed = set(quarantine[key].dropna().astype(str)) - set(new_keys[~conflicts].dropna())
    keep_failed = in_scope & old_keys.isin(failed).fillna(False).to_numpy(bool)
    replaced = in_scope & ~keep_failed
    return Replacement(old=old.loc[replaced], kept=old.loc[~replaced], conflicts=conflicts,
                       scope=scope, kept_other=int((~in_scope).sum()),
                       kept_quarantined=int(keep_failed.sum()))


#: a new parcel covering this share of a stored parcel of another ward (or code system), or
#: covered by it to this share, is the same land stored twice
SAME_LAND_SHARE = 0.5


def same_land(new: gpd.GeoDataFrame, stored: gpd.GeoDataFrame, *, key: str,
              share: float = SAME_LAND_SHARE) -> pd.DataFrame:
    """New parcels that are stored parcels of another scope (the same land under another ward
    code or code system, which every report would count twice): one row per new parcel,
    ``position`` (in ``new``), ``stored_key``, ``stored_ward``, ``stored_system`` and
    ``share`` (of the smaller of the two covered by both)."""
    columns = ["position", "stored_key", "stored_ward", "stored_system", "share"]
    if not len(new) or not len(stored):
        return pd.DataFrame(columns=columns)
    a = np.asarray(new.geometry.values, dtype=object)
    b = np.asarray(stored.geometry.values, dtype=object)
    ok_a = np.flatnonzero(~(shapely.is_missing(a) | shapely.is_empty(a)))
    tree = shapely.STRtree(b)
    left, right = tree.query(a[ok_a], predicate="intersects")
    if not len(left):
        return pd.DataFrame(columns=columns)
    left = ok_a[left]
    both = shapely.area(shapely.intersection(a[left], b[right]))
    smaller = np.minimum(shapely.area(a[left]), shapely.area(b[right]))
    with np.errstate(divide="ignore", invalid="ignore"):
        part = np.where(smaller > 0, both / smaller, 0.0)
    hit = part >= share
    found = pd.DataFrame({
        "position": left[hit], "stored_key": stored[key].astype(str).to_numpy()[right[hit]],
        "stored_ward": (stored["ward_code"].astype(str).to_numpy()[right[hit]]
                        if "ward_code" in stored else None),
        "stored_system": (stored["ward_system"].astype("string").fillna(LEGACY).to_numpy()[
            right[hit]] if "ward_system" in stored else LEGACY),
        "share": part[hit]})
    return found.sort_values(["position", "share"], ascending=[True, False]).drop_duplicates(
        "position").reset_index(drop=True)
