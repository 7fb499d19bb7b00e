"""Land-use codes, legacy mapping, composites and public-land rules."""

from __future__ import annotations

import pandas as pd

from gis.landuse import (
    CODES_2024,
    DEFAULT_PUBLIC_RULES,
    LandGroup,
    PublicLandRule,
    classify_public,
    parse_land_use,
)


def test_2024_list_has_groups():
    assert CODES_2024["LUC"].group is LandGroup.AGRICULTURAL
    assert CODES_2024["CNT"].group is LandGroup.AGRICULTURAL  # new in 2024
    assert CODES_2024["DGT"].parent == "CCC"
    assert CODES_2024["BCS"].group is LandGroup.UNUSED
    assert len(CODES_2024) >= 52


def test_composite_split_and_legacy_recorded():
    p = parse_land_use("ODT+CLN")
    assert p.codes == ("ODT", "CLN") and p.composite and p.system == "2024"
    p = parse_land_use("RPH+BHK")
    assert p.codes == ("RPH", "HNK") and p.legacy == (("BHK", "HNK"),) and p.system == "2024+2014"
    p = parse_land_use("DSH")
    assert p.codes == ("DKV",) and p.system == "2014"
    p = parse_land_use("lnq")
    assert p.codes == ("CLN",) and p.system == "2007"


def test_unknown_codes_kept_not_relabelled():
    p = parse_land_use("COC")
    assert p.codes == () and p.unknown == ("COC",) and p.original == "COC"
    p = parse_land_use("ODT+XYZ")
    assert p.codes == ("ODT",) and p.unknown == ("XYZ",)
    assert parse_land_use(None).codes == ()


def test_public_rules_say_which_rule_fired():
    frame = pd.DataFrame({
        "land_use": ["DGT", "ODT", "ODT", "LUC", "BCS", "ODT"],
        "owner_code": [None, "UBQ", None, "GDC", None, "TCN"],
        "origin_code": [None, None, "6", None, None, None],
        "owner_name": [None, None, None, "Nguyễn Văn A", None, "UBND xã Đông Hòa"],
    })
    rules = classify_public(frame).tolist()
    assert rules == ["public_purpose", "manager", "allocated_for_management", None, "unused",
                     "state_user"]


def test_rules_configurable():
    custom = (PublicLandRule(id="rice_fund", land_use=("LUC",)),)
    frame = pd.DataFrame({"land_use": ["LUC", "DGT"]})
    assert classify_public(frame, custom).tolist() == ["rice_fund", None]
    assert {r.id for r in DEFAULT_PUBLIC_RULES} >= {"manager", "public_purpose", "unused"}
