"""Copies a repository keeps beside its live files: ``backups/``, ``archive/``, ``old/``,
``deprecated/``, dated snapshots (``dockerfile_deduplication_20250810_101500/``,
``2025-08-10/``). They hold stale versions of the live Dockerfiles, compose files and
masters: the live ones are the truth, and the copies are noise in every report.
"""

from __future__ import annotations

import re
from pathlib import Path

from dockermig.regex import compile_on_use

# ``backups``, ``old``, ``backup_2024``, ``old_configs``, ``docker.bak``; not a service named for
# what it does (``postgres-backup``, ``backup-agent``, ``old-bot``): hyphens join service names
_COPY_WORDS = compile_on_use(r"^(?:backups?|archived?|archives|old|deprecated|obsolete|bak|snapshots?)(?:$|[_.\d]|-\d)"
                             r"|\.(?:bak|old|orig|backup)$", re.IGNORECASE)
# a date in a folder name: 20250810, 2025-08-10, 2025_08_10 (years 1990-2099)
_DATE = compile_on_use(r"(?<!\d)(?:19|20)\d\d([-_.]?)(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12]\d|3[01])(?!\d)")


def is_copy_folder(name: str) -> bool:
    """Whether a folder's name says it holds a copy (a backup, an archive, a dated snapshot)."""
    return bool(_COPY_WORDS.search(name) or _DATE.search(name))


def copy_folder(path: Path, root: Path) -> Path | None:
    """The outermost folder between ``root`` and ``path`` that is a copy, relative to
    ``root``; None when ``path`` is live (or not under ``root``)."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return None
    for index, part in enumerate(parts[:-1]):
        if is_copy_folder(part):
            return Path(*parts[: index + 1])
    return None
