"""Batch work on Dask: the same pure core functions, run over spatial partitions.

``--engine dask`` of ``gis clearance report`` and ``gis violations detect``. The parcels (for
the clearance overlay) or the building footprints (for detection) are ordered along a Hilbert
curve (dask-geopandas' ``hilbert_distance``) and cut into partitions of neighbours; each
partition goes to a worker with every row of the other layer whose box meets the partition's
box, so that every parcel sees all its projects and every footprint all its parcels. The
workers run the very functions the single-process engine runs
(:func:`gis.core.overlay.overlay_parcels_projects`,
:func:`gis.core.violations.detect.detect_candidates`) and the results are put back in the single
engine's order: both engines give identical results (tested on the sample district).

A ``LocalCluster`` (one process per core) is started by default; ``scheduler`` names an
existing cluster (``tcp://host:8786``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.core.overlay import OverlayConfig, OverlayResult, overlay_parcels_projects
from gis.core.violations.detect import _fingerprints, detect_candidates
from gis.core.violations.rules import RuleSet
from gis.errors import EngineError

__all__ = ["dask_client", "overlay_on_dask", "detect_on_dask", "partitions_for"]

#: rows of the partitioned layer per task: big enough to keep the per-task cost small, small
#: enough that a worker holds a few hundred MB at most
ROWS_PER_PARTITION = int(os.environ.get("GIS_DASK_PARTITION_ROWS", "100000"))


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, workers: int | None = None,
                memory_limit: str | None = None) -> Iterator[Any]:
    """A Dask client: of the cluster at ``scheduler``, or of a new ``LocalCluster`` with one
    single-threaded process per core (``workers``) closed on exit."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a dependency of the package
        raise EngineError("the dask engine needs dask[distributed] and dask-geopandas "
                          "(pip install 'dask[distributed]' dask-geopandas)") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise EngineError(f"no Dask scheduler at {scheduler}: {exc}", value=scheduler) \
                from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                      dashboard_address=None, memory_limit=memory_limit or "auto") as cluster, \
            Client(cluster) as client:
        yield client


