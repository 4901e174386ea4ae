"""Rule packs and YAML files: located, parsed with ruamel.yaml, and cached.

Pure-Python YAML parsing costs ~100 ms per pack, more than a whole pre-commit run may
take, so parsed data is cached in the user cache directory with ``marshal``, keyed like
a .pyc: the file's path, size and modification time, and the Python and dockermig
versions. The key is stored in the cache entry and compared on read. The same cache
keeps what libcst read from a service's Python sources (its import alone costs ~200 ms).
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib
from pathlib import Path
from typing import Any, Callable

from dockermig import __version__
from dockermig.limits import MAX_YAML_DEPTH, InputError, check_yaml_size, checked_stat, read_text, too_deep


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
    stat = checked_stat(path, confine=confine)
    key = f"{kind}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{__version__}|{sys.version}"
    cached = cache_dir() / f"{kind}-{zlib.crc32(key.encode()):08x}.marshal"
    try:
        stored_key, value = marshal.loads(cached.read_bytes())
        if stored_key == key:
            return value
    except (OSError, ValueError, EOFError, TypeError):
        pass
    value = compute()
    _write_cache(cached, key, value)
    return value


class _BoundedComposer:
    """Mixed into ruamel's Composer: refuses nesting deeper than MAX_YAML_DEPTH before
    it recurses, and documents whose aliases expand past MAX_YAML_NODES (limits.py)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.depth >= MAX_YAML_DEPTH:
            raise too_deep(self._where)
        return super().compose_node(parent, index)

    def compose_document(self) -> Any:
        node = super().compose_document()
        check_yaml_size(node, self._where)
        return node


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


def _write_cache(target: Path, key: str, value: Any) -> None:
    try:
        data = marshal.dumps((key, value))
    except ValueError:
        return  # a value marshal cannot store (a date, say): parsed each time instead
    tmp = target.with_name(f".{target.name}.{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only home is fine: we parse every time instead


def load_pack(name: str) -> Any:
    return load_yaml(packs_dir() / name)
