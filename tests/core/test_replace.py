"""What a load replaces and keeps (gis.core.replace), on generated layers: no stored row is lost
or overwritten by a row of another code system, and a row whose new version was kept aside keeps
its stored version."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.core.replace import plan_replacement

CODES = ["09574", "09577", "09604"]
SYSTEMS = ["legacy", "2025", None]


def _rows(draw, n_max: int, systems: list[str | None]) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    rows = draw(st.lists(st.tuples(st.sampled_from(CODES), st.integers(1, 6),
                                   st.sampled_from(systems)), max_size=n_max))
    frame = pd.DataFrame(rows, columns=["ward_code", "n", "ward_system"])
    frame["parcel_key"] = frame["ward_code"] + "-1-" + frame["n"].astype(str)
    return frame.drop_duplicates("parcel_key").reset_index(drop=True)


@st.composite
def loads(draw):  # type: ignore[no-untyped-def]
    old = _rows(draw, 20, SYSTEMS)
    system = draw(st.sampled_from(["legacy", "2025"]))
    new = _rows(draw, 12, [system])
    quarantine = _rows(draw, 5, [system])
    quarantine = quarantine[~quarantine["parcel_key"].isin(new["parcel_key"])]
    return old, new, quarantine, system, draw(st.booleans())


@given(loads())
@settings(max_examples=300, deadline=None)
def test_nothing_stored_is_lost_or_overwritten_by_another_system(load):
    old, new, quarantine, system, replace_all = load
    plan = plan_replacement(old, new, quarantine, key="parcel_key", scope_column="ward_code",
                            system_column="ward_system", system=system, replace_all=replace_all)
    # the stored rows are split, none lost
    assert sorted(plan.old.index.tolist() + plan.kept.index.tolist()) == old.index.tolist()
    loaded = new.loc[~plan.conflicts]
    # the layer after the load has each key once
    after = pd.concat([plan.kept["parcel_key"], loaded["parcel_key"]])
    assert after.is_unique
    stored_system = old["ward_system"].fillna("legacy")
    if not replace_all:
        other = old[stored_system != system]
        assert set(other.index) <= set(plan.kept.index)  # another system is never replaced
        outside = old[~old["ward_code"].isin(set(new["ward_code"]) | set(quarantine["ward_code"]))]
        assert set(outside.index) <= set(plan.kept.index)  # nor another ward
        clashing = new["parcel_key"].isin(other["parcel_key"])
        assert (plan.conflicts == clashing.to_numpy()).all()
    else:
        assert not plan.conflicts.any()
    # a stored row whose new version failed keeps its stored version
    failed = old["parcel_key"].isin(quarantine["parcel_key"])
    assert set(old[failed].index) <= set(plan.kept.index)
    in_scope = pd.Series(True, index=old.index) if replace_all else \
        old["ward_code"].isin(set(new["ward_code"]) | set(quarantine["ward_code"])) \
        & (stored_system == system)
    assert plan.kept_quarantined == int((failed & in_scope).sum())


def test_a_stored_layer_without_code_systems_is_legacy():
    old = pd.DataFrame({"parcel_key": ["09574-1-1", "09574-1-2"], "ward_code": "09574"})
    new = pd.DataFrame({"parcel_key": ["09574-1-1"], "ward_code": "09574",
                        "ward_system": "2025"})
    plan = plan_replacement(old, new, new.iloc[:0], key="parcel_key", scope_column="ward_code",
                            system_column="ward_system", system="2025")
    assert plan.conflicts.tolist() == [True] and len(plan.kept) == 2 and plan.old.empty
    legacy = plan_replacement(old, new.assign(ward_system="legacy"), new.iloc[:0],
                              key="parcel_key", scope_column="ward_code",
                              system_column="ward_system", system="legacy")
    assert legacy.conflicts.tolist() == [False] and len(legacy.old) == 2 and legacy.kept.empty


def test_units_replace_only_their_own():
    old = pd.DataFrame({"unit_code": ["09574", "09604"], "name": ["Sơn Tây", "Tùng Thiện"]})
    new = old.iloc[:1].assign(name="Phường Sơn Tây")
    plan = plan_replacement(old, new, new.iloc[:0], key="unit_code", scope_column="unit_code")
    assert plan.kept["unit_code"].tolist() == ["09604"] and plan.kept_other == 1
    every = plan_replacement(old, new, new.iloc[:0], key="unit_code", scope_column="unit_code",
                             replace_all=True)
    assert every.kept.empty and len(every.old) == 2
