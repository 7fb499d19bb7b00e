"""Narrow a map's tables to one ward or one project (``gis map build --ward/--project``).

Pure: frames in, frames out. A table with ``ward_code`` is filtered on it; others (buildings,
projects) by intersection with the ward's boundary. For a project, the project's own rows and
its parcel parts are kept, and every other layer keeps what lies within ``margin`` metres of the
boundary, so the neighbours of the recovered parcels stay on the map.
"""

from __future__ import annotations

import geopandas as gpd
import shapely

from gis.errors import GisError

__all__ = ["scope_tables"]

PROJECT_TABLES = ("clearance_projects", "projects")


def _area(frame: gpd.GeoDataFrame, column: str, value: str, what: str,
          option: str) -> shapely.Geometry:
    rows = frame[frame[column].astype(str) == value]
    if rows.empty:
        known = ", ".join(sorted(frame[column].astype(str).unique())[:20])
        raise GisError(f"no {what} {value!r} in the store; known: {known}", field=option)
    return shapely.union_all(rows.geometry.values)


def scope_tables(tables: dict[str, gpd.GeoDataFrame], *, ward: str | None = None,
                 project: str | None = None, margin: float = 30.0) -> dict[str, gpd.GeoDataFrame]:
    """The tables restricted to ``ward`` and/or ``project`` (both: the project's part of the ward)."""
    out = dict(tables)
    if ward:
        area = _area(out["wards"], "ward_code", ward, "ward", "--ward") if "wards" in out else None
        for name, frame in out.items():
            if "ward_code" in frame.columns:
                out[name] = frame[frame["ward_code"].astype(str) == ward]
            elif area is not None:
                out[name] = frame[frame.intersects(area)]
        if "wards" not in tables:
            has_code = [n for n, f in tables.items() if "ward_code" in f.columns]
            if not any(len(out[n]) for n in has_code):
                raise GisError(f"no ward {ward!r} in the store", field="--ward")
    if project:
        source = next((t for t in PROJECT_TABLES if t in out), None)
        if source is None:
            raise GisError("the store holds no projects; load them with `gis ingest projects`",
                           field="--project")
        boundary = _area(tables[source], "project_id", project, "project", "--project")
        near = shapely.buffer(boundary, margin)
        for name, frame in out.items():
            if "project_id" in frame.columns:
                out[name] = frame[frame["project_id"].astype(str) == project]
            elif name == "wards":
                out[name] = frame[frame.intersects(boundary)]
            else:
                out[name] = frame[frame.intersects(near)]
    return out
