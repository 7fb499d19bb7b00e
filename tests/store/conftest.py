"""Backends of the Store conformance suite (tests/store/test_conformance*.py).

A backend adds itself to ``BACKENDS`` and says how a fresh store of it is opened in
:func:`store_location`; every ``location`` test then runs against it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

BACKENDS = ["geopackage"]


def store_location(backend: str, folder: Path) -> str:
    """Where a fresh, empty store of ``backend`` lives for one test."""
    if backend == "geopackage":
        return str(folder / "store.gpkg")
    raise AssertionError(backend)  # pragma: no cover - a new backend says how it is opened


@pytest.fixture(params=BACKENDS)
def location(request, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A fresh store location, once per backend."""
    return store_location(request.param, tmp_path)


def accounts_location(backend: str, folder: Path) -> tuple[Path, str]:
    """Where a fresh, empty account store of ``backend`` lives for one test: the service's
    data folder and the store location, as ``open_accounts`` takes them."""
    return folder / "data", store_location(backend, folder)


@pytest.fixture(params=BACKENDS)
def accounts_at(request, tmp_path) -> tuple[Path, str]:  # type: ignore[no-untyped-def]
    """A fresh account store location (data folder, store location), once per backend."""
    return accounts_location(request.param, tmp_path)
