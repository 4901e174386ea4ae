"""Configuration: ``[tool.dockermig]`` in pyproject.toml or ``.dockermig.yaml``.

The nearest config file above a linted path applies to it (like ruff): a monorepo can
keep one config at the top and give a sub-tree its own. The search stops at the
repository's root: a config file above the checkout is never read. ``--config FILE`` overrides the
search. Every key is checked; a mistake is reported with the file and line.

The nearest ``.hadolint.yaml`` above the path (up to the repository's root; else the
user's own hadolint config) is read too, as a layer under that config
(``dockermig.hadolint_config``): what the dockermig config sets wins, key by key, and its
``hadolint-config`` key can point at another file or turn the layer off.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from dockermig.rule import Severity
from dockermig.selection import EVERY_RULE, Selection, enabled_codes, matches_nothing, subcode_enabled

if TYPE_CHECKING:
    from dockermig.hadolint_config import HadolintConfig

CONFIG_NAMES = (".dockermig.yaml", ".dockermig.yml", "pyproject.toml")
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024


class ConfigError(ValueError):
    """A config problem; the message starts with ``file:line:``."""


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


_PRIORITY_KEYS = {"priority", "reason", "paths", "classifications", "categories", "compose", "min-dependents"}

# key -> (check, expected type in words)
SCHEMA: dict[str, tuple[Any, str]] = {
    "select": (_is_str_list, "a list of rule codes, prefixes or names"),
    "ignore": (_is_str_list, "a list of rule codes, prefixes or names"),
    "severity": (lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()), "a table of code = severity"),
    "fail-on": (lambda v: isinstance(v, str), "a severity: error, warning or info"),
    "exclude": (_is_str_list, "a list of gitignore-style patterns"),
    "respect-gitignore": (lambda v: isinstance(v, bool), "true or false"),
    "max-file-size": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0, "a size in bytes"),
    "masters": (_is_table_list, "a list of master tables"),
    "extend-masters": (_is_table_list, "a list of master tables"),
    "keep-as-is": (_is_table_list, "a list of keep-as-is tables"),
    "extend-keep-as-is": (_is_table_list, "a list of keep-as-is tables"),
    "review-bases": (_is_table_list, "a list of review-bases tables"),
    "extend-review-bases": (_is_table_list, "a list of review-bases tables"),
    "rules": (lambda v: isinstance(v, dict) and all(isinstance(x, dict) for x in v.values()), "a table of rule option tables"),
    "templates": (lambda v: isinstance(v, str), "a directory of Jinja2 templates"),
    "package-maps": (lambda v: isinstance(v, dict) and all(
                         isinstance(m, dict) and all(isinstance(a, str) and isinstance(b, str) for a, b in m.items())
                         for m in v.values()),
                     "a table of name maps from names to names, e.g. apk-to-debian: {py3-numpy: python3-numpy}"),
    "verify": (lambda v: isinstance(v, dict), "a table of verifier gates and triggers"),
    "report": (lambda v: isinstance(v, dict), "a table of report settings and targets (see docs/payoff.md)"),
    "hadolint-config": (lambda v: isinstance(v, (bool, str)), "true, false or the path of a .hadolint.yaml"),
    "disable-ignore-pragma": (lambda v: isinstance(v, bool), "true or false"),
    "resolve-from-image": (lambda v: isinstance(v, bool), "true or false"),
    "read-roots": (_is_str_list, "a list of directories outside the repository that dockermig may read"),
    "priorities": (lambda v: _is_table_list(v) and all(r.get("priority") in ("P0", "P1", "P2", "P3")
                                                       and set(r) <= _PRIORITY_KEYS for r in v),
                   "a list of priority rules, each with priority: P0, P1, P2 or P3 and only the keys "
                   "reason, paths, classifications, categories, compose, min-dependents (see rules/priorities.yaml)"),
    "categories": (lambda v: isinstance(v, dict) and all(_is_str_list(x) for x in v.values()),
                   "a table of category = list of keywords"),
}


class Config:
    """Settings for the files under one config file (or the defaults)."""

    def __init__(self, source: Path | None = None, data: dict[str, Any] | None = None,
                 overrides: Overrides | None = None, hadolint: HadolintConfig | None = None):
        self.source = source
        self.data = data or {}
        self.overrides = overrides
        self.hadolint = hadolint  # the .hadolint.yaml layered under this config, if any
        self._overridden: dict[Overrides, Config] = {}
        self._parent: Config | None = None  # the config these overrides sit on: it owns the policy

    @property
    def root(self) -> Path | None:
        """Relative paths in the config (master Dockerfiles, excludes) start here."""
        return self.source.parent if self.source else None

    def overridden(self, overrides: Overrides | None) -> Config:
        """This config with the command line's settings on top (the same object each time)."""
        if not overrides:
            return self
        cached = self._overridden.get(overrides)
        if cached is None:
            cached = self._overridden[overrides] = Config(self.source, self.data, overrides, self.hadolint)
            cached._parent = self
        return cached

    @property
    def selection(self) -> tuple[Selection, ...]:
        """The layers of rule selection: every rule, then this file's, then the command line's."""
        here = Selection(tuple(self.data["select"]) if "select" in self.data else None, tuple(self.data.get("ignore", ())))
        hadolint = (self.hadolint.selection,) if self.hadolint else ()
        return (EVERY_RULE, *hadolint, here) + ((self.overrides.selection,) if self.overrides else ())

    @cached_property
    def enabled_codes(self) -> frozenset[str]:
        from dockermig.registry import all_rules

        return enabled_codes(all_rules(), self.selection)

    @cached_property
    def fail_on(self) -> Severity:
        if self.overrides and self.overrides.fail_on:
            return self.overrides.fail_on
        if "fail-on" not in self.data and self.hadolint and self.hadolint.fail_on:
            return self.hadolint.fail_on
        return Severity.parse(self.data.get("fail-on", "info"))

    @cached_property
    def severity(self) -> dict[str, Severity]:
        own = {code: Severity.parse(value) for code, value in self.data.get("severity", {}).items()}
        if not self.hadolint:
            return own
        from dockermig.registry import all_rules

        return {**self.hadolint.severity(all_rules()), **own}

    @cached_property
    def ignore_pragmas_disabled(self) -> bool:
        """Inline suppressions are not honoured (hadolint's ``disable-ignore-pragma``)."""
        if "disable-ignore-pragma" in self.data:
            return self.data["disable-ignore-pragma"]
        return bool(self.hadolint and self.hadolint.disable_ignore_pragma)

    def subcode_enabled(self, rule, subcode: str) -> bool:
        """Whether a finding of ``rule`` with this finer code (SC2086) is reported."""
        cache = self.__dict__.setdefault("_subcodes", {})
        key = (rule.code, subcode)
        if key not in cache:
            cache[key] = subcode_enabled(rule, subcode, self.selection)
        return cache[key]

    def excludes(self, walked: Path) -> list[tuple[Path, tuple[str, ...]]]:
        """(base, gitignore-style patterns) pairs: the config's own, relative to its folder
        (or to ``walked`` when there is no config file), unless the command line's
        ``--exclude`` replaces them; then ``--extend-exclude``, relative to the working
        directory."""
        found = [(self.root or walked, tuple(self.data.get("exclude", ())))]
        if self.overrides:
            if self.overrides.exclude is not None:
                found = [(self.overrides.base, self.overrides.exclude)]
            found.append((self.overrides.base, self.overrides.extend_exclude))
        return [(base, patterns) for base, patterns in found if patterns]

    @property
    def respect_gitignore(self) -> bool:
        return bool(self.data.get("respect-gitignore", True))

    @property
    def max_file_size(self) -> int:
        return int(self.data.get("max-file-size", DEFAULT_MAX_FILE_SIZE))

    @cached_property
    def read_roots(self) -> tuple[Path, ...]:
        """Where reads may go besides the linted file's repository: this config's own
        repository and the ``read-roots`` it names (docs/limits.md)."""
        if self.source is None:
            return ()
        from dockermig.limits import repository_root

        extra = (Path(p) if Path(p).is_absolute() else self.root / p for p in self.data.get("read-roots", []))
        return (repository_root(self.root, self.root), *extra)

    @property
    def templates_dir(self) -> Path | None:
        """A directory whose templates override the built-in ones by file name."""
        if "templates" not in self.data:
            return None
        path = Path(self.data["templates"])
        return path if path.is_absolute() or self.root is None else self.root / path

    def template_problems(self) -> list[str]:
        """What is wrong with the ``templates`` directory: each template is rendered once
        in the sandbox, confined to this config's repository like any read of it."""
        templates = self.templates_dir
        if templates is None:
            return []
        if not templates.is_dir():
            return [f"templates directory {templates} not found"]
        from dockermig.limits import InputError, confined, is_inside
        from dockermig.policy.render import check_templates

        if not any(is_inside(templates, root) for root in self.read_roots):
            return [f"templates directory {templates} is outside the repository (see read-roots)"]
        with confined(self.read_roots, self.max_file_size):
            try:
                return check_templates(templates)
            except InputError as error:
                return [str(error)]

    def rule_options(self, code: str, name: str) -> dict[str, Any]:
        rules = self.data.get("rules", {})
        own = {**rules.get(name, {}), **rules.get(code, {})}
        if not self.hadolint:
            return own
        from dockermig.registry import rule_by_key

        rule = rule_by_key(code)
        return {**self.hadolint.rule_options(rule), **own} if rule is not None else own

    @cached_property
    def policy(self):
        if self._parent is not None:
            return self._parent.policy
        from dockermig.policy.masters import PolicyError, build_policy, default_policy

        keys = ("masters", "extend-masters", "keep-as-is", "extend-keep-as-is", "review-bases", "extend-review-bases",
                "resolve-from-image")
        if not any(k in self.data for k in keys):
            return default_policy()
        from dockermig.limits import InputError, confined, read_text

        try:
            # the masters' Dockerfiles are read from this config's repository, whichever
            # file asked first
            with confined(self.read_roots, self.max_file_size):
                return build_policy(self.data, self.root, _shown(self.source))
        except (PolicyError, InputError) as error:
            key = getattr(error, "key", None)
            try:
                line = _line_of(read_text(self.source), key) if key else None
            except (OSError, ValueError, InputError):
                line = None
            where = f"{self.source}:{line}" if line else str(self.source)
            raise ConfigError(f"{where}: {error}") from None

    def is_enabled(self, code: str, name: str = "") -> bool:
        """Whether the rule runs (see ``dockermig.selection``)."""
        return code in self.enabled_codes


