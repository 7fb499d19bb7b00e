"""Coordinate reference systems of Vietnamese cadastral data (VN-2000).

All 17 TM-3 provincial zones (k0 0.9999) and the two UTM zones (k0 0.9996) of DOMAIN.md §6.2;
a transformation to WGS 84 with the national parameters (EPSG:6960) pinned explicitly, rotations
in coordinate-frame convention (DOMAIN.md §6.3), so that pyproj never picks the Mekong-delta
operation (EPSG:5194) on its own; detection of the zone from a ``.prj`` that lacks TOWGS84 or is
written with ESRI names; and inference of CRS candidates when a file declares none.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.enums import TransformDirection

from gis.errors import CRSError

__all__ = [
    "Zone",
    "ZONES",
    "WGS84",
    "zone_for_epsg",
    "zone_for_province",
    "zone_of_crs",
    "pinned_transformer",
    "pinned_proj4",
    "transform_geometries",
    "transform_box",
    "web_mercator_tile",
    "infer_crs_candidates",
    "resolve_source_crs",
    "working_crs",
    "looks_geographic",
    "zones_placing",
]

WGS84 = CRS.from_epsg(4326)
VN2000_GEOGRAPHIC = CRS.from_epsg(4756)

# EPSG:6960, VN-2000 to WGS 84 (2), national parameters, coordinate-frame rotations (arc-seconds).
_HELMERT_SHIFT = ("-191.90441429", "-39.30318279", "-111.45032835")  # metres
_HELMERT_ROTATIONS = ("-0.00928836", "0.01975479", "-0.00427372")  # arc-seconds
_HELMERT_SCALE = "0.252906278"  # ppm
HELMERT_6960 = (
    "+proj=helmert +x={} +y={} +z={} ".format(*_HELMERT_SHIFT)
    + "+rx={} +ry={} +rz={} ".format(*_HELMERT_ROTATIONS)
    + f"+s={_HELMERT_SCALE} +convention=coordinate_frame"
)

# Vietnam onshore and near shore, lon/lat, for plausibility checks.
VIETNAM_LONLAT = (101.0, 7.5, 118.0, 24.0)


@dataclass(frozen=True)
class Zone:
    """A VN-2000 projected zone: Transverse Mercator, false easting 500 000 m, false northing 0."""

    epsg: int
    name: str
    central_meridian: float
    scale: float
    provinces: tuple[str, ...] = ()

    @property
    def crs(self) -> CRS:
        """The EPSG CRS of the zone."""
        return _crs(self.epsg)

    @property
    def is_utm(self) -> bool:
        """True for the 6° UTM zones (k0 0.9996)."""
        return abs(self.scale - 0.9996) < 1e-9


def _tm3(epsg: int, cm: float, *provinces: str) -> Zone:
    deg = int(cm)
    minutes = round((cm - deg) * 60)
    return Zone(epsg, f"VN-2000 / TM-3 {deg}-{minutes:02d}", cm, 0.9999, provinces)


ZONES: tuple[Zone, ...] = (
    _tm3(9205, 103.0, "Điện Biên", "Lai Châu"),
    _tm3(9206, 104.0, "Sơn La"),
    _tm3(9207, 104.5, "Cà Mau", "Kiên Giang"),
    _tm3(9208, 104.75, "An Giang", "Lào Cai", "Nghệ An", "Phú Thọ", "Yên Bái"),
    _tm3(5897, 105.0, "Hà Nội", "Hà Nam", "Hà Tây", "Ninh Bình", "Thanh Hóa", "Vĩnh Phúc",
         "Cần Thơ", "Bạc Liêu", "Đồng Tháp", "Hậu Giang"),
    _tm3(9209, 105.5, "Bắc Ninh", "Hà Giang", "Hà Tĩnh", "Hải Dương", "Hưng Yên", "Nam Định",
         "Sóc Trăng", "Tây Ninh", "Thái Bình", "Trà Vinh", "Vĩnh Long"),
    _tm3(9210, 105.75, "Hải Phòng", "Hồ Chí Minh", "Bến Tre", "Bình Dương", "Cao Bằng",
         "Long An", "Tiền Giang"),
    _tm3(9211, 106.0, "Hòa Bình", "Quảng Bình", "Tuyên Quang"),
    _tm3(9212, 106.25, "Bình Phước", "Quảng Trị"),
    _tm3(9213, 106.5, "Bắc Kạn", "Thái Nguyên"),
    _tm3(9214, 107.0, "Bắc Giang", "Thừa Thiên Huế", "Huế"),
    _tm3(9215, 107.25, "Lạng Sơn"),
    _tm3(9216, 107.5, "Kon Tum"),
    _tm3(5899, 107.75, "Quảng Ninh", "Đà Nẵng", "Quảng Nam", "Bà Rịa - Vũng Tàu", "Đồng Nai",
         "Lâm Đồng"),
    _tm3(5898, 108.0, "Quảng Ngãi"),
    _tm3(9217, 108.25, "Bình Định", "Khánh Hòa", "Ninh Thuận"),
    _tm3(9218, 108.5, "Bình Thuận", "Đắk Lắk", "Đắk Nông", "Gia Lai", "Phú Yên"),
    Zone(3405, "VN-2000 / UTM zone 48N", 105.0, 0.9996),
    Zone(3406, "VN-2000 / UTM zone 49N", 111.0, 0.9996),
)
TM3_ZONES = tuple(z for z in ZONES if not z.is_utm)


@lru_cache(maxsize=64)
def _crs(epsg: int) -> CRS:
    return CRS.from_epsg(epsg)


def _fold(text: str) -> str:
    """Lower-case, strip diacritics and punctuation: "Thành phố Hồ Chí Minh" -> "thanhphohochiminh"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    nfd = unicodedata.normalize("NFD", text)
    return "".join(c for c in nfd if c.isalnum() and not unicodedata.combining(c)).lower()


