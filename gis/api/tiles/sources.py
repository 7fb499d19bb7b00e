"""Where a served map layer's features come from: held in memory by the worker
(:class:`LayerData`, for a GeoPackage store) or asked of the store each time
(:class:`StoreLayer`, for a store that makes its own tiles: PostGIS).

Both answer the same questions — count, extent, the style's values present, a tile, GeoJSON in
a box, what lies at a point, what the find box names — so the routes and the map page do not
know which they use.

**In memory** (GeoPackage): the layer's rows in EPSG:3857 with an STRtree and flattened
coordinates; a tile is a gather and a numpy encoding (:mod:`gis.api.tiles.mvt`), ~1 ms on the
sample. The file is on the worker's own disk and SQLite has no tile function, so this is the
fast way there; it costs memory in proportion to the layer (~2.7 GB at 1M parcels).

**From the store** (PostGIS): the worker keeps a layer's count, extent and table types (a few
hundred bytes); tiles are ``ST_AsMVT`` (:meth:`Store.vector_tile`), a click and the find box are
indexed queries (:meth:`Store.query`), so a worker's memory does not grow with the layer.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import threading
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from cachetools import LRUCache

from gis import crs as crsmod
from gis.api.scope import RowFilter
from gis.api.tiles import mvt
from gis.render.build import ResolvedLayer, layer_frames
from gis.store.base import Store
from gis.store.query import LayerInfo, LayerQuery, TileQuery

__all__ = ["FIND_FIELDS", "MAX_FEATURES", "MIN_UNITS", "Found", "Hit", "LayerData", "Source",
           "StoreLayer", "from_wgs84", "json_safe", "load", "normalise", "render_tile",
           "to_wgs84"]

MIN_UNITS = 8          # tile units (half a pixel at 256 px): smaller features are left out
MAX_FEATURES = 25_000  # per tile, the largest kept
#: Fields the find box searches, when a table has them.
FIND_FIELDS = ("parcel_key", "map_sheet", "parcel_no", "case_id", "project_id", "name")
#: what a user's scope filters on (:mod:`gis.api.scope`), read with every layer that has it
SCOPE_FIELDS = ("unit_code", "ward_code", "building_id")
_EPSG3857 = "EPSG:3857"
_IDENTIFIERS = ("case_id", "project_id")

#: (feature id, properties) of a feature under a click
Hit = tuple[int, dict[str, object]]
#: (feature id, [[south, west], [north, east]], properties) of what the find box names
Found = tuple[int, list[list[float]], dict[str, object]]


def normalise(text: object) -> str:
    """Lower case, accents and đ folded: what the find box compares (like the static map)."""
    s = unicodedata.normalize("NFD", str(text).lower())
    return "".join(c for c in s if unicodedata.category(c) != "Mn").replace("đ", "d")


def json_safe(values: pd.Series) -> list[object]:
    """Plain JSON values: NaN/NA/None → None, numpy scalars → Python, dates → ISO text."""
    out: list[object] = []
    for v in values.astype(object).tolist():
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif hasattr(v, "isoformat"):
            out.append(v.isoformat())
        elif hasattr(v, "item"):
            out.append(v.item())
        else:
            out.append(v)
    return out


def to_wgs84(geoms: np.ndarray) -> np.ndarray:
    """EPSG:3857 → WGS 84 (the inverse projection only: the datum step was made on loading)."""
    return crsmod.transform_geometries(geoms, _EPSG3857, "EPSG:4326")


def from_wgs84(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pts = crsmod.transform_geometries(shapely.points(np.column_stack([x, y])), "EPSG:4326",
                                      _EPSG3857)
    return shapely.get_x(pts), shapely.get_y(pts)


def _corners(geoms: np.ndarray) -> list[list[float]]:
    """[[south, west], [north, east]] of WGS 84 geometries."""
    w, s, e, n = shapely.total_bounds(geoms)
    return [[float(s), float(w)], [float(n), float(e)]]


def _collection(ids: list[int], records: list[dict[str, object]], geoms: np.ndarray) -> bytes:
    """A GeoJSON FeatureCollection of WGS 84 geometries (coordinates to 1e-7°, ~1 cm)."""
    texts = shapely.to_geojson(shapely.transform(geoms, lambda c: np.round(c, 7)))
    parts = [f'{{"type":"Feature","id":{i},"properties":'
             f'{json.dumps(p, ensure_ascii=False, separators=(",", ":"))},"geometry":{g}}}'
             for i, p, g in zip(ids, records, texts)]
    return ('{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}").encode()


def _nearest(geoms: np.ndarray, point: shapely.Point, limit: int) -> np.ndarray:
    """Positions of ``geoms`` holding ``point`` (smallest first, at most ``limit``), else the
    single nearest one."""
    if len(geoms) == 0:
        return np.array([], dtype=np.int64)
    distance = shapely.distance(geoms, point)
    pos = np.arange(len(geoms))
    if (distance == 0).any():  # what the point is in; near things only when it is in nothing
        pos, distance = pos[distance == 0], distance[distance == 0]
    else:
        limit = 1
    order = np.lexsort((shapely.area(geoms[pos]), distance))
    return pos[order][:limit]


# --- held in memory ---------------------------------------------------------------------------

@dataclass
class LayerData:
    """One layer's rows in EPSG:3857, loaded once per signature (feature id: row + 1)."""

    key: str
    table: str | None
    signature: tuple[object, ...]
    geoms: np.ndarray          # EPSG:3857
    bounds: np.ndarray         # (n, 4)
    tree: shapely.STRtree
    flat: mvt.Flat
    is_point: np.ndarray
    props: pd.DataFrame        # fields (present ones) and FIND_FIELDS, index 0..n-1
    _columns: dict[str, mvt.Column] = field(default_factory=dict)
    _normalised: dict[str, np.ndarray] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _allowed: dict[str, np.ndarray] = field(default_factory=dict)

    def allowed(self, scope: RowFilter | None) -> np.ndarray | None:
        """Which rows a user's scope lets through (None: all)."""
        if scope is None:
            return None
        hit = self._allowed.get(scope.token)
        if hit is None:
            if scope.column in self.props.columns:
                hit = scope.mask(self.props[scope.column])
            else:
                hit = np.zeros(self.count, dtype=bool)
            with self._lock:
                if len(self._allowed) > 64:
                    self._allowed.clear()
                self._allowed[scope.token] = hit
        return hit

    @property
    def count(self) -> int:
        return len(self.geoms)

    def extent(self) -> np.ndarray:
        """(k, 4) boxes in EPSG:3857 whose union is the layer's extent."""
        return self.bounds

    def style_values(self, name: str) -> list[object]:
        return list(self.props[name].dropna().unique()) if name in self.props.columns else []

    def columns(self, fields: tuple[str, ...]) -> list[mvt.Column]:
        """The encoded columns of ``fields`` the table has (encoded on first use)."""
        out = []
        for name in fields:
            if name not in self.props.columns:
                continue
            col = self._columns.get(name)
            if col is None:
                with self._lock:
                    col = self._columns.get(name)
                    if col is None:
                        col = self._columns[name] = mvt.column(name, self.props[name])
            out.append(col)
        return out

    def normalised(self, name: str) -> np.ndarray:
        if name not in self._normalised:
            self._normalised[name] = np.array([normalise(v) if v is not None else ""
                                               for v in json_safe(self.props[name])], dtype=object)
        return self._normalised[name]

    def records(self, rows: np.ndarray, fields: tuple[str, ...]) -> list[dict[str, object]]:
        """Properties of ``rows`` as JSON-ready dicts (the fields the table has)."""
        present = [f for f in fields if f in self.props.columns]
        part = self.props.iloc[rows]
        cols = {f: json_safe(part[f]) for f in present}
        return [{f: cols[f][i] for f in present} for i in range(len(rows))]

    def tile(self, store: Store, z: int, x: int, y: int, fields: tuple[str, ...],
             scope: RowFilter | None = None) -> bytes:
        return render_tile(self, z, x, y, fields, self.allowed(scope))

    def geojson(self, store: Store, fields: tuple[str, ...],
                bbox: tuple[float, float, float, float] | None = None,
                scope: RowFilter | None = None) -> bytes:
        """A FeatureCollection in WGS 84; ``bbox`` is lon/lat."""
        if bbox is None:
            rows = np.arange(self.count)
        else:
            (x0, x1), (y0, y1) = from_wgs84(np.array([bbox[0], bbox[2]]),
                                            np.array([bbox[1], bbox[3]]))
            rows = np.sort(self.tree.query(shapely.box(x0, y0, x1, y1)))
        allowed = self.allowed(scope)
        if allowed is not None:
            rows = rows[allowed[rows]]
        return _collection([int(r) + 1 for r in rows], self.records(rows, fields),
                           to_wgs84(self.geoms[rows]))

    def at(self, store: Store, lon: float, lat: float, tolerance: float,
           fields: tuple[str, ...], limit: int = 3, scope: RowFilter | None = None
           ) -> list[Hit]:
        """What holds a point (smallest first), else the nearest feature within ``tolerance``
        metres of Web Mercator."""
        (x,), (y,) = from_wgs84(np.array([lon]), np.array([lat]))
        point = shapely.Point(x, y)
        rows = self.tree.query(point, predicate="dwithin", distance=tolerance)
        allowed = self.allowed(scope)
        if allowed is not None:
            rows = rows[allowed[rows]]
        rows = rows[_nearest(self.geoms[rows], point, limit)]
        return list(zip((int(r) + 1 for r in rows), self.records(rows, fields)))

    def find(self, store: Store, query: str, fields: tuple[str, ...], *,
             names: bool = False, scope: RowFilter | None = None) -> Found | None:
        """The first feature a find-box query names (accents and case ignored): a parcel key
        (ward-sheet-number) or sheet/number, a case id or a project id (in a layer of cases or
        projects, not of parcels: the project itself); with ``names``, a name containing the
        query instead."""
        q = normalise(query.strip())
        cols = self.props.columns
        if not q or not self.count:
            return None
        hits = np.zeros(self.count, dtype=bool)
        if names:
            if "name" in cols:
                hits |= np.array([q in v for v in self.normalised("name")], dtype=bool)
        else:
            if "parcel_key" in cols:
                hits |= self.normalised("parcel_key") == q
                if "map_sheet" in cols and "parcel_no" in cols and "/" in q:
                    sheet, _, number = q.partition("/")
                    hits |= (self.normalised("map_sheet") == sheet.strip()) & \
                            (self.normalised("parcel_no") == number.strip())
            for name in _IDENTIFIERS:
                if name in cols and "parcel_key" not in cols:  # the project, not its parcels
                    hits |= self.normalised(name) == q
        allowed = self.allowed(scope)
        if allowed is not None:
            hits &= allowed
        found = np.flatnonzero(hits)
        if not len(found):
            return None
        row = int(found[0])
        return (row + 1, _corners(to_wgs84(self.geoms[[row]])),
                self.records(np.array([row]), fields)[0])


