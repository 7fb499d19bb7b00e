"""Land-parcel management for Vietnamese land offices (quản lý thửa đất).

Public API: read and validate cadastral layers, keep them in a store, transform VN-2000.
"""

from gis.errors import (
    CRSError,
    DataSourceError,
    FieldMappingError,
    GisError,
    LayerConfigError,
    ParcelValidationError,
    StoreError,
    UnsafeArchiveError,
)
from gis.fields import LayerKind
from gis.ingest import ingest_layer, prepare_layer
from gis.store import GeoPackageStore, Store, open_store

__all__ = [
    "GisError", "DataSourceError", "UnsafeArchiveError", "LayerConfigError", "FieldMappingError",
    "CRSError", "ParcelValidationError", "StoreError", "LayerKind", "prepare_layer",
    "ingest_layer", "Store", "GeoPackageStore", "open_store",
]
__version__ = "0.1.0"