_PREFIXES = ("thanhpho", "tinh", "tp")


def parse_crs(value: str | int | CRS, *, option: str = "--crs") -> CRS:
    """A CRS from user input (``EPSG:5897``, ``5897``, WKT, PROJ), or a CRSError naming it.

    >>> parse_crs("EPSG:5899").name
    'VN-2000 / TM-3 107-45'
    """
    from pyproj.exceptions import CRSError as ProjCRSError

    if isinstance(value, CRS):
        return value
    text = str(value).strip()
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return CRS.from_user_input(text)
    except ProjCRSError:
        raise CRSError(f"{option} {value!r} is not a CRS; use e.g. EPSG:5897 (VN-2000 / TM-3 "
                       "105°00') or EPSG:4326 (WGS 84)", value=value) from None


def zone_for_epsg(epsg: int) -> Zone | None:
    """Return the VN-2000 zone with this EPSG code, or None.

    >>> zone_for_epsg(5897).name
    'VN-2000 / TM-3 105-00'
    """
    return next((z for z in ZONES if z.epsg == epsg), None)


def zone_for_province(province: str) -> Zone:
    """Return the cadastral TM-3 zone of a (pre-2025) province, accents and prefixes optional.

    >>> zone_for_province("TP Đà Nẵng").epsg
    5899
    >>> zone_for_province("ha noi").central_meridian
    105.0
    """
    key = _fold(province)
    for prefix in _PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix) + 2:
            key = key[len(prefix):]
            break
    for zone in TM3_ZONES:
        if any(_fold(p) == key for p in zone.provinces):
            return zone
    known = sorted({p for z in TM3_ZONES for p in z.provinces})
    raise CRSError(f"unknown province {province!r}; known provinces: {', '.join(known)}",
                   value=province)


