"""Safe writes: a kill at any moment leaves each file either old or new, never truncated.

Temp file in the same folder, fsync, rename over the original (atomic on POSIX), fsync
of the folder; the file's mode, owner and group are kept (``fix`` run as root on someone
else's file leaves it theirs). Writes never go where the path resolves outside the tree
being fixed: not through a symlinked file, not through a symlinked folder. Temp files
carry the writer's pid, so the next run removes those a killed run left behind.

Backups never lose text. ``fix --backup`` records each backup it writes in a manifest
beside the file (``.Dockerfile.dockermig-backup.json``: the backup's name, its SHA-256,
the file's mode, owner and group); a ``Dockerfile.backup`` the user owns is never
overwritten (the backup goes to ``Dockerfile.dockermig.backup`` instead), and ``restore``
puts back only what a manifest lists and whose bytes are still the ones written.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from dockermig.limits import InputError, is_inside, read_bytes

BACKUP_SUFFIX = ".backup"
SPARE_BACKUP_SUFFIX = ".dockermig.backup"  # when the user has a <name>.backup of their own
TEMP_SUFFIX = ".dockermig"
MANIFEST_VERSION = 1
_STALE_UNKNOWN_WRITER = 3600  # seconds after which a temp file without a pid is stale


class WriteError(Exception):
    """A file that must not or could not be written; the message says why."""


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + BACKUP_SUFFIX)


def manifest_path(path: Path) -> Path:
    """Where the record of ``path``'s backup is kept."""
    return path.with_name(f".{path.name}.dockermig-backup.json")


