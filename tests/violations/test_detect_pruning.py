"""Detection skips footprints no rule can flag (issue 12): the same candidates as looking at
every footprint × parcel pair, on generated districts and for every subset of the rules."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.core.violations import detect
from gis.core.violations.rules import load_rules
from tests.conftest import ROOT

RULES = load_rules(ROOT / "layers" / "rules" / "violations.yaml")
USES = ["LUC", "ONT", "DGT", "CLN", "TSC", "SON", "ODT", "NTS"]


def _district(seed: int, n: int = 8) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """An n×n block of 20 m parcels (some missing: gaps), and houses placed at random: most
    inside one parcel, some across a boundary or into a gap."""
    rng = np.random.default_rng(seed)
    cells = [(i, j) for i in range(n) for j in range(n) if rng.random() > 0.1]
    parcels = gpd.GeoDataFrame({
        "parcel_key": [f"00001-1-{k}" for k in range(len(cells))],
        "ward_code": "00001",
        "land_use": rng.choice(USES, len(cells)),
        "is_public": rng.random(len(cells)) < 0.2},
        geometry=[shapely.box(585000 + 20 * i, 2330000 + 20 * j, 585020 + 20 * i, 2330020 + 20 * j)
                  for i, j in cells], crs="EPSG:5897")
    m = int(n * n * 0.7)
    x = 585000 + rng.uniform(0, 20 * n, m)
    y = 2330000 + rng.uniform(0, 20 * n, m)
    w, h = rng.uniform(3, 12, m), rng.uniform(3, 12, m)
    buildings = gpd.GeoDataFrame({"building_id": [f"B{k}" for k in range(m)],
                                  "year_built": rng.integers(1990, 2025, m)},
                                 geometry=shapely.box(x, y, x + w, y + h), crs="EPSG:5897")
    return buildings, parcels


def _everything(monkeypatch: pytest.MonkeyPatch, buildings, parcels, rules):  # type: ignore[no-untyped-def]
    with monkeypatch.context() as m:
        m.setattr(detect, "_relevant_pairs", lambda b, *a: np.ones(len(b), dtype=bool))
        m.setattr(detect, "_footprints_to_query", lambda bg, *a: np.arange(len(bg)))
        return detect.detect_candidates(buildings, parcels, rules, workers=1)


def _same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    a = a.sort_values("fingerprint").reset_index(drop=True)
    b = b.sort_values("fingerprint").reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                  pd.DataFrame(b.drop(columns="geometry")))
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=1e-9).all()


SUBSETS = [tuple(c) for k in (1, 2, 3) for c in itertools.combinations(RULES.rules, k)]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), subset=st.sampled_from(SUBSETS))
def test_skipping_footprints_changes_no_candidate(seed, subset):  # type: ignore[no-untyped-def]
    buildings, parcels = _district(seed)
    rules = RULES.model_copy(update={"rules": subset})
    with pytest.MonkeyPatch.context() as mp:
        full = _everything(mp, buildings, parcels, rules)
    pruned = detect.detect_candidates(buildings, parcels, rules, workers=1)
    _same(pruned, full)


def test_a_house_alone_on_its_own_plot_needs_no_geometry() -> None:
    buildings, parcels = _district(1)
    parcels["land_use"], parcels["is_public"] = "ONT", False
    inside = buildings[[parcels.geometry.covers(g).any() for g in buildings.geometry]]
    b_idx = np.arange(len(inside))
    p_idx = np.array([int(np.flatnonzero(parcels.geometry.covers(g))[0]) for g in inside.geometry])
    lu_codes, lu_values = pd.factorize(parcels["land_use"])
    keep = detect._relevant_pairs(b_idx, p_idx, lu_codes, np.asarray(lu_values, dtype=object),
                                  parcels["is_public"].to_numpy(), RULES)
    assert not keep.any()
