"""Every file and folder an analysis looked at besides the Dockerfile itself: its config,
the master's Dockerfile and manifests, the build context's files, templates. A lint
result remembered across runs (``lint_cache``) holds only while each of them is as it
was, so each is noted here with its ``os.stat`` signature, or as absent.

The notes cover the whole process, not one file: what a run loads once and shares (a
config, a master's facts) is noted by the first file that needed it, and a later file's
result depends on it as well. Over-cautious for a long run (its later results depend on
more than they read), never wrong; ``lint_cache`` keeps results of short runs only.

Reads go through ``limits`` (``read_bytes``, ``checked_stat``), which note them; code
that only asks whether a path is there uses ``kind`` or ``listing`` below.
"""

from __future__ import annotations

import os

MAX_NOTED = 512  # more than this and a result is not worth remembering (see lint_cache)

_noted: dict[str, tuple | None] = {}


def signature(path: str) -> tuple | None:
    """What changes when the path's content or kind changes: (mode, inode, size, mtime,
    ctime), following links; None when nothing is there."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_mode, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def note(path) -> None:
    """Note that the analysis depends on ``path`` as it is now."""
    key = os.path.abspath(os.fspath(path))
    if len(_noted) <= MAX_NOTED and key not in _noted:
        _noted[key] = signature(key)


def kind(path) -> str | None:
    """"file", "dir", "other" or None (nothing there), following links; noted."""
    key = os.path.abspath(os.fspath(path))
    now = signature(key)  # one stat: what is noted and what is answered
    if len(_noted) <= MAX_NOTED:
        _noted.setdefault(key, now)
    if now is None:
        return None
    mode = now[0]
    return "file" if mode & 0o170000 == 0o100000 else "dir" if mode & 0o170000 == 0o040000 else "other"


def listing(folder) -> list[str]:
    """``os.listdir`` of ``folder`` (a folder's mtime changes when an entry comes or
    goes); noted. OSError is the caller's."""
    note(folder)
    return os.listdir(folder)


def noted() -> tuple | None:
    """What the process has looked at so far, as ((path, signature), ...), or None when
    it has looked at too much to be worth checking again."""
    return tuple(_noted.items()) if len(_noted) <= MAX_NOTED else None


def unchanged(paths: tuple) -> bool:
    """Whether every (path, signature) of ``noted()`` still holds."""
    return all(signature(path) == was for path, was in paths)
