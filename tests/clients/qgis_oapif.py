"""Run with Debian python3 (QGIS 3.22 bindings): load OGC API – Features collections as QGIS
layers (provider "OAPIF") with HTTP Basic credentials from an authcfg, and print one line per
collection: validity, feature count (numberMatched), features read, CRS and, for COLLECTION:FIELD,
the first feature's id and FIELD value.

Usage: python3 qgis_oapif.py URL USER PASSWORD COLLECTION[:FIELD] [COLLECTION[:FIELD] ...]
The QGIS profile and its authentication database go under $HOME (the test gives a fresh one).
QGIS 3.22 crashes on exit (and on a 401 answer), hence os._exit after the answer.
"""
import os
import sys

os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import (
    QgsApplication,
    QgsAuthMethodConfig,
    QgsDataSourceUri,
    QgsVectorLayer,
)

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
for arg in names:
    name, _, field = arg.partition(":")
    uri = QgsDataSourceUri()
    uri.setParam("url", url)
    uri.setParam("typename", name)
    uri.setAuthConfigId(config.id())
    layer = QgsVectorLayer(uri.uri(False), name, "OAPIF")
    if not layer.isValid():
        out.append(f"{name} valid=False error={layer.error().summary()}")
        continue
    count = layer.featureCount()
    features = list(layer.getFeatures())
    line = (f"{name} valid=True count={count} read={len(features)} "
            f"crs={layer.crs().authid()}")
    if field and features:
        line += f" first={features[0]['id']}|{features[0][field]}"
    out.append(line)
print("\n".join(out), flush=True)
os._exit(0)