class Overrides(NamedTuple):
    """What the command line sets on top of every config file (ruff's overrides)."""

    selection: Selection = Selection()
    exclude: tuple[str, ...] | None = None  # replaces the config's ``exclude``
    extend_exclude: tuple[str, ...] = ()
    force_exclude: bool = False  # excludes apply to paths named on the command line too
    fail_on: Severity | None = None
    base: Path = Path(".")  # where the command line's patterns start: the working directory


class Settings(NamedTuple):
    """How each file finds its config: ``--config FILE`` or the nearest config file at or
    above it, with the command line's overrides on top. Cheap to send to a worker process."""

    config_file: Path | None = None
    overrides: Overrides | None = None

    def config_for(self, path: Path) -> Config:
        if self.config_file:  # one config for every path: no search, only what it names
            found = with_hadolint(load_config_once(self.config_file), None)
        else:
            found = config_for(path)
        return found.overridden(self.overrides)


# -- discovery and loading ---------------------------------------------------------------


_cache: dict[tuple[Path, Path], Config | None] = {}  # (boundary, folder) -> its config


def config_for(path: Path) -> Config:
    """The config that applies to ``path``: the nearest config file at or above it, up to
    its repository's root (``config_boundary``); none there: the defaults."""
    directory = path if path.is_dir() else path.parent
    directory = directory.resolve()
    boundary = config_boundary(directory)

    def config_in(folder: Path) -> Config | None:
        found = _config_file_in(folder)
        return load_config(found) if found is not None else None

    found = _nearest(directory, boundary, _cache, config_in)
    return with_hadolint(found if found is not None else _DEFAULTS, directory, boundary)


