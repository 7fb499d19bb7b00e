"""Capital sources as offices write them: budget / non-budget / unknown, the words kept."""

from __future__ import annotations

import geopandas as gpd
import shapely

from gis.ingest import prepare_layer


def test_capital_sources_are_coded_and_an_unknown_one_is_a_warning(tmp_path):
    path = tmp_path / "du_an.geojson"
    gpd.GeoDataFrame(
        {"MaDuAn": ["DA-1", "DA-2", "DA-3", "DA-4"], "TenDuAn": ["Một", "Hai", "Ba", "Bốn"],
         "NguonVon": ["Ngân sách thành phố", "Xã hội hóa", "Vốn lạ", "NSTP"]},
        geometry=[shapely.box(105.80 + i / 100, 21.0, 105.805 + i / 100, 21.005)
                  for i in range(4)], crs="EPSG:4326").to_file(path)
    report = prepare_layer(path, "projects", province="Hà Nội")
    valid = report.validation.valid.set_index("project_id")
    assert list(valid["capital_source"]) == ["STATE_BUDGET", "NON_BUDGET", "UNKNOWN",
                                             "STATE_BUDGET"]
    assert valid.loc["DA-3", "capital_source_text"] == "Vốn lạ"
    issues = report.validation.issues
    warned = issues[issues["rule"] == "unknown_capital_source"]
    assert list(warned["row"]) == [3] and set(warned["severity"]) == {"warning"}
