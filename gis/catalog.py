"""The layer catalog: typed models of ``layers/*.yaml`` (and their styles).

Each YAML is loaded with ``yaml.safe_load`` into a pydantic model with ``extra="forbid"``; a
failure becomes :class:`~gis.errors.LayerConfigError` carrying the file and the key path.
``gis catalog validate`` checks a folder; ``gis catalog schema`` prints the JSON Schema.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gis.encoding import TextEncoding
from gis.errors import LayerConfigError
from gis.fields import ALIASES, LayerKind
from gis.landuse import PublicLandRule

__all__ = ["Title", "SourceSpec", "StyleSpec", "StyleRule", "load_style", "LayerSpec", "Catalog", "load_layer_spec",
           "load_catalog", "SheetSpec", "load_sheet_spec", "MapLayer", "MapSpec", "load_map_spec"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Title(_Model):
    """A title in Vietnamese and English (written in the catalog's YAML, beside the data)."""

    vi: str
    en: str

    def text(self, lang: str) -> str:
        """The title in ``lang`` (Vietnamese for a language it does not have)."""
        return {"vi": self.vi, "en": self.en}.get(lang, self.vi)


class SourceSpec(_Model):
    """Where a layer's data comes from when it is not given on the command line."""

    path: str | None = None
    layer: str | None = None
    driver: str | None = None


class StyleRule(_Model):
    """A variant of a layer's style for features whose fields match ``when`` (all of them; each
    field lists accepted values), e.g. candidates from detection dashed, key projects thicker.
    The first matching rule wins; the legend shows each rule with its label."""

    when: dict[str, tuple[str | int | bool, ...]]
    label: Title
    dash: str | None = Field(default=None, description="SVG dash pattern, e.g. '4 3'")
    stroke_width: float | None = None
    stroke_color: str | None = None
    fill_opacity: float | None = None


class StyleSpec(_Model):
    """How a layer is drawn: a categorical colour per value of ``by``, and optional rules."""

    by: str | None = None
    colors: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, Title] = Field(default_factory=dict)
    default_color: str = "#9e9e9e"
    stroke_color: str = "#424242"
    stroke_width: float = 0.5
    fill_opacity: float = 0.6
    rules: tuple[StyleRule, ...] = ()


def load_style(path: str | os.PathLike[str]) -> StyleSpec:
    """Load a style YAML (``layers/styles/*.yaml``); errors name the file and the key."""
    path = Path(path)
    data = _load_yaml(path)
    try:
        return StyleSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise LayerConfigError(first["msg"], path=path, field=_key_path(first)) from None


class LayerSpec(_Model):
    """One layer of the catalog (``layers/<id>.yaml``)."""

    id: str
    kind: LayerKind
    title: Title
    source: SourceSpec = SourceSpec()
    crs: str | None = Field(default=None, description="CRS of the source when it declares none")
    province: str | None = Field(default=None, description="province, to pick the VN-2000 zone")
    geometry_type: Literal["Polygon", "Point", "LineString"] = "Polygon"
    id_field: str | None = None
    fields: dict[str, str] = Field(default_factory=dict, description="model field -> source field")
    defaults: dict[str, str | int | float] = Field(default_factory=dict)
    encoding: dict[str, TextEncoding] = Field(default_factory=dict,
                                              description="source column -> text encoding")
    public_land: tuple[PublicLandRule, ...] | None = None
    area_tolerance: float | None = None
    style: StyleSpec | str | None = None
    popup: tuple[str, ...] = ()

    @field_validator("fields")
    @classmethod
    def _known_model_fields(cls, value: dict[str, str], info):  # type: ignore[no-untyped-def]
        kind = info.data.get("kind")
        if kind is not None:
            unknown = [k for k in value if k not in ALIASES[kind]]
            if unknown:
                raise ValueError(f"unknown model field(s) {unknown}; valid for {kind.value}: "
                                 f"{', '.join(ALIASES[kind])}")
        return value


class SheetSpec(_Model):
    """How to read a clearance status sheet (``layers/clearance.yaml`` or ``--config``)."""

    sheet: str | None = Field(default=None, description="XLSX sheet name (default the first)")
    columns: dict[str, str] = Field(default_factory=dict,
                                    description="model field -> column header, overriding aliases")

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        from gis.core.clearance.columns import SHEET_ALIASES

        unknown = [k for k in value if k not in SHEET_ALIASES]
        if unknown:
            raise ValueError(f"unknown model field(s) {unknown}; valid: {', '.join(SHEET_ALIASES)}")
        return value


def load_sheet_spec(path: str | os.PathLike[str]) -> SheetSpec:
    """Load a clearance-sheet YAML; errors name the file and the key."""
    path = Path(path)
    data = _load_yaml(path)
    if not isinstance(data, dict):
        raise LayerConfigError("expected a mapping at the top level", path=path)
    data = data.get("clearance_sheet", data)
    try:
        return SheetSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise LayerConfigError(first["msg"], path=path, field=_key_path(first)) from None


