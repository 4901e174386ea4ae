"""The persistent results cache: answers that cost a process (ShellCheck's) kept across
runs, so a pre-commit or CI re-run on unchanged scripts starts none.

Where (``location``): ``$DOCKERMIG_CACHE_DIR`` when set; else ``.dockermig_cache/`` at
the project root (the repository that holds the working directory, else the working
directory), with a ``.gitignore`` of ``*`` inside, as ruff does; else, where that folder
cannot be made or is not safe, the user cache ``$XDG_CACHE_HOME/dockermig``.

What: a value under a key that names everything the value depends on (for ShellCheck:
the script, its dialect and defined names, ShellCheck's command line and binary,
dockermig's version); an entry is a file named by the key's hash.

Trust: a project folder comes with the repository, and a pull request can commit a
``.dockermig_cache/`` full of entries. So an entry counts only when it is signed (keyed
BLAKE2b, checked before ``marshal`` reads a byte) with this user's key, which lives in the
user's private cache folder (``policy.loader``'s, the same key), never in the project; the
signature covers the key's hash and the value, so an entry cannot be replayed under
another key. A cache folder that is a symlink, someone else's, or writable by others is
not used. Files are opened relative to the folder's descriptor with O_NOFOLLOW, created
with O_EXCL under a temporary name and renamed into place: concurrent runs see no entry
or a whole one, and nothing is ever written through a link.

Size: at most ``MAX_ENTRIES`` entries and ``MAX_BYTES``; a run that added entries prunes
the oldest at its end (``prune_since``).
"""

from __future__ import annotations

import marshal
import os
import stat
import time
from pathlib import Path
from typing import Any

FOLDER = ".dockermig_cache"
MAX_ENTRIES = 20_000
MAX_BYTES = 64 * 1024 * 1024
MAX_ENTRY_BYTES = 1024 * 1024  # an entry larger than this is not kept (read back bounded too)
_PRUNE_TO = 0.75  # a prune leaves this share of each bound, so the next runs do not prune again
_STALE_TEMP_SECONDS = 3600  # a temp file a killed run left behind
_KEY_BYTES = 32
_SIGNATURE_BYTES = 32
_OPEN_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def location(cwd: Path | None = None) -> Path:
    """The cache folder of a run started in ``cwd`` (see the module's docstring); made
    only when something is stored (``open_store``)."""
    explicit = os.environ.get("DOCKERMIG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    from dockermig.limits import repository_root

    cwd = cwd or Path.cwd()
    return repository_root(cwd, cwd) / FOLDER


def _user_folder() -> Path:
    from dockermig.policy.loader import cache_dir

    return cache_dir()


def _made(folder: Path) -> int | None:
    """A descriptor of ``folder``, made (0700, with its ``.gitignore``) if need be, when it
    is safe to use; else None."""
    try:
        os.makedirs(folder, 0o700, exist_ok=True)
    except OSError:
        return None  # a read-only checkout
    fd = _open_folder(folder)
    if fd is None:
        return None
    for name, text in ((".gitignore", "# made by dockermig: ignore the whole folder\n*\n"),
                       ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"
                                        "# This file marks dockermig's cache folder (https://bford.info/cachedir/)\n")):
        try:
            handle = os.open(name, _CREATE, 0o600, dir_fd=fd)
        except OSError:
            continue  # there already (or cannot be: the cache works without it)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
    return fd


def _open_folder(folder: Path) -> int | None:
    """A descriptor of ``folder`` if it is safe to use: a real folder (not a link), this
    user's, that nobody else can write; else None."""
    try:
        fd = os.open(folder, _OPEN_DIR)
    except OSError:
        return None
    info = os.fstat(fd)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        os.close(fd)
        return None
    return fd


