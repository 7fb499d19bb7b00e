"""Run with Debian python3 (QGIS 3.22 bindings): print validity, count and CRS of GeoPackage layers.

Usage: python3 qgis_layers.py FILE.gpkg LAYER [LAYER ...]. QGIS 3.22 crashes on exit, hence os._exit.
"""
import os
import sys

os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsVectorLayer

app = QgsApplication([], False)
QgsApplication.setPrefixPath("/usr", True)
app.initQgis()
path = sys.argv[1]
out = []
for name in sys.argv[2:]:
    layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
    out.append(f"{name} valid={layer.isValid()} count={layer.featureCount()} crs={layer.crs().authid()}")
print("\n".join(out), flush=True)
os._exit(0)
