"""The generated rule reference must match the rules (like ruff's docs --check)."""

from __future__ import annotations

from conftest import ROOT

from dockermig.docs import generated_pages
from dockermig.registry import all_rules


def test_rule_pages_are_up_to_date():
    docs = ROOT / "docs" / "rules"
    pages = generated_pages(list(all_rules()))
    stale = [name for name, content in pages.items()
             if not (docs / name).exists() or (docs / name).read_text(encoding="utf-8") != content]
    assert stale == [], "run: python scripts/gen_rule_docs.py"
    assert sorted(p.name for p in docs.glob("*.md")) == sorted(pages)
