"""Synthetic district generator (``gis sample``): parcels, projects, buildings, wards,
a clearance sheet and a manifest of planted data problems, for tests and demos.

>>> from gis.sample import generate_district, write_sample
"""

from __future__ import annotations

from gis.sample.generate import CRS, SampleDistrict, generate_district
from gis.sample.tcvn3 import encode_tcvn3, fold_for_tcvn3
from gis.sample.write import write_sample

__all__ = [
    "CRS",
    "SampleDistrict",
    "encode_tcvn3",
    "fold_for_tcvn3",
    "generate_district",
    "write_sample",
]
