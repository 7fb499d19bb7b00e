"""Deployment settings, read from the environment with the ``GIS_`` prefix.

Nothing else in the package reads ``os.environ``. Settings are built at the CLI entry point or at
application start, never at import.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gis.io.engines import Engine
from gis.resources import shipped_folder

__all__ = ["StorageSettings", "IngestSettings", "MapSettings", "ServiceSettings"]


class StorageSettings(BaseSettings):
    """Where the data lives.

    ``GIS_DATA_DIR`` holds what the service keeps for itself: accounts (``service.db``), the
    session key (``secret.key``), ``uploads/`` and ``logs/``. ``GIS_STORE`` names the GeoPackage
    store; by default ``<GIS_DATA_DIR>/store.gpkg``. When only ``GIS_STORE`` is set, the data
    folder is the store's folder (as before ``GIS_DATA_DIR`` was honoured), so existing
    accounts are found; set both to keep the service's files apart from the store (and to run
    two services with separate accounts on one store).
    """

    model_config = SettingsConfigDict(env_prefix="GIS_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="folder for accounts, the session "
                           "key, uploads and logs (and the store unless GIS_STORE is set)")
    store: str | None = Field(default=None, description="the store: a GeoPackage path, or a "
                              "PostGIS database URL (postgresql://user@host:5432/db?schema=gis)")

    @field_validator("store", mode="before")
    @classmethod
    def _path_as_text(cls, value: object) -> object:
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @model_validator(mode="after")
    def _data_dir_beside_a_lone_store(self) -> StorageSettings:
        if self.store is not None and "data_dir" not in self.model_fields_set \
                and not self.is_database:
            self.data_dir = Path(self.store).parent
        return self

    @property
    def is_database(self) -> bool:
        """True when the store is a PostGIS database (``postgresql://``), not a file."""
        return self.store is not None and self.store.startswith(("postgresql://", "postgres://"))

    @property
    def store_location(self) -> str:
        """What :func:`gis.store.open_store` opens: the GeoPackage path or the database URL."""
        return self.store if self.store is not None else str(self.data_dir / "store.gpkg")

    @property
    def store_path(self) -> Path:
        """The GeoPackage file of the store (a database store has none)."""
        if self.is_database:
            from gis.errors import StoreError

            raise StoreError("the store is a database, not a file", path="GIS_STORE")
        return Path(self.store_location)

    def store_exists(self) -> bool:
        """True when there is a store to open (a database is assumed to be there)."""
        return self.is_database or self.store_path.exists()


class IngestSettings(BaseSettings):
    """Defaults for reading and validating layers."""

    model_config = SettingsConfigDict(env_prefix="GIS_", extra="ignore")

    engine: Engine = Field(default=Engine.PYOGRIO, description="I/O engine: pyogrio or fiona")
    catalog: Path = Field(default_factory=lambda: shipped_folder("layers"),
                          description="layer catalog folder (layers/*.yaml; default the one "
                                      "shipped with the package)")
    rules: Path | None = Field(default=None, description="violation rules YAML (default "
                               "<catalog>/rules/violations.yaml)")
    area_tolerance: float = Field(
        default=0.05, description="relative difference recorded vs computed area before a warning"
    )
    user: str | None = Field(default=None, description="who is recorded in the ingest log")


class MapSettings(BaseSettings):
    """How maps are written."""

    model_config = SettingsConfigDict(env_prefix="GIS_MAP_", extra="ignore")

    assets: Literal["inline", "cdn"] = Field(
        default="inline", description="inline: Leaflet inside each HTML file (works offline); "
                                      "cdn: loaded from unpkg.com (needs the internet)")


class ServiceSettings(BaseSettings):
    """The web service (``gis serve``)."""

    model_config = SettingsConfigDict(env_prefix="GIS_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=32)
    public_read: bool = Field(default=False, description="let anyone read maps, tiles, OGC API")
    residents_page: bool = Field(default=False, description="publish the residents' page "
                                                            "(confirmed cases, project progress)")
    session_hours: float = Field(default=12.0, gt=0)
    max_upload_mb: int = Field(default=200, ge=1)
    login_attempts: int = Field(default=5, ge=1, description="failed sign-ins of one name from "
                                "one address in 15 minutes before that pair waits")
    login_address_attempts: int = Field(default=50, ge=1, description="failed sign-ins from one "
                                        "address (any names) in 15 minutes before it waits")
    secret_key: str | None = Field(default=None, description="session signing key (default: "
                                   "generated on first run in <data_dir>/secret.key)")
    maps: Path = Field(default_factory=lambda: shipped_folder("maps"),
                       description="folder of map YAMLs (default the one shipped with the "
                                   "package)")
    tile_cache_mb: int = Field(default=256, ge=0, description="memory for cached vector tiles")
