"""Run with Debian python3 (QGIS 3.22 bindings): load OGC API – Features collections as QGIS
layers (provider "OAPIF") with HTTP Basic credentials from an authcfg, and print for each
collection its validity, feature count (numberMatched), features read and CRS, one line each.

Usage: python3 qgis_oapif.py URL USER PASSWORD COLLECTION [COLLECTION ...]
The QGIS profile and its authentication database go under $HOME (the test gives a temporary one).
QGIS 3.22 crashes on exit, hence os._exit after the answer.
"""
import os
import sys

os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import (QgsApplication, QgsAuthMethodConfig, QgsDataSourceUri,  # noqa: E402
                       QgsVectorLayer)

app = QgsApplication([], False)
QgsApplication.setPrefixPath("/usr", True)
app.initQgis()
url, user, password, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
auth = QgsApplication.authManager()
auth.setMasterPassword("qgis-test-master-password", True)
config = QgsAuthMethodConfig()
config.setName("gis-service")
config.setMethod("Basic")
config.setConfig("username", user)
config.setConfig("password", password)
stored = auth.storeAuthenticationConfig(config)
print(f"authcfg stored={bool(stored)} id={config.id()}", flush=True)
out = []
for name in names:
    uri = QgsDataSourceUri()
    uri.setParam("url", url)
    uri.setParam("typename", name)
    uri.setAuthConfigId(config.id())
    layer = QgsVectorLayer(uri.uri(False), name, "OAPIF")
    count = layer.featureCount() if layer.isValid() else -1
    read = sum(1 for _ in layer.getFeatures()) if layer.isValid() else -1
    out.append(f"{name} valid={layer.isValid()} count={count} read={read} "
               f"crs={layer.crs().authid()}")
    if not layer.isValid():
        out.append(f"  error: {layer.error().summary()}")
print("\n".join(out), flush=True)
os._exit(0)
