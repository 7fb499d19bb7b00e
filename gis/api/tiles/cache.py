"""What the map service draws from: each map layer's rows in EPSG:3857, held in memory per
process, with an STRtree, and an LRU of encoded vector tiles.

**Freshness.** A layer is reloaded when its table changes, and only then: the store's change
token (:meth:`Store.change_token`, a ``stat`` and a ``pread`` for the GeoPackage, waiting for no
writer) is checked on every request; when it moved, each table in use gets its own token, which
moves only when that table was written (so 100 000 parcels are not reloaded each time an
inspector flags a case, while a new case is on the next tile).

Tiles are cached by (layer, signature, properties, z, x, y); the signature is also the ETag.

**Display rules** (tiles only): features smaller than half a pixel across are left out of a
tile, and a tile keeps at most ``MAX_FEATURES`` (the largest), so a whole district at zoom 12
stays a tile a browser can draw; from the zoom where parcels are a few pixels wide every
parcel is there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from cachetools import LRUCache

from gis import crs as crsmod
from gis.api.tiles import mvt
from gis.catalog import MapSpec
from gis.errors import NotFoundError
from gis.render.build import ResolvedLayer, layer_frames, style_fields
from gis.store.base import Store
from gis.store.query import ABSENT

__all__ = ["LayerData", "MapRegistry", "ServedLayer", "TileCache", "json_safe", "normalise"]

MIN_UNITS = 8          # tile units (half a pixel at 256 px): smaller features are left out
MAX_FEATURES = 25_000  # per tile, the largest kept
#: Fields the find box searches, when a table has them.
FIND_FIELDS = ("parcel_key", "map_sheet", "parcel_no", "case_id", "project_id", "name")
_EPSG3857 = "EPSG:3857"


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


@dataclass(frozen=True)
class ServedLayer:
    """A map layer as the service serves it."""

    map_id: str
    layer: ResolvedLayer

    @property
    def key(self) -> str:
        return self.layer.key

    @property
    def style_fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(style_fields(self.layer.style)))

    @property
    def fields(self) -> tuple[str, ...]:
        """Popup, progress and style fields: the properties of its tiles and GeoJSON."""
        layer = self.layer
        return tuple(dict.fromkeys((*layer.popup, *layer.progress, *self.style_fields)))


@dataclass
class LayerData:
    """One layer's rows, loaded once per signature."""

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

    @property
    def count(self) -> int:
        return len(self.geoms)

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


@dataclass(frozen=True)
class _MapsState:
    stamp: tuple[object, ...]
    maps: dict[str, tuple[MapSpec, list[ResolvedLayer]]]


class MapRegistry:
    """``maps/*.yaml`` resolved against the layer catalog; re-read when a file changes
    (checked at most every two seconds)."""

    def __init__(self, maps_dir: Path, catalog_dir: Path) -> None:
        self.maps_dir, self.catalog_dir = Path(maps_dir), Path(catalog_dir)
        self._state: _MapsState | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def _stamp(self) -> tuple[object, ...]:
        files = [*sorted(self.maps_dir.glob("*.yaml")), *sorted(self.catalog_dir.glob("*.yaml")),
                 *sorted(self.catalog_dir.glob("styles/*.yaml"))]
        return tuple((str(p), p.stat().st_mtime_ns) for p in files if p.exists())

    def maps(self) -> dict[str, tuple[MapSpec, list[ResolvedLayer]]]:
        from gis.catalog import load_catalog, load_map_spec
        from gis.render.build import resolve_layers

        with self._lock:
            now = time.monotonic()
            if self._state is not None and now - self._checked < 2.0:
                return self._state.maps
            stamp = self._stamp()
            self._checked = now
            if self._state is None or self._state.stamp != stamp:
                catalog = load_catalog(self.catalog_dir)
                maps = {}
                for path in sorted(self.maps_dir.glob("*.yaml")):
                    spec = load_map_spec(path)
                    maps[spec.id] = (spec, resolve_layers(spec, catalog))
                self._state = _MapsState(stamp, maps)
            return self._state.maps

    def get(self, map_id: str) -> tuple[MapSpec, list[ResolvedLayer]]:
        maps = self.maps()
        if map_id not in maps:
            raise NotFoundError(f"no map {map_id!r}; maps: {', '.join(maps) or 'none'}",
                                field="map")
        return maps[map_id]

    def layer(self, key: str, map_id: str | None = None) -> ServedLayer:
        """The layer ``key`` of ``map_id`` (default: the first map, by file name, that has it)."""
        maps = {map_id: self.get(map_id)} if map_id else self.maps()
        for mid, (_, layers) in maps.items():
            for layer in layers:
                if layer.key == key:
                    return ServedLayer(mid, layer)
        known = sorted({lay.key for _, lays in maps.values() for lay in lays})
        raise NotFoundError(f"no map layer {key!r}; layers: {', '.join(known)}", field="layer")


