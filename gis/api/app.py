"""The FastAPI application: ``create_app()``.

The routers of the sub-packages, each with its prefix and tag, are included explicitly (see
``ROUTERS``); static files come from the package (our CSS/JS),
the ``xstatic-leaflet`` package (Leaflet) and ``gis/api/static/vendor`` (Leaflet plugins
installed from the npm registry by ``scripts/vendor``; never committed, never a CDN).
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from gis.api import errors
from gis.api.admin import routes as admin
from gis.api.auth import routes as auth
from gis.api.auth.security import UserDB, load_secret_key
from gis.api.cases import pages as case_pages
from gis.api.cases import routes as cases
from gis.api.dashboard import routes as dashboard
from gis.api.deps import Context
from gis.api.exports import routes as exports
from gis.api.extract import routes as extract
from gis.api.maps import routes as maps
from gis.api.ogc import routes as ogc
from gis.api.public import routes as public
from gis.api.tiles import routes as tiles
from gis.render.assets import leaflet_dir
from gis.settings import IngestSettings, ServiceSettings, StorageSettings
from gis.store import open_accounts

__all__ = ["create_app", "ROUTERS"]

STATIC = Path(__file__).parent / "static"
VENDOR = STATIC / "vendor"

#: Every router of the service, each included once (a test checks it); the order matters only
#: for overlapping paths (there are none).
ROUTERS: tuple[APIRouter, ...] = (
    auth.router,                          # /login, /logout
    maps.pages, maps.router,              # /, /maps/{id}; /api/maps
    tiles.router, tiles.layers,           # /tiles; /api/layers
    ogc.router,                           # /ogc
    exports.router, exports.pages,        # /api/export; /exports
    cases.router, case_pages.router,      # /api/violations; /cases
    dashboard.router, dashboard.pages,    # /api/clearance; /dashboard
    admin.router, admin.pages,            # /api/uploads; /admin/uploads
    public.router,                        # /public
    extract.router,                       # /api/parcels
)


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
    for router in ROUTERS:
        app.include_router(router)
    return app