class Store:
    """The entries of one kind (``shellcheck``...) in one cache folder. ``get`` and ``put``
    never raise: a cache that cannot be read or written is a cache that misses."""

    def __init__(self, fd: int, secret: bytes, kind: str):
        self._fd = fd
        self._secret = secret
        self._prefix = f"{kind}-"

    def get(self, key: bytes) -> Any | None:
        digest = _digest(key)
        try:
            data = self._read(self._name(digest))
        except OSError:
            return None
        signature, payload = data[:_SIGNATURE_BYTES], data[_SIGNATURE_BYTES:]
        if len(signature) != _SIGNATURE_BYTES or signature != _sign(self._secret, payload):
            return None  # planted, torn or another user's: as good as absent (no timing oracle: a local file)
        try:
            stored, value = marshal.loads(payload)
        except (ValueError, EOFError, TypeError):
            return None
        return value if stored == digest else None

    def put(self, key: bytes, value: Any) -> None:
        digest = _digest(key)
        try:
            payload = marshal.dumps((digest, value))
        except ValueError:
            return
        if len(payload) + _SIGNATURE_BYTES > MAX_ENTRY_BYTES:
            return
        name = self._name(digest)
        temp = f".{name}.{os.getpid()}.{os.urandom(4).hex()}"
        try:
            handle = os.open(temp, _CREATE, 0o600, dir_fd=self._fd)
            with os.fdopen(handle, "wb") as out:
                out.write(_sign(self._secret, payload) + payload)
            os.replace(temp, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
        except OSError:
            try:
                os.unlink(temp, dir_fd=self._fd)
            except OSError:
                pass

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _name(self, digest: bytes) -> str:
        return self._prefix + digest[:20].hex()

    def _read(self, name: str) -> bytes:
        fd = os.open(name, _READ, dir_fd=self._fd)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError("not a regular file")
            data = os.read(fd, MAX_ENTRY_BYTES + 1)
        finally:
            os.close(fd)
        if len(data) > MAX_ENTRY_BYTES:
            raise OSError("too large")
        return data


def open_store(folder: Path, kind: str) -> Store | None:
    """The entries of ``kind`` in ``folder`` (made if need be; the user cache when it
    cannot be made or is not safe), or None when no folder or key can be used safely."""
    secret = user_secret()
    if secret is None:
        return None
    fd = _made(folder)
    if fd is None and folder != _user_folder():
        fd = _made(_user_folder())
    return Store(fd, secret, kind) if fd is not None else None


def prune_since(folder: Path, kind: str, since_ns: int) -> None:
    """Keep ``folder`` (and the user cache, which stands in for it) within MAX_ENTRIES
    entries of ``kind`` and MAX_BYTES, the oldest going first; only when an entry was
    added since ``since_ns`` (the folder's mtime says so), so a warm run lists nothing.
    Run once at the end of a run, by the process that started the workers."""
    for candidate in dict.fromkeys((folder, _user_folder())):
        fd = _open_folder(candidate)
        if fd is None:
            continue
        try:
            if os.fstat(fd).st_mtime_ns >= since_ns:
                _prune(fd, f"{kind}-")
        except OSError:
            pass
        finally:
            os.close(fd)


def _prune(fd: int, prefix: str) -> None:
    entries, total = [], 0
    now = time.time()
    with os.scandir(fd) as listing:
        for entry in listing:
            name = entry.name
            if not name.startswith((prefix, "." + prefix)):
                continue
            info = entry.stat(follow_symlinks=False)
            if name.startswith("."):  # a temporary file
                if now - info.st_mtime > _STALE_TEMP_SECONDS:
                    _remove(fd, name)
                continue
            entries.append((info.st_mtime_ns, info.st_size, name))
            total += info.st_size
    if len(entries) <= MAX_ENTRIES and total <= MAX_BYTES:
        return
    entries.sort()
    count = len(entries)
    for _, size, name in entries:
        if count <= MAX_ENTRIES * _PRUNE_TO and total <= MAX_BYTES * _PRUNE_TO:
            break
        _remove(fd, name)
        count -= 1
        total -= size


def _remove(fd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=fd)
    except OSError:
        pass  # another run removed it first


_secrets: dict[str, bytes | None] = {}


def user_secret() -> bytes | None:
    """This user's signing key, kept in the private user cache folder (made 0700 on first
    use, with the key 0600); None when that folder is not safe to use. A project cache
    folder never holds it: whoever can write the project could then sign entries."""
    folder = str(_user_folder())
    if folder not in _secrets:
        _secrets[folder] = _read_or_make_secret(folder)
    return _secrets[folder]


def _read_or_make_secret(folder: str) -> bytes | None:
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return None
    fd = _open_folder(Path(folder))
    if fd is None:
        return None
    try:
        try:
            handle = os.open("key", _CREATE, 0o600, dir_fd=fd)
        except FileExistsError:
            try:
                key = os.open("key", _READ, dir_fd=fd)
            except OSError:
                return None
            try:
                info = os.fstat(key)
                secret = os.read(key, _KEY_BYTES + 1)
            finally:
                os.close(key)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
                return None
            return secret if len(secret) == _KEY_BYTES else None  # short: being written by another run
        except OSError:
            return None
        secret = os.urandom(_KEY_BYTES)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(secret)
        except OSError:
            return None  # a full disk: no cache (a short key left behind disables it, as loader's does)
        return secret
    finally:
        os.close(fd)


def _digest(key: bytes) -> bytes:
    return _blake2b(key, digest_size=32).digest()


def _sign(secret: bytes, payload: bytes) -> bytes:
    return _blake2b(payload, key=secret, digest_size=_SIGNATURE_BYTES).digest()


try:  # hashlib loads OpenSSL, which costs a one-file run more than the cache saves it
    from _blake2 import blake2b as _blake2b
except ImportError:  # another Python implementation
    from hashlib import blake2b as _blake2b