def write_target(path: Path, root: Path | None) -> Path:
    """The file to write for ``path``: where it resolves, if that is inside ``root``.
    Every symlink on the way counts, the file's own and its folders'."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError) as error:
        raise WriteError(f"cannot write ({getattr(error, 'strerror', None) or error})") from None
    if root is None or not is_inside(target, root, resolved=True):  # the file's own link, or a folder's
        raise WriteError("is a symlink out of the tree: not rewritten")
    return target


class _Owner(NamedTuple):
    mode: int
    uid: int
    gid: int


def _owner_of(path: Path) -> _Owner | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return _Owner(stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)


def atomic_write(path: Path, data: bytes, mode: int | None = None, owner: _Owner | None = None, *,
                 sync_directory: bool = True, before_replace=None) -> None:
    """Replace ``path``'s content with ``data`` atomically, keeping its mode, owner and
    group (or taking those of ``owner``). The data reaches the disk before the rename, so
    after a crash the file is old or new, never empty; ``sync_directory`` also makes the
    rename itself durable. ``before_replace()`` runs last before the rename: an exception
    from it leaves the file as it is (and no temp file)."""
    directory = path.parent
    owner = owner or _owner_of(path)
    mode = mode if mode is not None else owner.mode if owner else 0o644
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if owner is not None and (owner.uid, owner.gid) != (os.geteuid(), os.getegid()):
                _keep_owner(handle.fileno(), owner)
            os.fchmod(handle.fileno(), mode)  # after chown, which clears set-id bits
            os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    if sync_directory:
        _fsync_directory(directory)


def write_output(path: Path, text: str) -> None:
    """Write a report, a baseline or an ``-o`` file atomically; a missing folder or a
    full disk is a WriteError that names the file, and the old file stays whole."""
    try:
        atomic_write(path, text.encode("utf-8"))
    except OSError as error:
        raise WriteError(f"{path}: cannot write ({error.strerror or error})") from None


def _keep_owner(fd: int, owner: _Owner) -> None:
    try:
        os.fchown(fd, owner.uid, owner.gid)
    except PermissionError:  # not root: only root can give a file away; it stays ours
        try:
            os.fchown(fd, -1, owner.gid)  # a group we are in is allowed
        except PermissionError:
            pass


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


def remove_stale_temp_files(target: Path) -> None:
    """Remove the temp files a killed run left for ``target`` and its backup: those whose
    writer, the pid in their name, is gone (a live writer's are never touched). A run
    killed before its rename left the file unchanged, so the next ``fix`` rewrites it and
    comes here first."""
    prefixes = tuple(f".{name}." for name in (target.name, backup_path(target).name,
                                               target.name + SPARE_BACKUP_SUFFIX, manifest_path(target).name))
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        prefix = next((p for p in prefixes if name.startswith(p)), None)
        if prefix is None or not name.endswith(TEMP_SUFFIX) or not entry.is_file(follow_symlinks=False):
            continue
        pid = name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        try:
            if not pid.isdigit() and time.time() - entry.stat(follow_symlinks=False).st_mtime < _STALE_UNKNOWN_WRITER:
                continue  # an older dockermig's temp file: maybe still being written
            os.unlink(entry.path)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


# -- backups ------------------------------------------------------------------------------


class Backup(NamedTuple):
    """A manifest's record of one backup ``fix`` wrote."""

    original: Path
    backup: Path
    sha256: str
    owner: _Owner


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(original: Path) -> Backup | None:
    """The backup recorded for ``original``; None when there is no record. A record that
    is not one (not a regular file, not our JSON) is a WriteError."""
    path = manifest_path(original)
    if not os.path.lexists(path):
        return None
    try:
        if os.path.islink(path):
            raise ValueError("it is a symlink")
        record = json.loads(read_bytes(path, max_size=64 * 1024, confine=False))
        name = record["backup"]
        if record.get("version") != MANIFEST_VERSION or not isinstance(name, str) or "/" in name or name in (".", ".."):
            raise ValueError("not a dockermig backup manifest")
        owner = _Owner(int(record["mode"]) & 0o7777, int(record["uid"]), int(record["gid"]))
        return Backup(original, original.with_name(name), str(record["sha256"]), owner)
    except (OSError, ValueError, KeyError, TypeError, InputError) as error:
        raise WriteError(f"unusable backup record {path.name} ({error})") from None


def _holds(backup: Backup) -> bool:
    """Whether the backup file is still exactly what ``fix`` wrote (not a symlink)."""
    try:
        if os.path.islink(backup.backup):
            return False
        return _digest(read_bytes(backup.backup, confine=False)) == backup.sha256
    except (OSError, InputError):
        return False


def _write_backup(target: Path, original: str) -> bool:
    """Back up ``target``'s original text unless a backup of ours already holds an older
    version; returns whether one was written."""
    recorded = read_manifest(target)
    if recorded is not None and _holds(recorded):
        return False  # the oldest version is kept
    data = original.encode("utf-8")
    candidates = [backup_path(target), target.with_name(target.name + SPARE_BACKUP_SUFFIX)]
    free = [c for c in candidates if not os.path.lexists(c)]  # one there (even ours, edited since) is the user's
    if not free:
        raise WriteError(f"cannot back up: {candidates[0].name} and {candidates[1].name} exist "
                         "and are not dockermig's (nothing was changed)")
    backup, owner = free[0], _owner_of(target)
    atomic_write(backup, data, owner=owner)
    record = {"version": MANIFEST_VERSION, "backup": backup.name, "sha256": _digest(data),
              "mode": owner.mode, "uid": owner.uid, "gid": owner.gid}
    atomic_write(manifest_path(target), (json.dumps(record, indent=1) + "\n").encode(), 0o644, owner=owner)
    return True


CHANGED = "changed while dockermig ran; not written"


class _Unchanged:
    """Guards one file against a lost update: someone else's edit made between ``fix``'s
    read and its rename. The file is opened (not following a symlink) and must still hold
    the text that was read; just before the rename its size, mtime, inode and content hash
    must still be the ones seen then.

    A writer that opened the file before the rename and writes after it would write to the
    replaced inode. Where the kernel allows it (Linux, a file we own or CAP_LEASE), a read
    lease closes that window: no lease is granted while the file is open for writing, and
    any open for writing after it breaks the lease and waits until it is released. The old
    inode keeps a second name until the rename is known safe; a broken lease puts it back at
    the path before the waiting writer goes on, so its edit lands in the file. Without a
    lease the old inode is looked at once more after the rename and a write found there is
    put back. Either way the file then counts as not written."""

    def __init__(self, target: Path, expected: bytes):
        self.target, self.expected = target, expected
        self.digest = _digest(expected)
        self.fd = -1
        self.leased = False
        self.aside: Path | None = None  # the old inode's second name while the rename is not known safe

    def __enter__(self) -> _Unchanged:
        try:
            self.fd = os.open(self.target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            raise WriteError(f"{CHANGED} (removed)") from None
        except OSError as error:
            if error.errno == getattr(os, "ELOOP", 40):
                raise WriteError(f"{CHANGED} (replaced by a symlink)") from None
            raise
        try:
            info = os.fstat(self.fd)
            if not stat.S_ISREG(info.st_mode):
                raise WriteError(f"{CHANGED} (no longer a regular file)")
            self.leased = _take_lease(self.fd)
            self.seen = _stamp(info)
            if info.st_size != len(self.expected) or _digest(self._content()) != self.digest:
                raise WriteError(CHANGED)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.aside is not None:
            _unlink_quietly(self.aside)
            self.aside = None
        if self.fd >= 0:
            os.close(self.fd)  # releases the lease: a writer waiting on it goes on now
            self.fd = -1

    def _content(self) -> bytes:
        os.lseek(self.fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(self.fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)

    def _lease_broken(self) -> bool:
        import fcntl

        return fcntl.fcntl(self.fd, fcntl.F_GETLEASE) != fcntl.F_RDLCK

    def before_replace(self) -> None:
        """Last check before the rename: the path is still the inode that was read, with
        the size, mtime and content hash it had (and, leased, nobody opened it to write)."""
        try:
            now = os.stat(self.target, follow_symlinks=False)
        except FileNotFoundError:
            raise WriteError(f"{CHANGED} (removed)") from None
        if (self.leased and self._lease_broken()) or _stamp(now) != self.seen \
                or _stamp(os.fstat(self.fd)) != self.seen or _digest(self._content()) != self.digest:
            raise WriteError(CHANGED)
        if self.leased:
            self.aside = _second_name(self.target, self.seen)

    def after_replace(self) -> None:
        """A writer that opened the old inode meanwhile: the old inode goes back to the path
        (leased), or the text written to it does (no lease)."""
        if self.leased and self.aside is not None:
            if self._lease_broken():
                os.replace(self.aside, self.target)
                self.aside = None
                raise WriteError(CHANGED)
            return
        if _stamp(os.fstat(self.fd)) == self.seen and _digest(self._content()) == self.digest:
            return
        atomic_write(self.target, self._content(), sync_directory=False)
        raise WriteError(CHANGED)


def allow_leases() -> bool:
    """Whether a lease may be taken in this process: a broken lease signals its holder with
    SIGIO, whose default action ends the process. The lease's owner is cleared right after
    it is taken, so only a break in that instant could send one, and a process that left
    SIGIO at its default loses nothing by ignoring it; that is set here, from the main
    thread (``fix`` calls this before its writes start on a thread of their own)."""
    import signal
    import threading

    if not hasattr(signal, "SIGIO"):
        return False
    if signal.getsignal(signal.SIGIO) == signal.SIG_DFL:
        if threading.current_thread() is not threading.main_thread():
            return False
        signal.signal(signal.SIGIO, signal.SIG_IGN)
    return True


def _take_lease(fd: int) -> bool:
    """A read lease on ``fd``'s file, if the kernel grants one. A file open for writing
    right now gets none: after a short wait it counts as changed (someone is writing it)."""
    try:
        import fcntl
    except ImportError:
        return False
    if not hasattr(fcntl, "F_SETLEASE") or not allow_leases():
        return False
    for _ in range(_LEASE_ATTEMPTS):
        try:
            fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
        except BlockingIOError:
            time.sleep(_LEASE_WAIT)
            continue
        except OSError:
            return False  # not our file (and no CAP_LEASE), or a file system without leases
        fcntl.fcntl(fd, fcntl.F_SETOWN, 0)
        return True
    raise WriteError(f"{CHANGED} (open for writing by another program)")


_LEASE_ATTEMPTS, _LEASE_WAIT = 20, 0.005  # a tenth of a second for a writer to close the file


def _second_name(target: Path, seen: tuple[int, int, int, int]) -> Path | None:
    """A hard link to ``target``'s inode, named like our temp files (so a killed run's is
    removed by the next), if the file system allows one; None otherwise."""
    for _ in range(100):
        aside = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}{TEMP_SUFFIX}")
        try:
            os.link(target, aside, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError:
            return None
        if _stamp(os.stat(aside, follow_symlinks=False)) != seen:  # the path changed under us
            _unlink_quietly(aside)
            raise WriteError(CHANGED)
        return aside
    return None


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _stamp(info: os.stat_result) -> tuple[int, int, int, int]:
    return info.st_size, info.st_mtime_ns, info.st_ino, info.st_dev


def write_fixed(path: Path, original: str, fixed: str, *, root: Path | None, backup: bool) -> bool:
    """Write the fixed text (and first the backup, if asked). Returns whether a backup
    was written: an existing one of ours is kept, since it holds the oldest version. A
    file that no longer holds ``original`` (edited while dockermig ran) is not written:
    a WriteError says so (and a backup written for it is taken back)."""
    target = write_target(path, root)
    remove_stale_temp_files(target)
    wrote_backup = False
    try:
        with _Unchanged(target, original.encode("utf-8")) as unchanged:
            try:
                wrote_backup = _write_backup(target, original) if backup else False  # durable before the file changes
                # old or new after a crash either way: the rename's durability is not worth a
                # second fsync per file (a lost rename leaves the old file, which fix redoes)
                atomic_write(target, fixed.encode("utf-8"), sync_directory=False,
                             before_replace=unchanged.before_replace)
                unchanged.after_replace()
            except WriteError:
                if wrote_backup:  # a backup of a text that is not the file's: `restore` would lose the edit
                    _forget_backup(target)
                raise
    except OSError as error:
        raise WriteError(f"cannot write ({error.strerror or error})") from None
    return wrote_backup


def _forget_backup(target: Path) -> None:
    recorded = read_manifest(target)
    for path in (recorded.backup if recorded else None, manifest_path(target)):
        if path is not None:
            _unlink_quietly(path)


# -- restore ------------------------------------------------------------------------------


def find_backups(given: Path) -> list[Path]:
    """The files under ``given`` (or ``given`` itself, or the file a backup of it names)
    that have a backup recorded by ``fix``. Symlinks are not followed."""
    if given.is_dir() and not given.is_symlink():
        found = []
        for directory, dirs, files in os.walk(given):
            dirs.sort()
            for name in sorted(files):
                if name.startswith(".") and name.endswith(".dockermig-backup.json"):
                    found.append(Path(directory) / name[1: -len(".dockermig-backup.json")])
        return found
    for suffix in (SPARE_BACKUP_SUFFIX, BACKUP_SUFFIX):  # x/Dockerfile.backup names x/Dockerfile
        if given.name.endswith(suffix) and os.path.lexists(manifest_path(given.with_name(given.name[: -len(suffix)]))):
            return [given.with_name(given.name[: -len(suffix)])]
    return [given] if os.path.lexists(manifest_path(given)) else []


def restore_paths(paths: list[Path]):
    """(file, None) for each file restored under ``paths``, (path, why) for each that
    could not be; every write stays in the tree of the path it was found from."""
    from dockermig.limits import repository_root

    for given in paths:
        found = find_backups(given)
        if not found and not given.is_dir():
            yield given, "no backup written by `dockermig fix --backup`"
        for original in found:
            folder = given if given.is_dir() else given.parent
            root = repository_root(folder, folder)
            try:
                yield restore(original, root), None
            except WriteError as error:
                yield original, str(error)


def restore(original: Path, root: Path | None = None) -> Path:
    """Put back the backup ``fix`` recorded for ``original`` (content, mode, owner,
    group), atomically, and remove the backup and its record. Refuses a backup that is
    a symlink or was changed since, and a file that resolves outside ``root``."""
    recorded = read_manifest(original)
    if recorded is None:
        raise WriteError("no backup written by `dockermig fix --backup`")
    if not _holds(recorded):
        raise WriteError(f"{recorded.backup.name} is not the backup dockermig wrote (changed, replaced or a "
                         "symlink): not restored")
    directory = original.parent.resolve()
    if root is not None and not is_inside(directory, root):
        raise WriteError("is under a symlink out of the tree: not restored")
    target = directory / original.name
    if os.path.islink(target):
        target = write_target(target, root or directory)
    try:
        data = read_bytes(recorded.backup, confine=False)
        atomic_write(target, data, recorded.owner.mode, owner=recorded.owner)
        os.unlink(recorded.backup)
        os.unlink(manifest_path(original))
    except (OSError, InputError) as error:
        raise WriteError(f"cannot restore ({getattr(error, 'strerror', None) or error})") from None
    return original
