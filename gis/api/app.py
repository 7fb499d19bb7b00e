"""The FastAPI application: ``create_app()``.

One router per resource (see ``ROUTERS``); static files come from the package (our CSS/JS),
the ``xstatic-leaflet`` package (Leaflet) and ``gis/api/static/vendor`` (Leaflet plugins
installed from the npm registry by ``scripts/vendor``; never committed, never a CDN).
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from gis.api import errors
from gis.api.auth.security import UserDB, load_secret_key
from gis.api.deps import Context
from gis.render.assets import leaflet_dir
from gis.settings import IngestSettings, ServiceSettings, StorageSettings
from gis.store import open_accounts

__all__ = ["create_app", "ROUTERS"]

STATIC = Path(__file__).parent / "static"
VENDOR = STATIC / "vendor"

#: Modules under gis.api with a ``router``; order matters only for overlapping paths.
ROUTERS = ("pages", "maps.routes", "tiles.routes", "ogc.routes", "exports.routes", "cases.routes",
           "dashboard.routes", "admin.routes", "public.routes", "extract.routes")


def create_app(storage: StorageSettings | None = None, service: ServiceSettings | None = None,
               ingest: IngestSettings | None = None) -> FastAPI:
    """The service for the store the settings name (``GIS_STORE``/``GIS_DATA_DIR``)."""
    storage = storage or StorageSettings()
    service = service or ServiceSettings()
    ingest = ingest or IngestSettings()
    # accounts and the session key: in <data_dir> for a GeoPackage store, never beside it
    accounts = open_accounts(storage.data_dir, storage.store_location)
    app = FastAPI(title="GIS land-parcel service", version="1",
                  description="Parcels, land clearance (GPMB) and violations for Vietnamese land "
                              "offices. Authenticate with a bearer token (`gis users token`), "
                              "HTTP Basic, or the browser session.")
    app.state.gis = Context(storage=storage, ingest=ingest, service=service,
                            users=UserDB(accounts),
                            secret=load_secret_key(accounts, service.secret_key),
                            root=Path.cwd(), basic_cache={})
    errors.install(app)
    app.mount("/static/leaflet", StaticFiles(directory=leaflet_dir()), name="leaflet")
    if VENDOR.is_dir():
        app.mount("/static/vendor", StaticFiles(directory=VENDOR), name="vendor")
    else:
        logging.getLogger("gis.api").warning(
            "no %s: run scripts/vendor to install the map plugins (drawing, vector tiles)", VENDOR)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for name in ROUTERS:
        module = importlib.import_module(f"gis.api.{name}")
        app.include_router(module.router)
    return app
