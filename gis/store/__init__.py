"""Stores: where parcels, projects, buildings, wards, quarantine and the ingest log live.

:class:`Store` is the protocol callers use; :class:`GeoPackageStore` is the embedded default. A
PostGIS backend implements the same protocol. :class:`AccountStore` (``open_accounts``) keeps the
web service's users, sessions and tokens beside the layers.
"""

from gis.store.accounts import AccountStore, open_accounts
from gis.store.base import IngestLogEntry, Store, open_store
from gis.store.geopackage import GeoPackageStore

__all__ = ["Store", "IngestLogEntry", "GeoPackageStore", "open_store", "AccountStore",
           "open_accounts"]
