"""Batch work on Dask: the same pure core functions, run over spatial partitions.

``--engine dask`` of ``gis clearance report`` and ``gis violations detect``. The partitioned
layer (the parcels for the clearance overlay, the building footprints for detection) is cut
into boxes by the extent and counts of the layers read (:func:`partition_boxes`: a box holding
more than ``ROWS_PER_PARTITION`` rows is halved along its longer side, only count queries are
made; for detection footprints and parcels are counted together); each
Dask task opens the store itself (:func:`store_location`) and reads its own box through the
structured reads of the :class:`~gis.store.base.Store` protocol, keeping the rows whose envelope
centre lies in its box (boxes are half-open and unbounded at the layer's outer edges, so every
row is in exactly one partition). Detection then reads the parcels whose box meets the box of
its footprints, which is every parcel a footprint can overlap. The driver holds the projects, the
boxes and the results, never a whole layer. The workers run the very functions the single-process
engine runs (:func:`gis.core.overlay.overlay_parcels_projects`,
:func:`gis.core.violations.detect.detect_candidates`) and the results are put back in the single
engine's order by feature id (the order :meth:`Store.read` gives): both engines give identical
results (tested on the sample district, GeoPackage and PostGIS).

:func:`overlay_on_dask` and :func:`detect_on_dask` do the same for frames already in memory
(partitions along a Hilbert curve, dask-geopandas).

A ``LocalCluster`` (one process per core) is started by default; ``scheduler`` names an
existing cluster (``tcp://host:8786``), whose workers must reach the store by the same name (a
PostGIS URL, or a GeoPackage path on a shared file system).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.core.overlay import OverlayConfig, OverlayResult, overlay_parcels_projects
from gis.core.violations.detect import CANDIDATE_COLUMNS, _fingerprints, detect_candidates
from gis.core.violations.rules import RuleSet
from gis.errors import EngineError
from gis.store import Store, open_store
from gis.store.query import LayerQuery

__all__ = ["dask_client", "overlay_on_dask", "detect_on_dask", "partitions_for", "Part",
           "partition_boxes", "store_location", "overlay_from_store", "detect_from_store"]

BBox = tuple[float, float, float, float]

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


# -- partitions read by the workers from the store ----------------------------------------------
#: halving a box more often than this stops (rows piled on one spot cannot be split by boxes)
MAX_DEPTH = 24
#: rows per read on a worker: a partition is filtered batch by batch as it is read
READ_BATCH = 20_000


@dataclass(frozen=True)
class Part:
    """One spatial partition of a layer: ``read`` is the box the task reads (store CRS; the
    rows whose envelope meets it), ``owns`` the half-open box ``[x0, x1) × [y0, y1)`` that
    decides which of them are the partition's (by the centre of their envelope), unbounded on
    the sides where ``read`` reaches the layer's extent."""

    read: BBox
    owns: BBox

    def owned(self, geoms: np.ndarray) -> np.ndarray:
        """Which of ``geoms`` belong to this partition (rows without geometry to none)."""
        b = shapely.bounds(geoms)
        cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        x0, y0, x1, y1 = self.owns
        with np.errstate(invalid="ignore"):
            return (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)


def store_location(store: Store) -> str:
    """The name a worker opens ``store`` by (:func:`gis.store.open_store`): a PostGIS URL or
    the absolute path of a GeoPackage (inside a writer's read-modify-write, of its working
    copy, which holds what the writer reads)."""
    location = getattr(store, "location", None)
    if location is None:
        path = getattr(store, "path", None)
        if path is None:
            raise EngineError(f"the dask engine cannot name the store {store!r} to its workers")
        location = str(Path(path).resolve())
    return str(location)


def _count(store: Store, kinds: Sequence[str], box: BBox) -> int:
    q = LayerQuery(bbox=box, columns=(), with_geometry=False, limit=0, count=True)
    return sum(int(store.query(kind, q).matched or 0) for kind in kinds)


