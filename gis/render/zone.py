"""The numbers a web page needs to turn WGS 84 lon/lat into a layer's VN-2000 zone coordinates.

Everything is derived from the CRS with :mod:`gis.crs` (the zone's central meridian and scale
from :func:`gis.crs.zone_of_crs`, false easting/northing and origin latitude from the zone's EPSG
definition, the ellipsoid from the CRS, the datum shift from the pinned EPSG:6960 Helmert string
``gis.crs.HELMERT_6960``), never written out per zone. The page inverts that Helmert (WGS 84 →
VN-2000 on the WGS 84 ellipsoid) and applies a Krüger-series Transverse Mercator.
"""

from __future__ import annotations

import re
from typing import Any

from pyproj import CRS

from gis.crs import HELMERT_6960, _tm_parameters, zone_of_crs
from gis.text import gettext

__all__ = ["helmert_parameters", "zone_label", "zone_parameters"]


def helmert_parameters(text: str = HELMERT_6960) -> dict[str, Any]:
    """The ``+proj=helmert`` string of :mod:`gis.crs` as numbers: translations (m), rotations
    (arc-seconds), scale (ppm) and the rotation convention, exactly as PROJ reads them.

    >>> h = helmert_parameters()
    >>> h["tx"], h["convention"]
    (-191.90441429, 'coordinate_frame')
    """
    values = dict(re.findall(r"\+(\w+)=(\S+)", text))
    if values.get("proj") != "helmert":
        raise ValueError(f"not a PROJ helmert step: {text!r}")
    out: dict[str, Any] = {
        "tx": float(values.get("x", 0.0)), "ty": float(values.get("y", 0.0)),
        "tz": float(values.get("z", 0.0)),
        "rx": float(values.get("rx", 0.0)), "ry": float(values.get("ry", 0.0)),
        "rz": float(values.get("rz", 0.0)), "s": float(values.get("s", 0.0)),
        "convention": values.get("convention", "position_vector"),
    }
    if out["convention"] not in ("coordinate_frame", "position_vector"):
        raise ValueError(f"unknown Helmert convention {out['convention']!r}")
    return out


def _dms(degrees: float) -> str:
    """105.75 → "105°45′" (whole minutes: every Vietnamese central meridian is one)."""
    total = round(degrees * 60)
    return f"{total // 60}°{total % 60:02d}′"


def zone_label(central_meridian: float, scale: float, lang: str) -> str:
    """"VN-2000 (KTT 105°45′, múi 3°)" / "VN-2000 UTM 48N (CM 105°00′, 6° zone)"."""
    utm = abs(scale - 0.9996) < 1e-9
    cm = _dms(central_meridian)
    prefix = f"VN-2000 UTM {round((central_meridian + 183) / 6)}N" if utm else "VN-2000"
    width = 6 if utm else 3
    return gettext("%(prefix)s (CM %(cm)s, %(width)s° zone)", lang, prefix=prefix, cm=cm,
                   width=width)


def zone_parameters(crs: CRS | str | int | None, lang: str = "vi") -> dict[str, Any] | None:
    """Transverse Mercator and datum-shift parameters of a VN-2000 zone CRS, else None.

    Keys: ``epsg``, ``label``, ``lon0``, ``lat0``, ``k0``, ``fe``, ``fn`` (degrees, metres),
    ``a``, ``f`` (the ellipsoid, shared by WGS 84 and VN-2000) and ``helmert`` (VN-2000 → WGS 84,
    see :func:`helmert_parameters`).

    >>> p = zone_parameters("EPSG:9210")
    >>> p["lon0"], p["k0"], p["fe"], p["label"]
    (105.75, 0.9999, 500000.0, 'VN-2000 (KTT 105°45′, múi 3°)')
    >>> zone_parameters("EPSG:32648") is None  # WGS 84 / UTM 48N is not VN-2000
    True
    """
    if crs is None:
        return None
    crs = CRS.from_user_input(crs)
    if not crs.is_projected:
        return None
    zone = zone_of_crs(crs)
    if zone is None:
        return None
    tm = _tm_parameters(zone.crs)
    if tm is None:  # every zone of gis.crs is a Transverse Mercator; defensive
        return None
    lon0, k0, fe, fn, lat0 = tm
    ellipsoid = zone.crs.ellipsoid
    assert ellipsoid is not None
    a = ellipsoid.semi_major_metre
    f = 1.0 / ellipsoid.inverse_flattening
    return {"epsg": zone.epsg, "label": zone_label(lon0, k0, lang), "lon0": lon0, "lat0": lat0,
            "k0": k0, "fe": fe, "fn": fn, "a": a, "f": f, "helmert": helmert_parameters()}