def _wanted(layer: ResolvedLayer, fields: tuple[str, ...]) -> list[str]:
    wanted = [*fields, *FIND_FIELDS, *(f for f, _ in layer.where), *SCOPE_FIELDS]
    if "age_days" in layer.popup:
        wanted.append("created_at")
    return list(dict.fromkeys(wanted))


def _load_memory(store: Store, key: str, layer: ResolvedLayer, fields: tuple[str, ...],
                 style_fields: tuple[str, ...], table: str | None,
                 signature: tuple[object, ...]) -> LayerData:
    if table is None:
        frame = gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=store.crs())
    else:
        frame = store.read(table, columns=_wanted(layer, fields))
        frame = layer_frames([layer], {table: frame})[layer.key]
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)].reset_index(drop=True)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if frame.crs is not None and len(geoms):
        geoms = crsmod.transform_geometries(geoms, frame.crs, _EPSG3857)
    props = pd.DataFrame(frame.drop(columns="geometry"))
    data = LayerData(key=key, table=table, signature=signature, geoms=geoms,
                     bounds=shapely.bounds(geoms).reshape(-1, 4), tree=shapely.STRtree(geoms),
                     flat=mvt.flatten(geoms),
                     is_point=np.isin(shapely.get_type_id(geoms), (0, 4)), props=props)
    data.columns(style_fields)  # what the web map asks for, ready before its first tile
    return data


