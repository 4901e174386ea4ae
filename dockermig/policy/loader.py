"""Rule packs and YAML files: located, parsed with ruamel.yaml, and cached.

Pure-Python YAML parsing costs ~100 ms per pack, more than a whole pre-commit run may
take, so parsed data is cached in the user cache directory with ``marshal``, keyed like
a .pyc: the file's path, size and modification time, and the Python and dockermig
versions. The same cache keeps what libcst read from a service's Python sources (its
import alone costs ~200 ms).

``marshal`` must never read bytes someone else wrote (it is not safe against crafted
data), and a cache entry must not be able to change what dockermig decides. So the
cache directory must be the user's own and writable by nobody else (otherwise it is not
used), every entry is signed (keyed BLAKE2b) under a random key kept in that directory and
checked before ``marshal`` sees it, and files are created with O_EXCL/O_NOFOLLOW.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from dockermig import __version__
from dockermig.limits import MAX_FILE_SIZE, MAX_YAML_NODES, InputError, LimitError, read_private, read_text, too_deep
from dockermig.limits import MAX_YAML_DEPTH, checked_stat

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_KEY_BYTES = 32
_SIGNATURE_BYTES = 32


class YamlError(ValueError):
    """A YAML file that does not parse; the message names the file and line."""


def packs_dir() -> Path:
    """The built-in rule packs: ``dockermig/packs`` in a wheel, ``rules/`` in a checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "packs"
    return installed if installed.is_dir() else package.parent / "rules"


def cache_dir() -> Path:
    explicit = os.environ.get("DOCKERMIG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dockermig"


def load_yaml(path: Path) -> Any:
    """Parse one of dockermig's own YAML files (a rule pack) safely, through the cache."""
    return cached_by_file("yaml", path, lambda: parse_yaml(read_text(path, confine=False), path), confine=False)


def cached_by_file(kind: str, path: Path, compute: Callable[[], Any], *, confine: bool = True) -> Any:
    """``compute()``, cached for this file as it is now (path, size, mtime, versions).
    The value must be made of what ``marshal`` stores: None, numbers, strings, tuples,
    lists, dicts, sets. ``confine``: the file is a repository's (see limits.confined)."""
    info = checked_stat(path, confine=confine)
    return cached(kind, f"{kind}|{path.resolve()}|{info.st_size}|{info.st_mtime_ns}", compute)


def cached(kind: str, key: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, cached under ``key`` (which names all it depends on but dockermig's
    and Python's versions, added here); the value as for ``cached_by_file``."""
    key = f"{key}|{__version__}|{sys.version}"
    directory = cache_dir()
    secret = _secret(str(directory))
    if secret is None:
        return compute()
    cached = directory / f"{kind}-{zlib.crc32(key.encode()):08x}.marshal"
    try:
        data = read_private(cached, 4 * MAX_FILE_SIZE)
        signature, payload = data[:_SIGNATURE_BYTES], data[_SIGNATURE_BYTES:]
        if signature == _sign(secret, payload):  # no timing oracle here: a local file, read once
            stored_key, value = marshal.loads(payload)
            if stored_key == key:
                return value
    except (OSError, ValueError, EOFError, TypeError, InputError):
        pass
    value = compute()
    _write_cache(cached, secret, key, value)
    return value


class _BoundedComposer:
    """Mixed into ruamel's Composer: refuses nesting deeper than MAX_YAML_DEPTH before
    it recurses, and aliases that expand past MAX_YAML_NODES (limits.py) as they are
    met, before the rest of the document is composed. What is counted is what the
    limit claims: the nodes each alias stands for (a "billion laughs" file is small, and
    its data is not), not the document's own nodes (a plain 10,000-service compose file
    is not a bomb). An alias to a node still being composed (itself or an ancestor) is
    refused: the data would be infinite."""

    _expanded = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.depth >= MAX_YAML_DEPTH:
            raise too_deep(self._where)
        return super().compose_node(parent, index)

    def return_alias(self, node: Any) -> Any:
        self._expanded += self._weight(node)
        if self._expanded > MAX_YAML_NODES:
            raise LimitError(f"{self._where}: YAML aliases expand to more than {MAX_YAML_NODES:,} nodes")
        return super().return_alias(node)

    def _weight(self, node: Any) -> int:
        """How many nodes ``node`` stands for, its aliases expanded; each node weighed once."""
        weights = self.__dict__.setdefault("_weights", {})
        key = id(node)
        if key in weights:
            return weights[key]
        value = node.value
        if not isinstance(value, list):
            return 1
        if getattr(node, "end_mark", None) is None:  # still being composed: an ancestor of this alias
            raise LimitError(f"{self._where}: a YAML alias refers to itself")
        total = 1
        for item in value:
            for child in item if isinstance(item, tuple) else (item,):
                total += self._weight(child)
                if total > MAX_YAML_NODES:
                    raise LimitError(f"{self._where}: YAML aliases expand to more than {MAX_YAML_NODES:,} nodes")
        weights[key] = total
        return total


def parse_yaml(text: str, path: Path | str) -> Any:
    """Parse untrusted YAML: safe types only (no object construction), bounded."""
    from ruamel.yaml import YAML
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="safe", pure=True)
    yaml.Composer = type("Composer", (_BoundedComposer, Composer), {"_where": str(path)})
    try:
        return yaml.load(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise YamlError(f"{where}: invalid YAML: {problem}") from None
    except InputError as error:  # a bound of limits.py
        raise YamlError(str(error)) from None


# -- the cache's own files ------------------------------------------------------------------


@lru_cache(maxsize=4)
def _secret(directory: str) -> bytes | None:
    """The key that signs this user's cache entries in ``directory`` (made on first use),
    or None when the directory is not safe to use: it must be a real directory (not a
    symlink) that belongs to this user and that nobody else can write. Created 0700."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        info = os.lstat(directory)
    except OSError:
        return None  # a read-only home is fine: we parse every time instead
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None
    path = Path(directory) / "key"
    try:
        fd = os.open(path, _CREATE, 0o600)
    except FileExistsError:
        try:
            secret = read_private(path, _KEY_BYTES)
        except (OSError, InputError):
            return None
        return secret if len(secret) == _KEY_BYTES else None
    except OSError:
        return None
    secret = os.urandom(_KEY_BYTES)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret)
    return secret


def _sign(secret: bytes, payload: bytes) -> bytes:
    """Keyed BLAKE2b, a MAC in itself. From ``_blake2`` when there is one: ``hashlib``
    loads OpenSSL, which costs a one-file lint more than the cache saves it."""
    try:
        from _blake2 import blake2b
    except ImportError:  # another Python implementation
        from hashlib import blake2b
    return blake2b(payload, key=secret, digest_size=_SIGNATURE_BYTES).digest()


def _write_cache(target: Path, secret: bytes, key: str, value: Any) -> None:
    try:
        payload = marshal.dumps((key, value))
    except ValueError:
        return  # a value marshal cannot store (a date, say): parsed each time instead
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}")
    try:
        fd = os.open(tmp, _CREATE, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(_sign(secret, payload) + payload)
        os.replace(tmp, target)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def load_pack(name: str) -> Any:
    return load_yaml(packs_dir() / name)
