"""The parcel extract as one A4 page (trích lục bản đồ địa chính): a pure function of the
gathered :class:`ParcelExtract` returning PDF bytes, drawn with matplotlib's object API only
(a ``Figure`` of its own on a ``FigureCanvasPdf``; no pyplot, no lock, no rcParams changed), so
requests on several threads draw at once without mixing their figures.

The map is drawn at a standard cadastral scale (1:200 … 1:10 000), the smallest at which the
parcel and a margin of neighbours fit, so the printed scale bar and "Tỷ lệ 1:500" are true on
paper. Coordinates are VN-2000 in surveyors' order: X northing, Y easting.

Text is written as Type 3 fonts (matplotlib's default ``pdf.fonttype``): DejaVu subsets with
Unicode maps (pdftotext reads the Vietnamese text back), three times faster to write than
Type 42, whose subsetting dominates the request. The setting is read, never changed, here.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.polygon import orient

from gis.core.clearance.values import format_number_vi
from gis.report.figures import add_polygon, hline, new_figure

__all__ = ["SCALES", "ParcelExtract", "extent_for", "extract_pdf", "vertices"]

SCALES = (200, 500, 1000, 2000, 5000, 10000, 25000)
_PAGE = (8.27, 11.69)  # A4 portrait, inches
_MAP = (0.07, 0.455, 0.55)  # left, bottom, width (figure fractions); square on paper
_MAP_METRES = _MAP[2] * _PAGE[0] * 0.0254
_MAX_VERTEX_ROWS = 26
_FONT = 8.0


@dataclass
class ParcelExtract:
    """Everything one extract shows (gathered by the service, drawn here)."""

    key: str
    parcel: dict[str, object]
    geometry: shapely.Geometry
    crs: Any
    ward: dict[str, object] = field(default_factory=dict)
    neighbours: gpd.GeoDataFrame | None = None
    clearance: pd.DataFrame = field(default_factory=pd.DataFrame)
    cases: pd.DataFrame = field(default_factory=pd.DataFrame)  # with their geometry


def extent_for(geom: shapely.Geometry) -> tuple[int, float]:
    """The scale denominator and the half-width (m) of the map for a parcel: the smallest
    standard scale showing the parcel with about its own size of neighbours around it."""
    minx, miny, maxx, maxy = geom.bounds
    needed = max(maxx - minx, maxy - miny) * 1.5 + 10.0
    scale = next((s for s in SCALES if _MAP_METRES * s >= needed), SCALES[-1])
    return scale, _MAP_METRES * scale / 2


def vertices(geom: shapely.Geometry) -> list[tuple[int, float, float, float]]:
    """Corner points of the parcel boundary: (number, X northing, Y easting, length of the side
    to the next point), clockwise from the north-west corner, polygon by polygon (largest
    first); holes are not listed."""
    polys = sorted(getattr(geom, "geoms", [geom]), key=lambda p: -p.area)
    out = []
    n = 1
    for poly in polys:
        ring = np.asarray(orient(poly, sign=-1.0).exterior.coords)[:-1]
        if len(ring) == 0:
            continue
        start = int(np.argmin(ring[:, 0] - ring[:, 1]))
        ring = np.roll(ring, -start, axis=0)
        nxt = np.roll(ring, -1, axis=0)
        sides = np.hypot(*(nxt - ring).T)
        for (x, y), side in zip(ring, sides):
            out.append((n, float(y), float(x), float(side)))
            n += 1
    return out


def _coord(v: float) -> str:
    return f"{v:.2f}".replace(".", ",")


def _scale_text(scale: int) -> str:
    return f"Tỷ lệ 1:{format_number_vi(scale)}"


def _label_point(geom: shapely.Geometry) -> shapely.Point:
    """The point of the largest part farthest from its edges (where a label fits best)."""
    from shapely.ops import polylabel

    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon"]
    if not parts:
        return geom.representative_point()
    largest = max(parts, key=lambda g: g.area)
    return polylabel(largest, tolerance=max(0.05, math.sqrt(largest.area) / 50))


def _nice(length: float) -> float:
    for v in (2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if v >= length:
            return float(v)
    return 5000.0


def _map(fig: Any, ex: ParcelExtract, scale: int) -> None:
    geom = ex.geometry
    minx, miny, maxx, maxy = geom.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half = _MAP_METRES * scale / 2
    ax = fig.add_axes([_MAP[0], _MAP[1], _MAP[2], _MAP[2] * _PAGE[0] / _PAGE[1]])
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    ax.set_aspect("equal", adjustable="box")
    ax.set_facecolor("#ffffff")
    view = shapely.box(cx - half, cy - half, cx + half, cy + half)
    key_sheet = ex.parcel.get("map_sheet")
    if ex.neighbours is not None:
        for r in ex.neighbours.itertuples():
            if r.parcel_key == ex.key or r.geometry is None:
                continue
            add_polygon(ax, r.geometry, facecolor="#fffde7", edgecolor="#757575", linewidth=0.45)
            part = r.geometry.intersection(view)
            if part.is_empty or part.area < (half / 40) ** 2:
                continue
            p = part.representative_point()
            label = f"{r.parcel_no}"
            if str(r.map_sheet) != str(key_sheet):
                label += f"\n(tờ {r.map_sheet})"
            if isinstance(r.land_use, str) and part.area > (half / 14) ** 2:
                label += f"\n{r.land_use}"
            ax.text(p.x, p.y, label, fontsize=5.8, ha="center", va="center", color="#424242",
                    clip_on=True, linespacing=1.0)
    add_polygon(ax, geom, facecolor="#ffe0b2", edgecolor="#c62828", linewidth=1.6, zorder=3)
    if "geometry" in ex.cases:
        for r in ex.cases.itertuples():
            shape = r.geometry
            if shape is None or shape.is_empty:
                continue
            if shape.geom_type in ("Point", "MultiPoint"):
                for pt in getattr(shape, "geoms", [shape]):
                    ax.plot([pt.x], [pt.y], "X", color="#6a1b9a", markersize=7, zorder=6)
            else:
                add_polygon(ax, shape, facecolor="none", edgecolor="#6a1b9a", linewidth=1.0,
                      hatch="////", zorder=4)
            bx0, _, bx1, by1 = shape.bounds
            ax.text((bx0 + bx1) / 2, by1 + half * 0.01, str(r.case_id), fontsize=5.5,
                    color="#6a1b9a", ha="center", va="bottom", zorder=6, clip_on=True,
                    bbox={"facecolor": "#ffffff", "edgecolor": "none", "alpha": 0.8,
                          "pad": 0.6})
    p = _label_point(geom)
    shapes = [g for g in (ex.cases.geometry if "geometry" in ex.cases else []) if g is not None]
    if shapes:  # keep the parcel's label off the cases drawn on it
        free = geom.difference(shapely.union_all(shapes).buffer(half * 0.04))
        if not free.is_empty and free.area > 0.15 * geom.area:
            p = _label_point(free)
    area = format_number_vi(geom.area, 2)
    ax.text(p.x, p.y, f"{ex.parcel.get('parcel_no')}\n{ex.parcel.get('land_use') or ''}\n"
            f"{area} m²", fontsize=7.5, fontweight="bold", ha="center", va="center",
            color="#b71c1c", zorder=5, linespacing=1.1,
            bbox={"facecolor": "#ffe0b2", "edgecolor": "none", "alpha": 0.75, "pad": 0.8})
    pts = vertices(geom)
    if len(pts) <= 60:
        c = geom.centroid
        off = half * 0.035
        for n, x_north, y_east, _ in pts:
            dx, dy = y_east - c.x, x_north - c.y
            d = math.hypot(dx, dy) or 1.0
            ax.plot([y_east], [x_north], "o", color="#c62828", markersize=2.2, zorder=4)
            ax.text(y_east + dx / d * off, x_north + dy / d * off, str(n), fontsize=6,
                    color="#c62828", ha="center", va="center", zorder=5, clip_on=True)
    # scale bar, bottom left, in map units
    bar = _nice(half * 2 * 0.22) if half * 2 * 0.22 >= 2 else 2.0
    while bar > half * 2 * 0.3 and bar > 2:
        bar /= 2
    x0, y0 = cx - half * 0.92, cy - half * 0.9
    h = half * 0.018
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x0 - half * 0.04, y0 - h * 4.2), bar + half * 0.16, h * 9.5,
                           facecolor="#ffffff", edgecolor="#9e9e9e", linewidth=0.4, alpha=0.92,
                           zorder=5.5))

    for i, colour in enumerate(("#000000", "#ffffff")):
        ax.add_patch(Rectangle((x0 + i * bar / 2, y0), bar / 2, h, facecolor=colour,
                               edgecolor="#000000", linewidth=0.6, zorder=6))
    for frac, text in ((0, "0"), (0.5, f"{bar / 2:g}"), (1, f"{bar:g} m")):
        ax.text(x0 + frac * bar, y0 + h * 1.8, text.replace(".", ","), fontsize=5.8,
                ha="center", va="bottom", zorder=6)
    ax.text(x0, y0 - h * 1.2, _scale_text(scale), fontsize=6.5, ha="left", va="top", zorder=6)
    # north arrow (grid north of the TM-3 zone)
    ax.annotate("", xy=(0.93, 0.96), xytext=(0.93, 0.84), xycoords="axes fraction",
                arrowprops={"arrowstyle": "-|>", "color": "#000000", "linewidth": 1.4})
    ax.text(0.93, 0.82, "B", transform=ax.transAxes, fontsize=9, fontweight="bold",
            ha="center", va="top")
    ax.tick_params(labelsize=5.5, length=2)
    ax.ticklabel_format(useOffset=False, style="plain")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(3))
    ax.yaxis.set_major_locator(MaxNLocator(3))
    for label in ax.get_yticklabels():
        label.set_rotation(90)
        label.set_verticalalignment("center")
    ax.set_xlabel("Y (m)", fontsize=6, labelpad=1)
    ax.set_ylabel("X (m)", fontsize=6, labelpad=1)


def _vertex_table(fig: Any, ex: ParcelExtract) -> None:
    pts = vertices(ex.geometry)
    top = _MAP[1] + _MAP[2] * _PAGE[0] / _PAGE[1]
    x0, x1 = 0.655, 0.955
    fig.text(x0, top, "Bảng tọa độ đỉnh thửa (VN-2000)", fontsize=_FONT, fontweight="bold",
             va="top")
    y = top - 0.02
    cols = ((x0, "Điểm", "left"), (0.785, "X (m)", "right"), (0.87, "Y (m)", "right"),
            (x1, "Cạnh (m)", "right"))
    for x, text, ha in cols:
        fig.text(x, y, text, fontsize=7, fontweight="bold", ha=ha, va="top")
    y -= 0.0145
    fig.add_artist(hline(fig, x0, x1, y + 0.002))
    shown = pts if len(pts) <= _MAX_VERTEX_ROWS else pts[:_MAX_VERTEX_ROWS - 1]
    for n, x_north, y_east, side in shown:
        for (x, _, ha), text in zip(cols, (str(n), _coord(x_north), _coord(y_east),
                                           _coord(side))):
            fig.text(x, y, text, fontsize=7, ha=ha, va="top")
        y -= 0.0125
    if len(pts) > len(shown):
        fig.text(x0, y, f"… và {len(pts) - len(shown)} điểm nữa (tổng {len(pts)} điểm; "
                 "xem tệp GeoPackage)", fontsize=6.5, va="top", style="italic")


def _value(v: object, fallback: str = "—") -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or v == "":
        return fallback
    return str(v)


def _attributes(ex: ParcelExtract, *, hide_owner: bool) -> list[tuple[str, str]]:
    from gis.landuse import CODES_2024

    p = ex.parcel
    use = str(p.get("land_use") or "")
    code = CODES_2024.get(use)
    uses = _value(p.get("land_use_codes"), use)
    group = {"agricultural": "nhóm đất nông nghiệp", "non_agricultural": "nhóm đất phi nông "
             "nghiệp", "unused": "nhóm đất chưa sử dụng"}.get(str(p.get("land_group")), "")
    use_text = f"{uses} — {code.name_vi}" if code else _value(uses)
    if group:
        use_text += f" ({group})"
    area = f"{format_number_vi(ex.geometry.area, 2)} m²"
    notes = []
    if p.get("area_recorded_m2") is not None:
        notes.append(f"hồ sơ ghi {format_number_vi(float(p['area_recorded_m2']), 2)} m²")
    if p.get("legal_area_m2") is not None:
        notes.append(f"pháp lý {format_number_vi(float(p['legal_area_m2']), 2)} m²")
    if notes:
        area += f" ({'; '.join(notes)})"
    owner = "(không công khai)" if hide_owner else _value(p.get("owner_name"))
    if not hide_owner and p.get("owner_code"):
        owner += f" — mã đối tượng {p['owner_code']}"
    public = "Có" + (f" ({p['public_rule']})" if p.get("public_rule") else "") \
        if p.get("is_public") else "Không"
    w = ex.ward
    place = ", ".join(str(v) for v in (w.get("name"), w.get("district"), w.get("province")) if v)
    number = (f"{_value(p.get('parcel_no'))}    Tờ bản đồ số: {_value(p.get('map_sheet'))}    "
              f"Mã thửa: {ex.key}")
    return [("Thửa đất số", number),
            ("Diện tích", area),
            ("Mục đích sử dụng", use_text),
            ("Người sử dụng đất", owner),
            ("Địa chỉ thửa đất", _value(p.get("address"))),
            ("Nguồn gốc sử dụng", _value(p.get("origin_code"))),
            ("Đất công", public),
            ("Đơn vị hành chính", f"{_value(p.get('ward_code'))} {place}".strip())]


def _status_vi(status: object) -> str:
    from gis.core.clearance.progress import NOT_STARTED
    from gis.core.clearance.status import Status

    if status == NOT_STARTED or status is None:
        return "Chưa triển khai"
    try:
        return Status(str(status)).label_vi
    except ValueError:
        return str(status)


def _date(v: object) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    try:
        return pd.Timestamp(v).strftime("%d/%m/%Y") if not pd.isna(pd.Timestamp(v)) else ""
    except (ValueError, TypeError):
        return str(v)


def _table(fig: Any, y: float, title: str, cols: list[tuple[float, str, str]],
           rows: list[list[str]], empty: str, *, limit: int = 5) -> float:
    fig.text(0.07, y, title, fontsize=9, fontweight="bold", va="top")
    y -= 0.02
    if not rows:
        fig.text(0.09, y, empty, fontsize=_FONT, va="top", style="italic")
        return y - 0.022
    for x, text, ha in cols:
        fig.text(x, y, text, fontsize=7, fontweight="bold", ha=ha, va="top")
    y -= 0.014
    fig.add_artist(hline(fig, 0.07, 0.955, y + 0.002))
    for row in rows[:limit]:
        for (x, _, ha), text in zip(cols, row):
            fig.text(x, y, text, fontsize=7, ha=ha, va="top")
        y -= 0.0125
    if len(rows) > limit:
        fig.text(0.09, y, f"… và {len(rows) - limit} dòng nữa", fontsize=6.5, va="top",
                 style="italic")
        y -= 0.0125
    return y - 0.012


def _short(text: object, n: int) -> str:
    s = _value(text, "")
    return s if len(s) <= n else s[: n - 1] + "…"


def extract_pdf(ex: ParcelExtract, *, scale: int, printed_by: str | None = None,
                hide_owner: bool = False, now: dt.datetime | None = None) -> bytes:
    """The extract as PDF bytes: one A4 page. ``scale`` comes from :func:`extent_for` (the
    caller reads the neighbours within its half-width); ``now`` is the date printed."""
    from gis.labels import case_status_label, kind_label

    now = now or dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    fig = new_figure(_PAGE, canvas="pdf")
    w = ex.ward
    ward_name = str(w.get("name") or f"Phường/xã {ex.parcel.get('ward_code')}")
    fig.text(0.25, 0.972, "ỦY BAN NHÂN DÂN", fontsize=8.5, ha="center", va="top")
    fig.text(0.25, 0.957, ward_name.upper(), fontsize=8.5, fontweight="bold", ha="center",
             va="top")
    fig.text(0.70, 0.972, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", fontsize=8.5,
             fontweight="bold", ha="center", va="top")
    fig.text(0.70, 0.957, "Độc lập - Tự do - Hạnh phúc", fontsize=8.5, fontweight="bold",
             ha="center", va="top")
    fig.add_artist(hline(fig, 0.60, 0.80, 0.9435))
    fig.add_artist(hline(fig, 0.19, 0.31, 0.9435))
    fig.text(0.5, 0.925, "TRÍCH LỤC BẢN ĐỒ ĐỊA CHÍNH", fontsize=14, fontweight="bold",
             ha="center", va="top")
    place = ", ".join(str(v) for v in (w.get("name"), w.get("district"), w.get("province")) if v)
    fig.text(0.5, 0.901, f"Thửa đất số {_value(ex.parcel.get('parcel_no'))}, tờ bản đồ số "
             f"{_value(ex.parcel.get('map_sheet'))}" + (f" — {place}" if place else ""),
             fontsize=9, ha="center", va="top")
    from gis import crs as crsmod

    zone = crsmod.zone_of_crs(ex.crs)
    zone_text = f"{zone.name}" if zone else (getattr(ex.crs, "name", "") or "")
    fig.text(0.5, 0.884, f"Mã thửa: {ex.key}   ·   Hệ tọa độ {zone_text}   ·   "
             f"{_scale_text(scale)}", fontsize=7.5, ha="center", va="top", color="#424242")
    _map(fig, ex, scale)
    _vertex_table(fig, ex)
    y = 0.425
    fig.text(0.07, y, "I. THÔNG TIN THỬA ĐẤT", fontsize=9, fontweight="bold", va="top")
    y -= 0.02
    for label, value in _attributes(ex, hide_owner=hide_owner):
        fig.text(0.09, y, f"{label}:", fontsize=_FONT, va="top")
        fig.text(0.28, y, _short(value, 95), fontsize=_FONT, va="top")
        y -= 0.0155
    y -= 0.008
    clearance_rows = []
    for r in ex.clearance.to_dict("records"):
        share = r.get("share")
        clearance_rows.append([
            _short(f"{r.get('project_id')} {_value(r.get('project_name'), '')}", 46),
            format_number_vi(float(r.get("overlap_m2") or 0), 2),
            format_number_vi(100 * float(share), 1) if share is not None else "",
            _status_vi(r.get("status")), _date(r.get("status_date"))])
    y = _table(fig, y, "II. TÌNH TRẠNG GIẢI PHÓNG MẶT BẰNG",
               [(0.09, "Dự án", "left"), (0.60, "Diện tích thu hồi (m²)", "right"),
                (0.68, "Tỷ lệ (%)", "right"), (0.70, "Trạng thái", "left"),
                (0.955, "Từ ngày", "right")],
               clearance_rows, "Thửa đất không nằm trong ranh giới dự án thu hồi đất nào.")
    case_rows = []
    for r in ex.cases.to_dict("records"):
        kind = kind_label(r.get("kind"), "vi")  # the extract is a Vietnamese form
        case_rows.append([_value(r.get("case_id")), _short(kind, 42),
                          case_status_label(r.get("status"), "vi") if r.get("status") else "—",
                          format_number_vi(float(r.get("area_m2") or 0), 2)])
    _table(fig, y, "III. VỤ VIỆC VI PHẠM ĐẤT ĐAI LIÊN QUAN",
           [(0.09, "Mã vụ việc", "left"), (0.27, "Loại vi phạm", "left"),
            (0.64, "Trạng thái", "left"), (0.955, "Diện tích (m²)", "right")],
           case_rows, "Không có vụ việc vi phạm nào liên quan đến thửa đất.", limit=4)
    fig.text(0.78, 0.105, f"{ward_name}, ngày {now:%d} tháng {now:%m} năm {now:%Y}",
             fontsize=7.5, ha="center", va="top", style="italic")
    fig.text(0.78, 0.09, "NGƯỜI TRÍCH LỤC", fontsize=8, fontweight="bold", ha="center", va="top")
    fig.text(0.78, 0.077, "(Ký, ghi rõ họ tên)", fontsize=7, ha="center", va="top",
             style="italic")
    who = f"   ·   Người in: {printed_by}" if printed_by else ""
    fig.text(0.07, 0.045, f"Ngày in: {now:%d/%m/%Y %H:%M}{who}", fontsize=7, va="top")
    fig.text(0.07, 0.032, "Trích lục từ cơ sở dữ liệu địa chính số; có giá trị tham khảo, không "
             "thay thế Giấy chứng nhận quyền sử dụng đất.", fontsize=6.5, va="top",
             color="#616161")
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf", metadata={
        "Title": f"Trích lục thửa đất {ex.key}", "Subject": "Trích lục bản đồ địa chính",
        "Creator": "gis land-parcel service"})
    return buf.getvalue()