def partitions_for(frame: gpd.GeoDataFrame, rows: int | None = None) -> list[np.ndarray]:
    """Row positions of ``frame`` cut into spatially compact parts along a Hilbert curve."""
    import dask_geopandas

    n = len(frame)
    if n == 0:
        return []
    parts = max(1, -(-n // (rows or ROWS_PER_PARTITION)))
    if parts == 1:
        return [np.arange(n)]
    # the curve of the boxes' centres over the layer's extent: neighbours get near values
    frame = gpd.GeoDataFrame(geometry=frame.geometry.values, crs=frame.crs)
    distance = dask_geopandas.from_geopandas(frame, npartitions=1).hilbert_distance(
        total_bounds=frame.total_bounds).compute().to_numpy()
    order = np.argsort(distance, kind="stable")
    return [np.sort(chunk) for chunk in np.array_split(order, parts)]


def _near(tree: shapely.STRtree, geoms: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions of the tree's geometries whose boxes meet the box of ``geoms[rows]``."""
    box = shapely.box(*shapely.total_bounds(geoms[rows]))
    return np.sort(tree.query(box))


def _run(client: Any, func: Callable[..., Any], jobs: list[tuple[Any, ...]]) -> list[Any]:
    futures = [client.submit(func, *job, pure=False) for job in jobs]
    return list(client.gather(futures))


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The workers' frames as one, typed as the single engine types them: empty parts left
    out (their columns have no type), text columns back to pandas' string type (which
    crossing processes turned into ``object``)."""
    full = [f for f in frames if len(f)]
    frame = pd.concat(full or frames[:1], ignore_index=True)
    return frame.infer_objects()


def _overlay_part(parcels: gpd.GeoDataFrame, projects: gpd.GeoDataFrame,
                  config: OverlayConfig) -> OverlayResult:
    return overlay_parcels_projects(parcels, projects, config=config, workers=1)


def overlay_on_dask(parcels: gpd.GeoDataFrame, projects: gpd.GeoDataFrame, *, client: Any,
                    config: OverlayConfig = OverlayConfig(),
                    rows: int | None = None) -> OverlayResult:
    """:func:`~gis.core.overlay.overlay_parcels_projects` with the parcels partitioned."""
    parts = partitions_for(parcels, rows)
    if len(parts) <= 1:
        return overlay_parcels_projects(parcels, projects, config=config)
    jg = np.asarray(projects.geometry.values, dtype=object)
    pg = np.asarray(parcels.geometry.values, dtype=object)
    tree = shapely.STRtree(jg)
    projects_ = client.scatter(projects, broadcast=True)
    jobs = []
    for rows_ in parts:
        near = _near(tree, pg, rows_)
        jobs.append((parcels.iloc[rows_], projects.iloc[near] if len(near) < len(projects)
                     else projects_, config))
    results = _run(client, _overlay_part, jobs)
    parcel_pos = pd.Series(np.arange(len(parcels)), index=parcels["parcel_key"].to_numpy())
    project_pos = pd.Series(np.arange(len(projects)), index=projects["project_id"].to_numpy())

    def ordered(frames: list[pd.DataFrame]) -> pd.DataFrame:
        frame = _concat(frames)
        if not len(frame):
            return frame
        key = np.lexsort((parcel_pos.reindex(frame["parcel_key"]).to_numpy(),
                          project_pos.reindex(frame["project_id"]).to_numpy()))
        return frame.iloc[key].reset_index(drop=True)

    pairs = ordered([r.pairs for r in results])
    if isinstance(results[0].pairs, gpd.GeoDataFrame) and "geometry" in results[0].pairs:
        pairs = gpd.GeoDataFrame(pairs, geometry="geometry", crs=parcels.crs)
    return OverlayResult(pairs, ordered([r.slivers for r in results]),
                         int(sum(r.touching for r in results)))


def _detect_part(buildings: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame,
                 rules: RuleSet) -> gpd.GeoDataFrame:
    return detect_candidates(buildings, parcels, rules, workers=1)


def detect_on_dask(buildings: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, rules: RuleSet, *,
                   client: Any, rows: int | None = None) -> gpd.GeoDataFrame:
    """:func:`~gis.core.violations.detect.detect_candidates` with the footprints partitioned.

    The footprints of a partition go out with their positions as ids, so the candidates come
    back in the single engine's order (rule, parcel, footprint); the real ids and their
    fingerprints are put back here."""
    parts = partitions_for(buildings, rows)
    if len(parts) <= 1:
        return detect_candidates(buildings, parcels, rules)
    bg = np.asarray(buildings.geometry.values, dtype=object)
    tree = shapely.STRtree(np.asarray(parcels.geometry.values, dtype=object))
    jobs = []
    for rows_ in parts:
        near = _near(tree, bg, rows_)
        part = buildings.iloc[rows_].assign(building_id=rows_.astype(str))
        jobs.append((part, parcels.iloc[near], rules))
    found = _concat(_run(client, _detect_part, jobs))
    if not len(found):
        return detect_candidates(buildings.iloc[:0], parcels.iloc[:0], rules)
    b_pos = found["building_id"].astype(np.int64).to_numpy()
    p_pos = pd.Series(np.arange(len(parcels)), index=parcels["parcel_key"].to_numpy()
                      ).reindex(found["parcel_key"]).to_numpy()
    rank = {r.id: i for i, r in enumerate(rules.rules)}
    order = np.lexsort((b_pos, p_pos, found["rule"].map(rank).to_numpy()))
    found = found.iloc[order].reset_index(drop=True)
    b_pos = b_pos[order]
    found["building_id"] = pd.Series(buildings["building_id"].astype(str).to_numpy()[b_pos],
                                     dtype=object)
    found["fingerprint"] = _fingerprints(found["rule"].to_numpy(dtype=object),
                                         found["parcel_key"].to_numpy(dtype=object),
                                         found["building_id"].to_numpy(dtype=object))
    return gpd.GeoDataFrame(found, geometry="geometry", crs=parcels.crs)