_DEFAULTS = Config()


def config_boundary(directory: Path) -> Path:
    """The highest folder whose config files apply to ``directory``: its repository's root
    (the nearest folder with a ``.git``, the root reads are confined to), else the working
    directory when ``directory`` is under it, else ``directory`` itself. A config file
    above it (a parent of the checkout, a shared temp folder) is never read."""
    from dockermig.limits import is_inside, repository_root

    cwd = Path.cwd()
    return repository_root(directory, cwd if is_inside(directory, cwd) else directory)


def _nearest(directory: Path, boundary: Path, cache: dict, find):
    """The first answer of ``find`` at or above ``directory`` up to ``boundary`` (None:
    none), remembered in ``cache`` for every folder walked on the way."""
    seen: list[tuple[Path, Path]] = []
    current = directory
    found = None
    while True:
        key = (boundary, current)
        if key in cache:
            found = cache[key]
            break
        seen.append(key)
        found = find(current)
        if found is not None or current == boundary or current.parent == current:
            break
        current = current.parent
    for visited in seen:
        cache[visited] = found
    return found


def forget_configs() -> None:
    """Read every config again from now on: a long-lived process (the language server)
    calls it when a config file changes, since a lint run reads each config once."""
    _cache.clear()
    _loaded.clear()


def _config_file_in(directory: Path) -> Path | None:
    for name in CONFIG_NAMES:
        candidate = directory / name
        if not candidate.exists() or candidate.is_dir():
            continue  # a FIFO or a device named like a config is an error of load_config
        if name != "pyproject.toml":
            return candidate
        from dockermig.limits import InputError, read_text

        try:
            if "[tool.dockermig" in read_text(candidate, errors="replace"):
                return candidate
        except (OSError, InputError):
            return candidate  # load_config says what is wrong with it
    return None


