"""``--engine single|dask`` and ``--scheduler`` for the batch commands (clearance report and
chart, violations detect): which engine runs the overlay (:mod:`gis.batch`)."""

from __future__ import annotations

import contextlib

import click

from gis.errors import EngineError

__all__ = ["engine_options", "dask_engine"]


def engine_options(func):  # type: ignore[no-untyped-def]
    """``--engine single|dask`` and ``--scheduler`` (batch work on Dask)."""
    func = click.option("--scheduler", help="dask: the address of an existing Dask cluster "
                        "(tcp://host:8786); default a local cluster, one process per core.")(func)
    return click.option("--engine", type=click.Choice(["single", "dask"]), default="single",
                        show_default=True, help="single: this process; dask: spatial "
                        "partitions on a Dask cluster, each worker reading its part of the "
                        "store (same results, less memory per process).")(func)


@contextlib.contextmanager
def dask_engine(engine: str, scheduler: str | None):  # type: ignore[no-untyped-def]
    """The Dask client for ``--engine dask`` (None for the single engine). Running out of
    memory, in this process or on a worker, is one clear error saying what to do."""
    if engine != "dask":
        if scheduler:
            raise click.UsageError("--scheduler needs --engine dask")
        try:
            yield None
        except MemoryError:
            raise EngineError("out of memory: the single engine holds whole layers in this "
                              "process; run again with --engine dask, whose workers read the "
                              "layers in spatial partitions") from None
        return
    from gis.batch import dask_client

    with dask_client(scheduler) as client:
        try:
            yield client
        except MemoryError:
            raise EngineError("out of memory in the dask engine (in this process or on a "
                              "worker): set GIS_DASK_PARTITION_ROWS lower than the default "
                              "100000 for smaller partitions") from None
        except Exception as exc:
            if type(exc).__name__ != "KilledWorker":
                raise
            raise EngineError(f"a Dask worker died while running a partition ({exc}); when "
                              "workers run out of memory, set GIS_DASK_PARTITION_ROWS lower "
                              "than the default 100000") from None