def _load(store: Store, served: ServedLayer, table: str | None,
          signature: tuple[object, ...]) -> LayerData:
    layer = served.layer
    if table is None:
        frame = gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=store.crs())
    else:
        wanted = [*served.fields, *FIND_FIELDS, *(f for f, _ in layer.where)]
        if "age_days" in layer.popup:
            wanted.append("created_at")
        frame = store.read(table, columns=list(dict.fromkeys(wanted)))
        frame = layer_frames([layer], {table: frame})[layer.key]
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)].reset_index(drop=True)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if frame.crs is not None and len(geoms):
        geoms = crsmod.transform_geometries(geoms, frame.crs, _EPSG3857)
    props = pd.DataFrame(frame.drop(columns="geometry"))
    data = LayerData(key=served.key, table=table, signature=signature, geoms=geoms,
                     bounds=shapely.bounds(geoms).reshape(-1, 4), tree=shapely.STRtree(geoms),
                     flat=mvt.flatten(geoms),
                     is_point=np.isin(shapely.get_type_id(geoms), (0, 4)), props=props)
    data.columns(served.style_fields)  # what the web map asks for, ready before its first tile
    return data


class TileCache:
    """Layers and encoded tiles of one store, for one process (threads share it)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._version: str | None = None  # the store's change token the table tokens are of
        self._sigs: dict[str, str] = {}  # table → its change token
        self._layers: dict[tuple[str, str], LayerData] = {}
        self._loading: dict[tuple[str, str], threading.Lock] = {}
        # encoded tiles, least recently used out first, bounded by their bytes
        self._tiles: LRUCache[tuple[object, ...], bytes] = LRUCache(maxsize=max_bytes,
                                                                     getsizeof=len)

    # -- freshness ------------------------------------------------------------------------
    def _state(self, store: Store) -> str:
        version = store.change_token()
        with self._lock:
            if self._version != version:
                self._version, self._sigs = version, {}
        return version

    def signature(self, store: Store, served: ServedLayer) -> tuple[object, ...]:
        """What the layer's data depends on: its table's change token, its filter, and the day
        (for layers showing a case's age)."""
        version = self._state(store)
        today = dt.date.today().isoformat() if "age_days" in served.layer.popup else None
        for table in served.layer.tables:
            with self._lock:
                sig = self._sigs.get(table) if self._version == version else None
            if sig is None:
                sig = store.change_token(table)
                with self._lock:
                    if self._version == version:
                        self._sigs[table] = sig
            if sig != ABSENT:
                return (table, sig, served.layer.where, today)
        return (None, ABSENT, served.layer.where, today)

    def current(self, store: Store, served: ServedLayer) -> LayerData | None:
        """The layer's data if it is loaded and the store has not changed since (the store's
        change token: nothing that waits); None when :meth:`layer` has work to do."""
        version = store.change_token()
        data = self._layers.get((served.map_id, served.key))
        with self._lock:
            if data is None or self._version != version:
                return None
            table = data.table
            sig = self._sigs.get(table) if table is not None else ABSENT
        if sig is None:
            return None
        today = dt.date.today().isoformat() if "age_days" in served.layer.popup else None
        return data if data.signature == (table, sig, served.layer.where, today) else None

    def cached_tile(self, data: LayerData, served: ServedLayer, z: int, x: int, y: int,
                    fields: tuple[str, ...]) -> bytes | None:
        key = (served.map_id, served.key, data.signature, fields, z, x, y)
        with self._lock:
            return self._tiles.get(key)

    def layer(self, store: Store, served: ServedLayer) -> LayerData:
        """The layer's data as of now (loaded on first use and after its table changed)."""
        ident = (served.map_id, served.key)
        signature = self.signature(store, served)
        data = self._layers.get(ident)
        if data is not None and data.signature == signature:
            return data
        with self._lock:
            loading = self._loading.setdefault(ident, threading.Lock())
        with loading:  # one load per layer at a time; the others wait for it
            data = self._layers.get(ident)
            if data is not None and data.signature == signature:
                return data
            data = _load(store, served, signature[0], signature)  # type: ignore[arg-type]
            with self._lock:
                self._layers[ident] = data
            return data

    # -- tiles ----------------------------------------------------------------------------
    @staticmethod
    def etag(signature: tuple[object, ...], *parts: object) -> str:
        digest = hashlib.sha1(repr((signature, parts, mvt.EXTENT, 2)).encode()).hexdigest()
        return f'"{digest[:20]}"'

    def tile(self, data: LayerData, served: ServedLayer, z: int, x: int, y: int,
             fields: tuple[str, ...]) -> bytes:
        key = (served.map_id, served.key, data.signature, fields, z, x, y)
        with self._lock:
            hit = self._tiles.get(key)
        if hit is not None:
            return hit
        body = render_tile(data, z, x, y, fields)
        with self._lock:
            if key not in self._tiles and len(body) <= self.max_bytes:
                self._tiles[key] = body
        return body


def render_tile(data: LayerData, z: int, x: int, y: int, fields: tuple[str, ...]) -> bytes:
    """The MVT of one layer for tile z/x/y (b"" when empty)."""
    bounds = mvt.tile_bounds(z, x, y)
    size = bounds[2] - bounds[0]
    pad = size * mvt.BUFFER / mvt.EXTENT
    qminx, qminy, qmaxx, qmaxy = bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad
    rows = np.sort(data.tree.query(shapely.box(qminx, qminy, qmaxx, qmaxy)))
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


def to_wgs84(geoms: np.ndarray) -> np.ndarray:
    """EPSG:3857 → WGS 84 (the inverse projection only: the datum step was made on loading)."""
    return crsmod.transform_geometries(geoms, _EPSG3857, "EPSG:4326")


def from_wgs84(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pts = crsmod.transform_geometries(shapely.points(np.column_stack([x, y])), "EPSG:4326",
                                      _EPSG3857)
    return shapely.get_x(pts), shapely.get_y(pts)


def geojson(data: LayerData, fields: tuple[str, ...],
            bbox: tuple[float, float, float, float] | None = None) -> bytes:
    """A GeoJSON FeatureCollection in WGS 84 (coordinates to 1e-7°, ~1 cm); ``bbox`` is
    lon/lat."""
    if bbox is None:
        rows = np.arange(data.count)
    else:
        (x0, x1), (y0, y1) = from_wgs84(np.array([bbox[0], bbox[2]]), np.array([bbox[1], bbox[3]]))
        rows = np.sort(data.tree.query(shapely.box(x0, y0, x1, y1)))
    geoms = shapely.transform(to_wgs84(data.geoms[rows]), lambda c: np.round(c, 7))
    texts = shapely.to_geojson(geoms)
    records = data.records(rows, fields)
    parts = [f'{{"type":"Feature","id":{int(r) + 1},"properties":'
             f'{json.dumps(p, ensure_ascii=False, separators=(",", ":"))},"geometry":{g}}}'
             for r, p, g in zip(rows, records, texts)]
    return ('{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}").encode()


def at(data: LayerData, x: float, y: float, tolerance: float, limit: int = 3) -> np.ndarray:
    """Rows holding a point (smallest first), else the nearest row within ``tolerance`` metres
    (EPSG:3857)."""
    point = shapely.Point(x, y)
    rows = data.tree.query(point, predicate="dwithin", distance=tolerance)
    if len(rows) == 0:
        return rows
    distance = shapely.distance(data.geoms[rows], point)
    if (distance == 0).any():  # what the point is in; near things only when it is in nothing
        rows, distance = rows[distance == 0], distance[distance == 0]
    else:
        limit = 1
    area = shapely.area(data.geoms[rows])
    order = np.lexsort((area, distance))
    return rows[order][:limit]


def find(data: LayerData, query: str, *, names: bool = False) -> int | None:
    """The first row a find-box query names (accents and case ignored): a parcel key
    (ward-sheet-number) or sheet/number, a case id or a project id; with ``names``, a name
    containing the query instead."""
    q = normalise(query.strip())
    cols = data.props.columns
    if not q or not data.count:
        return None
    hits = np.zeros(data.count, dtype=bool)
    if names:
        if "name" in cols:
            hits |= np.array([q in v for v in data.normalised("name")], dtype=bool)
    else:
        if "parcel_key" in cols:
            hits |= data.normalised("parcel_key") == q
            if "map_sheet" in cols and "parcel_no" in cols and "/" in q:
                sheet, _, number = q.partition("/")
                hits |= (data.normalised("map_sheet") == sheet.strip()) & \
                        (data.normalised("parcel_no") == number.strip())
        for name in ("case_id", "project_id"):
            if name in cols:
                hits |= data.normalised(name) == q
    found = np.flatnonzero(hits)
    return int(found[0]) if len(found) else None
