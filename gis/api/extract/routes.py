"""The parcel extract (trích lục thửa đất): ``GET /api/parcels/{key}`` (attributes, JSON) and
``GET /api/parcels/{key}/extract.pdf`` (one A4 page: map of the parcel and its neighbours,
vertex coordinates, attributes, clearance status and violation cases).

The parcel is found by its key (:meth:`Store.query`); its clearance status comes from the
overlay of this one parcel with the project boundaries and the status history (the same
functions as the district report, so the same status); cases are those naming the parcel or
lying on it. The page itself is drawn by :func:`gis.report.extract.extract_pdf`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from gis.api.auth.security import User
from gis.api.deps import PUBLIC, Reader, StoreDep
from gis.api.scope import require_in_scope
from gis.errors import NotFoundError
from gis.report.extract import ParcelExtract, extent_for, extract_pdf
from gis.store.base import Store
from gis.store.query import ABSENT, LayerQuery

__all__ = ["ParcelExtract", "parcel_extract", "router"]

router = APIRouter(prefix="/api/parcels", tags=["parcels"])
_PERSONAL = ("owner_name", "owner_code")
_HIDDEN = ("geometry_original_wkt", "extra", "source_row")


def _clean(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (pd.Timestamp, dt.date)):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def _find(store: Store, key: str) -> gpd.GeoDataFrame:
    if store.change_token("parcels") == ABSENT:
        raise NotFoundError("the store has no parcels yet", field="parcel_key", value=key)
    frame = store.query("parcels", LayerQuery(keys=(key,), limit=1)).frame
    if frame.empty:
        raise NotFoundError(f"no parcel {key!r}; a parcel key is ward-sheet-number, e.g. "
                            "09880-1-5", field="parcel_key", value=key)
    frame = frame.reset_index(drop=True)
    return frame if frame.crs is not None else frame.set_crs(store.crs())


def _clearance(store: Any, parcel: gpd.GeoDataFrame) -> pd.DataFrame:
    """This parcel's project parts and today's status of each (as the district report)."""
    if not store.has("projects"):
        return pd.DataFrame()
    from gis.core.clearance.progress import compute_progress
    from gis.core.overlay import overlay_parcels_projects

    projects = store.read("projects", bbox=tuple(parcel.total_bounds))
    if projects.empty:
        return pd.DataFrame()
    overlay = overlay_parcels_projects(parcel[["parcel_key", "ward_code", "geometry"]], projects,
                                       workers=1)
    if overlay.pairs.empty:
        return pd.DataFrame()
    key = str(parcel["parcel_key"].iloc[0])
    records = store.read_table("clearance_records")
    events = store.read_table("clearance_events")
    if len(records) and "parcel_key" in records:
        records = records[records["parcel_key"].astype(str) == key]
    if len(events) and "parcel_key" in events:
        events = events[events["parcel_key"].astype(str) == key]
    progress = compute_progress(overlay.pairs, projects, records.reset_index(drop=True),
                                events.reset_index(drop=True))
    names = dict(zip(projects["project_id"].astype(str), projects.get("name", projects["project_id"])))
    out = progress.parcels.copy()
    out["project_name"] = out["project_id"].astype(str).map(names)
    return out.merge(pd.DataFrame(overlay.pairs[["project_id", "parcel_key", "share"]]),
                     on=["project_id", "parcel_key"], how="left")


def _cases(store: Any, key: str, geom: shapely.Geometry) -> pd.DataFrame:
    from gis.violations import list_cases

    cases = list_cases(store)
    if cases.empty:
        return cases
    named = cases["parcel_keys"].fillna("").astype(str).map(
        lambda s: key in [k.strip() for k in s.split(",")])
    geoms = np.asarray(cases.geometry.values, dtype=object)
    on = shapely.intersects(geom, geoms) & ~shapely.touches(geom, geoms)
    return cases[named.to_numpy() | on].reset_index(drop=True)


def parcel_extract(store: Any, key: str, *, neighbours_within: float | None = None
                   ) -> ParcelExtract:
    """Gather what the extract shows for the parcel ``key`` (404 when unknown); with
    ``neighbours_within`` (metres), the parcels in that square around the parcel's centre."""
    frame = _find(store, key)
    row = frame.iloc[0]
    geom = row.geometry
    parcel = {k: _clean(v) for k, v in row.drop(labels="geometry").items()}
    ward: dict[str, object] = {}
    if store.has("wards"):
        wards = store.read_table("wards")
        hit = wards[wards["ward_code"].astype(str) == str(parcel.get("ward_code"))]
        if len(hit):
            ward = {k: _clean(v) for k, v in hit.iloc[0].items()
                    if k in ("ward_code", "name", "district", "province")}
    neighbours = None
    if neighbours_within:
        minx, miny, maxx, maxy = geom.bounds
        cx, cy, half = (minx + maxx) / 2, (miny + maxy) / 2, neighbours_within
        neighbours = store.read("parcels", bbox=(cx - half, cy - half, cx + half, cy + half),
                                columns=["parcel_key", "map_sheet", "parcel_no", "land_use"])
    return ParcelExtract(key, parcel, geom, frame.crs, ward, neighbours,
                         _clearance(store, frame), _cases(store, key, geom))


