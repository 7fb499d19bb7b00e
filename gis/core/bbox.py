"""The one parser of bounding boxes typed by users and clients (``minx,miny,maxx,maxy``)."""

from __future__ import annotations

import math

from gis.errors import GisError

__all__ = ["parse_bbox"]


def parse_bbox(text: str | None, *, six: bool = False, lonlat: bool = False,
               name: str = "bbox") -> tuple[float, float, float, float] | None:
    """Four finite numbers, min not above max, or None for an empty value.

    ``six`` accepts OGC API's 3-D form (``minx,miny,minz,maxx,maxy,maxz``, heights dropped);
    ``lonlat`` requires longitudes within ±180 and latitudes within ±90. The error names the
    parameter.

    >>> parse_bbox("105.8, 21.0, 105.9, 21.1")
    (105.8, 21.0, 105.9, 21.1)
    >>> parse_bbox("1,2,3")
    Traceback (most recent call last):
    gis.errors.GisError: field bbox: bbox '1,2,3' must be 4 numbers: minx,miny,maxx,maxy
    """
    if text is None or not str(text).strip():
        return None
    try:
        numbers = [float(p) for p in str(text).split(",")]
    except ValueError:
        numbers = []
    if six and len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise GisError(f"{name} {text!r} must be 4 numbers: minx,miny,maxx,maxy", field=name,
                       value=text)
    minx, miny, maxx, maxy = numbers
    if minx > maxx or miny > maxy:
        raise GisError(f"{name} {text!r}: the lower corner must come first, min must be below "
                       "max (minx,miny,maxx,maxy; boxes over the antimeridian are not supported)",
                       field=name, value=text)
    if lonlat and not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GisError(f"{name} {text!r} is not minlon,minlat,maxlon,maxlat in WGS 84",
                       field=name, value=text)
    return minx, miny, maxx, maxy
