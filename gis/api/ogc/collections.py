"""What the OGC API – Features end point publishes: the collections and their CRSs.

A collection is a store table seen by planners' software: which table (the first one present of
its candidates), its title in Vietnamese and English, the column that identifies a feature, and
the columns left out (internal ones always; personal ones for anonymous readers when the
``public_read`` setting opens reading to everyone).

CRSs are named by OGC URIs. Output is CRS84 (longitude, latitude) by default, through the pinned
EPSG:6960 VN-2000 → WGS 84 transformation; EPSG:4326 is the same datum with latitude first (its
official axis order); the store's VN-2000 zone (``EPSG/0/<code>``) gives the stored coordinates
untransformed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import shapely
from pyproj import CRS

from gis import crs as crsmod
from gis.errors import GisError, RequestError
from gis.text import N_, NC_, Text, text

__all__ = ["Collection", "COLLECTIONS", "OgcParameterError", "OutputCrs", "CRS84", "EPSG4326",
           "crs_uri", "default_crs", "parse_crs", "supported_crs", "to_output", "bbox_area"]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
_EPSG_PREFIX = "http://www.opengis.net/def/crs/EPSG/0/"


#: a query parameter of the OGC API that cannot be used (answered with 400)
OgcParameterError = RequestError


@dataclass(frozen=True)
class Collection:
    """One published collection."""

    id: str
    tables: tuple[str, ...]            # candidates, first present wins
    title: Text                        # for people (gis.text)
    description: Text
    id_columns: tuple[str, ...]        # joined with ":" to make the feature id
    hidden: frozenset[str] = frozenset()     # never published
    personal: frozenset[str] = frozenset()   # not for anonymous readers
    filters: tuple[str, ...] = ()      # columns offered in the HTML filter form

    def text(self, lang: str) -> tuple[str, str]:
        """(title, description) in ``lang``."""
        return text(self.title, lang), text(self.description, lang)


_INTERNAL = frozenset({"geometry_original_wkt", "extra", "source_row"})

COLLECTIONS: tuple[Collection, ...] = (
    Collection("parcels", ("parcels",), N_("Parcels"),
               N_("Cadastral parcels: ward-sheet-number key, land use, area, land user, public "
                  "land."),
               ("parcel_key",), _INTERNAL, frozenset({"owner_name"}),
               ("ward_code", "map_sheet", "land_use", "land_group", "is_public")),
    Collection("projects", ("clearance_projects", "projects"),
               N_("Land clearance projects"),
               N_("Project boundaries with land clearance progress (parcels, area, "
                  "compensation, disbursement)."),
               ("project_id",), _INTERNAL, frozenset(),
               ("capital_source", "start_type", "key_project", "completed")),
    Collection("clearance", ("project_parcels",),
               N_("Parcel parts in projects (clearance status)"),
               N_("The part of each parcel inside a project boundary, with its clearance "
                  "status, compensation and handover; id = project id:parcel key."),
               ("project_id", "parcel_key"), _INTERNAL | {"rank"}, frozenset(),
               ("project_id", "ward_code", "status", "handed_over", "overdue_payment")),
    Collection("violations", ("violation_cases",),
               N_("Land violation cases"),
               N_("Violation cases: construction on agricultural land, encroachment on public "
                  "land or a neighbouring parcel; handling status under Decree 123/2024."),
               ("case_id",), _INTERNAL | {"fingerprint"},
               frozenset({"owner_name", "notes", "inspector"}),
               ("ward_code", "kind", "status", "source")),
    Collection("wards", ("wards",), NC_("ogc collection", "Wards"),
               N_("Ward and commune boundaries."),
               ("ward_code",), _INTERNAL, frozenset(), ("district",)),
    Collection("units", ("units",), NC_("ogc collection", "Commune-level units"),
               N_("Commune-level units since 1 July 2025 (xã, phường, đặc khu; 2025 codes) "
                  "with their province."),
               ("unit_code",), _INTERNAL, frozenset(), ("province",)),
    Collection("buildings", ("buildings",), NC_("ogc collection", "Buildings"),
               N_("Building footprints (used to detect violations)."),
               ("building_id",), _INTERNAL, frozenset(), ("floors", "year_built")),
)


# --- CRS ------------------------------------------------------------------------------------
class Axis(str, Enum):
    """How coordinates are written in the output."""

    LONLAT = "lonlat"      # CRS84
    LATLON = "latlon"      # EPSG:4326 (latitude first, as EPSG defines it)
    STORE = "store"        # the store's projected zone (easting, northing)


@dataclass(frozen=True)
class OutputCrs:
    """A CRS the API accepts, with its URI and how coordinates are ordered."""

    uri: str
    axis: Axis

    @property
    def geographic(self) -> bool:
        return self.axis is not Axis.STORE


def crs_uri(crs: CRS) -> str:
    """The OGC URI of a CRS with an EPSG code."""
    epsg = crs.to_epsg()
    if epsg is None:
        raise GisError(f"the store CRS {crs.name} has no EPSG code to publish")
    return f"{_EPSG_PREFIX}{epsg}"


def supported_crs(store_crs: CRS) -> list[str]:
    """URIs of the CRSs the API serves, CRS84 first."""
    return [CRS84, EPSG4326, crs_uri(store_crs)]


def default_crs() -> OutputCrs:
    """CRS84: what ``crs`` and ``bbox-crs`` mean when they are not given."""
    return OutputCrs(CRS84, Axis.LONLAT)


def parse_crs(value: str | None, store_crs: CRS, *, parameter: str) -> OutputCrs:
    """The CRS named by ``crs``/``bbox-crs``: an OGC URI, or the shorthands ``CRS84`` and
    ``EPSG:<code>``; anything else is refused with the list of supported URIs."""
    if value is None or value == "":
        return OutputCrs(CRS84, Axis.LONLAT)
    text = value.strip().strip("[]")
    store_uri = crs_uri(store_crs)
    key = text.rstrip("/")
    if key in (CRS84, "CRS84", "OGC:CRS84", "http://www.opengis.net/def/crs/OGC/0/CRS84"):
        return OutputCrs(CRS84, Axis.LONLAT)
    if key.upper().startswith("EPSG:"):
        key = _EPSG_PREFIX + key[5:]
    if key == EPSG4326:
        return OutputCrs(EPSG4326, Axis.LATLON)
    if key == store_uri:
        return OutputCrs(store_uri, Axis.STORE)
    raise OgcParameterError(
        f"{parameter} {value!r} is not supported; use one of {', '.join(supported_crs(store_crs))}", value=value)


def to_output(geoms: np.ndarray, store_crs: CRS, out: OutputCrs) -> np.ndarray:
    """Geometries (store CRS) in the output CRS and axis order, rounded to about a millimetre
    (1e-8 degree, 1e-3 metre)."""
    if len(geoms) == 0:
        return geoms
    if out.axis is Axis.STORE:
        return shapely.transform(geoms, lambda c: np.round(c, 3))
    lonlat = crsmod.transform_geometries(geoms, store_crs, "EPSG:4326")
    if out.axis is Axis.LATLON:
        return shapely.transform(lonlat, lambda c: np.round(c[:, ::-1], 8))
    return shapely.transform(lonlat, lambda c: np.round(c, 8))


def to_lonlat_bounds(bounds: tuple[float, float, float, float],
                     store_crs: CRS) -> list[float]:
    """A store-CRS box as a CRS84 bbox (densified, so the curved edges are covered)."""
    lonlat = crsmod.transform_box(bounds, store_crs, "EPSG:4326")
    return [round(v, 8) for v in lonlat.bounds]


def bbox_area(numbers: tuple[float, float, float, float], bbox_crs: OutputCrs, store_crs: CRS,
              *, text: str = "") -> shapely.Polygon:
    """The area of a ``bbox`` parameter (four numbers parsed by
    :func:`gis.core.bbox.parse_bbox`, in ``bbox_crs`` axis order; ``text`` as sent, for the
    message) as a polygon in the store CRS: a lon/lat box is densified before it is
    transformed, so that its edges stay where the client meant them."""
    text = text or ",".join(f"{n:g}" for n in numbers)
    x1, y1, x2, y2 = numbers
    if bbox_crs.axis is Axis.LATLON:  # EPSG:4326 boxes are lat,lon,lat,lon
        x1, y1, x2, y2 = y1, x1, y2, x2
    if bbox_crs.axis is Axis.STORE:
        return shapely.box(x1, y1, x2, y2)
    if not (-180 <= x1 <= x2 <= 180 and -90 <= y1 <= y2 <= 90):
        raise OgcParameterError(f"bbox {text!r} is outside longitude -180..180 / latitude "
                                "-90..90", value=text)
    # clamp to the zone's neighbourhood: a world-wide box would not transform into TM-3
    lon0, lat0, lon1, lat1 = crsmod.VIETNAM_LONLAT
    cx1, cy1, cx2, cy2 = max(x1, lon0 - 5), max(y1, lat0 - 5), min(x2, lon1 + 5), min(y2, lat1 + 5)
    if cx1 > cx2 or cy1 > cy2:
        return shapely.Polygon()  # nowhere near the data
    box = shapely.segmentize(shapely.box(cx1, cy1, cx2, cy2), 0.01)
    area = crsmod.transform_geometries(np.array([box]), "EPSG:4326", store_crs)[0]
    return area if area.is_valid else shapely.make_valid(area)