_hadolint_cache: dict[tuple[Path, Path], Path | None] = {}
_layered: dict[tuple[int, Path | None], Config] = {}


def with_hadolint(config: Config, directory: Path | None, boundary: Path | None = None) -> Config:
    """``config`` with the hadolint layer that applies: the file its ``hadolint-config``
    names, none when that is false, else the nearest ``.hadolint.yaml`` at or above
    ``directory`` (no search when it is None) up to ``boundary`` (its ``config_boundary``,
    computed when not given). The same object for the same pair."""
    setting = config.data.get("hadolint-config", True)
    if setting is False or config.hadolint is not None:
        return config
    if isinstance(setting, str):
        path = Path(setting)
        found = path if path.is_absolute() or config.root is None else config.root / path
    else:
        found = _nearest_hadolint_file(directory, boundary) if directory is not None else None
    if found is None:
        return config
    key = (id(config), found)
    layered = _layered.get(key)
    if layered is None or layered._parent is not config:
        from dockermig.hadolint_config import load_hadolint_config

        layered = Config(config.source, config.data, config.overrides, load_hadolint_config(found))
        layered._parent = config  # the policy is the config's own
        _layered[key] = layered
    return layered


def _nearest_hadolint_file(directory: Path, boundary: Path | None) -> Path | None:
    """The nearest ``.hadolint.yaml`` up to the repository's root, else the user's own
    hadolint config (``hadolint_config.user_hadolint_file``)."""
    from dockermig.hadolint_config import hadolint_file_in, user_hadolint_file

    if boundary is None:
        boundary = config_boundary(directory)
    found = _nearest(directory, boundary, _hadolint_cache, hadolint_file_in)
    return found if found is not None else user_hadolint_file()


_loaded: dict[Path, Config] = {}


def load_config_once(path: Path) -> Config:
    """``load_config``, read once per process (``--config FILE`` applies to every file)."""
    key = path.absolute()
    if key not in _loaded:
        _loaded[key] = load_config(path)
    return _loaded[key]


def load_config(path: Path) -> Config:
    """Read and validate one config file (a hadolint one, by its name, as hadolint's)."""
    from dockermig.hadolint_config import is_hadolint_file
    from dockermig.limits import InputError, read_text

    if is_hadolint_file(path):
        from dockermig.hadolint_config import load_hadolint_config

        return Config(None, {}, hadolint=load_hadolint_config(path))
    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError, InputError) as error:
        raise ConfigError(f"{path}: cannot read config ({error})") from None
    import hashlib

    from dockermig.policy.loader import cached

    # parsed and checked once per text (with dockermig's version): parsing YAML imports
    # ruamel.yaml and checking select/ignore imports every rule, more than a remembered
    # lint (dockermig.lint_cache) costs in all
    data, problem = cached("config", f"config|{path}|{hashlib.sha256(text.encode()).hexdigest()}",
                           lambda: _read_config(path, text))
    if problem is not None:
        raise ConfigError(problem)
    return Config(path, data)


