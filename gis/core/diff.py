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


def _canonical(geoms: np.ndarray) -> np.ndarray:
    """Normalised geometries, single-part multi-geometries unwrapped (storage may promote)."""
    single = (shapely.get_type_id(geoms) >= 4) & (shapely.get_num_geometries(geoms) == 1)
    geoms = np.where(single, shapely.get_geometry(geoms, 0), geoms)
    return shapely.normalize(geoms)


def diff_layers(old: pd.DataFrame, new: pd.DataFrame, key: str, *,
                tolerance: float = 0.01) -> LayerDiff:
    """Compare two versions of a layer keyed by ``key``; geometries equal within ``tolerance``.

    >>> import geopandas as gpd
    >>> a = gpd.GeoDataFrame({"k": ["1", "2"], "v": [1, 2]}, geometry=[shapely.box(0, 0, 1, 1)] * 2)
    >>> b = gpd.GeoDataFrame({"k": ["2", "3"], "v": [5, 3]}, geometry=[shapely.box(0, 0, 1, 1)] * 2)
    >>> d = diff_layers(a, b, "k"); (d.added, d.removed, d.changed)
    (('3',), ('1',), ('2',))
    """
    old = old.drop_duplicates(key).set_index(key)
    new = new.drop_duplicates(key).set_index(key)
    added = new.index.difference(old.index)
    removed = old.index.difference(new.index)
    common = new.index.intersection(old.index)
    if len(common) == 0:
        return LayerDiff(tuple(map(str, added)), tuple(map(str, removed)), (), 0)
    a, b = old.loc[common], new.loc[common]
    changed = np.zeros(len(common), dtype=bool)
    if "geometry" in a.columns and "geometry" in b.columns:
        ga = np.asarray(a["geometry"].values, dtype=object)
        gb = np.asarray(b["geometry"].values, dtype=object)
        same = shapely.equals_exact(_canonical(ga), _canonical(gb), tolerance=tolerance)
        changed |= ~np.asarray(same, dtype=bool)
    columns = [c for c in a.columns if c in b.columns and c != "geometry" and c not in _IGNORED]
    for column in columns:
        x, y = a[column], b[column]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            xv = pd.to_numeric(x, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            yv = pd.to_numeric(y, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            diff = ~(np.isclose(xv, yv, rtol=1e-6, atol=1e-3) | (np.isnan(xv) & np.isnan(yv)))
        else:
            xs, ys = x.astype("string"), y.astype("string")
            diff = ~((xs == ys).fillna(False) | (xs.isna() & ys.isna())).to_numpy(dtype=bool)
        changed |= diff
    return LayerDiff(tuple(map(str, added)), tuple(map(str, removed)),
                     tuple(map(str, common[changed])), int((~changed).sum()))
