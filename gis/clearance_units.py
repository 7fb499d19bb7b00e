"""Clearance sheets in 2025 unit codes (``--units 2025``): the stored parcels indexed by the
2025 unit they lie in, for :func:`gis.clearance.prepare_clearance`.

The matching itself is in :mod:`gis.core.clearance.unit_match`; this module reads the store
(only through the :class:`~gis.store.base.Store` protocol, so both backends work).
"""

from __future__ import annotations

import pandas as pd

from gis.core.clearance.unit_match import UnitParcels, key_numbers
from gis.core.units import AdminRegistry, UnitSource
from gis.errors import UnitCodeError
from gis.store.base import Store
from gis.store.query import LayerQuery
from gis.units import unit_names, with_units

__all__ = ["stored_unit_parcels"]


def stored_unit_parcels(store: Store | None, reg: AdminRegistry, *,
                        path: str | None = None) -> UnitParcels:
    """The stored parcels by 2025 unit: the unit each was placed in (``unit_code``), or, for a
    parcel of a split ward whose unit was only assumed, every unit its ward went to. Parcels of
    a store loaded before units were kept are placed now (unit polygons, else the conversion).

    A sheet in 2025 codes cannot be matched without parcels: that is an error naming the fix.
    """
    if store is None or not store.has("parcels"):
        raise UnitCodeError("--units 2025: a sheet in 2025 unit codes is matched to the stored "
                            "parcels (by unit, map sheet and parcel number), and the store has "
                            "no parcels yet; load the parcels first", path=path, field="units",
                            value="2025")
    fields = store.layer_info("parcels").types
    if "unit_code" in fields:
        columns = tuple(c for c in ("parcel_key", "ward_code", "unit_code", "unit_source")
                        if c in fields)
        frame = store.query("parcels", LayerQuery(columns=columns, with_geometry=False)).frame
    else:  # a store loaded before units were kept: placed as the clearance run places them
        parcels = store.read("parcels", columns=["parcel_key", "ward_code"])
        frame, _ = with_units(parcels, units=store.read("units") if store.has("units") else None,
                              reg=reg)
    keys = frame["parcel_key"].astype("string")
    units = frame["unit_code"].astype("string")
    assumed = (frame["unit_source"].astype("string") == UnitSource.DEFAULT.value).fillna(False) \
        if "unit_source" in frame else pd.Series(False, index=frame.index)
    wards = sorted({n[0] for k in keys.dropna() if (n := key_numbers(str(k))) is not None})
    candidates = reg.convert_many([w for w in wards if w in reg.legacy.index])["candidates"]
    split = {w: tuple(str(c).split(",")) for w, c in candidates.dropna().items()}
    in_units = [split.get(str(k).split("-")[0], (u,)) if a and isinstance(u, str) else
                ((u,) if isinstance(u, str) else ())
                for k, u, a in zip(keys.fillna(""), units.astype(object).where(units.notna()),
                                   assumed)]
    names = reg.legacy["name"].astype(str).to_dict()
    if store.has("wards"):
        stored = store.read("wards", columns=["ward_code", "name"])
        names.update({c: n for c, n in zip(stored["ward_code"], stored["name"])
                      if isinstance(c, str) and isinstance(n, str)})
    return UnitParcels.from_parcels(keys.astype(object).where(keys.notna()), in_units,
                                    unit_names=unit_names(store, reg), ward_names=names,
                                    assumed=keys[assumed.to_numpy()].dropna())
