"""Safe writes: a kill at any moment leaves each file either old or new, never truncated.

Temp file in the same folder, fsync, rename over the original (atomic on POSIX), fsync
of the folder; the file mode is kept. Writes never go through a symlink that leaves the
tree being fixed. Backups (``Dockerfile.backup``) are written the same way.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

BACKUP_SUFFIX = ".backup"


class WriteError(Exception):
    """A file that must not or could not be written; the message says why."""


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + BACKUP_SUFFIX)


def write_target(path: Path, root: Path | None) -> Path:
    """The file to write for ``path``: itself, or the target of a symlink inside ``root``."""
    if not path.is_symlink():
        return path
    target = path.resolve()
    if root is None or not target.is_relative_to(root.resolve()):
        raise WriteError("is a symlink out of the tree: not rewritten")
    return target


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace ``path``'s content with ``data`` atomically, keeping its mode."""
    directory = path.parent
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".dockermig")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems do not support it; the rename is still atomic
    finally:
        os.close(fd)


def write_fixed(path: Path, original: str, fixed: str, *, root: Path | None, backup: bool) -> bool:
    """Write the fixed text (and first the backup, if asked). Returns whether a backup
    was written: an existing one is kept, since it holds the oldest version."""
    target = write_target(path, root)
    wrote_backup = False
    try:
        if backup and not backup_path(target).exists():
            atomic_write(backup_path(target), original.encode("utf-8"), target.stat().st_mode & 0o7777)
            wrote_backup = True
        atomic_write(target, fixed.encode("utf-8"))
    except OSError as error:
        raise WriteError(f"cannot write ({error.strerror or error})") from None
    return wrote_backup


def restore(backup: Path) -> Path:
    """Put a backup back in place of its file, atomically, and remove the backup."""
    original = backup.with_name(backup.name[: -len(BACKUP_SUFFIX)])
    try:
        data = backup.read_bytes()
        atomic_write(original, data, backup.stat().st_mode & 0o7777)
        backup.unlink()
    except OSError as error:
        raise WriteError(f"cannot restore ({error.strerror or error})") from None
    return original
