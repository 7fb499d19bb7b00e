"""``gis db copy SRC DST``: move a store into another backend (GeoPackage ⇄ PostGIS) without loss.

Every table and layer of the source is read through the Store protocol and written to the
destination in one transaction; then both are read back and compared: row counts, attributes
(values, missing values) and geometries (within 1 mm in the store's metric CRS). A destination
that already holds data is refused (a copy never overwrites; checked again inside the write
transaction), so a refused or failed write leaves the destination as it was. Attachment files are
copied into the destination's attachments folder. When the comparison finds a difference the copy
stays written and the command exits 1: drop the destination (its schema, or the file) before
trying again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.errors import StoreError
from gis.store.base import Store

__all__ = ["CopyReport", "copy_store", "compare_stores", "META_TABLE"]

#: the metadata table (CRS, schema version): copied as rows, not listed as a layer by every backend
META_TABLE = "gis_meta"
#: geometries may differ by at most this much (metres, store CRS) after a copy
TOLERANCE_M = 0.001


@dataclass
class CopyReport:
    """What was copied, and what the comparison found (empty ``differences``: identical)."""

    source: str
    destination: str
    rows: dict[str, int] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """Plain-dict form (JSON output of the CLI)."""
        return {"source": self.source, "destination": self.destination, "rows": self.rows,
                "differences": self.differences}


def _names(store: Store) -> list[str]:
    return [n for n in store.layers() if n != META_TABLE]


def _meta(store: Store) -> pd.DataFrame:
    meta = getattr(store, "meta", None)
    values = dict(meta()) if callable(meta) else {}
    values.pop("schema_version", None)  # each backend keeps the version of its own tables
    crs = store.crs()
    if "crs" not in values and crs is not None:
        values["crs"] = f"EPSG:{crs.to_epsg()}" if crs.to_epsg() else crs.to_wkt()
    return pd.DataFrame({"key": list(values), "value": [str(v) for v in values.values()]})


def copy_store(source: Store, destination: Store) -> CopyReport:
    """Copy every layer and table of ``source`` into the empty ``destination`` and compare."""
    report = CopyReport(str(getattr(source, "path", source)),
                        str(getattr(destination, "path", destination)))

    def refuse_unless_empty(store: Store) -> None:
        if _names(store):
            raise StoreError(f"the destination already holds {', '.join(_names(store))}; "
                             "a copy goes into an empty store (nothing was written)",
                             path=report.destination)

    refuse_unless_empty(destination)  # before reading the source: a clear answer at once
    tables = {name: source.read_table(name) for name in _names(source)}
    tables[META_TABLE] = _meta(source)
    # spatial layers first, so that a backend learns the store's CRS from the first one
    ordered = dict(sorted(tables.items(), key=lambda kv: not isinstance(kv[1], gpd.GeoDataFrame)))

    def write(working: Store) -> dict[str, pd.DataFrame]:
        refuse_unless_empty(working)  # again under the writers' lock: nothing written meanwhile
        return ordered

    destination.modify(write)
    _copy_attachments(source, destination)
    report.rows = {name: len(frame) for name, frame in tables.items() if name != META_TABLE}
    report.differences = compare_stores(source, destination)
    return report


def _copy_attachments(source: Store, destination: Store) -> None:
    """The attachment files (content-addressed: a file already there is the same file)."""
    import shutil

    src = Path(source.attachments_dir())
    if not src.is_dir():
        return
    dst = Path(destination.attachments_dir())
    for path in src.rglob("*"):
        if path.is_file() and not path.name.endswith(".tmp"):
            target = dst / path.relative_to(src)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)


def compare_stores(a: Store, b: Store) -> list[str]:
    """What differs between two stores: tables, counts, attributes, geometries (> 1 mm)."""
    out: list[str] = []
    names_a, names_b = set(_names(a)), set(_names(b))
    out += [f"{n}: only in the source" for n in sorted(names_a - names_b)]
    out += [f"{n}: only in the destination" for n in sorted(names_b - names_a)]
    if (a.crs() is None) != (b.crs() is None) or (a.crs() is not None and a.crs() != b.crs()):
        out.append(f"CRS differs: {a.crs()} vs {b.crs()}")
    for name in sorted(names_a & names_b):
        x, y = a.read_table(name), b.read_table(name)
        crs_x = x.crs if isinstance(x, gpd.GeoDataFrame) else None
        crs_y = y.crs if isinstance(y, gpd.GeoDataFrame) else None
        if (crs_x is None) != (crs_y is None) or (crs_x is not None and crs_x != crs_y):
            out.append(f"{name}: CRS {crs_x} vs {crs_y}")
        out += [f"{name}: {d}" for d in _compare_frames(x, y)]
    if "violation_attachments" in names_a & names_b:
        rows = b.read_table("violation_attachments")
        folder = Path(b.attachments_dir())
        lost = [s for s in rows.get("stored_as", pd.Series(dtype=str)).dropna()
                if not (folder / str(s)).is_file()]
        if lost:
            out.append(f"violation_attachments: {len(lost)} files missing in {folder}")
    return out


def _compare_frames(x: pd.DataFrame, y: pd.DataFrame) -> list[str]:
    if len(x) != len(y):
        return [f"{len(x)} rows vs {len(y)}"]
    out = []
    geo_x = x.geometry.name if isinstance(x, gpd.GeoDataFrame) else None
    geo_y = y.geometry.name if isinstance(y, gpd.GeoDataFrame) else None
    cols_x = [c for c in x.columns if c != geo_x]
    cols_y = [c for c in y.columns if c != geo_y]
    if sorted(cols_x) != sorted(cols_y):
        out.append(f"columns {sorted(set(cols_x) ^ set(cols_y))} are not in both")
    for column in sorted(set(cols_x) & set(cols_y)):
        bad = int((~_same(x[column].reset_index(drop=True),
                          y[column].reset_index(drop=True))).sum())
        if bad:
            out.append(f"column {column}: {bad} values differ")
    if (geo_x is None) != (geo_y is None):
        out.append("geometry in one only")
    elif geo_x is not None and geo_y is not None:
        gx = np.asarray(x.geometry.values, dtype=object)
        gy = np.asarray(y.geometry.values, dtype=object)
        both_missing = shapely.is_missing(gx) & shapely.is_missing(gy)
        near = shapely.equals_exact(gx, gy, tolerance=TOLERANCE_M) | both_missing
        if (~near).sum():
            out.append(f"{int((~near).sum())} geometries differ by more than {TOLERANCE_M} m")
    return out


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    """Element-wise equal, missing equal to missing; numbers by value, the rest as text."""
    missing_a, missing_b = a.isna(), b.isna()
    if pd.api.types.is_datetime64_any_dtype(a) or pd.api.types.is_datetime64_any_dtype(b):
        ta = pd.to_datetime(a, utc=True, errors="coerce")
        tb = pd.to_datetime(b, utc=True, errors="coerce")
        return ((ta == tb) & ~missing_a & ~missing_b) | (missing_a & missing_b)
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b) and \
            not pd.api.types.is_bool_dtype(a):
        values = np.isclose(pd.to_numeric(a, errors="coerce").astype(float),
                            pd.to_numeric(b, errors="coerce").astype(float), rtol=0, atol=1e-9)
        equal = pd.Series(values, index=a.index)
    else:
        equal = a.astype(str) == b.astype(str)
    return (equal & ~missing_a & ~missing_b) | (missing_a & missing_b)
