"""Small drawing helpers shared by the reports, all on matplotlib's object API: a report makes its
own ``Figure`` with its own canvas and saves it; nothing here touches pyplot or ``rcParams``, so
figures drawn on several threads at once do not meet.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import shapely

__all__ = ["add_geometry", "add_polygon", "hline", "new_figure", "polygon_path", "png_bytes",
           "svg_bytes"]


def new_figure(size: tuple[float, float], *, canvas: str = "agg") -> Any:
    """A figure of ``size`` inches with its own canvas (``agg`` for PNG/SVG, ``pdf``)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    if canvas == "pdf":
        from matplotlib.backends.backend_pdf import FigureCanvasPdf

        FigureCanvasPdf(fig)
    else:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Any, *, dpi: float = 120) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def svg_bytes(fig: Any, *, dpi: float = 120) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", dpi=dpi)
    return buf.getvalue()


def polygon_path(geom: shapely.Geometry) -> Any:
    """The polygons of ``geom`` (holes included) as one matplotlib ``Path``; None without any."""
    from matplotlib.path import Path

    parts = []
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            codes = np.full(len(xy), Path.LINETO, dtype=np.uint8)
            codes[0], codes[-1] = Path.MOVETO, Path.CLOSEPOLY
            parts.append(Path(xy, codes))
    return Path.make_compound_path(*parts) if parts else None


def add_polygon(ax: Any, geom: shapely.Geometry, **style: Any) -> None:
    """Draw the polygons of ``geom`` on ``ax`` with ``style`` (PathPatch keywords)."""
    from matplotlib.patches import PathPatch

    path = polygon_path(geom)
    if path is not None:
        ax.add_patch(PathPatch(path, **style))


def add_geometry(ax: Any, geom: shapely.Geometry, *, facecolor: str, edgecolor: str,
                 linewidth: float, alpha: float | None = None, markersize: float = 60) -> None:
    """Any geometry as geopandas would plot it: polygons filled, lines in the edge colour,
    points as markers of area ``markersize`` (pt²)."""
    parts = shapely.get_parts(geom)
    polygons = [g for g in parts if g.geom_type == "Polygon"]
    if polygons:
        add_polygon(ax, shapely.MultiPolygon(polygons), facecolor=facecolor, edgecolor=edgecolor,
                    linewidth=linewidth, alpha=alpha)
    for g in parts:
        if g.geom_type in ("LineString", "LinearRing"):
            xy = np.asarray(g.coords)
            ax.plot(xy[:, 0], xy[:, 1], color=edgecolor, linewidth=linewidth, alpha=alpha)
        elif g.geom_type == "GeometryCollection":
            add_geometry(ax, g, facecolor=facecolor, edgecolor=edgecolor, linewidth=linewidth,
                         alpha=alpha, markersize=markersize)
    points = [g for g in parts if g.geom_type == "Point" and not g.is_empty]
    if points:
        ax.scatter([p.x for p in points], [p.y for p in points], s=markersize,
                   facecolor=facecolor, edgecolor=edgecolor, linewidth=linewidth, alpha=alpha)


def hline(fig: Any, x0: float, x1: float, y: float) -> Any:
    """A thin grey rule across the figure from ``x0`` to ``x1`` at ``y`` (figure fractions)."""
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], transform=fig.transFigure, color="#9e9e9e", linewidth=0.5)