class Catalog(_Model):
    """All layer specs of a folder, by id."""

    layers: dict[str, LayerSpec]
    folder: Path | None = None

    def for_kind(self, kind: LayerKind | str) -> LayerSpec | None:
        """The spec whose id equals the kind, else the first of that kind."""
        kind = LayerKind.parse(kind)
        if kind.value in self.layers:
            return self.layers[kind.value]
        return next((s for s in self.layers.values() if s.kind is kind), None)


def _key_path(error: dict[str, object]) -> str:
    return ".".join(str(p) for p in error.get("loc", ()))  # type: ignore[union-attr]


def _load_yaml(path: Path) -> object:
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as exc:
        raise LayerConfigError(f"cannot read: {exc.strerror}", path=path) from None
    except yaml.YAMLError as exc:
        raise LayerConfigError(f"not valid YAML: {exc}", path=path) from None


def load_layer_spec(path: str | os.PathLike[str],
                    catalog: str | os.PathLike[str] | None = None) -> LayerSpec:
    """Load and validate one layer YAML; a style named by file is looked for beside the YAML,
    then in the ``catalog`` folder (so a ``--config`` copied elsewhere keeps its styles)."""
    path = Path(path)
    data = _load_yaml(path)
    if not isinstance(data, dict):
        raise LayerConfigError("expected a mapping at the top level", path=path)
    style = data.get("style")
    if isinstance(style, str):
        places = [path.parent] + ([Path(catalog)] if catalog is not None else [])
        found = next((p / style for p in places if (p / style).is_file()), path.parent / style)
        data = {**data, "style": load_style(found.resolve())}
    try:
        return LayerSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise LayerConfigError(f"{first['msg']}{more}", path=path, field=_key_path(first)) from None


def load_catalog(folder: str | os.PathLike[str]) -> Catalog:
    """Load every ``*.yaml`` directly in ``folder`` (styles live in ``folder/styles``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LayerConfigError("no such catalog folder", path=folder)
    layers: dict[str, LayerSpec] = {}
    for path in sorted(folder.glob("*.yaml")):
        spec = load_layer_spec(path)
        if spec.id in layers:
            raise LayerConfigError(f"duplicate layer id {spec.id!r}", path=path, field="id")
        layers[spec.id] = spec
    return Catalog(layers=layers, folder=folder)


class MapLayer(_Model):
    """A layer on a map: a catalog layer (``layer``) or a store table with its own style."""

    id: str | None = Field(default=None, description="key of the layer on the map (default the "
                                                    "layer or table name)")
    layer: str | None = Field(default=None, description="id of a layers/*.yaml layer")
    table: str | tuple[str, ...] | None = Field(
        default=None, description="store table (default the layer's kind); a list means the "
                                  "first one the store holds")
    title: Title | None = None
    style: StyleSpec | str | None = Field(
        default=None, description="a style, or a style file relative to the catalog folder")
    popup: tuple[str, ...] = ()
    where: dict[str, tuple[str | int | bool, ...]] = Field(
        default_factory=dict, description="keep only features whose fields take these values")
    progress: tuple[str, ...] = Field(
        default=(), description="percentage fields shown as bars in the popup")
    show: bool = True


class MapSpec(_Model):
    """A map (``maps/<id>.yaml``)."""

    id: str
    title: Title
    layers: tuple[MapLayer, ...]
    base_map: Literal["none", "osm"] | str = Field(
        default="none", description="none, osm, or a local tile URL such as "
                                    "http://tiles.local/{z}/{x}/{y}.png")
    base_map_attribution: str = "Bản đồ nền nội bộ"
    max_features: int = Field(default=60_000, ge=1,
                              description="beyond this a static file is refused (use the service)")


def load_map_spec(path: str | os.PathLike[str]) -> MapSpec:
    """Load and check a map YAML."""
    path = Path(path)
    data = _load_yaml(path)
    if not isinstance(data, dict):
        raise LayerConfigError("expected a mapping at the top level", path=path)
    try:
        return MapSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise LayerConfigError(first["msg"], path=path, field=_key_path(first)) from None


def vocabulary_path() -> Path:
    """The clearance vocabulary shipped with the service (``layers/sheets/vocabulary.yaml``)."""
    from gis.resources import shipped_folder

    return shipped_folder("layers") / "sheets" / "vocabulary.yaml"


def load_vocabulary(path: str | os.PathLike[str] | None = None):  # type: ignore[no-untyped-def]
    """The words boards write (statuses, abbreviations, capital sources, total rows), typed.

    Errors name the file and the key.
    """
    from gis.core.clearance.wording import Vocabulary

    path = Path(path) if path is not None else vocabulary_path()
    key = (str(path), path.stat().st_mtime_ns if path.exists() else 0)
    cached = _VOCABULARIES.get(key)
    if cached is not None:
        return cached
    data = _load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("statuses"), dict):
        raise LayerConfigError("expected a mapping with 'statuses:'", path=path)
    try:
        vocabulary = Vocabulary.from_mapping(data)
    except (ValueError, TypeError) as exc:
        raise LayerConfigError(f"not a vocabulary: {exc}", path=path) from None
    _VOCABULARIES[key] = vocabulary
    return vocabulary


_VOCABULARIES: dict[tuple[str, int], object] = {}