def zone_of_crs(crs: CRS | str | int | None) -> Zone | None:
    """Identify the VN-2000 zone of a CRS by its parameters, whatever its name or TOWGS84.

    A ``.prj`` written by older software may lack TOWGS84, use ESRI names ("VN_2000_TM-3_zone_482")
    or even declare the WGS 84 datum for VN-2000 "nội bộ" data: a Transverse Mercator with the
    zone's central meridian, k0, false easting 500 000 and false northing 0 on the WGS 84
    ellipsoid is recognised as that zone.
    """
    if crs is None:
        return None
    crs = CRS.from_user_input(crs)
    if crs.is_bound and crs.source_crs is not None:
        crs = crs.source_crs
    assert crs is not None
    epsg = crs.to_epsg(min_confidence=90)
    if epsg is not None:
        zone = zone_for_epsg(epsg)
        if zone is not None:
            return zone
        if epsg not in (3405, 3406) and not _is_vn_datum(crs):
            # A genuine other CRS (e.g. WGS 84 / UTM 48N) is not VN-2000.
            return None
    params = _tm_parameters(crs)
    if params is None:
        return None
    ellps = crs.ellipsoid
    if ellps is None or abs(ellps.semi_major_metre - 6378137.0) > 0.5:
        return None
    lon0, k, x0, y0, lat0 = params
    if abs(x0 - 500000.0) > 0.01 or abs(y0) > 0.01 or abs(lat0) > 1e-9:
        return None
    for zone in ZONES:
        if abs(zone.central_meridian - lon0) < 1e-6 and abs(zone.scale - k) < 1e-9:
            return zone
    return None


def _tm_parameters(crs: CRS) -> tuple[float, float, float, float, float] | None:
    """(lon0, k, false easting, false northing, lat0) of a Transverse Mercator CRS, else None."""
    op = crs.coordinate_operation
    if not crs.is_projected or op is None or "transverse mercator" not in op.method_name.lower():
        return None
    by_code = {p.code: p.value for p in op.params if p.code}
    by_name = {p.name.lower(): p.value for p in op.params}
    try:
        lon0 = by_code.get("8802", by_name.get("longitude of natural origin"))
        k = by_code.get("8805", by_name.get("scale factor at natural origin"))
        x0 = by_code.get("8806", by_name.get("false easting"))
        y0 = by_code.get("8807", by_name.get("false northing"))
        lat0 = by_code.get("8801", by_name.get("latitude of natural origin", 0.0))
        return float(lon0), float(k), float(x0), float(y0), float(lat0)
    except (TypeError, ValueError):
        return None


def _is_vn_datum(crs: CRS) -> bool:
    datum = crs.datum.name if crs.datum is not None else ""
    return "vn" in datum.lower() or "vietnam" in datum.lower() or "2000" in datum


_GEOGRAPHIC_PIPELINE = (
    "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
    "+step +proj=push +v_3 +step +proj=cart +ellps=WGS84 "
    f"+step {HELMERT_6960} "
    "+step +inv +proj=cart +ellps=WGS84 +step +proj=pop +v_3 "
    "+step +proj=unitconvert +xy_in=rad +xy_out=deg"
)


def _is_vn2000_geographic(crs: CRS) -> bool:
    return crs.is_geographic and (crs.to_epsg(min_confidence=90) == 4756 or _is_vn_datum(crs))


@lru_cache(maxsize=1)
def _geographic_transformer() -> Transformer:
    return Transformer.from_pipeline(_GEOGRAPHIC_PIPELINE)


def _pinned_to_wgs84(crs: CRS) -> _Step | None:
    """The pinned step from a VN-2000 CRS (zone or geographic) to WGS 84 lon/lat, else None."""
    zone = zone_of_crs(crs)
    if zone is not None:
        return pinned_transformer(zone.epsg)
    if _is_vn2000_geographic(crs):
        return _Step(_geographic_transformer())
    return None


def _zone_pipeline(zone: Zone) -> str:
    return (
        "+proj=pipeline "
        f"+step +inv +proj=tmerc +lat_0=0 +lon_0={zone.central_meridian!r} +k={zone.scale!r} "
        "+x_0=500000 +y_0=0 +ellps=WGS84 "
        "+step +proj=push +v_3 +step +proj=cart +ellps=WGS84 "
        f"+step {HELMERT_6960} "
        "+step +inv +proj=cart +ellps=WGS84 +step +proj=pop +v_3 "
        "+step +proj=unitconvert +xy_in=rad +xy_out=deg"
    )