def partition_boxes(store: Store, kind: str | Sequence[str], rows: int | None = None
                    ) -> list[Part]:
    """The boxes a layer (or several: their rows are summed) is read in, each holding at most
    about ``rows`` rows: the extent (:meth:`Store.layer_info`) halved along its longer side
    while a half holds more (count queries only; a row on a cut is counted in both halves but
    owned by one). In the order of a walk down the halvings, so neighbouring boxes come one
    after the other."""
    rows = rows or ROWS_PER_PARTITION
    kinds = [kind] if isinstance(kind, str) else list(kind)
    infos = [store.layer_info(k) for k in kinds]
    extents = [i.extent for i in infos if i.count and i.extent is not None]
    if not extents:
        return []
    root: BBox = (float(min(e[0] for e in extents)), float(min(e[1] for e in extents)),
                  float(max(e[2] for e in extents)), float(max(e[3] for e in extents)))
    leaves: list[BBox] = []
    stack: list[tuple[BBox, int, int]] = [(root, sum(i.count for i in infos), 0)]
    while stack:
        box, n, depth = stack.pop()
        if n == 0:
            continue
        x0, y0, x1, y1 = box
        wide = x1 - x0 >= y1 - y0
        mid = (x0 + x1) / 2 if wide else (y0 + y1) / 2
        if n <= rows or depth >= MAX_DEPTH or not (box[0 if wide else 1] < mid
                                                    < box[2 if wide else 3]):
            leaves.append(box)
            continue
        halves = [(x0, y0, mid, y1), (mid, y0, x1, y1)] if wide else \
            [(x0, y0, x1, mid), (x0, mid, x1, y1)]
        counts = [_count(store, kinds, h) for h in halves]
        if max(counts) >= n:  # halving does not divide these rows (all on the cut)
            leaves.append(box)
            continue
        for h, c in reversed(list(zip(halves, counts))):
            stack.append((h, c, depth + 1))
    inf = float("inf")
    return [Part(b, (b[0] if b[0] > root[0] else -inf, b[1] if b[1] > root[1] else -inf,
                     b[2] if b[2] < root[2] else inf, b[3] if b[3] < root[3] else inf))
            for b in leaves]


def _read_part(store: Store, kind: str, part: Part, columns: Sequence[str] | None,
               area: Any = None) -> gpd.GeoDataFrame:
    """The rows of ``kind`` the partition owns (of those meeting ``area`` when given, decided
    exactly here: the GeoPackage store answers a box and an area together with fewer rows
    than each alone), in feature-id order (index ``fid``)."""
    q = LayerQuery(bbox=part.read, columns=None if columns is None else tuple(columns))
    if area is not None:
        shapely.prepare(area)
    frames = []
    for batch in store.scan(kind, q, batch_size=READ_BATCH):
        frame = batch.frame
        geoms = np.asarray(frame.geometry.values, dtype=object)
        keep = part.owned(geoms)
        if area is not None:
            keep[keep] = shapely.intersects(area, geoms[keep])
        frames.append(frame[keep])
    if not frames:  # nothing in the box: an empty frame of the layer's columns
        return store.query(kind, LayerQuery(fids=(), columns=q.columns)).frame
    return pd.concat(frames) if len(frames) > 1 else frames[0]


def _columns(store: Store, kind: str, wanted: Sequence[str]) -> list[str]:
    have = {f.name for f in store.layer_info(kind).fields}
    return [c for c in wanted if c in have]


def _overlay_task(location: str, part: Part, projects: gpd.GeoDataFrame, config: OverlayConfig,
                  fields: list[str], area: Any) -> tuple[OverlayResult, gpd.GeoDataFrame]:
    """On a worker: the overlay of the parcels of one partition that meet ``area``, each pair
    and sliver with the parcel's feature id (``_fid``), and the parcels in a pair."""
    parcels = _read_part(open_store(location), "parcels", part, fields, area)
    result = overlay_parcels_projects(parcels[["parcel_key", "ward_code", "geometry"]],
                                      projects, config=config, workers=1)
    fid_of = pd.Series(parcels.index.to_numpy(), index=parcels["parcel_key"].to_numpy())
    fid_of = fid_of[~fid_of.index.duplicated()]
    for frame in (result.pairs, result.slivers):
        frame["_fid"] = fid_of.reindex(frame["parcel_key"].to_numpy()).to_numpy()
    paired = parcels[parcels["parcel_key"].isin(result.pairs["parcel_key"])]
    return result, paired.reset_index()