def render_tile(data: LayerData, z: int, x: int, y: int, fields: tuple[str, ...],
                allowed: np.ndarray | None = None) -> bytes:
    """The MVT of one in-memory layer for tile z/x/y (b"" when empty), of the ``allowed`` rows
    (a user's scope; None: all)."""
    bounds = mvt.tile_bounds(z, x, y)
    size = bounds[2] - bounds[0]
    pad = size * mvt.BUFFER / mvt.EXTENT
    qminx, qminy, qmaxx, qmaxy = bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad
    rows = np.sort(data.tree.query(shapely.box(qminx, qminy, qmaxx, qmaxy)))
    if allowed is not None:
        rows = rows[allowed[rows]]
    if len(rows) == 0:
        return b""
    b = data.bounds[rows]
    units = mvt.EXTENT / size
    side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) * units
    keep = data.is_point[rows] | (side >= MIN_UNITS)
    rows, b = rows[keep], b[keep]
    if len(rows) > MAX_FEATURES:
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        top = np.sort(np.argpartition(-area, MAX_FEATURES)[:MAX_FEATURES])
        rows, b = rows[top], b[top]
    if len(rows) == 0:
        return b""
    inside = (b[:, 0] >= qminx) & (b[:, 1] >= qminy) & (b[:, 2] <= qmaxx) & (b[:, 3] <= qmaxy)
    whole = mvt.take(data.flat, rows[inside])
    crossing = rows[~inside]
    clipped = shapely.clip_by_rect(data.geoms[crossing], qminx, qminy, qmaxx, qmaxy)
    flat = mvt.concat(whole, mvt.flatten(clipped))
    return mvt.encode_layer(data.key, flat, np.r_[rows[inside], crossing], data.columns(fields),
                            bounds)


