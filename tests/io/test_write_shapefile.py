"""Any layer can be written as a shapefile: names over the DBF's 10 characters get our short
names or are cut and numbered, uniquely, and the notes say how (a clearance export failed with
"field names longer than 10 characters" before)."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.io.write import SHP_DROPPED, SHP_FIELD_NAMES, write_layer

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=24).filter(
    lambda s: s[0].isalpha() and s.lower() != "geometry" and s not in SHP_DROPPED)


@given(st.lists(NAMES, min_size=1, max_size=8, unique_by=str.lower))
@settings(max_examples=40, deadline=None)
def test_every_layer_writes_as_a_shapefile_with_unique_short_names(tmp_path_factory, names):
    frame = gpd.GeoDataFrame({n: [i] for i, n in enumerate(names)},
                             geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:5897")
    out = tmp_path_factory.mktemp("shp") / "layer.shp"
    notes = write_layer(frame, out, fmt="shp")
    back = pyogrio.read_dataframe(out)
    fields = [c for c in back.columns if c != "geometry"]
    assert len(fields) == len(names) and len({f.lower() for f in fields}) == len(fields)
    assert all(len(f) <= 10 for f in fields)
    assert list(back.iloc[0][fields]) == list(range(len(names)))  # values in their columns
    cut = [n for n in names if len(n) > 10 and n not in SHP_FIELD_NAMES]
    if cut:
        assert any("cut to the shapefile's 10 characters" in note and cut[0] in note
                   for note in notes)


def test_clearance_columns_have_short_names():
    long = ["parcel_area_m2", "approval_date_recorded", "recovered_this_year_m2",
            "recovered_last_year_m2", "ahead_of_paperwork"]
    assert all(len(SHP_FIELD_NAMES[c]) <= 10 for c in long)
    assert len({SHP_FIELD_NAMES[c] for c in long}) == len(long)


def test_short_names_are_unique_and_short():
    values = list(SHP_FIELD_NAMES.values())
    assert len(set(values)) == len(values) and max(map(len, values)) <= 10
