"""What changed between two versions of a layer (re-ingest diff)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

__all__ = ["LayerDiff", "diff_layers"]

_IGNORED = {"source_row", "extra", "geometry_original_wkt", "geometry_repaired"}


@dataclass(frozen=True)
class LayerDiff:
    """Keys added, removed and changed (geometry beyond ``tolerance`` or any attribute)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: int

    def as_dict(self, *, limit: int = 20) -> dict[str, object]:
        """Counts plus up to ``limit`` example keys of each."""
        return {"added": len(self.added), "removed": len(self.removed),
                "changed": len(self.changed), "unchanged": self.unchanged,
                "examples": {"added": list(self.added[:limit]), "removed": list(self.removed[:limit]),
                             "changed": list(self.changed[:limit])}}


def _unwrap(geoms: np.ndarray) -> np.ndarray:
    """Single-part multi-geometries unwrapped (storage may promote Polygon to MultiPolygon)."""
    single = np.flatnonzero((shapely.get_type_id(geoms) >= 4)
                            & (shapely.get_num_geometries(geoms) == 1))
    if len(single) == 0:
        return geoms
    out = geoms.copy()
    out[single] = shapely.get_geometry(geoms[single], 0)
    return out


def diff_layers(old: pd.DataFrame, new: pd.DataFrame, key: str, *,
                tolerance: float = 0.01) -> LayerDiff:
    """Compare two versions of a layer keyed by ``key``; geometries equal within ``tolerance``.

    >>> import geopandas as gpd
    >>> a = gpd.GeoDataFrame({"k": ["1", "2"], "v": [1, 2]}, geometry=[shapely.box(0, 0, 1, 1)] * 2)
    >>> b = gpd.GeoDataFrame({"k": ["2", "3"], "v": [5, 3]}, geometry=[shapely.box(0, 0, 1, 1)] * 2)
    >>> d = diff_layers(a, b, "k"); (d.added, d.removed, d.changed)
    (('3',), ('1',), ('2',))
    """
    old = pd.DataFrame(old).drop_duplicates(key)
    new = pd.DataFrame(new).drop_duplicates(key)
    old_keys = pd.Index(old[key].astype(str).to_numpy(dtype=object))
    new_keys = pd.Index(new[key].astype(str).to_numpy(dtype=object))
    added = sorted(new_keys.difference(old_keys))
    removed = sorted(old_keys.difference(new_keys))
    columns = [c for c in old.columns if c in new.columns and c not in _IGNORED and c != key]
    a = old.assign(_k=old[key].astype(str))
    b = new.assign(_k=new[key].astype(str))
    pair = a[["_k", *columns]].merge(b[["_k", *columns]], on="_k", suffixes=("_a", "_b"))
    if pair.empty:
        return LayerDiff(tuple(added), tuple(removed), (), 0)
    changed = np.zeros(len(pair), dtype=bool)
    for column in columns:
        x, y = pair[f"{column}_a"], pair[f"{column}_b"]
        if column == "geometry":
            ga = _unwrap(np.asarray(x.values, dtype=object))
            gb = _unwrap(np.asarray(y.values, dtype=object))
            same = shapely.to_wkb(ga) == shapely.to_wkb(gb)  # identical bytes: the common case
            rest = np.flatnonzero(~same)
            if len(rest):
                same[rest] = shapely.equals_exact(shapely.normalize(ga[rest]),
                                                  shapely.normalize(gb[rest]), tolerance=tolerance)
            changed |= ~np.asarray(same, dtype=bool)
        elif pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            xv = pd.to_numeric(x, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            yv = pd.to_numeric(y, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            changed |= ~(np.isclose(xv, yv, rtol=1e-6, atol=1e-3) | (np.isnan(xv) & np.isnan(yv)))
        else:
            xs = x.astype("string").to_numpy(dtype=object, na_value=None)
            ys = y.astype("string").to_numpy(dtype=object, na_value=None)
            changed |= xs != ys
    keys = pair["_k"].to_numpy()
    return LayerDiff(tuple(added), tuple(removed), tuple(sorted(keys[changed])),
                     int((~changed).sum()))
