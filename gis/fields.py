"""Field names as they come: map a source's columns to the model by an alias table.

Cadastral exports name the same field many ways (DOMAIN.md §5.3): ``SHBANDO`` / ``SoHieuToBanDo`` /
``so_to`` / ``TO_BAN_DO``. Names are compared folded (case, accents, ``_`` and spaces ignored),
and a 10-character DBF name matches an alias it is the prefix of (``SoHieuToBa`` →
``SoHieuToBanDo``). A layer YAML ``fields:`` map overrides detection. The result says which source
field fed each model field.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gis.core.enums import ParsedEnum
from gis.errors import FieldMappingError

__all__ = ["LayerKind", "FieldMapping", "ALIASES", "REQUIRED", "map_fields", "fold_name"]


class LayerKind(ParsedEnum):
    """Kinds of layer the store holds."""

    PARCELS = "parcels"
    PROJECTS = "projects"
    BUILDINGS = "buildings"
    WARDS = "wards"
    UNITS = "units"  # commune-level units since 1 July 2025 (2025 codes)

    @classmethod
    def what(cls) -> str:
        return "layer kind"


ALIASES: dict[LayerKind, dict[str, tuple[str, ...]]] = {
    LayerKind.PARCELS: {
        "ward_code": ("MaXa", "MAXA", "ma_xa", "XAID", "KVHCID", "MaDVHC", "ward_code"),
        "map_sheet": ("SoHieuToBanDo", "SHBANDO", "SoTo", "so_to", "TOBANDO", "TO_BAN_DO",
                      "to_ban_do", "sodoto", "SHTO", "map_sheet"),
        "parcel_no": ("SoThuTuThua", "SHTHUA", "SoThua", "so_thua", "THUA", "parcel_no"),
        "area_recorded_m2": ("DienTich", "DIENTICH", "DTICH", "dien_tich", "area_recorded_m2"),
        "legal_area_m2": ("DienTichPhapLy", "DTPHAPLY", "dien_tich_phap_ly"),
        "land_use_source": ("KyHieuMucDichSuDung", "KHLOAIDAT", "MDSD", "MaLoaiDat", "LoaiDat",
                            "loai_dat", "MucDichSuDung", "mdsd2003", "KH2003", "land_use"),
        "owner_name": ("TenChu", "TENCHU", "TenChuSDD", "TenChuSuDung", "ChuSuDung", "ChuSDD",
                       "ChuSD", "TenChuSD", "TenNguoiSD", "TenNguoiSuDung", "NguoiSuDung",
                       "ChuSoHuu", "HoTen", "ten_chu", "chu_su_dung", "owner_name"),
        "owner_code": ("MaDoiTuong", "DOITUONG", "LoaiDoiTuong", "doi_tuong", "MaLoaiChu",
                       "owner_code"),
        "origin_code": ("NguonGoc", "MaNguonGoc", "nguon_goc", "origin_code"),
        "address": ("DiaChi", "DIACHI", "dia_chi", "DIADANH", "address"),
    },
    LayerKind.PROJECTS: {
        "project_id": ("MaDuAn", "MA_DA", "ma_du_an", "project_id", "id"),
        "name": ("TenDuAn", "TEN_DA", "ten_du_an", "name", "Ten"),
        "investor": ("ChuDauTu", "chu_dau_tu", "investor"),
        "capital_source": ("NguonVon", "nguon_von", "capital_source"),
        "start_type": ("KhoiCong", "LoaiKhoiCong", "khoi_cong", "start_type"),
        "key_project": ("TrongDiem", "trong_diem", "key_project"),
        "planned_area_ha": ("DienTichQH", "DienTichThuHoi", "dien_tich_qh", "planned_area_ha"),
        "ward_codes": ("PhuongXa", "MaXa", "phuong_xa", "ward_codes"),
        "start_year": ("NamBD", "NamBatDau", "nam_bat_dau", "start_year"),
        "capital_plan_vnd": ("KeHoachVon", "KHVon", "ke_hoach_von", "capital_plan_vnd"),
        "disbursed_vnd": ("GiaiNgan", "DaGiaiNgan", "giai_ngan", "disbursed_vnd"),
    },
    LayerKind.BUILDINGS: {
        "building_id": ("MaNha", "MaCongTrinh", "ma_nha", "building_id", "osm_way_id", "osm_id",
                        "uID"),
        "floors": ("SoTang", "so_tang", "floors", "building_levels"),
        "year_built": ("NamXD", "nam_xd", "year_built"),
    },
    LayerKind.WARDS: {
        "ward_code": ("MaXa", "MAXA", "ma_xa", "Com_ID", "ward_code", "code"),
        "name": ("TenXa", "ten_xa", "Com_Name", "ward", "Name", "name"),
        "district": ("Huyen", "TenHuyen", "Dist_Name", "district", "Quan"),
        "province": ("Tinh", "TenTinh", "province"),
    },
    LayerKind.UNITS: {
        "unit_code": ("MaXaMoi", "ma_xa_moi", "MaDVHC", "MaXa", "MAXA", "ma_xa", "Com_ID",
                      "unit_code", "ward_code", "code", "ma"),
        "name": ("TenXaMoi", "ten_xa_moi", "TenDVHC", "TenXa", "ten_xa", "Com_Name", "unit",
                 "ward", "Name", "name", "ten"),
        "province": ("Tinh", "TenTinh", "ten_tinh", "province"),
        "province_code": ("MaTinh", "ma_tinh", "province_code"),
    },
}

REQUIRED: dict[LayerKind, tuple[str, ...]] = {
    LayerKind.PARCELS: ("ward_code", "map_sheet", "parcel_no"),
    LayerKind.PROJECTS: ("project_id",),
    LayerKind.BUILDINGS: (),
    LayerKind.WARDS: ("ward_code",),
    LayerKind.UNITS: ("unit_code", "name"),
}


def fold_name(name: str) -> str:
    """Fold a field name for comparison: ``"Số_Tờ"`` → ``"soto"``.

    >>> fold_name("TO_BAN_DO"), fold_name("SoHieuToBa")
    ('tobando', 'sohieutoba')
    """
    name = name.replace("đ", "d").replace("Đ", "D")
    nfd = unicodedata.normalize("NFD", name)
    return "".join(c for c in nfd if c.isalnum() and not unicodedata.combining(c)).lower()


@dataclass(frozen=True)
class FieldMapping:
    """Which source field feeds each model field, and how it was decided."""

    kind: LayerKind
    sources: Mapping[str, str]  # model field -> source field
    how: Mapping[str, str]  # model field -> "alias", "truncated alias", "layer config"
    unmapped: tuple[str, ...] = ()  # source fields not used by the model
    missing: tuple[str, ...] = ()  # model fields with no source

    def as_dict(self) -> dict[str, object]:
        """Plain-dict form for reports."""
        return {"kind": self.kind.value,
                "fields": {m: {"source": s, "how": self.how[m]} for m, s in self.sources.items()},
                "unmapped_source_fields": list(self.unmapped),
                "missing_model_fields": list(self.missing)}


def _match(source: str, alias: str) -> str | None:
    s, a = fold_name(source), fold_name(alias)
    if s == a:
        return "alias"
    if len(source) == 10 and len(a) > 10 and a.startswith(s):
        return "truncated alias"
    return None


def _land_use_score(values: Iterable[object]) -> float:
    from gis.landuse import parse_land_use

    distinct = {v for v in values if isinstance(v, str) and v.strip()}
    if not distinct:
        return 0.0
    return sum(1 for v in distinct if parse_land_use(v).codes) / len(distinct)


def map_fields(columns: Iterable[str], kind: LayerKind | str, *,
               overrides: Mapping[str, str] | None = None, defaults: Iterable[str] = (),
               path: str | None = None, layer: str | None = None,
               frame: Mapping[str, object] | None = None) -> FieldMapping:
    """Decide the source field for each model field of ``kind``.

    Parameters
    ----------
    columns
        Source column names (geometry excluded).
    overrides
        Model field → source field, from a layer YAML; wins over aliases.
    defaults
        Model fields that have a default value, so need not be found.

    Raises
    ------
    FieldMappingError
        A required model field has no source and no default, or an override names a source
        field that does not exist. The message lists the source fields found.
    """
    kind = LayerKind.parse(kind)
    columns = [c for c in columns if c != "geometry"]
    aliases = ALIASES[kind]
    sources: dict[str, str] = {}
    how: dict[str, str] = {}
    for model_field, source in (overrides or {}).items():
        if model_field not in aliases:
            raise FieldMappingError(
                f"unknown model field {model_field!r} in the field map; valid: {', '.join(aliases)}",
                path=path, layer=layer, field=model_field)
        if source not in columns:
            raise FieldMappingError(
                f"the field map names source field {source!r} for {model_field}, but the source "
                f"has only: {', '.join(columns)}", path=path, layer=layer, field=source)
        sources[model_field] = source
        how[model_field] = "layer config"
    used = set(sources.values())
    if (kind is LayerKind.PARCELS and frame is not None and "land_use_source" not in sources):
        # Several land-use columns (loai_dat with 1990s codes, mdsd2003 with current ones): take
        # the one whose values parse best, alias order breaking ties.
        candidates = [(c, m) for alias in aliases["land_use_source"] for c in columns
                      if c not in used and (m := _match(c, alias))]
        candidates = list(dict.fromkeys(candidates))
        if len(candidates) > 1:
            scores = [(_land_use_score(frame[c].tolist()), -i, c, m)  # type: ignore[index]
                      for i, (c, m) in enumerate(candidates)]
            best = max(scores)
            sources["land_use_source"] = best[2]
            how["land_use_source"] = (f"{best[3]}; {best[0]:.0%} of its codes are known, best of "
                                      + ", ".join(c for c, _ in candidates))
            used.add(best[2])
    for model_field, names in aliases.items():
        if model_field in sources:
            continue
        for alias in names:  # alias order is preference order
            hit = next(((c, m) for c in columns if c not in used and (m := _match(c, alias))), None)
            if hit:
                sources[model_field], how[model_field] = hit
                used.add(hit[0])
                break
    missing = tuple(m for m in aliases if m not in sources)
    required_missing = [m for m in REQUIRED[kind] if m in missing and m not in set(defaults)]
    if required_missing:
        raise FieldMappingError(
            f"cannot find the {kind.value} field(s) {', '.join(required_missing)}: looked for "
            + "; ".join(f"{m} as one of {'/'.join(aliases[m])}" for m in required_missing)
            + f"; the source has: {', '.join(columns) or 'no fields'}. Add a `fields:` map to "
            "the layer YAML (or pass a default)", path=path, layer=layer, field=required_missing[0])
    unmapped = tuple(c for c in columns if c not in used)
    return FieldMapping(kind, sources, how, unmapped, missing)
