"""The migration plan: one row per service of a repository (its build or its image, however
many compose files run it), classified, categorised, ranked P0–P3 and put in waves; and the
progress figures of `status`.

What each module does: ``inventory`` reads the Dockerfiles and compose files (on lint's
pool, copies left out), ``compose`` reads one compose file, ``services`` joins them into
rows, ``graph`` says who depends on whom, ``rank`` gives priorities, ``order`` wave 0 and
the waves, ``render`` the output.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from dockermig.config import Settings
from dockermig.plan.compose import (  # noqa: F401 (the package's API)
    ComposeService,
    PlanError,
    is_compose_name,
    read_compose,
)
from dockermig.plan.order import (  # noqa: F401
    blockers,
    holds,
    masters_to_build,
    settles,
    wave_size,
    waves,
)

CLASSIFICATIONS = ("migrated", "keep-as-is", "migrate-python", "migrate-node", "needs-review", "master")
PRIORITIES = ("P0", "P1", "P2", "P3")


class Plan:
    """``entries`` (one per service), ``warnings`` (what had to be left out, and why: file
    and line), ``left_out`` (the copies not planned), ``compose_files`` (how many were
    read) and ``masters`` (the root config's); ``unread``: how many of the warnings are a
    file or a service that could not be read (the plan is incomplete). Unpacks as
    ``entries, warnings``, as it did when it was that pair."""

    def __init__(self, entries: list[dict[str, Any]], warnings: list[str], left_out: dict[str, Any],
                 compose_files: int = 0, masters: list | None = None, unread: int = 0):
        self.entries = entries
        self.warnings = warnings
        self.unread = unread
        self.left_out = left_out
        self.compose_files = compose_files
        self.masters = masters or []

    def __iter__(self):
        return iter((self.entries, self.warnings))


def build_plan(root: Path, settings: Settings | None = None, include_copies: bool = False,
               jobs: int | None = None) -> Plan:
    """One entry per service: per Dockerfile (its identical copies listed with it) and per
    image a compose service runs that the repository does not build. A compose file or
    Dockerfile that cannot be read is left out with a warning; the rest of the plan is
    made. A broken config is an error (ConfigError). Copies (backups/, archive/, dated
    snapshots...) are left out and counted unless ``include_copies``."""
    from dockermig.plan.graph import link
    from dockermig.plan.inventory import take_inventory
    from dockermig.plan.rank import rank
    from dockermig.plan.services import service_rows

    settings = settings or Settings()
    config = settings.config_for(root)
    inventory = take_inventory(root, settings, include_copies, jobs)
    entries, warnings = service_rows(inventory, root, settings)
    link(entries)
    rank(entries, config)
    # most depended-on first within a priority: what the matrix shows first matters most
    entries.sort(key=lambda e: (e["priority"], -e["dependents"], e["path"] or "~", ",".join(e["service"]),
                                e["compose_files"]))
    left_out = {"folders": [f"{folder.as_posix()}/" for folder in inventory.copies],
                "dockerfiles": inventory.copied_files[0], "compose_files": inventory.copied_files[1]}
    return Plan(entries, inventory.warnings + warnings, left_out, inventory.compose_files, config.policy.masters,
                unread=len(inventory.warnings))


# -- status --------------------------------------------------------------------------------


def status(entries: list[dict[str, Any]]) -> dict[str, Any]:
    files = [e for e in entries if e["path"] is not None]
    by_class = Counter(e["classification"] for e in entries)
    migratable = [e for e in files if e["classification"] in ("migrated", "migrate-python", "migrate-node")
                  or (e["classification"] == "needs-review" and e["target"])]
    migrated = sum(1 for e in migratable if e["classification"] == "migrated")
    known_users = [e for e in files if e["non_root"] is not None and e["classification"] != "master"]
    todo = [e for e in entries if e["classification"] in ("migrate-python", "migrate-node", "needs-review")]
    return {
        "dockerfiles": len(files),
        "services": len(entries),
        "classifications": {c: by_class.get(c, 0) for c in CLASSIFICATIONS},
        "categories": dict(sorted(Counter(e["category"] for e in entries).items())),
        "migratable": len(migratable),
        "migrated": migrated,
        "migrated_percent": round(100 * migrated / len(migratable), 1) if migratable else 100.0,
        "non_root_percent": round(100 * sum(e["non_root"] for e in known_users) / len(known_users), 1)
        if known_users else 100.0,
        "todo_by_priority": {p: sum(1 for e in todo if e["priority"] == p) for p in PRIORITIES},
    }