def pinned_proj4(crs: CRS | str | int) -> str | None:
    """A PROJ.4 definition of a VN-2000 CRS whose ``+towgs84`` carries the pinned EPSG:6960
    parameters (position-vector convention: the coordinate-frame rotations negated), for a
    database that transforms by PROJ.4 text (PostGIS ``spatial_ref_sys``); None for a CRS that
    is not VN-2000. It gives the same coordinates as :func:`transform_geometries` (tested to
    0.1 mm)."""
    crs = CRS.from_user_input(crs)
    rx, ry, rz = (-float(v) for v in _HELMERT_ROTATIONS)
    towgs = f"+towgs84={','.join(_HELMERT_SHIFT)},{rx!r},{ry!r},{rz!r},{_HELMERT_SCALE}"
    zone = zone_of_crs(crs)
    if zone is not None:
        return (f"+proj=tmerc +lat_0=0 +lon_0={zone.central_meridian!r} +k={zone.scale!r} "
                f"+x_0=500000 +y_0=0 +ellps=WGS84 {towgs} +units=m +no_defs")
    if _is_vn2000_geographic(crs):
        return f"+proj=longlat +ellps=WGS84 {towgs} +no_defs"
    return None


@dataclass(frozen=True)
class _Step:
    transformer: Transformer
    inverse: bool = False

    def transform(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        direction = TransformDirection.INVERSE if self.inverse else TransformDirection.FORWARD
        return self.transformer.transform(x, y, direction=direction)


def pinned_transformer(zone_epsg: int, *, inverse: bool = False) -> _Step:
    """Transform from a VN-2000 zone to WGS 84 lon/lat (or back) with EPSG:6960 pinned.

    The returned object has ``transform(x, y)``; the pyproj Transformer behind it is cached
    (building one costs milliseconds, using it costs nothing).
    """
    return _Step(_zone_transformer(zone_epsg), inverse)


@lru_cache(maxsize=64)
def _zone_transformer(zone_epsg: int) -> Transformer:
    zone = zone_for_epsg(zone_epsg)
    if zone is None:
        raise CRSError(f"EPSG:{zone_epsg} is not a VN-2000 zone", value=zone_epsg)
    return Transformer.from_pipeline(_zone_pipeline(zone))


def _generic_transformer(src_wkt: str, dst_wkt: str) -> _Step:
    return _Step(_generic(src_wkt, dst_wkt))


@lru_cache(maxsize=64)
def _generic(src_wkt: str, dst_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(src_wkt), CRS.from_wkt(dst_wkt), always_xy=True)


def _is_wgs84_lonlat(crs: CRS) -> bool:
    return crs.is_geographic and crs.to_epsg(min_confidence=90) in (4326, 4979, 4269) or (
        crs.is_geographic and crs.datum is not None and "WGS" in crs.datum.name.upper()
        and "84" in crs.datum.name)


def _coords_func(transformers: Sequence[_Step]):
    def func(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        for tr in transformers:
            x, y = tr.transform(x, y)
        return np.column_stack([x, y])

    return func


def _chain(src: CRS, dst: CRS) -> list[_Step]:
    """Steps from ``src`` to ``dst``: VN-2000 (zones and geographic) ↔ WGS 84 always through the
    pinned EPSG:6960 Helmert, never pyproj's own choice."""
    to_wgs = _pinned_to_wgs84(src)
    from_wgs = _pinned_to_wgs84(dst)
    if to_wgs is None and from_wgs is None:
        return [_generic_transformer(src.to_wkt(), dst.to_wkt())]
    chain: list[_Step] = []
    if to_wgs is not None:
        chain.append(to_wgs)
    elif not _is_wgs84_lonlat(src):
        chain.append(_generic_transformer(src.to_wkt(), WGS84.to_wkt()))
    if from_wgs is not None:
        chain.append(_Step(from_wgs.transformer, inverse=True))
    elif not _is_wgs84_lonlat(dst):
        chain.append(_generic_transformer(WGS84.to_wkt(), dst.to_wkt()))
    return chain


def transform_geometries(geoms: np.ndarray | Sequence, src: CRS | str | int,
                         dst: CRS | str | int) -> np.ndarray:
    """Transform an array of shapely geometries between CRSs, VN-2000 via the pinned EPSG:6960.

    Coordinates are x/y (easting/northing, lon/lat) whatever the CRS axis order. Z is dropped.
    """
    src, dst = CRS.from_user_input(src), CRS.from_user_input(dst)
    arr = np.asarray(geoms, dtype=object)
    if src == dst:
        return arr
    return shapely.transform(arr, _coords_func(_chain(src, dst)))


def transform_box(bounds: Sequence[float], src: CRS | str | int, dst: CRS | str | int, *,
                  parts: int = 32) -> shapely.Polygon:
    """The box ``bounds`` (minx, miny, maxx, maxy in ``src``) as a polygon in ``dst``, its
    edges densified into ``parts`` pieces first, so that its envelope covers the curved image
    of each edge (pinned VN-2000 transformation as :func:`transform_geometries`)."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    step = max(maxx - minx, maxy - miny) / parts or 1.0
    box = shapely.segmentize(shapely.box(minx, miny, maxx, maxy), step)
    return transform_geometries(np.array([box], dtype=object), src, dst)[0]


#: half the Web Mercator world (EPSG:3857), metres
WEB_MERCATOR_HALF = 20037508.342789244


def web_mercator_tile(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The bounds of XYZ tile z/x/y in EPSG:3857 (y from the north)."""
    size = 2 * WEB_MERCATOR_HALF / (1 << z)
    minx = -WEB_MERCATOR_HALF + x * size
    maxy = WEB_MERCATOR_HALF - y * size
    return minx, maxy - size, minx + size, maxy


def looks_geographic(bounds: Sequence[float]) -> bool:
    """True when every coordinate fits lon/lat ranges (|x| ≤ 180, |y| ≤ 90)."""
    minx, miny, maxx, maxy = bounds
    return -180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0


def _in_vietnam(lon: float, lat: float, margin: float = 0.0) -> bool:
    w, s, e, n = VIETNAM_LONLAT
    return w - margin <= lon <= e + margin and s - margin <= lat <= n + margin


def infer_crs_candidates(bounds: Sequence[float], *, province: str | None = None) -> list[CRS]:
    """CRSs the coordinates can be in when a file declares none.

    Lon/lat-looking coordinates give WGS 84 and VN-2000 geographic (200 m apart, so still two);
    projected-looking coordinates give every VN-2000 zone whose frame puts the data inside Vietnam,
    narrowed to the declared province's zone when one is given.
    """
    minx, miny, maxx, maxy = bounds
    if looks_geographic(bounds):
        return [WGS84, VN2000_GEOGRAPHIC]
    if not (50_000 <= minx <= maxx <= 950_000 and 800_000 <= miny <= maxy <= 2_700_000):
        return []
    zones = list(ZONES)
    if province is not None:
        zones = [zone_for_province(province)]
    out = []
    for zone in zones:
        tr = pinned_transformer(zone.epsg)
        lon, lat = tr.transform(np.array([minx, maxx]), np.array([miny, maxy]))
        if all(_in_vietnam(float(a), float(b), margin=0.5) for a, b in zip(lon, lat)):
            out.append(zone.crs)
    return out


def _describe(crs: CRS) -> str:
    epsg = crs.to_epsg(min_confidence=90)
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def resolve_source_crs(declared: CRS | str | None, bounds: Sequence[float], *,
                       province: str | None = None, path: str | None = None,
                       layer: str | None = None) -> CRS:
    """Return the CRS of a source, checking it against the coordinates.

    Raises
    ------
    CRSError
        When the declared CRS contradicts the coordinates (lon/lat values in a file declared
        VN-2000), or when none is declared and the coordinates fit several CRSs.
    """
    if declared is not None:
        crs = CRS.from_user_input(declared)
        if crs.is_projected and looks_geographic(bounds):
            raise CRSError(
                f"coordinates look like lon/lat (x {bounds[0]:.4f}..{bounds[2]:.4f}, "
                f"y {bounds[1]:.4f}..{bounds[3]:.4f}) but the file declares {_describe(crs)}; "
                "fix the .prj or pass --crs EPSG:4326", path=path, layer=layer)
        zone = zone_of_crs(crs)
        if zone is not None and crs.is_projected:
            _check_zone_bounds(zone, bounds, path=path, layer=layer)
        if crs.is_geographic and not looks_geographic(bounds):
            raise CRSError(
                f"coordinates are projected metres (x {bounds[0]:.0f}..{bounds[2]:.0f}) but the "
                f"file declares {_describe(crs)}; pass --crs with the VN-2000 zone",
                path=path, layer=layer)
        return crs
    candidates = infer_crs_candidates(bounds, province=province)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise CRSError(
            f"no CRS is declared and coordinates x {bounds[0]:.1f}..{bounds[2]:.1f}, "
            f"y {bounds[1]:.1f}..{bounds[3]:.1f} fit no Vietnamese CRS; pass --crs",
            path=path, layer=layer)
    names = "; ".join(_describe(c) for c in candidates[:8])
    more = f" and {len(candidates) - 8} more" if len(candidates) > 8 else ""
    hint = "" if province or looks_geographic(bounds) else " (or --province NAME)"
    raise CRSError(
        f"no CRS is declared (missing .prj?) and the coordinates fit {len(candidates)} CRSs: "
        f"{names}{more}; refusing to guess, pass --crs{hint}", path=path, layer=layer)


def _check_zone_bounds(zone: Zone, bounds: Sequence[float], *, path: str | None,
                       layer: str | None) -> None:
    """Coordinates declared in a VN-2000 zone must land in Vietnam; swapped X/Y is named."""
    minx, miny, maxx, maxy = bounds
    tr = pinned_transformer(zone.epsg)

    def inside(xs: np.ndarray, ys: np.ndarray) -> bool:
        lon, lat = tr.transform(xs, ys)
        return all(_in_vietnam(float(a), float(b), margin=1.0) for a, b in zip(lon, lat))

    xs, ys = np.array([minx, maxx]), np.array([miny, maxy])
    if inside(xs, ys):
        return
    if inside(ys, xs):
        raise CRSError(f"the coordinates fall outside Vietnam in {zone.name}, but fit with X and Y "
                       "swapped (surveyors write X = northing): swap the columns at the source",
                       path=path, layer=layer)
    raise CRSError(f"the coordinates (x {minx:.0f}..{maxx:.0f}, y {miny:.0f}..{maxy:.0f}) fall "
                   f"outside Vietnam in the declared {zone.name}; check the .prj or pass --crs",
                   path=path, layer=layer)


def working_crs(source: CRS, bounds: Sequence[float], *, province: str | None = None) -> CRS:
    """The projected CRS in which a layer is stored and its areas computed.

    A VN-2000 zone or another metric projection (e.g. UTM) stays as it is; lon/lat or Web
    Mercator data in Vietnam goes to the province's TM-3 zone, or to the VN-2000 UTM zone of its
    longitude when no province is given; data elsewhere goes to its WGS 84 UTM zone.
    """
    if source.is_projected and zone_of_crs(source) is not None:
        return source
    method = source.coordinate_operation.method_name.lower() if source.coordinate_operation else ""
    is_mercator = "mercator" in method and "transverse" not in method
    if source.is_projected and not is_mercator:
        return source
    if province is not None:
        return zone_for_province(province).crs
    geoms = shapely.box(*bounds)
    lonlat = transform_geometries(np.array([geoms]), source, WGS84)[0]
    c = lonlat.centroid
    if _in_vietnam(c.x, c.y):
        return _crs(3405 if c.x < 108.0 else 3406)
    from pyproj.aoi import AreaOfInterest
    from pyproj.database import query_utm_crs_info

    info = query_utm_crs_info(datum_name="WGS 84", area_of_interest=AreaOfInterest(c.x, c.y, c.x, c.y))
    return CRS.from_epsg(int(info[0].code))


def zones_placing(points: np.ndarray | Sequence, target: CRS | str | int, fits, *,
                  exclude: Zone | None = None, share: float = 0.9) -> list[tuple[Zone, float]]:
    """TM-3 zones in which the same numbers would put ``points`` where ``fits`` says they belong.

    ``points`` are shapely points in some VN-2000 zone; each TM-3 zone other than ``exclude`` is
    tried in turn (the numbers read in that zone, moved into ``target``); ``fits`` takes the moved
    points and returns a boolean array. Zones where at least ``share`` of them fit are returned,
    best first, as (zone, share).
    """
    arr = np.asarray(points, dtype=object)
    out = []
    for zone in TM3_ZONES:
        if exclude is not None and zone.epsg == exclude.epsg:
            continue
        moved = transform_geometries(arr, zone.crs, target)
        ok = float(np.mean(np.asarray(fits(moved), dtype=bool))) if len(arr) else 0.0
        if ok >= share:
            out.append((zone, ok))
    return sorted(out, key=lambda t: -t[1])
