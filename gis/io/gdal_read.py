"""Calls into GDAL (pyogrio with Arrow, or fiona): the whole layer at once, or, when that
fails, feature by feature so that one bad feature is that row's error; and the checks of the
text GDAL returned (Arrow strings that are not UTF-8, U+FFFD)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.raw

from gis.errors import DataSourceError
from gis.io.engines import Engine

__all__ = ["quiet_gdal", "first_line", "read_frame", "replace_invalid_utf8",
           "invalid_utf8_column", "replacement_char_column"]


@contextlib.contextmanager
def quiet_gdal() -> Iterator[None]:
    """GDAL's chatter: field-name laundering, and M values dropped (the source notes say so)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message="Measured \\(M\\) geometry types",
                                category=UserWarning)
        yield


def first_line(exc: Exception) -> str:
    """The first line of an engine's error message (its type when it says nothing)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def read_frame(gdal_path: str, layer: str | None, engine: Engine, encoding: str | None,
          display: str, row_issues: list[tuple[int, str, str, str]] | None = None
          ) -> tuple[gpd.GeoDataFrame, str | None]:
    """Read the whole layer; when that fails, read it feature by feature so that one bad
    feature is that row's error (appended to ``row_issues``) and the others load."""
    kwargs: dict[str, object] = {}
    if encoding:
        kwargs["encoding"] = encoding
    try:
        with quiet_gdal():
            if engine is Engine.PYOGRIO:
                frame = pyogrio.read_dataframe(gdal_path, layer=layer, use_arrow=True, **kwargs)
            else:
                frame = gpd.read_file(gdal_path, layer=layer, engine="fiona", **kwargs)
    except Exception as exc:
        first = f"cannot read: {first_line(exc)}"
        if row_issues is None:
            raise DataSourceError(first, path=display, layer=layer) from None
        found: list[tuple[int, str, str, str]] = []
        frame = _read_per_feature(gdal_path, layer, encoding, found)
        if frame is None or not found:
            raise DataSourceError(first, path=display, layer=layer) from None
        row_issues.extend(found)
    return frame, encoding


def _decode_wkb(wkb: bytes | None, row: int, found: list[tuple[int, str, str, str]]) -> object:
    import shapely

    if wkb is None:
        return None
    try:
        return shapely.from_wkb(wkb)
    except Exception as exc:  # GEOS refuses it: try the fixes it knows (closing a ring)
        reason = first_line(exc).split(": ", 1)[-1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fixed = shapely.from_wkb(wkb, on_invalid="fix")
    except Exception:
        fixed = None
    if fixed is not None and not shapely.is_empty(fixed):
        found.append((row, "geometry_fixed_on_read", "warning",
                      f"geometry could not be read as it is ({reason}); fixed on reading "
                      "(ring closed), check the outline"))
        return fixed
    found.append((row, "unreadable_geometry", "error", f"geometry cannot be read: {reason}"))
    return None


def _read_per_feature(gdal_path: str, layer: str | None, encoding: str | None,
                      found: list[tuple[int, str, str, str]]) -> gpd.GeoDataFrame | None:
    """The layer's attributes in one read and its geometries decoded one by one (pyogrio); when
    GDAL itself fails on a feature, every feature through fiona, one at a time."""
    kwargs: dict[str, object] = {"encoding": encoding} if encoding else {}
    try:
        with quiet_gdal():
            attrs = pyogrio.read_dataframe(gdal_path, layer=layer, read_geometry=False, **kwargs)
            meta, _, wkb, _ = pyogrio.raw.read(gdal_path, layer=layer, columns=[], **kwargs)
        geoms = [_decode_wkb(w, i + 1, found) for i, w in enumerate(wkb)]
        return gpd.GeoDataFrame(pd.DataFrame(attrs), geometry=geoms, crs=meta.get("crs"))
    except Exception:
        found.clear()
    return _read_with_fiona(gdal_path, layer, encoding, found)


def _read_with_fiona(gdal_path: str, layer: str | None, encoding: str | None,
                     found: list[tuple[int, str, str, str]]) -> gpd.GeoDataFrame | None:
    import fiona
    import shapely

    kwargs: dict[str, object] = {"encoding": encoding} if encoding else {}
    try:
        with quiet_gdal(), fiona.open(gdal_path, layer=layer, **kwargs) as src:
            names = list(src.schema["properties"])
            crs = src.crs_wkt or None
            n = len(src)
            rows: list[dict[str, object]] = []
            geoms: list[object] = []
            for i in range(n):
                try:
                    feature = src[i]
                    props = dict(feature["properties"])
                    geom = feature["geometry"]
                except Exception as exc:
                    found.append((i + 1, "unreadable_feature", "error",
                                  f"feature cannot be read: {first_line(exc)}"))
                    rows.append(dict.fromkeys(names))
                    geoms.append(None)
                    continue
                rows.append(props)
                try:
                    geoms.append(None if geom is None else shapely.geometry.shape(geom))
                except Exception as exc:
                    found.append((i + 1, "unreadable_geometry", "error",
                                  f"geometry cannot be read: {first_line(exc)}"))
                    geoms.append(None)
    except Exception:
        return None
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=names), geometry=geoms, crs=crs)


def replace_invalid_utf8(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Arrow string columns that are not valid UTF-8, decoded with U+FFFD for the bad bytes."""
    import pyarrow as pa

    frame = frame.copy()
    for column in frame.columns:
        array = frame[column].array
        if column == "geometry" or not hasattr(array, "__arrow_array__"):
            continue
        arrow = array.__arrow_array__()
        try:
            arrow.validate(full=True)
        except pa.ArrowInvalid:
            values = arrow.cast(pa.binary()).to_pylist()
            frame[column] = pd.array([None if v is None else v.decode("utf-8", "replace")
                                      for v in values], dtype=frame[column].dtype)
    return frame


def _text_columns(frame: gpd.GeoDataFrame) -> list[str]:
    return [str(c) for c in frame.columns if c != "geometry" and (
        frame[c].dtype.kind in "OU" or str(frame[c].dtype).startswith(("string", "str")))]


def invalid_utf8_column(frame: gpd.GeoDataFrame) -> str | None:
    """First Arrow-backed text column holding bytes that are not UTF-8 (they break later)."""
    import pyarrow as pa

    for column in _text_columns(frame):
        array = frame[column].array
        if hasattr(array, "__arrow_array__"):
            try:
                array.__arrow_array__().validate(full=True)
            except pa.ArrowInvalid:
                return column
    return None


def replacement_char_column(frame: gpd.GeoDataFrame) -> str | None:
    """First text column holding U+FFFD, the mark of bytes the declared encoding cannot decode."""
    for column in _text_columns(frame):
        if frame[column].astype("string").str.contains("\ufffd", regex=False).fillna(False).any():
            return column
    return None
