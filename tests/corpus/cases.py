"""The corpus manifest: one entry per case, the file(s) it uses, the command and what must happen.

Paths in ``args`` and ``setup`` are relative to the corpus folder written by ``make_corpus.py``
(``{d}`` is replaced by it). Every case runs against its own copy of the base store (the sample
district of 1 000 parcels with its wards, parcels and projects).

``loaded`` cases give the exact counts of the JSON report (``--report``) and the issue rules that
must (``rules``) and must not (``no_rules``) appear; ``refused`` cases give the exit code and
substrings of the output (the one-line ``Error:`` message naming file, sheet/layer, row, field).
After a refusal, and after any ``validate``, the store must be byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KNOWN_ON = ("--known-on", "2024-12-31")


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # "sheet" or "layer"
    args: tuple[str, ...]  # the gis command; "{d}/" prefixes corpus files
    outcome: str  # "loaded" or "refused"
    exit_code: int = 0
    message: tuple[str, ...] = ()  # substrings of the (whitespace-folded) output
    counts: dict[str, int] = field(default_factory=dict)  # summary keys of the JSON report
    rules: tuple[str, ...] = ()  # issue rules that must appear
    no_rules: tuple[str, ...] = ()  # issue rules that must not appear
    setup: tuple[tuple[str, ...], ...] = ()  # commands run first (must exit 0)
    #: parcel_key → {column: value} of the stored clearance_records after a load (dates as ISO)
    stored: dict[str, dict[str, object]] = field(default_factory=dict)
    report_unchanged: bool = False  # `gis clearance report --format json` same before and after
    note: str = ""

    @property
    def files(self) -> set[str]:
        """Corpus entries (top-level names) this case uses."""
        out = set()
        for part in (*self.args, *(a for s in self.setup for a in s)):
            if part.startswith("{d}/"):
                out.add(part[4:].split("/")[0])
        return out


def sheet(id: str, file: str, *options: str, command: str = "ingest", **kw: object) -> Case:
    args = (command, "clearance", f"{{d}}/{file}", *options) if command == "ingest" else \
        ("validate", f"{{d}}/{file}", "--kind", "clearance", *options)
    if "--known-on" not in options:
        args = (*args, *KNOWN_ON)
    return Case(f"sheet_{id}", "sheet", args, **kw)  # type: ignore[arg-type]


def layer(id: str, kind: str, file: str, *options: str, command: str = "ingest",
          **kw: object) -> Case:
    args = (command, kind, f"{{d}}/{file}", *options) if command == "ingest" else \
        ("validate", f"{{d}}/{file}", "--kind", kind, *options)
    return Case(f"layer_{id}", "layer", args, **kw)  # type: ignore[arg-type]


def ok(accepted: int, rejected: int = 0, total_rows: int = 0, section_rows: int = 0
       ) -> dict[str, int]:
    return {"rows_accepted": accepted, "rows_rejected": rejected, "total_rows": total_rows,
            "section_rows": section_rows,
            "rows_read": accepted + rejected + total_rows + section_rows}


FIVE = ok(5)
WARD_SHEET = ("--ward", "09880")

CASES: list[Case] = [
    # ---- columns present or absent ------------------------------------------------------------
    sheet("required_columns_only", "s_required_only.csv", "--project", "DA-001", *WARD_SHEET,
          outcome="loaded", counts=FIVE, rules=("missing_column",)),
    sheet("households_no_amounts", "s_households_no_amounts.csv", outcome="loaded", counts=FIVE,
          no_rules=("bad_amount",)),
    sheet("no_status_column", "s_no_status_column.csv", outcome="refused", exit_code=2,
          message=("s_no_status_column.csv", "status")),
    # ---- amounts ------------------------------------------------------------------------------
    sheet("amount_dong_with_dots", "s_amount_dong_dots.csv", outcome="loaded", counts=FIVE,
          no_rules=("bad_amount", "amount_not_counted")),
    sheet("amount_trieu_dong_header", "s_amount_trieu.csv", outcome="loaded", counts=ok(2),
          no_rules=("bad_amount",), stored={
              "09880-4-25": {"compensation_approved_vnd": 1_052_188_000},
              "09880-4-21": {"compensation_approved_vnd": 35_226_000,
                             "compensation_paid_vnd": 35_226_000}}),
    sheet("amount_ty_dong_header", "s_amount_ty.csv", outcome="loaded", counts=ok(2),
          no_rules=("bad_amount",), stored={
              "09880-4-25": {"compensation_approved_vnd": 1_050_000_000},
              "09880-4-21": {"compensation_approved_vnd": 35_000_000,
                             "compensation_paid_vnd": 35_000_000}}),
    sheet("amount_words_ty_trieu_dots", "s_amount_words.csv", outcome="loaded", counts=ok(3),
          no_rules=("bad_amount",), stored={
              "09880-4-25": {"compensation_approved_vnd": 1_050_000_000},
              "09880-4-21": {"compensation_approved_vnd": 250_000_000,
                             "compensation_paid_vnd": 250_000_000},
              "09880-4-22": {"compensation_approved_vnd": 1_052_188_000}}),
    sheet("amount_excel_numbers", "s_amount_excel_numbers.xlsx", outcome="loaded", counts=FIVE,
          no_rules=("bad_amount", "bad_date"), stored={
              "09880-4-25": {"compensation_approved_vnd": 1_052_188_000,
                             "date_approved": "2024-10-01"}}),
    sheet("amount_not_a_number", "s_amount_bad.csv", outcome="loaded", counts=ok(1, 1),
          rules=("bad_amount",), message=("khoảng một tỷ",)),
    sheet("amount_before_approval", "s_amount_before_approval.csv", outcome="loaded",
          counts=ok(2), rules=("amount_not_counted",)),
    # ---- where the project comes from -------------------------------------------------------
    sheet("project_in_title", "s_title_project.xlsx", outcome="loaded", counts=FIVE,
          no_rules=("missing_project", "unknown_project"),
          stored={"09880-4-21": {"project_id": "DA-001"}}),
    sheet("no_project_anywhere", "s_title_no_project.xlsx", outcome="refused", exit_code=3,
          message=("--project",)),
    sheet("no_project_validate", "s_title_no_project.xlsx", command="validate",
          outcome="refused", exit_code=3, message=("s_title_no_project.xlsx", "--project")),
    sheet("project_option", "s_title_no_project.xlsx", "--project", "DA-001", outcome="loaded",
          counts=FIVE),
    sheet("project_option_unknown", "s_title_no_project.xlsx", "--project", "DA-404",
          outcome="refused", exit_code=2, message=("DA-404",)),
    sheet("project_unknown_in_row", "s_project_unknown.csv", outcome="loaded", counts=ok(1, 1),
          message=("DA-999",)),
    # ---- wards ----------------------------------------------------------------------------------
    sheet("ward_by_full_name", "s_ward_name_full.csv", outcome="loaded", counts=FIVE),
    sheet("ward_by_folded_name", "s_ward_name_folded.csv", outcome="loaded", counts=FIVE),
    sheet("ward_by_abbreviated_name", "s_ward_name_abbrev.csv", outcome="loaded", counts=FIVE,
          stored={"09880-4-21": {"ward_code": "09880"}}),
    sheet("ward_by_capital_name", "s_ward_name_caps.csv", outcome="loaded", counts=FIVE),
    sheet("ward_name_unknown", "s_ward_name_unknown.csv", outcome="loaded", counts=ok(4, 1),
          message=("Phúc Diễn",)),
    sheet("ward_name_ambiguous", "s_ward_name_ambiguous.csv", outcome="loaded", counts=ok(1, 1),
          message=("ambiguous", "09886", "09889"),
          setup=(("ingest", "wards", "{d}/w_wards_same_name.gpkg"),)),
    sheet("ward_missing_option_given", "s_ward_missing.csv", *WARD_SHEET, outcome="loaded",
          counts=FIVE),
    sheet("ward_option_by_name", "s_ward_missing.csv", "--ward", "P. Đức Thượng",
          outcome="loaded", counts=FIVE),
    sheet("ward_code_seven_digits", "s_ward_code_bad.csv", outcome="loaded", counts=ok(1, 1),
          message=("2093549",)),
    # ---- layout -------------------------------------------------------------------------------
    sheet("numbering_row", "s_numbering_row.csv", outcome="loaded", counts=FIVE),
    sheet("two_row_merged_header", "s_two_row_header.xlsx", outcome="loaded", counts=FIVE,
          no_rules=("bad_date", "bad_amount"), stored={
              "09880-4-22": {"date_notified": "2024-03-20", "date_inventoried": "2024-05-30",
                             "date_approved": "2024-08-22",
                             "compensation_approved_vnd": 29_161_000,
                             "compensation_paid_vnd": 29_161_000}}),
    sheet("blank_rows", "s_blank_rows.csv", outcome="loaded", counts=FIVE),
    sheet("total_row_right", "s_total_right.xlsx", outcome="loaded", counts=ok(5, total_rows=1),
          no_rules=("total_mismatch",)),
    sheet("total_row_wrong", "s_total_wrong.xlsx", outcome="loaded", counts=ok(5, total_rows=1),
          rules=("total_mismatch",)),
    sheet("sections_and_subtotals", "s_sections_subtotals.xlsx", outcome="loaded",
          counts=ok(5, total_rows=3, section_rows=2), no_rules=("total_mismatch",)),
    # ---- status wording -----------------------------------------------------------------------
    sheet("status_legal_phrases", "s_status_legal.csv", outcome="loaded", counts=ok(4),
          no_rules=("unknown_status",)),
    sheet("status_abbreviations_caps_no_accents", "s_status_abbrev.csv", outcome="loaded",
          counts=ok(5), no_rules=("unknown_status",)),
    # "Đã kiểm đém" (a typo of the accent) folds to the same words: accepted by design
    sheet("status_unknown", "s_status_unknown.csv", outcome="loaded", counts=ok(2, 1),
          rules=("unknown_status",), message=("nearest known steps", "Hồ sơ đang treo")),
    sheet("status_empty", "s_status_empty.csv", outcome="loaded", counts=ok(1, 1),
          rules=("missing_status",)),
    sheet("status_before_its_dates", "s_status_vs_dates.csv", outcome="loaded", counts=ok(2),
          rules=("status_disagrees_with_dates",)),
    sheet("bad_date", "s_bad_date.csv", outcome="loaded", counts=ok(1, 1), rules=("bad_date",)),
    # ---- nothing to load ------------------------------------------------------------------------
    sheet("header_only", "s_header_only.csv", outcome="refused", exit_code=3,
          message=("no data rows",)),
    sheet("all_rows_rejected", "s_all_rejected.csv", outcome="refused", exit_code=3,
          message=("s_all_rejected.csv",)),
    sheet("strict_one_bad_row", "s_strict_one_bad.csv", "--strict", outcome="refused",
          exit_code=3, message=("s_strict_one_bad.csv",)),
    # ---- file formats and encodings -------------------------------------------------------------
    sheet("xls_biff8", "s_real.xls", outcome="loaded", counts=FIVE, stored={
        "09880-4-21": {"owner_name": "Đặng Xuân Cường", "date_paid": "2024-09-22"}}),
    sheet("xls_hidden_first_sheet", "s_hidden_first.xls", outcome="loaded", counts=FIVE),
    sheet("ods", "s_real.ods", outcome="loaded", counts=FIVE, stored={
        "09880-4-21": {"owner_name": "Đặng Xuân Cường", "date_paid": "2024-09-22"}}),
    sheet("csv_utf8", "s_utf8.csv", outcome="loaded", counts=FIVE),
    sheet("csv_utf8_bom", "s_utf8_bom.csv", outcome="loaded", counts=FIVE),
    sheet("csv_cp1258", "s_cp1258.csv", outcome="loaded", counts=FIVE, no_rules=("bad_date",),
          stored={"09880-4-22": {"owner_name": "Nguyễn Công Cường",
                                 "status_text": "Đã bàn giao mặt bằng"}}),
    sheet("text_utf16_tab", "s_utf16_tab.txt", outcome="loaded", counts=FIVE,
          stored={"09880-4-21": {"owner_name": "Đặng Xuân Cường"}}),
    sheet("csv_semicolon_decimal_comma", "s_semicolon_decimal_comma.csv", outcome="loaded",
          counts=ok(2), no_rules=("bad_area",), stored={
              "09880-4-23": {"area_recovered_m2": 111.3},
              "09880-4-24": {"area_recovered_m2": 1149.8}}),
    sheet("csv_named_xls", "s_csv_named_xls.xls", outcome="loaded", counts=FIVE),
    sheet("html_table_named_xls", "s_html_table.xls", outcome="loaded", counts=FIVE,
          stored={"09880-4-25": {"compensation_approved_vnd": 1_052_188_000}}),
    sheet("formula_without_cached_value", "s_formula_no_value.xlsx", outcome="loaded",
          counts=FIVE, rules=("formula_without_value",)),
    sheet("empty_xlsx_zero_bytes", "s_empty.xlsx", outcome="refused", exit_code=2,
          message=("s_empty.xlsx",)),
    sheet("empty_csv_zero_bytes", "s_empty.csv", outcome="refused", exit_code=2,
          message=("s_empty.csv",)),
    sheet("truncated_xlsx", "s_truncated.xlsx", outcome="refused", exit_code=2,
          message=("s_truncated.xlsx",)),
    sheet("encrypted_xlsx", "s_encrypted.xlsx", outcome="refused", exit_code=2,
          message=("s_encrypted.xlsx", "encrypt")),
    sheet("zip_that_is_not_a_workbook", "s_not_a_sheet.xlsx", outcome="refused", exit_code=2,
          message=("s_not_a_sheet.xlsx",)),
    sheet("cover_sheet_first", "s_cover_first.xlsx", outcome="loaded", counts=FIVE),
    sheet("sheet_option", "s_two_sheets_pick.xlsx", "--sheet", "Dự án 2", outcome="loaded",
          counts=ok(3)),
    sheet("sheet_option_missing", "s_two_sheets_pick.xlsx", "--sheet", "Dự án 9",
          outcome="refused", exit_code=2, message=("Dự án 9", "Dự án 1")),
    sheet("second_sheet_without_dates", "s_seq_second_no_dates.csv", "--known-on", "2025-01-31",
          outcome="loaded", counts=ok(3), rules=("missing_column",), report_unchanged=True,
          setup=(("ingest", "clearance", "{d}/s_seq_first.csv", *KNOWN_ON),)),
    # ---- parcel numbers, duplicates -------------------------------------------------------------
    sheet("parcel_number_negative", "s_parcel_negative.csv", outcome="loaded", counts=ok(1, 1),
          message=("-5",)),
    sheet("parcel_number_fraction", "s_parcel_fraction.xlsx", outcome="loaded", counts=ok(1, 1),
          message=("22.5",)),
    sheet("parcel_number_text", "s_parcel_text.csv", outcome="loaded", counts=ok(1, 1),
          message=("12a",)),
    sheet("duplicate_row", "s_duplicate_row.csv", outcome="loaded", counts=ok(2, 1),
          rules=("duplicate_row",)),
    sheet("validate_good_sheet", "s_utf8.csv", command="validate", outcome="loaded",
          counts=FIVE),

    # ---- layers ---------------------------------------------------------------------------------
    layer("cpg_says_1258_text_utf8", "parcels", "l_cpg_says_1258/parcels.shp", outcome="loaded",
          message=(".cpg says", "TenChu"), counts={"rows_loaded": 4, "rows_quarantined": 0}),
    layer("cpg_says_utf8_text_cp1258", "parcels", "l_cpg_says_utf8/parcels.shp",
          outcome="loaded", message=(".cpg says", "TenChu"),
          counts={"rows_loaded": 4, "rows_quarantined": 0}),
    layer("bowtie_among_good", "parcels", "l_bowtie/parcels.shp", outcome="loaded",
          rules=("invalid_geometry_repaired",), counts={"rows_loaded": 4}),
    layer("bowtie_zip_nested_vietnamese_folders", "parcels", "l_zip_nested.zip",
          outcome="loaded", rules=("invalid_geometry_repaired",), counts={"rows_loaded": 4}),
    # an open ring is closed on read (a repair, with a warning naming the row); the rest load
    layer("unclosed_ring_geojson", "parcels", "l_unclosed_ring.geojson", "--province", "Hà Nội",
          outcome="loaded", counts={"rows_loaded": 3, "rows_quarantined": 0},
          rules=("geometry_fixed_on_read",)),
    layer("parcel_number_negative", "parcels", "l_parcel_negative/parcels.shp",
          outcome="loaded", counts={"rows_loaded": 3, "rows_quarantined": 1}),
    layer("parcel_number_12a", "parcels", "l_parcel_12a/parcels.shp", outcome="loaded",
          counts={"rows_loaded": 3, "rows_quarantined": 1}, message=("12a",)),
    layer("parcel_number_zero_on_road", "parcels", "l_parcel_zero_road/parcels.shp",
          outcome="loaded", counts={"rows_loaded": 4, "rows_quarantined": 0},
          no_rules=("parcel_number_zero",)),
    layer("parcel_number_zero_on_house_plot", "parcels", "l_parcel_zero_house/parcels.shp",
          outcome="loaded", counts={"rows_loaded": 3, "rows_quarantined": 1},
          rules=("parcel_number_zero",)),
    layer("ward_code_seven_digits", "parcels", "l_ward_code_7_digits/parcels.shp",
          outcome="loaded", counts={"rows_loaded": 3, "rows_quarantined": 1},
          message=("2093549",)),
    layer("ward_code_not_in_wards", "parcels", "l_ward_code_unknown/parcels.shp",
          outcome="loaded", counts={"rows_loaded": 3, "rows_quarantined": 1},
          message=("09999",)),
    layer("wrong_vn2000_zone_in_prj", "parcels", "l_wrong_zone/parcels.shp", outcome="refused",
          exit_code=2, message=("l_wrong_zone", "105")),
    layer("wgs84_geojson_without_province", "parcels", "l_wgs84_no_province.geojson",
          outcome="loaded", counts={"rows_loaded": 3}, message=("5897", "Hà Nội")),
    layer("osm_buildings_and_non_buildings", "buildings", "l_osm_buildings.geojson",
          outcome="loaded", counts={"rows_loaded": 3}, message=("skipped",)),
    layer("owner_field_tenchusdd", "parcels", "l_tenchusdd/parcels.shp", outcome="loaded",
          counts={"rows_loaded": 4}, message=('"owner_name": {"source": "tenchusdd"',)),
    layer("empty_buildings_layer", "buildings", "l_empty_buildings/buildings.shp",
          outcome="refused", exit_code=2, message=("l_empty_buildings", "zero features")),
    layer("points_only_layer", "parcels", "l_points_only.gpkg", outcome="refused", exit_code=3,
          message=("l_points_only.gpkg",)),
    layer("null_geometry_among_good", "parcels", "l_null_geometry.geojson", "--province",
          "Hà Nội", outcome="loaded", counts={"rows_loaded": 2, "rows_quarantined": 1}),
    layer("projects_duplicate_id", "projects", "l_projects_duplicate_id/projects.shp",
          outcome="loaded", counts={"rows_loaded": 1, "rows_quarantined": 2}),
    layer("projects_duplicate_id_strict", "projects", "l_projects_duplicate_id/projects.shp",
          "--strict", outcome="refused", exit_code=3, message=("row 1", "project_id", "--strict")),
    layer("parcels_kml", "parcels", "l_parcels.kml", "--province", "Hà Nội", outcome="loaded",
          counts={"rows_loaded": 3}),
    layer("validate_bowtie_writes_nothing", "parcels", "l_bowtie/parcels.shp",
          command="validate", outcome="loaded", counts={"rows_loaded": 4}),
    layer("wards_same_name", "wards", "w_wards_same_name.gpkg", outcome="loaded",
          counts={"rows_loaded": 4}),
]

#: bugs found by the corpus (id → reason); the test marks them xfail(strict=True)
BUGS: dict[str, str] = {}
