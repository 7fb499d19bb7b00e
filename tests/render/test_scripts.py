"""The map controls' JavaScript lives in .js files, one per control (issue 11), and every
static or service map gets all of them, in order, before the function that wires them."""

from __future__ import annotations

import re
from pathlib import Path

from gis.render.tools import TOOL_SCRIPTS, MapTools

RENDER = Path(__file__).resolve().parents[2] / "gis" / "render"


def test_one_file_per_control_each_defining_its_function():
    defined = {}
    for name in TOOL_SCRIPTS:
        text = (RENDER / f"{name}.js").read_text(encoding="utf-8")
        names = re.findall(r"^window\.(gis\w+) = function", text, flags=re.M)
        assert len(names) == 1, (name, names)
        defined[name] = names[0]
    assert defined["tools"] == "gisMapTools"
    wiring = (RENDER / "tools.js").read_text(encoding="utf-8")
    controls = [f for n, f in defined.items() if n.startswith("tool_") and f != "gisVn2000Projector"]
    assert len(controls) == 5
    for function in controls:  # each control is wired once
        assert wiring.count(f"window.{function}(tools)") == 1, function


def test_the_tools_element_carries_every_script_in_order():
    script = MapTools("vi").tools_js
    positions = [script.index((RENDER / f"{n}.js").read_text(encoding="utf-8")[:60])
                 for n in TOOL_SCRIPTS]
    assert positions == sorted(positions)


def test_no_map_control_is_written_in_a_python_string():
    for path in RENDER.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "L.control({" not in text and "addEventListener" not in text, path.name