def _public(user: User) -> bool:
    return user == PUBLIC


@router.get("/{parcel_key}", summary="One parcel's attributes")
def parcel_json(parcel_key: str, user: Reader, store: StoreDep) -> JSONResponse:
    """Attributes, land-use name, ward, area, position in WGS 84, clearance status per project
    and violation cases of one parcel. Owner fields are left out for anonymous readers."""
    from gis import crs as crsmod
    from gis.landuse import CODES_2024

    ex = parcel_extract(store, parcel_key)
    require_in_scope(user, ex.parcel.get("unit_code"), f"parcel {parcel_key}")
    attrs = {k: v for k, v in ex.parcel.items() if k not in _HIDDEN}
    if _public(user):
        for k in _PERSONAL:
            attrs.pop(k, None)
    use = CODES_2024.get(str(attrs.get("land_use")))
    wgs = crsmod.transform_geometries(np.array([ex.geometry], dtype=object), ex.crs,
                                      "EPSG:4326")[0]
    point = wgs.representative_point()
    clearance = [{k: _clean(r.get(k)) for k in ("project_id", "project_name", "overlap_m2", "share",
                                                "status", "status_date", "approved_vnd",
                                                "paid_vnd")}
                 for r in ex.clearance.to_dict("records")]
    cases = [{k: _clean(r.get(k)) for k in ("case_id", "kind", "status", "area_m2", "overdue")}
             for r in ex.cases.to_dict("records")]
    body = {**attrs, "land_use_name": use.name_vi if use else None, "ward": ex.ward,
            "area_m2": round(float(ex.geometry.area), 2),
            "point_wgs84": [round(point.x, 7), round(point.y, 7)],
            "bbox_wgs84": [round(v, 7) for v in wgs.bounds],
            "clearance": clearance, "cases": cases,
            "extract_pdf": f"/api/parcels/{parcel_key}/extract.pdf"}
    return JSONResponse(body)


@router.get("/{parcel_key}/extract.pdf",
            summary="The parcel extract (trích lục), one A4 page PDF",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def parcel_pdf(parcel_key: str, user: Reader, store: StoreDep) -> Response:
    """One A4 page in Vietnamese: map of the parcel and its neighbours with a scale bar and a
    north arrow, vertex coordinates (VN-2000), attributes, clearance status, violation cases
    and the date of printing."""
    found = _find(store, parcel_key)
    require_in_scope(user, found["unit_code"].iloc[0] if "unit_code" in found else None,
                     f"parcel {parcel_key}")
    probe = found.geometry.iloc[0]
    scale, half = extent_for(probe)
    ex = parcel_extract(store, parcel_key, neighbours_within=half)
    if _public(user):
        for k in _PERSONAL:
            ex.parcel[k] = None
    pdf = extract_pdf(ex, scale=scale, printed_by=None if _public(user) else user.name,
                      hide_owner=_public(user))
    name = "trich-luc_" + "".join(c if c.isalnum() or c in "-_." else "-" for c in parcel_key)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})