# --- asked of the store -----------------------------------------------------------------------

@dataclass
class StoreLayer:
    """A layer the store draws and searches itself; the worker keeps only what describes it
    (feature id: the store's)."""

    key: str
    table: str
    signature: tuple[object, ...]
    layer: ResolvedLayer
    info: LayerInfo
    count: int
    _extent: np.ndarray
    _distinct: dict[str, list[object]] = field(default_factory=dict)  # the style's values

    def extent(self) -> np.ndarray:
        return self._extent

    def style_values(self, name: str) -> list[object]:
        return list(self._distinct.get(name, []))

    def tile(self, store: Store, z: int, x: int, y: int, fields: tuple[str, ...],
             scope: RowFilter | None = None) -> bytes:
        where = self.layer.where + (scope.where() if scope is not None else ())
        q = TileQuery(z, x, y, self.key, columns=fields, where=where,
                      extent=mvt.EXTENT, buffer=mvt.BUFFER, min_units=MIN_UNITS,
                      max_features=MAX_FEATURES)
        body = store.vector_tile(self.table, q)
        return body or b""

    def _frame(self, store: Store, q: LayerQuery, scope: RowFilter | None = None
               ) -> gpd.GeoDataFrame:
        """Rows of the store, filtered by the layer's ``where`` (and given ``age_days``) as the
        in-memory layer is, and by a user's scope."""
        if scope is not None:
            q = dataclasses.replace(q, **scope.query())  # type: ignore[arg-type]
        frame = store.query(self.table, q).frame
        frame = layer_frames([self.layer], {self.table: frame})[self.layer.key]
        return frame[~frame.geometry.isna()]

    def _records(self, frame: pd.DataFrame, fields: tuple[str, ...]) -> list[dict[str, object]]:
        present = [f for f in fields if f in frame.columns]
        cols = {f: json_safe(frame[f]) for f in present}
        return [{f: cols[f][i] for f in present} for i in range(len(frame))]

    def _columns(self, fields: tuple[str, ...]) -> tuple[str, ...]:
        names = [n for n in _wanted(self.layer, fields) if self.info.field(n) is not None]
        return tuple(names)

    def _native_box(self, bbox: tuple[float, float, float, float]) -> tuple[float, ...]:
        native = crsmod.transform_box(bbox, "EPSG:4326", self.info.crs, parts=16)
        return tuple(float(v) for v in shapely.bounds(native))

    def geojson(self, store: Store, fields: tuple[str, ...],
                bbox: tuple[float, float, float, float] | None = None,
                scope: RowFilter | None = None) -> bytes:
        q = LayerQuery(bbox=self._native_box(bbox) if bbox is not None else None,
                       columns=self._columns(fields))
        frame = self._frame(store, q, scope)
        geoms = crsmod.transform_geometries(np.asarray(frame.geometry.values, dtype=object),
                                            self.info.crs, "EPSG:4326")
        return _collection([int(i) for i in frame.index], self._records(frame, fields), geoms)

    def at(self, store: Store, lon: float, lat: float, tolerance: float,
           fields: tuple[str, ...], limit: int = 3, scope: RowFilter | None = None
           ) -> list[Hit]:
        point = crsmod.transform_geometries(np.array([shapely.Point(lon, lat)]), "EPSG:4326",
                                            self.info.crs)[0]
        # Web Mercator metres are 1/cos(latitude) ground metres: the tolerance on the ground
        near = tolerance * math.cos(math.radians(lat))
        frame = self._frame(store, LayerQuery(area=point.buffer(near),
                                              columns=self._columns(fields)), scope)
        pos = _nearest(np.asarray(frame.geometry.values, dtype=object), point, limit)
        part = frame.iloc[pos]
        return list(zip((int(i) for i in part.index), self._records(part, fields)))

    def find(self, store: Store, query: str, fields: tuple[str, ...], *,
             names: bool = False, scope: RowFilter | None = None) -> Found | None:
        text = query.strip()
        q = normalise(text)
        if not q or not self.count:
            return None
        columns = self._columns(fields)
        asks: list[LayerQuery] = []
        if names:
            if self.info.field("name") is not None:  # accents folded: compared here
                found = store.query(self.table, LayerQuery(columns=("name",),
                                                           with_geometry=False))
                fids = [int(f) for f, v in zip(found.fids, found.values["name"])
                        if v is not None and q in normalise(v)]
                asks = [LayerQuery(fids=tuple(fids[:50]), columns=columns)] if fids else []
        else:
            spellings = tuple(dict.fromkeys((text, text.upper(), text.lower())))
            if self.info.field("parcel_key") is not None:
                asks += [LayerQuery(equals=(("parcel_key", s),), columns=columns, limit=1)
                         for s in spellings]
                if "/" in text and self.info.field("map_sheet") and self.info.field("parcel_no"):
                    sheet, _, number = text.partition("/")
                    typed = self._typed({"map_sheet": sheet.strip(),
                                         "parcel_no": number.strip()})
                    if typed is not None:
                        asks.append(LayerQuery(equals=typed, columns=columns, limit=1))
            for name in _IDENTIFIERS:  # the project or case itself, not its parcels
                if self.info.field(name) is not None and self.info.field("parcel_key") is None:
                    for spelling in spellings:
                        asks.append(LayerQuery(equals=((name, spelling),), columns=columns,
                                               limit=1))
        for ask in asks:
            frame = self._frame(store, ask, scope)
            if names:
                frame = frame[[v is not None and q in normalise(v) for v in
                               json_safe(frame["name"])]]
            if len(frame):
                first = frame.iloc[:1]
                wgs = crsmod.transform_geometries(np.asarray(first.geometry.values,
                                                             dtype=object), self.info.crs,
                                                  "EPSG:4326")
                return int(first.index[0]), _corners(wgs), self._records(first, fields)[0]
        return None

    def _typed(self, values: dict[str, str]) -> tuple[tuple[str, Any], ...] | None:
        """``values`` as the columns' types (None when a number is asked of a text that is
        none)."""
        out = []
        for name, value in values.items():
            kind = self.info.types.get(name, "string")
            if kind == "integer":
                if not value.isdigit():
                    return None
                out.append((name, int(value)))
            elif kind == "number":
                try:
                    out.append((name, float(value)))
                except ValueError:
                    return None
            else:
                out.append((name, value))
        return tuple(out)


