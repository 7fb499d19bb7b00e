"""What the map service draws from, per process: each map layer's source (its rows held in
memory, or the store asked each time: :mod:`gis.api.tiles.sources`), and an LRU of encoded
vector tiles.

**Freshness.** A layer is reloaded when its table changes, and only then: the store's change
token (:meth:`Store.change_token`, a ``stat`` and a ``pread`` for the GeoPackage, one primary-key
read for PostGIS, waiting for no writer) is checked on every request; when it moved, each table
in use gets its own token, which moves only when that table was written (so 100 000 parcels are
not reloaded each time an inspector flags a case, while a new case is on the next tile).

Tiles are cached by (layer, signature, properties, z, x, y); the signature is also the ETag.

**Display rules** (tiles only, both sources): features smaller than half a pixel across are
left out of a tile, and a tile keeps at most ``MAX_FEATURES`` (the largest), so a whole district
at zoom 12 stays a tile a browser can draw; from the zoom where parcels are a few pixels wide
every parcel is there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cachetools import LRUCache

from gis.api.scope import RowFilter
from gis.api.tiles import mvt, sources
from gis.api.tiles.sources import Source
from gis.catalog import MapSpec
from gis.errors import NotFoundError
from gis.render.build import ResolvedLayer, style_fields
from gis.store.base import Store
from gis.store.query import ABSENT

__all__ = ["MapRegistry", "ServedLayer", "TileCache"]


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


class TileCache:
    """Layers and encoded tiles of one store, for one process (threads share it)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._version: str | None = None  # the store's change token the table tokens are of
        self._sigs: dict[str, str] = {}  # table → its change token
        self._layers: dict[tuple[str, str], Source] = {}
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

    def current(self, store: Store, served: ServedLayer) -> Source | None:
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

    def cached_tile(self, data: Source, served: ServedLayer, z: int, x: int, y: int,
                    fields: tuple[str, ...], scope: RowFilter | None = None) -> bytes | None:
        key = (served.map_id, served.key, data.signature, fields, z, x, y,
               scope.token if scope is not None else None)
        with self._lock:
            return self._tiles.get(key)

    def layer(self, store: Store, served: ServedLayer) -> Source:
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
            data = sources.load(store, served.key, served.layer, served.fields,
                                served.style_fields, signature[0],  # type: ignore[arg-type]
                                signature)
            with self._lock:
                self._layers[ident] = data
            return data

    # -- tiles ----------------------------------------------------------------------------
    @staticmethod
    def etag(signature: tuple[object, ...], *parts: object) -> str:
        digest = hashlib.sha1(repr((signature, parts, mvt.EXTENT, 2)).encode()).hexdigest()
        return f'"{digest[:20]}"'

    def tile(self, store: Store, data: Source, served: ServedLayer, z: int, x: int, y: int,
             fields: tuple[str, ...], scope: RowFilter | None = None) -> bytes:
        """A tile of the rows a user's ``scope`` lets through (None: all); cached per scope."""
        key = (served.map_id, served.key, data.signature, fields, z, x, y,
               scope.token if scope is not None else None)
        with self._lock:
            hit = self._tiles.get(key)
        if hit is not None:
            return hit
        body = data.tile(store, z, x, y, fields, scope)
        with self._lock:
            if key not in self._tiles and len(body) <= self.max_bytes:
                self._tiles[key] = body
        return body
