"""The web service: FastAPI application, REST API, OGC API – Features, vector tiles, pages."""

from gis.api.app import create_app

__all__ = ["create_app"]
