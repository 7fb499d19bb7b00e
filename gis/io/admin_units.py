"""The national lists of commune-level units, legacy and 2025, from ``vietnamadminunits``.

The package (MIT, maintained) ships both lists (its ``admin_units_legacy`` and
``admin_units`` tables: 10,040 legacy wards under 63 provinces, 3,321 units under 34) and the
legacy → 2025 conversion, with split wards and their default unit. Its conversion is keyed by
normalised names (``thanhphohanoi_quanlongbien_phuongngocthuy``); here it is turned into codes
once per process. No table of units is written by hand.
"""

from __future__ import annotations

import functools

import pandas as pd

from gis.core.units import AdminRegistry
from gis.errors import DataSourceError

__all__ = ["load_registry", "PACKAGE"]

PACKAGE = "vietnamadminunits"


@functools.lru_cache(maxsize=1)
def load_registry() -> AdminRegistry:
    """Both lists and the conversion, read once per process (about one second)."""
    try:
        from vietnamadminunits.converter import converter_2025 as conv
        from vietnamadminunits.database import get_data
    except ImportError as exc:  # pragma: no cover - a broken installation
        raise DataSourceError(f"the package {PACKAGE} is not installed ({exc}); "
                              f"pip install {PACKAGE}", field="units") from None
    legacy = pd.DataFrame(get_data(
        ["wardCode", "ward", "districtCode", "district", "provinceCode", "province",
         "provinceKey", "districtKey", "wardKey"], table="admin_units_legacy"))
    legacy = legacy[legacy["wardCode"].notna()]
    current = pd.DataFrame(get_data(
        ["wardCode", "ward", "provinceCode", "province", "provinceKey", "wardKey"],
        table="admin_units"))
    new_code = {(p, w): c for p, w, c in zip(current["provinceKey"], current["wardKey"],
                                              current["wardCode"])}
    old_code = {f"{p}_{d}_{w}": c for p, d, w, c in zip(
        legacy["provinceKey"], legacy["districtKey"], legacy["wardKey"], legacy["wardCode"])}
    rows: list[tuple[str, str, bool]] = []
    for province, units in conv.DICT_PROVINCE_WARD_NO_DIVIDED.items():
        for unit_key, old_keys in units.items():
            unit = new_code.get((province, unit_key))
            rows += [(old_code[k], unit, True) for k in old_keys if k in old_code and unit]
    for province, wards in conv.DICT_PROVINCE_WARD_DIVIDED.items():
        for old_key, pieces in wards.items():
            ward = old_code.get(old_key)
            rows += [(ward, new_code[(province, p["newWardKey"])], bool(p["isDefaultNewWard"]))
                     for p in pieces if ward and (province, p["newWardKey"]) in new_code]
    conversion = pd.DataFrame(rows, columns=["ward_code", "unit_code", "is_default"])
    conversion = conversion.drop_duplicates(["ward_code", "unit_code"]).reset_index(drop=True)
    names = {"ward": "name", "district": "district", "districtCode": "district_code",
             "province": "province", "provinceCode": "province_code"}
    legacy_t = legacy.rename(columns=names).set_index("wardCode")[
        ["name", "district_code", "district", "province_code", "province"]]
    current_t = current.rename(columns=names).set_index("wardCode")[
        ["name", "province_code", "province"]]
    legacy_t.index.name = current_t.index.name = "code"
    return AdminRegistry(legacy_t.sort_index(), current_t.sort_index(), conversion)