def _read_config(path: Path, text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(the settings of a config file's text, None) or (None, what is wrong with it)."""
    from dockermig.limits import too_deep

    try:
        if path.name == "pyproject.toml" or path.suffix == ".toml":
            import tomllib

            try:
                document = tomllib.loads(text)
            except tomllib.TOMLDecodeError as error:
                raise ConfigError(f"{path}: invalid TOML: {error}") from None
            except RecursionError:
                raise ConfigError(str(too_deep(str(path), None))) from None
            data = document.get("tool", {}).get("dockermig", {}) if path.name == "pyproject.toml" else document
        else:
            from dockermig.policy.loader import YamlError, parse_yaml

            try:
                data = parse_yaml(text, path) or {}
            except YamlError as error:
                raise ConfigError(str(error)) from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}:1: the config must be a table of settings")
        validate(data, path, text)
    except ConfigError as error:
        return None, str(error)
    return data, None


def validate(data: dict[str, Any], path: Path, text: str) -> None:
    from dockermig.registry import all_rules

    def fail(key: str, message: str) -> None:
        raise ConfigError(f"{path}:{_line_of(text, key)}: {message}")

    for key, value in data.items():
        if key not in SCHEMA:
            close = [k for k in SCHEMA if k.replace("-", "") == key.replace("_", "").replace("-", "")]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            fail(key, f"unknown key {key!r}{hint}")
        check, expected = SCHEMA[key]
        if not check(value):
            fail(key, f"{key!r} must be {expected}")
    if data.get("exclude"):
        import pathspec  # only when there are excludes to check

        for pattern in data["exclude"]:
            try:
                pathspec.GitIgnoreSpec.from_lines([pattern])
            except (ValueError, TypeError) as error:  # pathspec's GitIgnorePatternError is a ValueError
                fail(pattern, f"exclude: invalid pattern {pattern!r} ({error})")
    # the rules are imported only for a config that names some: one that does not spares
    # a remembered lint (dockermig.lint_cache), which imports no rule, that time
    known = {r.code for r in all_rules()} | {r.name for r in all_rules()} if data.get("severity") else set()
    for key in ("select", "ignore"):
        for selector in data.get(key, []):
            if matches_nothing(selector, all_rules()):
                fail(selector, f"{key}: {selector!r} matches no rule")
    for code, value in data.get("severity", {}).items():
        if code not in known:
            fail(code, f"severity: unknown rule {code!r}")
        try:
            Severity.parse(value)
        except ValueError as error:
            fail(code, f"severity.{code}: {error}")
    if "fail-on" in data:
        try:
            Severity.parse(data["fail-on"])
        except ValueError as error:
            fail("fail-on", f"fail-on: {error}")
    if "verify" in data:
        from dockermig.verify.settings import validate as validate_verify

        for problem in validate_verify(data["verify"]):
            fail(problem.split(" ", 1)[0].split(".")[-1].rstrip(":").strip("'"), problem)
    if "report" in data:
        from dockermig.payoff.settings import validate as validate_report

        for problem in validate_report(data["report"]):
            fail("report", problem)
    by_key = {r.code: r for r in all_rules()} | {r.name: r for r in all_rules()} if data.get("rules") else {}
    for code, options in data.get("rules", {}).items():
        rule = by_key.get(code)
        if rule is None:
            fail(code, f"rules: unknown rule {code!r}")
        for option in options:
            if option not in rule.options:
                fail(option, f"rules.{code}: {rule.code} has no option {option!r}")
    from dockermig.config_values import problems

    for keys, message in problems(data):
        raise ConfigError(f"{path}:{_line_of_path(text, keys)}: {message}")


def _shown(path: Path | None) -> str:
    """A config file as messages name it: relative to the working directory when under it."""
    if path is None:
        return "the config"
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


def _line_of_path(text: str, keys: tuple[str, ...]) -> int:
    """Best-effort line of a nested value: each key searched after the one before it, a
    list index as that many list items further on."""
    position = 0
    for key in keys:
        if key.isdigit():
            for _ in range(int(key) + 1):
                item = re.compile(r"^[ \t]*-[ \t]", re.MULTILINE).search(text, position)
                if item is None:
                    break
                position = item.end()
            continue
        word = re.match(r"[\w.-]*", key).group(0)  # a key quoted in the file: its first word
        match = (re.compile(rf"^[ \t]*[-\"']?[ \t]*{re.escape(key)}\b", re.MULTILINE).search(text, position)
                 or re.compile(re.escape(key)).search(text, position)
                 or (re.compile(re.escape(word)).search(text, position) if word else None))
        if match:
            position = match.start() + len(match.group(0).rstrip()) if key != keys[-1] else match.start()
    return text.count("\n", 0, position) + 1


def _line_of(text: str, key: str) -> int:
    """Best-effort line of a key or value in the config text, for error messages."""
    match = re.search(rf"^\s*[-\"']?\s*{re.escape(key)}\b", text, re.MULTILINE) or re.search(
        re.escape(key), text
    )
    return text.count("\n", 0, match.start()) + 1 if match else 1
