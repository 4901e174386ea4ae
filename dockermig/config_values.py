"""Every value of a config, checked when the config is loaded (``config.validate``).

``config.SCHEMA`` checks the top-level keys' shapes; this module goes inside them: master
and catalogue entries, rule options, verifier settings, priorities, categories and name
maps. Values dockermig writes into Dockerfiles (images, users, package names, tags) must
be one word of their own syntax: no whitespace, no line break, nothing a FROM, USER or RUN
line would read as more than that word. Numbers are finite and in range. Each problem is
``(keys, message)``: the keys lead to the line the error names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from dockermig.regex import compile_on_use

Problem = tuple[tuple[str, ...], str]

# a user or group: a name (useradd's syntax, with the dots and capitals Docker accepts) or an id
_ACCOUNT = compile_on_use(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?")
_NAME = compile_on_use(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")  # a master's or a category's name: a file name too
_ENV_NAME = compile_on_use(r"[A-Za-z_][A-Za-z0-9_]*")
# a package name as apt, pip and npm spell them (npm's @scope/name, pip's extras)
_PACKAGE = compile_on_use(r"[A-Za-z0-9@_][A-Za-z0-9@._+:/~=\[\],-]{0,213}")
_VERSION = compile_on_use(r"[A-Za-z0-9*^~<>=!.:+_-][A-Za-z0-9*^~<>=!.:+_, -]{0,127}")
_WORD = compile_on_use(r"[^\s\x00-\x1f\x7f]+")  # one word: no whitespace, no control character
_CONTROL = compile_on_use(r"[\x00-\x08\x0a-\x1f\x7f\u2028\u2029\x85]")  # a line break or another control (a tab is fine)
_TAG = compile_on_use(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[0-9a-f]{64})?|@?sha256:[0-9a-f]{64}")
_LABEL_TYPES = ("text", "url", "semver", "hash", "rfc3339", "spdx", "email")
_MAX_ID = 2**31 - 1
_MAX_FILE_SIZE = 2**31 - 1


def _kind(value: Any) -> str:
    """The value's type, as the config's author wrote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        return "an empty string" if not value else (repr(value) if len(value) < 60 else repr(value[:57] + "..."))
    if isinstance(value, int):
        return f"the number {value}" if abs(value) < 10**12 else "a huge number"
    if isinstance(value, float):
        return f"the number {value:g}"
    return {list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def _text(value: Any, what: str, pattern: re.Pattern | None = None, empty: bool = False) -> str | None:
    """What is wrong with a string value (None: nothing)."""
    if not isinstance(value, str):
        return f"{what}, not {_kind(value)}"
    if not value:
        return None if empty else f"{what}, not an empty string"
    if pattern is not None and not pattern.fullmatch(value):
        return f"{what}, not {_kind(value)}"
    if pattern is None and _CONTROL.search(value):
        return f"{what} on one line, not {_kind(value)}"
    return None


def image_problem(value: Any, what: str = "an image reference") -> str | None:
    """What keeps ``value`` from being one image reference (None: it is one)."""
    from dockermig.syntax.query import parse_image_ref

    problem = _text(value, what, _WORD)
    if problem:
        return problem
    if len(value) > 255 or not parse_image_ref(value).is_well_formed:
        return f"{what}, not {_kind(value)}"
    return None


def _pattern_problem(value: Any, what: str) -> str | None:
    """An image pattern (``*`` globs allowed): one word of a reference's characters."""
    problem = _text(value, what, _WORD)
    if problem is None and not re.fullmatch(r"[A-Za-z0-9._:/@+*?\[\]-]{1,255}", value):
        problem = f"{what}, not {_kind(value)}"
    return problem


def _whole(value: Any, what: str, low: int, high: int, digits_ok: bool = False) -> str | None:
    """An integer in ``[low, high]`` (``digits_ok``: a string of digits too)."""
    if digits_ok and isinstance(value, str) and value.isdigit() and len(value) < 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{what}, not {_kind(value)}"
    if not low <= value <= high:
        return f"{what} from {low} to {high}, not {_kind(value)}"
    return None


def _number(value: Any, what: str, low: float, high: float) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{what}, not {_kind(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{what}, not {_kind(value)}"
    if not low <= value <= high:
        return f"{what} from {low:g} to {high:g}, not {_kind(value)}"
    return None


def _list_of(value: Any, what: str, check) -> Iterator[tuple[int, str]]:
    """(index, problem) for a list whose items ``check`` (item -> problem or None)."""
    if not isinstance(value, list):
        yield -1, f"{what}, not {_kind(value)}"
        return
    for index, item in enumerate(value):
        problem = check(item)
        if problem:
            yield index, problem


def _table_of(value: Any, what: str, key_check, value_check) -> Iterator[tuple[str, str]]:
    if not isinstance(value, dict):
        yield "", f"{what}, not {_kind(value)}"
        return
    for key, item in value.items():
        problem = key_check(key) or value_check(item)
        if problem:
            yield str(key), problem


def _path_problem(value: Any, what: str) -> str | None:
    problem = _text(value, what)
    if problem is None and "\x00" in value:
        problem = f"{what}, not a path with a NUL in it"
    return problem


def _absolute(value: Any, what: str) -> str | None:
    problem = _text(value, what, _WORD)
    if problem is None and not value.startswith("/"):
        problem = f"{what} (an absolute path), not {_kind(value)}"
    return problem


# -- the sections -----------------------------------------------------------------------


def _master(entry: dict[str, Any], at: tuple[str, ...]) -> Iterator[Problem]:
    where = f"{at[0]}[{at[1]}]."

    def say(key: str, problem: str | None) -> Iterator[Problem]:
        if problem:
            yield (*at, key), f"{where}{key} must be {problem}"

    if "image" not in entry:
        yield at, f"{where[:-1]}: a master needs at least 'image'"
        return
    checks = {
        "name": lambda v: _text(v, "a name of letters, digits, '.', '_' and '-'", _NAME),
        "language": lambda v: None if v in ("python", "node") else f"python or node, not {_kind(v)}",
        "base": lambda v: image_problem(v, "an image reference"),
        "user": lambda v: None if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= _MAX_ID
                          else _text(v, "a user name or uid", _ACCOUNT),
        "group": lambda v: None if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= _MAX_ID
                           else _text(v, "a group name or gid", _ACCOUNT),
        "uid": lambda v: _whole(v, "a uid", 0, _MAX_ID, digits_ok=True),
        "gid": lambda v: _whole(v, "a gid", 0, _MAX_ID, digits_ok=True),
        "home": lambda v: _absolute(v, "a directory"),
        "workdir": lambda v: _absolute(v, "a directory"),
        "port": lambda v: _whole(v, "a port", 1, 65535, digits_ok=True),
        "health_path": lambda v: None if v is None else _absolute(v, "a URL path like /health, or null"),
        "dockerfile": lambda v: _path_problem(v, "the path of the master's Dockerfile"),
        "context": lambda v: _path_problem(v, "the path of the master's build context"),
        "resolve-from-image": lambda v: None if isinstance(v, bool) else f"true or false, not {_kind(v)}",
    }
    if image_problem(entry["image"]):
        yield (*at, "image"), (f"{where}image {_kind(entry['image'])} is not an image reference "
                               "(the migration writes it after FROM)")
        return
    for key, check in checks.items():
        if key in entry and not (key in ("user", "group", "home", "workdir", "base", "name", "language", "port",
                                         "uid", "gid", "dockerfile", "context") and entry[key] is None):
            yield from say(key, check(entry[key]))
    for key in ("entrypoint", "cmd", "workdir_contents"):
        if entry.get(key) is not None:
            for index, problem in _list_of(entry[key], "a list of strings",
                                           lambda v: _text(v, "a string on one line", empty=True)):
                yield (*at, key), f"{where}{key}{f'[{index}]' if index >= 0 else ''} must be {problem}"
    if "aliases" in entry:
        for index, problem in _list_of(entry["aliases"], "a list of image references", image_problem):
            yield (*at, "aliases"), f"{where}aliases{f'[{index}]' if index >= 0 else ''} must be {problem}"
    if entry.get("env") is not None:
        for name, problem in _table_of(entry["env"], "a table of NAME: value",
                                       lambda k: _text(k, "a variable name", _ENV_NAME),
                                       lambda v: _scalar(v, "a value on one line")):
            yield (*at, "env", name), f"{where}env{'.' + name if name else ''} must be {problem}"
    if entry.get("accounts") is not None:
        for index, problem in _list_of(entry["accounts"], "a list of accounts", _account):
            yield (*at, "accounts"), f"{where}accounts{f'[{index}]' if index >= 0 else ''}: {problem}"
    if entry.get("packages") is not None:
        yield from _packages(entry["packages"], (*at, "packages"), where)
    if entry.get("replaces") is not None:
        for manager, problem in _table_of(entry["replaces"], "a table of manager: [packages]", _manager,
                                          lambda v: next((p for _, p in _list_of(v, "a list of package names",
                                                                                 _package)), None)):
            yield (*at, "replaces", manager), f"{where}replaces{'.' + manager if manager else ''} must be {problem}"


def _scalar(value: Any, what: str) -> str | None:
    """A string, a whole or finite number, or a boolean: what YAML may give an ENV value."""
    if isinstance(value, (bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{what}, not {_kind(value)}"
    return _text(value, what, empty=True)


def _manager(name: Any) -> str | None:
    return None if name in ("apt", "pip", "npm") else f"apt, pip or npm, not {_kind(name)}"


def _package(name: Any) -> str | None:
    return _text(name, "a package name", _PACKAGE)


def _packages(value: Any, at: tuple[str, ...], where: str) -> Iterator[Problem]:
    def version(v: Any) -> str | None:
        if v is None or (isinstance(v, int) and not isinstance(v, bool)):
            return None
        if isinstance(v, float):
            return None if math.isfinite(v) else f"a version, not {_kind(v)}"
        return _text(v, "a version (or null)", _VERSION)

    def table(v: Any) -> str | None:
        return next((f"{name}: {problem}" for name, problem in _table_of(v, "a table of package: version",
                                                                       _package, version)), None)

    for manager, problem in _table_of(value, "a table of apt, pip, npm tables", _manager, table):
        yield (*at, manager) if manager else at, f"{where}packages{'.' + manager if manager else ''} must be {problem}"


def _account(entry: Any) -> str | None:
    if not isinstance(entry, dict) or "name" not in entry:
        return f"an account is a table with at least 'name', not {_kind(entry)}"
    unknown = sorted(str(k) for k in set(entry) - {"name", "uid", "gid", "group", "home"})
    if unknown:
        return f"unknown key(s) {', '.join(unknown)} (known: gid, group, home, name, uid)"
    return (_text(entry["name"], "name must be a user name", _ACCOUNT)
            or (entry.get("group") is not None and _text(entry["group"], "group must be a group name", _ACCOUNT))
            or (entry.get("uid") is not None and _whole(entry["uid"], "uid must be a uid", 0, _MAX_ID, True))
            or (entry.get("gid") is not None and _whole(entry["gid"], "gid must be a gid", 0, _MAX_ID, True))
            or (entry.get("home") is not None and _absolute(entry["home"], "home must be a directory"))
            or None)


def _catalogue(entry: dict[str, Any], at: tuple[str, ...]) -> Iterator[Problem]:
    where = f"{at[0]}[{at[1]}]."
    checks = {
        "image": lambda v: _pattern_problem(v, "an image or image pattern"),
        "category": lambda v: _text(v, "a category name", _NAME),
        "user": lambda v: None if v is None or (isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= _MAX_ID)
                          else _text(v, "a user name or uid (user:group too)",
                                     re.compile(rf"{_ACCOUNT.pattern}(:{_ACCOUNT.pattern})?")),
        "user-by": lambda v: None if v in ("USER", "entrypoint") else f"USER or entrypoint, not {_kind(v)}",
        "kind": lambda v: _text(v, "a kind name", _NAME),
        "reason": lambda v: _text(v, "a reason on one line"),
    }
    for key, check in checks.items():
        if key in entry:
            problem = check(entry[key])
            if problem:
                yield (*at, key), f"{where}{key} must be {problem}"
    for key in ("tags", "binaries", "packages", "programs"):
        if key in entry:
            check = {"tags": lambda v: _text(v, "a tag or tag pattern", _WORD),
                     "packages": _package}.get(key, lambda v: _text(v, "a program name", _WORD))
            for index, problem in _list_of(entry[key], f"a list of {key}", check):
                yield (*at, key), f"{where}{key}{f'[{index}]' if index >= 0 else ''} must be {problem}"


def _rule_option(option: str, value: Any) -> str | None:
    """What is wrong with a rule option's value (the options rules declare)."""
    if option in ("build-stages", "strict-labels"):
        return None if isinstance(value, bool) else f"true or false, not {_kind(value)}"
    if option == "trusted-registries":
        return next((p for _, p in _list_of(value, "a list of registries (globs allowed)",
                                            lambda v: _pattern_problem(v, "a registry"))), None)
    if option == "pins":
        return next((f"{k}: {p}" if k else p for k, p in _table_of(
            value, "a table of image: tag", lambda k: _pattern_problem(k, "an image name"),
            lambda v: _text(v, "a tag (or tag@sha256:digest)", _TAG))), None)
    if option == "label-schema":
        return next((f"{k}: {p}" if k else p for k, p in _table_of(
            value, "a table of label: type", lambda k: _text(k, "a label name", _WORD),
            lambda v: None if v in _LABEL_TYPES else f"one of {', '.join(_LABEL_TYPES)}, not {_kind(v)}")), None)
    return None


_VERIFY_INTEGERS = {"health-status": (100, 599), "rollback-health-failures": (1, 10**6), "latency-percentile": (1, 100),
                    "requests": (1, 10**7), "concurrency": (1, 10**4)}


def _verify(key: str, value: Any) -> str | None:
    if key in _VERIFY_INTEGERS:
        return _whole(value, "a whole number", *_VERIFY_INTEGERS[key])
    return _number(value, "a non-negative finite number", 0, 10**9)


_PRIORITY_CHECKS = {
    "priority": lambda v: None if v in ("P0", "P1", "P2", "P3") else f"P0, P1, P2 or P3, not {_kind(v)}",
    "reason": lambda v: _text(v, "a reason on one line"),
    "paths": lambda v: next((p for _, p in _list_of(v, "a list of gitignore-style patterns",
                                                    lambda x: _text(x, "a pattern on one line"))), None),
    "classifications": lambda v: next((p for _, p in _list_of(v, "a list of classifications",
                                                              lambda x: _text(x, "a classification", _NAME))), None),
    "categories": lambda v: next((p for _, p in _list_of(v, "a list of categories",
                                                         lambda x: _text(x, "a category name", _NAME))), None),
    "compose": lambda v: None if v in ("production", "dev", "none") else f"production, dev or none, not {_kind(v)}",
    "min-dependents": lambda v: _whole(v, "a whole number", 0, 10**6),
}


def problems(data: dict[str, Any]) -> Iterator[Problem]:
    """Every problem of the values inside the top-level keys (which ``SCHEMA`` checked)."""
    if "max-file-size" in data and data["max-file-size"] > _MAX_FILE_SIZE:
        yield ("max-file-size",), f"max-file-size must be at most {_MAX_FILE_SIZE} bytes, not {_kind(data['max-file-size'])}"
    for key in ("masters", "extend-masters"):
        for index, entry in enumerate(data.get(key, [])):
            yield from _master(entry, (key, str(index)))
    for key in ("keep-as-is", "extend-keep-as-is", "review-bases", "extend-review-bases"):
        for index, entry in enumerate(data.get(key, [])):
            yield from _catalogue(entry, (key, str(index)))
    for code, options in data.get("rules", {}).items():
        for option, value in options.items():
            problem = _rule_option(str(option), value)
            if problem:
                yield ("rules", str(code), str(option)), f"rules.{code}.{option} must be {problem}"
    for key, value in data.get("verify", {}).items():
        problem = _verify(str(key), value)
        if problem:
            yield ("verify", str(key)), f"verify.{key} must be {problem}"
    for index, rule in enumerate(data.get("priorities", [])):
        for key, value in rule.items():
            problem = _PRIORITY_CHECKS[key](value)
            if problem:
                yield ("priorities", str(index), key), f"priorities[{index}].{key} must be {problem}"
    for name, keywords in data.get("categories", {}).items():
        problem = _text(name, "a name of letters, digits, '.', '_' and '-'", _NAME) or next(
            (p for _, p in _list_of(keywords, "a list of keywords", lambda x: _text(x, "a keyword", _WORD))), None)
        if problem:
            yield ("categories", str(name)), f"categories: {_kind(name)} must be {problem}"
    for name, table in data.get("package-maps", {}).items():
        problem = next((f"{k}: {p}" for k, p in _table_of(table, "a table of names", _package, _package)), None)
        if problem:
            yield ("package-maps", str(name)), f"package-maps.{name}: {problem}"
    for key, what in (("templates", "a directory"), ("hadolint-config", "a file")):
        if isinstance(data.get(key), str):
            problem = _path_problem(data[key], what)
            if problem:
                yield (key,), f"{key} must be {problem}"
    for index, pattern in enumerate(data.get("exclude", [])):
        problem = _text(pattern, "a gitignore-style pattern")
        if problem:
            yield ("exclude",), f"exclude[{index}] must be {problem}"
    for index, root in enumerate(data.get("read-roots", [])):
        problem = _path_problem(root, "a directory")
        if problem:
            yield ("read-roots",), f"read-roots[{index}] must be {problem}"
