"""Rule packs and YAML files: located, parsed with ruamel.yaml, and cached as JSON.

Pure-Python YAML parsing costs ~100 ms per pack, more than a whole pre-commit run may
take, so the parsed data is cached by content hash in the user cache directory; a
changed file is a new key, so the cache never serves stale data.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from dockermig import __version__


class YamlError(ValueError):
    """A YAML file that does not parse; the message names the file and line."""


def packs_dir() -> Path:
    """The built-in rule packs: ``dockermig/packs`` in a wheel, ``rules/`` in a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "packs"
    return installed if installed.is_dir() else here.parent / "rules"


def cache_dir() -> Path:
    explicit = os.environ.get("DOCKERMIG_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dockermig"


def load_yaml(path: Path) -> Any:
    """Parse a YAML file safely (no object construction), through the JSON cache."""
    data = path.read_bytes()
    key = hashlib.blake2b(data + __version__.encode(), digest_size=16).hexdigest()
    cached = cache_dir() / f"yaml-{key}.json"
    try:
        return json.loads(cached.read_bytes())
    except (OSError, ValueError):
        pass
    value = parse_yaml(data.decode("utf-8"), path)
    _write_cache(cached, value)
    return value


def parse_yaml(text: str, path: Path | str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise YamlError(f"{where}: invalid YAML: {problem}") from None


def _write_cache(target: Path, value: Any) -> None:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        return  # dates and other non-JSON values: not cached, parsed each time
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only home is fine: we parse every time instead


def load_pack(name: str) -> Any:
    return load_yaml(packs_dir() / name)
