"""Typed detection rules, loaded from YAML (``layers/rules/violations.yaml``)."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gis.catalog import Title
from gis.errors import LayerConfigError

__all__ = ["Rule", "RuleSet", "load_rules", "KINDS"]

#: Decree 123/2024 categories a case may have (DOMAIN.md §3.2).
KINDS = {
    "construction_on_agricultural_land": ("Xây dựng trên đất nông nghiệp", "Art. 8, 10"),
    "encroachment_public_land": ("Lấn, chiếm đất công", "Art. 13"),
    "encroachment_neighbour": ("Lấn sang thửa liền kề", "Art. 13, 15"),
    "rice_land_conversion": ("Chuyển đất trồng lúa trái phép", "Art. 8"),
    "forest_land_conversion": ("Chuyển đất rừng trái phép", "Art. 9"),
    "non_agricultural_misuse": ("Sử dụng đất phi nông nghiệp sai mục đích", "Art. 12"),
    "land_destruction": ("Hủy hoại đất", "Art. 14"),
    "obstructing_land_use": ("Cản trở sử dụng đất", "Art. 15"),
    "unregistered_land": ("Không đăng ký đất đai", "Art. 16"),
    "illegal_transfer": ("Chuyển quyền không đủ điều kiện", "Art. 17"),
    "idle_land": ("Không sử dụng đất", "Art. 24"),
    "other": ("Vi phạm khác", ""),
}


class Rule(BaseModel):
    """One overlay rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    kind: str
    title: Title
    legal_basis: str = ""
    land_use: tuple[str, ...] = ()
    public: bool = False
    buildings_allowed: tuple[str, ...] = ()
    min_area_m2: float | None = None


class RuleSet(BaseModel):
    """The rules file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_area_m2: float = Field(default=5.0, ge=0)
    neighbour_tolerance_m2: float = Field(default=2.0, ge=0)
    rules: tuple[Rule, ...]

    def rule(self, kind: str) -> Rule | None:
        """The rule producing ``kind``."""
        return next((r for r in self.rules if r.kind == kind), None)


def load_rules(path: str | os.PathLike[str]) -> RuleSet:
    """Load and check a rules YAML; errors name the file and the key."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LayerConfigError(f"cannot read: {exc.strerror}", path=path) from None
    except yaml.YAMLError as exc:
        raise LayerConfigError(f"not valid YAML: {exc}", path=path) from None
    try:
        rules = RuleSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise LayerConfigError(first["msg"], path=path,
                               field=".".join(str(p) for p in first["loc"])) from None
    for i, rule in enumerate(rules.rules):
        if rule.kind not in KINDS:
            raise LayerConfigError(f"unknown kind {rule.kind!r}; valid: {', '.join(KINDS)}",
                                   path=path, field=f"rules.{i}.kind")
    return rules
