"""Priorities P0–P3 and categories by name, from rules/priorities.yaml (a config's
``priorities`` replaces the rules, its ``categories`` add to them).

P0 is what must stay up while the others move: the kept infrastructure and the critical
services production runs, that many others depend on. It is watched, never in a wave.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from dockermig.config import Config
from dockermig.report import plural


@lru_cache(maxsize=1)
def priorities_pack() -> dict[str, Any]:
    """rules/priorities.yaml, read once per process (it ships with dockermig)."""
    from dockermig.policy.loader import load_pack

    return load_pack("priorities.yaml")


def rules(config: Config) -> dict[str, Any]:
    packed = priorities_pack()
    return {
        "priorities": config.data.get("priorities", packed["priorities"]),
        "categories": {**packed["categories"], **config.data.get("categories", {})},
    }


def words_category(config: Config, names: list[str], path: Path | None) -> str:
    """The first category with a keyword among the words of the service's names and its
    Dockerfile's folders; "utility" when none has."""
    parts = [*names, *(path.parent.parts if path is not None else ())]
    words = []
    for part in parts:
        words.append(part.lower())
        words += re.split(r"[._/\-]+", part.lower())
    for category, keywords in rules(config)["categories"].items():
        if any(word in keywords for word in words):
            return category
    return "utility"


def rank(entries: list[dict[str, Any]], config: Config) -> None:
    """Each entry's ``priority`` and ``priority_reason``: the first rule that matches, with
    the evidence (the services that depend on it). A copy (planned with
    --include-copies, and not the copy of a live file) is P3 whatever the rules say: it
    runs nowhere."""
    import pathspec

    found = rules(config)["priorities"]
    specs = [pathspec.GitIgnoreSpec.from_lines(rule.get("paths", [])) if rule.get("paths") else None for rule in found]
    for entry in entries:
        if entry["_copy"]:
            entry["priority"], entry["priority_reason"] = "P3", "a copy of live files (backups, archives, snapshots)"
            continue
        rule = next((r for r, spec in zip(found, specs) if _matches(r, spec, entry)), {})
        entry["priority"] = rule.get("priority", "P2")
        entry["priority_reason"] = "; ".join(filter(None, [rule.get("reason"), _evidence(entry)]))


def _evidence(entry: dict[str, Any]) -> str:
    count, names = entry["dependents"], entry["_user_names"]
    if not count:
        return ""
    shown = ", ".join(names) + (f" and {count - len(names)} more" if count > len(names) else "")
    return f"{plural(count, 'service')} depend{'s' if count == 1 else ''} on it ({shown})"


def _matches(rule: dict[str, Any], spec, entry: dict[str, Any]) -> bool:
    checks = []
    if spec is not None:
        checks.append(entry["path"] is not None and spec.match_file(entry["path"]))
    if "classifications" in rule:
        checks.append(entry["classification"] in rule["classifications"])
    if "categories" in rule:
        checks.append(entry["category"] in rule["categories"])
    if "compose" in rule:  # production, dev, or none (no compose file runs it)
        checks.append((entry["compose"] or "none") == rule["compose"])
    if "min-dependents" in rule:
        checks.append(entry["dependents"] >= int(rule["min-dependents"]))
    return all(checks)
