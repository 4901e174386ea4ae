"""The wheel ships every subpackage, the rule packs and the templates."""

from __future__ import annotations

import tomllib

from conftest import ROOT


def test_every_subpackage_is_listed():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "dockermig").rglob("__init__.py")
    }
    assert found <= listed, found - listed
    assert setuptools["package-dir"]["dockermig.packs"] == "rules"
    assert "templates/*.j2" in setuptools["package-data"]["dockermig.policy"]
