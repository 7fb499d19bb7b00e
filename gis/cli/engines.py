"""``--engine single|dask`` and ``--scheduler`` for the batch commands (clearance report and
chart, violations detect): which engine runs the overlay (:mod:`gis.batch`)."""

from __future__ import annotations

import contextlib

import click

__all__ = ["engine_options", "dask_engine"]


def engine_options(func):  # type: ignore[no-untyped-def]
    """``--engine single|dask`` and ``--scheduler`` (batch work on Dask)."""
    func = click.option("--scheduler", help="dask: the address of an existing Dask cluster "
                        "(tcp://host:8786); default a local cluster, one process per core.")(func)
    return click.option("--engine", type=click.Choice(["single", "dask"]), default="single",
                        show_default=True, help="single: this process; dask: spatial "
                        "partitions on a Dask cluster (same results).")(func)


@contextlib.contextmanager
def dask_engine(engine: str, scheduler: str | None):  # type: ignore[no-untyped-def]
    """The Dask client for ``--engine dask`` (None for the single engine)."""
    if engine != "dask":
        if scheduler:
            raise click.UsageError("--scheduler needs --engine dask")
        yield None
        return
    from gis.batch import dask_client

    with dask_client(scheduler) as client:
        yield client
