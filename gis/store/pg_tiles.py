"""Vector tiles made by PostGIS (``ST_AsMVT``): the PostGIS store's answer to
:meth:`~gis.store.base.Store.vector_tile`, so that a service worker never holds a whole layer.

**The datum shift is ours, not the database's.** VN-2000 reaches Web Mercator through the
national parameters (EPSG:6960) pinned in :mod:`gis.crs`. PostGIS transforms by the
``spatial_ref_sys`` row of an SRID (PostGIS 3.3 knows no EPSG:9205-9218 at all, and giving it a
PROJ.4 text per call builds a PROJ object per row: 2.4 ms a geometry, measured). So the store
registers, once, a private SRID per CRS — ``900000 + EPSG code`` (PostGIS leaves 900000-998999
to users) — whose PROJ.4 text carries the pinned ``+towgs84`` (:func:`gis.crs.pinned_proj4`),
and tiles ``ST_SetSRID`` to it before ``ST_Transform``: 1.4 µs a point, the same coordinates as
:func:`gis.crs.transform_geometries` to 0.1 mm. A CRS that is not VN-2000 uses its own SRID.

**The box and the display rules** are those of the service's own encoder
(:mod:`gis.api.tiles.cache`): the tile's Web Mercator box with its buffer is taken to the
store CRS (densified edges, pinned transformation) for the GiST index; features smaller than
``min_units`` across are left out (measured in the store CRS, scaled by the box's own ratio of
the two); at most ``max_features``, the largest boxes first.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any

import shapely

from gis import crs as crsmod
from gis.errors import StoreError
from gis.store.postgis import _ident
from gis.store.query import TileQuery

if TYPE_CHECKING:
    from gis.store.postgis import PostGISStore

__all__ = ["PINNED_SRID_BASE", "vector_tile", "pinned_srid"]

PINNED_SRID_BASE = 900_000
_REGISTERED: set[tuple[str, int]] = set()
_REGISTER_LOCK = threading.Lock()


def pinned_srid(store: PostGISStore, con: Any, epsg: int) -> int:
    """The SRID whose transformation is the pinned one (registered on first use: one
    ``INSERT … ON CONFLICT DO NOTHING`` per database and process); ``epsg`` itself for a CRS
    that is not VN-2000."""
    proj4 = crsmod.pinned_proj4(epsg)
    if proj4 is None:
        return epsg
    srid = PINNED_SRID_BASE + epsg
    key = (store.url, srid)
    if key in _REGISTERED:
        return srid
    with _REGISTER_LOCK:
        if key not in _REGISTERED:
            row = con.execute("SELECT proj4text FROM spatial_ref_sys WHERE srid = %s",
                              (srid,)).fetchone()
            if row is None:
                try:
                    with con.transaction():
                        con.execute("INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, "
                                    "srtext, proj4text) VALUES (%s, 'gis-pinned', %s, NULL, %s) "
                                    "ON CONFLICT (srid) DO NOTHING", (srid, epsg, proj4))
                except Exception as exc:
                    raise StoreError(
                        f"cannot register SRID {srid} (EPSG:{epsg} with the national "
                        f"parameters) in spatial_ref_sys: {str(exc).strip().splitlines()[0]}; "
                        "the database role needs INSERT on spatial_ref_sys once",
                        path=store.path) from None
            elif row[0].strip() != proj4:
                raise StoreError(f"SRID {srid} in spatial_ref_sys is not the pinned VN-2000 "
                                 f"definition of EPSG:{epsg} (found {row[0]!r})",
                                 path=store.path)
            _REGISTERED.add(key)
    return srid


def vector_tile(store: PostGISStore, kind: str, q: TileQuery) -> bytes:
    """The tile ``q`` of layer ``kind`` (b"" when no feature is in it)."""
    try:
        with store._connection() as con:  # one connection, two round trips for a tile
            _, dtypes, epsg = _layer_for_tiles(store, con, kind)
            for name, _ in q.where:
                if name not in dtypes:
                    raise StoreError(f"layer {kind} has no column {name!r} to filter by",
                                     path=store.path, layer=kind)
            return _tile(store, con, kind, q, dtypes, epsg)
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"cannot make tile {q.z}/{q.x}/{q.y}: "
                         f"{str(exc).strip().splitlines()[0]}", path=store.path,
                         layer=kind) from None


def _layer_for_tiles(store: PostGISStore, con: Any, kind: str
                     ) -> tuple[bool, dict[str, str], int]:
    """The layer's column types and the store CRS's EPSG code, in one query."""
    from gis.store.postgis import META, REGISTRY

    row = con.execute(f"SELECT spatial, dtypes, (SELECT value FROM {store._t(META)} WHERE key = "
                      f"'crs') FROM {store._t(REGISTRY)} WHERE name = %s", (kind,)).fetchone()
    if row is None:
        raise StoreError(f"the store has no layer {kind!r}", path=store.path, layer=kind)
    spatial, dtypes, crs_text = row
    if not spatial:
        raise StoreError(f"{kind} has no geometry to draw", path=store.path, layer=kind)
    epsg = _epsg_of(crs_text)
    if epsg is None:
        raise StoreError("the store's CRS has no EPSG code", path=store.path, layer=kind)
    return spatial, dtypes, epsg


@functools.lru_cache(maxsize=32)
def _epsg_of(crs_text: str | None) -> int | None:
    from pyproj import CRS

    return CRS.from_user_input(crs_text).to_epsg() if crs_text else None


def _tile(store: PostGISStore, con: Any, kind: str, q: TileQuery, dtypes: dict[str, str],
          epsg: int) -> bytes:
    bounds = crsmod.web_mercator_tile(q.z, q.x, q.y)
    size = bounds[2] - bounds[0]
    pad = size * q.buffer / q.extent
    padded = (bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    native = tuple(shapely.bounds(crsmod.transform_box(padded, "EPSG:3857", epsg, parts=16)))
    ratio = (native[2] - native[0]) / (padded[2] - padded[0])
    min_native = q.min_units * size / q.extent * ratio

    properties = []
    for name in dict.fromkeys(q.columns):
        if name not in dtypes or name in ("fid", "geom"):
            continue
        kind_of = dtypes[name]
        value = (f"to_json({_ident(name)}) #>> '{{}}'" if kind_of.startswith("datetime")
                 else _ident(name))
        properties.append(f"{value} AS {_ident(name)}")
    where = ["geom && ST_MakeEnvelope(%s, %s, %s, %s, %s)",
             "(ST_Dimension(geom) = 0 OR GREATEST(ST_XMax(geom) - ST_XMin(geom), "
             "ST_YMax(geom) - ST_YMin(geom)) >= %s)"]
    params: list[Any] = []
    for name, accepted in q.where:
        values = [int(v) if isinstance(v, bool) and dtypes[name] not in ("bool", "boolean")
                  else v for v in accepted]
        where.append(f"{_ident(name)} = ANY(%s)")
        params.append(values)
    srid = pinned_srid(store, con, epsg)
    transformed = ("ST_Transform(ST_SetSRID(geom, %s), 3857)" if srid != 3857
                   else "geom")
    sql = (
        "SELECT ST_AsMVT(t, %s, %s, 'mvt_geom', 'fid') FROM ("
        f"SELECT fid, {''.join(p + ', ' for p in properties)}"
        f"ST_AsMVTGeom({transformed}, ST_TileEnvelope(%s, %s, %s), %s, %s, true) "
        f"AS mvt_geom FROM {store._t(kind)} WHERE {' AND '.join(where)} "
        "ORDER BY (ST_XMax(geom) - ST_XMin(geom)) * (ST_YMax(geom) - ST_YMin(geom)) "
        "DESC, fid LIMIT %s) t WHERE t.mvt_geom IS NOT NULL")
    args = [q.name, q.extent, *([srid] if srid != 3857 else []), q.z, q.x, q.y,
            q.extent, q.buffer, *native, epsg, min_native, *params, q.max_features]
    row = con.execute(sql, args).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
