"""Regenerate docs/rules/ from the rules' metadata, docstrings and examples.

    python scripts/gen_rule_docs.py          # write the pages
    python scripts/gen_rule_docs.py --check  # exit 1 when a page is out of date (CI)
"""

from __future__ import annotations

import sys
from pathlib import Path

from dockermig.docs import generated_pages, write_pages
from dockermig.registry import all_rules

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"


def main(argv: list[str]) -> int:
    rules = list(all_rules())
    if "--check" in argv:
        stale = [
            name for name, content in generated_pages(rules).items()
            if not (DOCS / name).exists() or (DOCS / name).read_text(encoding="utf-8") != content
        ]
        extra = sorted(p.name for p in DOCS.glob("*.md") if p.name not in generated_pages(rules))
        for name in stale + extra:
            print(f"docs/rules/{name} is out of date: run python scripts/gen_rule_docs.py")
        return 1 if stale or extra else 0
    for name in write_pages(DOCS, rules):
        print(f"wrote docs/rules/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