_INFOS: LRUCache[tuple[object, ...], LayerInfo] = LRUCache(maxsize=64)
_INFOS_LOCK = threading.Lock()


def _layer_info(store: Store, table: str, signature: tuple[object, ...]) -> LayerInfo:
    """The table's description as of its change token (one scan of the table, shared by the
    map layers drawn from it: parcels and public land)."""
    key = (type(store).__name__, str(getattr(store, "path", id(store))), table, signature[1])
    with _INFOS_LOCK:
        info = _INFOS.get(key)
    if info is None:
        info = store.layer_info(table)
        with _INFOS_LOCK:
            _INFOS[key] = info
    return info


def _load_store(store: Store, key: str, layer: ResolvedLayer, table: str,
                signature: tuple[object, ...], style_fields: tuple[str, ...]) -> StoreLayer:
    info = _layer_info(store, table, signature)
    count = info.count
    if layer.where:  # the rows the layer shows: one count per combination of accepted values
        fields_, accepted = zip(*layer.where)
        count = 0
        for combo in itertools.product(*accepted):
            equals = tuple((f, int(v) if isinstance(v, bool) and info.types.get(f) == "integer"
                            else v) for f, v in zip(fields_, combo))
            count += store.query(table, LayerQuery(equals=equals, limit=0, count=True,
                                                   with_geometry=False)).matched or 0
    extent = np.empty((0, 4))
    if info.extent is not None and count:
        merc = crsmod.transform_box(info.extent, info.crs, _EPSG3857, parts=16)
        extent = np.array([shapely.bounds(merc)])
    distinct = {name: store.distinct(table, name, limit=500) for name in style_fields
                if info.field(name) is not None}
    return StoreLayer(key=key, table=table, signature=signature, layer=layer, info=info,
                      count=count, _extent=extent, _distinct=distinct)


#: what a served layer's features come from
Source = LayerData | StoreLayer


def load(store: Store, key: str, layer: ResolvedLayer, fields: tuple[str, ...],
         style_fields: tuple[str, ...], table: str | None,
         signature: tuple[object, ...]) -> Source:
    """The layer's source as of ``signature``: from the store when the store makes tiles and
    the layer shows nothing computed by the service (a case's age in days), else in memory."""
    if table is not None and store.makes_tiles and "age_days" not in layer.popup:
        return _load_store(store, key, layer, table, signature, style_fields)
    return _load_memory(store, key, layer, fields, style_fields, table, signature)