def overlay_from_store(store: Store, projects: gpd.GeoDataFrame, *, client: Any,
                       config: OverlayConfig = OverlayConfig(), rows: int | None = None,
                       fields: Sequence[str] = ("parcel_key", "ward_code"),
                       area: Any = None) -> tuple[OverlayResult, gpd.GeoDataFrame]:
    """:func:`~gis.core.overlay.overlay_parcels_projects` of the store's parcels (those meeting
    ``area``, a shapely geometry, when given: the union of the project boundaries; an empty
    one reads nothing) with
    ``projects``, the parcels read by the workers in partitions (:func:`partition_boxes`).

    Returns the overlay (as the single engine gives it) and the parcels in a pair (their
    ``fields`` the layer has, and geometry), in feature-id order."""
    wanted = _columns(store, "parcels", list(dict.fromkeys(
        ["parcel_key", "ward_code", *fields])))
    empty_area = area is not None and getattr(area, "is_empty", False)
    parts = [] if empty_area else partition_boxes(store, "parcels", rows)
    location = store_location(store)
    crs = projects.crs
    projects_ = client.scatter(projects, broadcast=True) if parts else projects
    area_ = client.scatter(area, broadcast=True) if parts and area is not None else area
    done = _run(client, _overlay_task, [(location, p, projects_, config, wanted, area_)
                                        for p in parts])
    if not done:  # no parcel to overlay: the single engine's empty result
        empty = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in wanted},
                                 geometry=gpd.GeoSeries([], crs=crs))
        return overlay_parcels_projects(empty[["parcel_key", "ward_code", "geometry"]],
                                        projects, config=config), empty
    results = [r for r, _ in done]
    project_pos = pd.Series(np.arange(len(projects)), index=projects["project_id"].to_numpy())

    def ordered(frames: list[pd.DataFrame]) -> pd.DataFrame:
        frame = _concat(frames)
        if len(frame):
            key = np.lexsort((frame["_fid"].to_numpy(),
                              project_pos.reindex(frame["project_id"]).to_numpy()))
            frame = frame.iloc[key].reset_index(drop=True)
        return frame.drop(columns="_fid")

    pairs = ordered([r.pairs for r in results])
    if isinstance(results[0].pairs, gpd.GeoDataFrame) and "geometry" in results[0].pairs:
        pairs = gpd.GeoDataFrame(pairs, geometry="geometry", crs=crs)
    parcels = pd.concat([p for _, p in done], ignore_index=True)
    parcels = parcels.sort_values("fid", kind="stable").drop(columns="fid")
    parcels = gpd.GeoDataFrame(parcels.reset_index(drop=True), geometry="geometry", crs=crs)
    return (OverlayResult(pairs, ordered([r.slivers for r in results]),
                          int(sum(r.touching for r in results))), parcels[[*wanted, "geometry"]])


#: the fields of each layer detection reads (what :func:`detect_candidates` uses)
_DETECT_FIELDS = {"buildings": ("building_id", "year_built"),
                  "parcels": ("parcel_key", "ward_code", "land_use", "is_public")}


def _detect_task(location: str, part: Part, rules: RuleSet,
                 fields: dict[str, list[str]]) -> pd.DataFrame | None:
    """On a worker: the candidates of the footprints of one partition (with every parcel whose
    box meets theirs), with the feature ids of footprint and parcel (``_b``, ``_p``)."""
    store = open_store(location)
    buildings = _read_part(store, "buildings", part, fields["buildings"])
    if not len(buildings):
        return None
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(buildings.geometry.values, dtype=object))
    box = (float(x0), float(y0), float(x1), float(y1))
    parcels = store.query("parcels", LayerQuery(bbox=box, columns=tuple(fields["parcels"]))).frame
    b_fids = buildings.index.to_numpy()
    ids = buildings["building_id"].astype(str).to_numpy(dtype=object)
    # footprints go in with their feature ids as ids: the real ids are put back below
    found = detect_candidates(buildings.assign(building_id=b_fids.astype(str)), parcels, rules,
                              workers=1)
    if not len(found):
        return None
    b = found["building_id"].astype(np.int64).to_numpy()
    found["building_id"] = pd.Series(ids[np.searchsorted(b_fids, b)], dtype=object,
                                      index=found.index)
    found["fingerprint"] = _fingerprints(found["rule"].to_numpy(dtype=object),
                                         found["parcel_key"].to_numpy(dtype=object),
                                         found["building_id"].to_numpy(dtype=object))
    fid_of = pd.Series(parcels.index.to_numpy(), index=parcels["parcel_key"].to_numpy())
    fid_of = fid_of[~fid_of.index.duplicated()]
    found["_b"] = b
    found["_p"] = fid_of.reindex(found["parcel_key"].to_numpy()).to_numpy()
    return pd.DataFrame(found)


def detect_from_store(store: Store, rules: RuleSet, *, client: Any,
                      rows: int | None = None) -> gpd.GeoDataFrame:
    """:func:`~gis.core.violations.detect.detect_candidates` of the store's footprints and
    parcels, the footprints read by the workers in partitions (:func:`partition_boxes`), in
    the single engine's order (rule, parcel, footprint). The boxes are cut by footprints and
    parcels together, so that a task never reads many parcels for few footprints."""
    parts = partition_boxes(store, ("buildings", "parcels"), rows)
    fields = {k: _columns(store, k, v) for k, v in _DETECT_FIELDS.items()}
    crs = store.crs()
    location = store_location(store)
    found = [f for f in _run(client, _detect_task, [(location, p, rules, fields)
                                                    for p in parts]) if f is not None]
    if not found:
        return gpd.GeoDataFrame(columns=CANDIDATE_COLUMNS + ["geometry"], geometry="geometry",
                                crs=crs)
    frame = pd.concat(found, ignore_index=True)  # the workers' types: the core function's
    rank = {r.id: i for i, r in enumerate(rules.rules)}
    order = np.lexsort((frame["_b"].to_numpy(), frame["_p"].to_numpy(),
                        frame["rule"].map(rank).to_numpy()))
    frame = frame.iloc[order].drop(columns=["_b", "_p"]).reset_index(drop=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)
