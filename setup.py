"""Build hook: the wheel carries ``layers/`` and ``maps/`` (the catalog, rules, sheet examples,
styles and map specs) as ``gis/_shipped/``, copied from the one copy at the repository's top.
Everything else is in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("layers", "maps")


class BuildWithCatalog(build_py):
    """build_py, then the catalog and map folders copied into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the repository folders (gis/resources.py)
        for name in SHIPPED:
            target = Path(self.build_lib) / "gis" / "_shipped" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / name, target,
                            ignore=lambda folder, names: [n for n in names if n == "out" or (
                                not n.endswith((".yaml", ".yml", ".md"))
                                and not (Path(folder) / n).is_dir())])


setup(cmdclass={"build_py": BuildWithCatalog})
