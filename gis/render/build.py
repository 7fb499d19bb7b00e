"""Build a self-contained, offline web map of store layers with folium.

Data goes to WGS 84 through the pinned EPSG:6960 transformation, is simplified for display only
(never for exports), quantised to ~0.1 m (6 decimals) and trimmed to the properties the popups
and styles use (:mod:`gis.render.payload`). Each layer is one Leaflet GeoJSON layer on a canvas
renderer with one style function in JavaScript (:mod:`gis.render.elements`); popups, tooltips
and the legend are built with ``textContent``, so a note holding ``<script>`` shows as text.
A layer of more than :data:`gis.render.elements.BULK_FEATURES` features (a ward's parcels) is
one bulk canvas layer instead: decoded into typed arrays, styled once, only what is in view
redrawn on a move or zoom.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from gis.catalog import Catalog, MapSpec, StyleSpec, Title, load_style
from gis.errors import GisError
from gis.render.assets import LEAFLET_CSS, LEAFLET_JS, cdn_assets, inline_assets
from gis.render.elements import DataLayer, Frame, FrameEnd
from gis.render.labels import field_formats, field_labels, value_labels, yes_no
from gis.render.payload import display_payload
from gis.text import gettext

__all__ = ["ResolvedLayer", "resolve_layers", "layer_frames", "style_fields", "build_map",
           "render_html", "layer_config", "map_legend"]


@dataclass(frozen=True)
class ResolvedLayer:
    """A map layer with everything needed to draw it."""

    key: str
    tables: tuple[str, ...]
    title: Title
    style: StyleSpec
    popup: tuple[str, ...]
    show: bool
    where: tuple[tuple[str, tuple[object, ...]], ...] = ()
    progress: tuple[str, ...] = ()


def resolve_layers(spec: MapSpec, catalog: Catalog) -> list[ResolvedLayer]:
    """Combine the map's layer entries with the catalog's layer YAMLs and style files."""
    out: list[ResolvedLayer] = []
    for i, entry in enumerate(spec.layers):
        base = catalog.layers.get(entry.layer) if entry.layer else None
        if entry.layer and base is None:
            raise GisError(f"map {spec.id}: layer {entry.layer!r} is not in the catalog; known: "
                           f"{', '.join(catalog.layers)}", field=f"layers.{i}.layer")
        table = entry.table or (base.kind.value if base else None)
        title = entry.title or (base.title if base else None)
        if table is None or title is None:
            raise GisError(f"map {spec.id}: layer {i} needs `layer:` or `table:` and `title:`",
                           field=f"layers.{i}")
        tables = (table,) if isinstance(table, str) else tuple(table)
        style = entry.style
        if isinstance(style, str):
            if catalog.folder is None:
                raise GisError(f"map {spec.id}: style file {style!r} needs a catalog folder",
                               field=f"layers.{i}.style")
            style = load_style(catalog.folder / style)
        style = style or (base.style if base and isinstance(base.style, StyleSpec) else None) \
            or StyleSpec()
        popup = entry.popup or (base.popup if base else ())
        key = entry.id or entry.layer or tables[0]
        if any(r.key == key for r in out):
            raise GisError(f"map {spec.id}: two layers are called {key!r}; give one an `id:`",
                           field=f"layers.{i}.id")
        out.append(ResolvedLayer(key, tables, title, style, tuple(popup), entry.show,
                                 tuple(entry.where.items()), tuple(entry.progress)))
    return out


def _age_days(values: pd.Series, today: dt.date) -> pd.Series:
    stamps = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    local = stamps.dt.tz_convert("Asia/Ho_Chi_Minh").dt.tz_localize(None).dt.normalize()
    return (pd.Timestamp(today) - local).dt.days  # calendar days in Vietnam's time zone


def layer_frames(layers: list[ResolvedLayer], tables: dict[str, gpd.GeoDataFrame], *,
                 today: dt.date | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Each layer's rows: the first of its tables the store holds, filtered by ``where``; a case
    layer gains ``age_days`` (days since it was recorded, on ``today``)."""
    today = today or dt.date.today()
    out: dict[str, gpd.GeoDataFrame] = {}
    for layer in layers:
        name = next((t for t in layer.tables if t in tables), None)
        if name is None:
            continue
        frame = tables[name]
        for field, accepted in layer.where:
            if field not in frame.columns:
                raise GisError(f"layer {layer.key}: `where` names {field!r}, which table {name} "
                               "does not have", field=f"{layer.key}.where")
            values = frame[field].astype(object).map(
                lambda v: int(v) if isinstance(v, (bool, np.bool_)) else v)
            wanted = [int(a) if isinstance(a, bool) else a for a in accepted]
            frame = frame[values.isin(wanted)]
        if "age_days" in layer.popup and "created_at" in frame.columns:
            frame = frame.assign(age_days=_age_days(frame["created_at"], today))
        out[layer.key] = frame
    return out


