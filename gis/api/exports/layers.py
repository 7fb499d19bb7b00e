"""The layers planners export and how a selection (ward, project, status, bounding box) is read.

Each layer says how each filter applies to it (:class:`LayerDef`): a ``ward_code`` column, the
``ward_codes`` list of a project, or the ward polygon in space; a ``project_id`` column, the
parcel × project pairs of the clearance overlay, or the project boundary in space; and which
statuses it has. Attribute filters are evaluated on a few key columns (:meth:`Store.query`);
only the selected features are then read (by feature id) or, for spatial filters, those in the
filter's box through the store's spatial index, and kept when their interiors meet every
spatial filter (touching a boundary is not enough).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gis import crs as crsmod
from gis.core.bbox import parse_bbox
from gis.core.clearance.progress import NOT_STARTED
from gis.core.clearance.status import Status
from gis.core.violations.cases import CaseStatus
from gis.errors import CRSError, GisError, NotFoundError
from gis.store.base import Store
from gis.store.query import LayerQuery
from gis.text import N_

if TYPE_CHECKING:
    from gis.api.scope import RowFilter

__all__ = [
    "CASE_STATUSES",
    "CLEARANCE_STATUSES",
    "LAYERS",
    "LayerDef",
    "Selection",
    "iter_select",
    "layer_def",
    "parse_output_crs",
    "parse_selection",
    "select",
    "ward_names",
]

CLEARANCE_STATUSES = tuple(s.value for s in Status) + (NOT_STARTED,)
CASE_STATUSES = tuple(s.value for s in CaseStatus)
_WARD = re.compile(r"^\d{5}$")
_PROJECT = re.compile(r"^[\w.\-/]{1,64}$")


@dataclass(frozen=True)
class LayerDef:
    """A layer planners can export.

    ``ward``: ``column`` (its ``ward_code``), ``codes`` (a comma list in ``ward_codes``) or
    ``spatial`` (the ward polygon); ``project``: ``column`` (``project_id``), ``pairs`` (parcels
    of the clearance overlay) or ``spatial`` (the project boundary); ``statuses``: the values
    ``status=`` takes, None when the layer has no status.
    """

    name: str
    table: str
    title: str  # for people; the catalogue (gis.text) has it in each language
    key: str
    ward: str
    project: str
    statuses: tuple[str, ...] | None = None
    computed: bool = False  # built in memory (clearance pairs, cases with their overdue reason)


LAYERS: dict[str, LayerDef] = {d.name: d for d in (
    LayerDef("parcels", "parcels", N_("Parcels"), "parcel_key", "column", "pairs",
             CLEARANCE_STATUSES),
    LayerDef("projects", "projects", N_("Project boundaries"), "project_id",
             "codes", "column"),
    LayerDef("clearance", "project_parcels", N_("Parcel parts in projects (clearance)"),
             "parcel_key", "column", "column",
             CLEARANCE_STATUSES, computed=True),
    LayerDef("violations", "violation_cases", N_("Violation cases"), "case_id",
             "column", "spatial", CASE_STATUSES, computed=True),
    LayerDef("buildings", "buildings", N_("Buildings"), "building_id",
             "spatial", "spatial"),
    LayerDef("wards", "wards", N_("Ward boundaries"), "ward_code", "column",
             "spatial"),
)}


def layer_def(name: str) -> LayerDef:
    """The layer called ``name``, or a 404 listing the layers."""
    try:
        return LAYERS[name]
    except KeyError:
        raise NotFoundError(f"no layer {name!r} to export; layers: {', '.join(LAYERS)}",
                            field="layer", value=name) from None


@dataclass(frozen=True)
class Selection:
    """What to export of a layer: filters as given (validated) and the box in the store CRS."""

    ward: str | None = None
    project: str | None = None
    status: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # as given
    bbox_crs: CRS | None = None
    box: shapely.Geometry | None = None  # the bbox as a polygon in the store CRS

    def tags(self) -> list[str]:
        """Short words for the file name (ward, project, status, "bbox")."""
        return [t for t in (self.ward, self.project, self.status and self.status.lower(),
                            "bbox" if self.bbox else None) if t]


def parse_output_crs(value: str | None, store_crs: CRS, *, name: str = "crs") -> CRS:
    """``vn2000`` (or the store's EPSG code) → the layer's VN-2000 zone; ``wgs84``/``EPSG:4326``
    → WGS 84. Anything else is refused with the valid choices."""
    epsg = store_crs.to_epsg()
    text = (value or "").strip()
    if text.lower() in ("vn2000", "vn-2000", "native", "") or \
            (epsg is not None and text.upper() in (f"EPSG:{epsg}", str(epsg))):
        return store_crs
    if text.lower() in ("wgs84", "wgs 84", "epsg:4326", "4326", "crs84", "ogc:crs84") or \
            text == "http://www.opengis.net/def/crs/OGC/1.3/CRS84":
        return CRS.from_epsg(4326)
    raise CRSError(f"{name} {value!r} is not offered; use vn2000 (the layer's zone, "
                   f"EPSG:{epsg}, {store_crs.name}) or wgs84 (EPSG:4326)", field=name,
                   value=value)


def parse_selection(layer: LayerDef, store: Any, *, ward: str | None, project: str | None,
                    status: str | None, bbox: str | None, bbox_crs: str | None) -> Selection:
    """Check the filters against the layer and the store; every refusal names the parameter."""
    ward = (ward or "").strip() or None
    project = (project or "").strip() or None
    status = (status or "").strip() or None
    if ward is not None:
        if not _WARD.match(ward):
            raise GisError(f"ward {ward!r} is not a 5-digit ward code (e.g. 09880)",
                           field="ward", value=ward)
        if store.has("wards"):
            known = set(store.read("wards", columns=["ward_code"])["ward_code"].astype(str))
            if ward not in known:
                raise NotFoundError(f"no ward {ward!r}; wards: {', '.join(sorted(known))}",
                                    field="ward", value=ward)
        elif layer.ward == "spatial":
            raise GisError(f"the store has no wards layer, so {layer.name} cannot be filtered "
                           "by ward", field="ward", value=ward)
    if project is not None:
        from gis.api.exports.clearance import project_ids

        if not _PROJECT.match(project):
            raise GisError(f"project {project!r} is not a project id", field="project",
                           value=project)
        known_projects = project_ids(store)
        if project not in known_projects:
            raise NotFoundError(f"no project {project!r}; projects: "
                                f"{', '.join(known_projects) or 'none yet'}", field="project",
                                value=project)
    if status is not None:
        if layer.statuses is None:
            with_status = [d.name for d in LAYERS.values() if d.statuses]
            raise GisError(f"{layer.name} has no status; status= filters "
                           f"{', '.join(with_status)}", field="status", value=status)
        if status.upper() not in layer.statuses:
            raise GisError(f"status {status!r} is not a {layer.name} status; valid: "
                           f"{', '.join(layer.statuses)}", field="status", value=status)
        status = status.upper()
    box = bbox_tuple = src = None
    store_crs = store.crs()
    if bbox is not None and bbox.strip():
        bbox_tuple = parse_bbox(bbox)
        src = parse_output_crs(bbox_crs or "wgs84", store_crs, name="bbox-crs")
        box = crsmod.transform_box(bbox_tuple, src, store_crs, parts=16)
    return Selection(ward, project, status, bbox_tuple, src, box)


def _scoped(q: LayerQuery, scope: RowFilter | None) -> LayerQuery:
    """The query limited to a user's rows (:class:`~gis.api.scope.RowFilter`: ``unit_code`` or
    the layer's key in its values), so the store reads only those; a scope with no value reads
    nothing."""
    if scope is None:
        return q
    if not scope.values:
        return replace(q, fids=())
    return replace(q, **scope.query())


def _key_columns(store: Store, table: str, columns: list[str],
                 scope: RowFilter | None = None) -> pd.DataFrame:
    """``fid`` and a few columns of a store table (names come from the layer registry, never
    from the client), of the scope's rows."""
    q = _scoped(LayerQuery(columns=tuple(columns), with_geometry=False), scope)
    return store.query(table, q).frame.reset_index()


def _read(store: Store, table: str, q: LayerQuery) -> gpd.GeoDataFrame:
    return store.query(table, q).frame.reset_index(drop=True)


def _shape(store: Store, table: str, column: str, value: str) -> shapely.Geometry:
    geoms = _read(store, table, LayerQuery(equals=((column, value),), columns=())).geometry
    return shapely.union_all(np.asarray(geoms.values, dtype=object))


def _spatial_filters(layer: LayerDef, store: Any, sel: Selection) -> list[shapely.Geometry]:
    shapes = []
    if sel.ward and layer.ward == "spatial":
        shapes.append(_shape(store, "wards", "ward_code", sel.ward))
    if sel.project and layer.project == "spatial":
        shapes.append(_shape(store, "projects", "project_id", sel.project))
    if sel.box is not None:
        shapes.append(sel.box)
    return shapes


def _keep_meeting(frame: gpd.GeoDataFrame, shapes: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    """Features whose interiors meet every shape (not merely touching it)."""
    if not shapes or frame.empty:
        return frame
    geoms = np.asarray(frame.geometry.values, dtype=object)
    keep = np.ones(len(frame), dtype=bool)
    for shape in shapes:
        shapely.prepare(shape)
        keep &= shapely.intersects(shape, geoms) & ~shapely.touches(shape, geoms)
    return frame[keep].reset_index(drop=True)


def _attribute_mask(layer: LayerDef, frame: pd.DataFrame, sel: Selection,
                    pairs: Callable[[], pd.DataFrame]) -> np.ndarray:
    keep = np.ones(len(frame), dtype=bool)
    if sel.ward and layer.ward == "column":
        keep &= (frame["ward_code"].astype(str) == sel.ward).to_numpy()
    if sel.ward and layer.ward == "codes":
        codes = frame["ward_codes"].fillna("").astype(str).str.split(r"\s*[,;]\s*", regex=True)
        keep &= np.array([sel.ward in c for c in codes], dtype=bool)
    if sel.project and layer.project == "column":
        keep &= (frame["project_id"].astype(str) == sel.project).to_numpy()
    if layer.project == "pairs" and (sel.project or sel.status):
        p = pairs()
        if sel.project:
            p = p[p["project_id"].astype(str) == sel.project]
        if sel.status:
            p = p[p["status"].astype(str) == sel.status]
        keep &= frame[layer.key].astype(str).isin(set(p["parcel_key"].astype(str))).to_numpy()
    elif sel.status:
        keep &= (frame["status"].astype(str) == sel.status).to_numpy()
    return keep


def _needs_attributes(layer: LayerDef, sel: Selection) -> list[str]:
    columns: list[str] = []
    if sel.ward and layer.ward in ("column", "codes"):
        columns.append("ward_code" if layer.ward == "column" else "ward_codes")
    if sel.project and layer.project == "column":
        columns.append("project_id")
    if (sel.project or sel.status) and layer.project == "pairs":
        columns.append(layer.key)
    elif sel.status:
        columns.append("status")
    return list(dict.fromkeys(columns))


def _attribute_fids(layer: LayerDef, store: Any, sel: Selection,
                    pairs: Callable[[], pd.DataFrame],
                    scope: RowFilter | None = None) -> set[int] | None:
    """Feature ids passing the attribute filters (None: no attribute filter)."""
    columns = _needs_attributes(layer, sel)
    if not columns:
        return None
    keys = _key_columns(store, layer.table, columns, scope)
    return set(keys.loc[_attribute_mask(layer, keys, sel, pairs), "fid"].tolist())


def iter_select(layer: LayerDef, store: Any, sel: Selection, *,
                computed: Callable[[], gpd.GeoDataFrame], pairs: Callable[[], pd.DataFrame],
                batch: int = 10_000, scope: RowFilter | None = None
                ) -> Iterator[gpd.GeoDataFrame]:
    """:func:`select` in batches of ``batch`` features read as a stream (GDAL's Arrow reader,
    through the R-tree when a spatial filter applies), so a whole district never sits in
    memory; computed layers come as one frame. ``scope``: only the user's rows are read."""
    if layer.computed:
        yield select(layer, store, sel, computed=computed, pairs=pairs)
        return
    if not store.has(layer.table):
        raise NotFoundError(f"the store has no {layer.name} layer yet; load it with "
                            f"`gis ingest {layer.name} PATH`", field="layer", value=layer.name)
    shapes = _spatial_filters(layer, store, sel)
    fids = _attribute_fids(layer, store, sel, pairs, scope)
    bbox = None
    if shapes:
        bounds = shapely.intersection_all(shapely.box(*np.array([s.bounds for s in shapes]).T))
        if bounds.is_empty:
            return
        bbox = tuple(bounds.bounds)
    if fids is not None and not fids:
        return
    wanted = tuple(sorted(fids)) if fids is not None else None
    # filters are resolved above (they may compute the clearance overlay): only the stream
    # itself holds the store's read lock
    for result in store.scan(layer.table, _scoped(LayerQuery(bbox=bbox, fids=wanted), scope),
                             batch_size=batch):
        part = result.frame.reset_index(drop=True)
        if part.crs is None:
            part = part.set_crs(store.crs())
        part = _keep_meeting(part, shapes)
        if len(part):
            yield part


def select(layer: LayerDef, store: Any, sel: Selection, *,
           computed: Callable[[], gpd.GeoDataFrame],
           pairs: Callable[[], pd.DataFrame], scope: RowFilter | None = None) -> gpd.GeoDataFrame:
    """The selected features of ``layer`` in the store CRS. ``computed()`` gives the whole
    frame of a computed layer; ``pairs()`` the clearance pairs (project_id, parcel_key, status).
    ``scope``: only the user's rows are read from the store (a computed layer, built in memory
    from the whole store, is limited by the caller: :func:`gis.api.scope.filter_frame`)."""
    shapes = _spatial_filters(layer, store, sel)
    if layer.computed:
        frame = computed()
        frame = frame[_attribute_mask(layer, frame, sel, pairs)].reset_index(drop=True)
        return _keep_meeting(frame, shapes)
    if not store.has(layer.table):
        raise NotFoundError(f"the store has no {layer.name} layer yet; load it with "
                            f"`gis ingest {layer.name} PATH`", field="layer", value=layer.name)
    fids = _attribute_fids(layer, store, sel, pairs, scope)
    if fids is not None:
        q = LayerQuery(fids=tuple(sorted(fids)))
    elif shapes:
        bounds = shapely.intersection_all(shapely.box(*np.array([s.bounds for s in shapes]).T))
        q = LayerQuery(fids=()) if bounds.is_empty else LayerQuery(bbox=tuple(bounds.bounds))
    else:
        q = LayerQuery()
    frame = _read(store, layer.table, _scoped(q, scope))
    if frame.crs is None:
        frame = frame.set_crs(store.crs())
    return _keep_meeting(frame, shapes)


def ward_names(store: Any) -> dict[str, str] | None:
    """Ward code → ward name from the store's wards layer (None without one)."""
    if not store.has("wards"):
        return None
    frame = store.read_table("wards")
    if "name" not in frame.columns:
        return None
    return {str(c): str(n) for c, n in zip(frame["ward_code"], frame["name"]) if pd.notna(n)}
