"""Deployment settings, read from the environment with the ``GIS_`` prefix.

Nothing else in the package reads ``os.environ``. Settings are built at the CLI entry point or at
application start, never at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gis.io.engines import Engine

__all__ = ["StorageSettings", "IngestSettings", "MapSettings"]


class StorageSettings(BaseSettings):
    """Where the data lives.

    ``GIS_STORE`` names the GeoPackage store; by default ``<GIS_DATA_DIR>/store.gpkg``.
    """

    model_config = SettingsConfigDict(env_prefix="GIS_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="folder for the store and uploads")
    store: Path | None = Field(default=None, description="path of the GeoPackage store")

    @property
    def store_path(self) -> Path:
        """The GeoPackage file of the store."""
        return self.store if self.store is not None else self.data_dir / "store.gpkg"


class IngestSettings(BaseSettings):
    """Defaults for reading and validating layers."""

    model_config = SettingsConfigDict(env_prefix="GIS_", extra="ignore")

    engine: Engine = Field(default=Engine.PYOGRIO, description="I/O engine: pyogrio or fiona")
    catalog: Path = Field(default=Path("layers"), description="layer catalog folder (layers/*.yaml)")
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