def map_legend(layers: list[ResolvedLayer], frames: dict[str, gpd.GeoDataFrame],
               lang: str) -> list[dict[str, object]]:
    """The legend of a map: one group per layer the map shows (a layer missing from ``frames``
    has none), a swatch per category of its style present in its frame, then one per style
    rule; an empty frame gets a "(none)" entry. The static map and the service's map page use it
    (the service passes frames holding only the style's values present)."""
    def pick(title: Title) -> str:
        return title.text(lang)

    legend = []
    for layer in layers:
        if layer.key not in frames:
            continue  # not in the store: no legend entry for a layer the map does not show
        style = layer.style
        frame = frames[layer.key]
        present = set(frame[style.by].dropna().astype(str)) if style.by in frame.columns else None
        items: list[dict[str, object]] = [
            {"color": color, "label": pick(style.labels[v]) if v in style.labels else v}
            for v, color in style.colors.items() if present is None or v in present]
        if frame.empty:
            items = [{"color": None, "label": gettext("(none)", lang)}]
        else:
            if not items:
                items = [{"color": style.default_color, "label": pick(layer.title)}]
            items += [{"color": None, "dash": bool(rule.dash),
                       "stroke": rule.stroke_color or style.stroke_color, "label": pick(rule.label)}
                      for rule in style.rules]
        legend.append({"key": layer.key, "title": pick(layer.title), "items": items})
    return legend


def layer_config(layer: ResolvedLayer, lang: str) -> dict[str, object]:
    """What the map's script needs to draw and explain one layer, as plain JSON values: key,
    title, popup and progress fields with their labels, number formats and value labels, and
    the style (colours by value, rules). The static map and the service's map page use it."""
    style = layer.style
    fields = tuple(dict.fromkeys((*layer.popup, *layer.progress)))
    return {
        "key": layer.key, "title": layer.title.text(lang),
        "popup": list(layer.popup), "progress": list(layer.progress),
        "tooltip": layer.popup[0] if layer.popup else None,
        "labels": field_labels(fields, lang), "formats": field_formats(fields, lang),
        "values": value_labels(style, fields, lang),
        "booleans": [f for f in fields if f in ("key_project", "handed_over", "is_public",
                                                "complaint", "inside")],
        "style": {"by": style.by, "colors": style.colors, "default_color": style.default_color,
                  "stroke_color": style.stroke_color, "stroke_width": style.stroke_width,
                  "fill_opacity": style.fill_opacity,
                  "rules": [{"when": {k: list(v) for k, v in r.when.items()}, "dash": r.dash,
                             "stroke_width": r.stroke_width, "stroke_color": r.stroke_color,
                             "fill_opacity": r.fill_opacity} for r in style.rules]},
    }


def style_fields(style: StyleSpec) -> list[str]:
    """The fields a layer's style reads (its ``by`` field and those its rules test)."""
    return [*([style.by] if style.by else []), *(k for r in style.rules for k in r.when)]


def build_map(spec: MapSpec, layers: list[ResolvedLayer], frames: dict[str, gpd.GeoDataFrame],
              *, lang: str = "vi") -> folium.Map:
    """The folium map (pure: frames in, map out; the caller saves it)."""
    from gis.io.write import reproject
    from gis.render.tools import MapTools

    total = sum(len(f) for f in frames.values())
    if total > spec.max_features:
        raise GisError(f"{total:,} features are more than a static map file can carry "
                       f"({spec.max_features:,}); narrow it with --ward or --project, or open the "
                       "map in the web service (`gis serve`)", field="max_features")
    bounds = None
    # fit to the content, not to the wards around it (a project map shows its whole ward)
    content = [f for k, f in frames.items() if k != "wards" and len(f)] or list(frames.values())
    for frame in content:
        if len(frame):
            b = reproject(frame[["geometry"]], "EPSG:4326").total_bounds
            bounds = b if bounds is None else np.r_[np.minimum(bounds[:2], b[:2]),
                                                     np.maximum(bounds[2:], b[2:])]
    tiles = None if spec.base_map == "none" else (
        "OpenStreetMap" if spec.base_map == "osm" else spec.base_map)
    fmap = _OfflineMap(location=[0, 0], zoom_start=2, tiles=tiles, control_scale=True,
                       prefer_canvas=True, max_zoom=22, zoom_snap=0.25,
                       attr=None if tiles in (None, "OpenStreetMap") else spec.base_map_attribution)
    if bounds is not None:  # the view first: layers are then projected once, at their zoom
        fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    fmap.add_child(Frame(map_legend(layers, frames, lang), lang, yes_no(lang),
                         collapsed=len(frames) > 6))
    for layer in layers:
        frame = frames.get(layer.key)
        if frame is None:
            continue
        keep = [*layer.popup, *layer.progress, *style_fields(layer.style)]
        fmap.add_child(DataLayer(layer_config(layer, lang), display_payload(frame, keep),
                                 layer.show))
    crs = next((f.crs for f in frames.values() if f.crs is not None), None)
    fmap.add_child(MapTools(lang, crs=crs))
    fmap.add_child(FrameEnd())
    return fmap


class _OfflineMap(folium.Map):
    """folium's Map with only Leaflet, referenced locally and inlined at save time."""

    default_js = [("leaflet", LEAFLET_JS)]
    default_css = [("leaflet_css", LEAFLET_CSS)]


def render_html(fmap: folium.Map, *, assets: str = "inline") -> str:
    """The HTML of a map: self-contained (``assets="inline"``, the default) or loading Leaflet
    from a CDN (``"cdn"``, for those who want a smaller file and have the internet)."""
    html = fmap.get_root().render()
    return cdn_assets(html) if assets == "cdn" else inline_assets(html)
