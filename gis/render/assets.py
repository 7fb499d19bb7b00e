"""Leaflet's JS and CSS, from the ``xstatic-leaflet`` package installed with the project (never
from a CDN at run time), inlined into a self-contained HTML file."""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

__all__ = ["leaflet_dir", "inline_assets", "cdn_assets", "LEAFLET_JS", "LEAFLET_CSS"]

LEAFLET_JS = "leaflet.js"
LEAFLET_CSS = "leaflet.css"


def leaflet_dir() -> Path:
    """Folder of the installed Leaflet files."""
    import xstatic.pkg.leaflet as xleaflet

    return Path(xleaflet.BASE_DIR)


@lru_cache(maxsize=1)
def _leaflet_css() -> str:
    folder = leaflet_dir()
    css = (folder / LEAFLET_CSS).read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        image = folder / match.group(1)
        if not image.exists():
            return match.group(0)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return re.sub(r"url\((images/[^)]+\.png)\)", data_uri, css)


@lru_cache(maxsize=1)
def _leaflet_js() -> str:
    return (leaflet_dir() / LEAFLET_JS).read_text(encoding="utf-8")


def inline_assets(html: str) -> str:
    """Replace the local asset references folium wrote with the files' contents."""
    html = html.replace(f'<script src="{LEAFLET_JS}"></script>',
                        f"<script>{_leaflet_js()}</script>")
    return re.sub(rf'<link rel="stylesheet" href="{re.escape(LEAFLET_CSS)}"\s*/>',
                  lambda _: f"<style>{_leaflet_css()}</style>", html)


def cdn_assets(html: str) -> str:
    """Point the asset references at a CDN instead (same Leaflet version as the package)."""
    import xstatic.pkg.leaflet as xleaflet

    base = f"https://unpkg.com/leaflet@{xleaflet.VERSION}/dist"
    html = html.replace(f'<script src="{LEAFLET_JS}"></script>',
                        f'<script src="{base}/leaflet.js"></script>')
    return re.sub(rf'<link rel="stylesheet" href="{re.escape(LEAFLET_CSS)}"\s*/>',
                  lambda _: f'<link rel="stylesheet" href="{base}/leaflet.css"/>', html)
