"""hadolint's configuration file (``.hadolint.yaml``), read as a layer under dockermig's.

A project that drops hadolint keeps its ``.hadolint.yaml``: dockermig reads the nearest
one at or above each Dockerfile, up to the repository's root (none there: the user's own
hadolint config, ``user_hadolint_file``), and applies what dockermig's own config does not say
otherwise (``Config`` layers it; docs/hadolint.md states the precedence):

| hadolint key | becomes |
|---|---|
| ``ignored`` | an ``ignore`` layer under the config's selection (DL codes pick the rules that declare them; SC codes silence those ShellCheck findings only) |
| ``override: {error,warning,info,style}`` | ``severity`` entries (``style`` is ``info``, dockermig's lowest) |
| ``failure-threshold`` | ``fail-on`` (``style``, ``ignore`` and ``none`` are ``info``: hadolint fails on any finding with them too) |
| ``trustedRegistries`` (or ``trusted-registries``) | the ``trusted-registries`` option of every rule that declares it |
| ``label-schema`` / ``strict-labels`` | the ``label-schema`` / ``strict-labels`` options of every rule that declares them |
| ``disable-ignore-pragma`` | ``disable-ignore-pragma``: inline suppressions are not honoured |

Keys hadolint reads that are command-line matters here (``format``, ``no-color``,
``no-fail``, ``verbose``) and keys hadolint does not know are ignored, as hadolint
ignores unknown keys. A value of the wrong type is an error naming the file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from dockermig.rule import Severity
from dockermig.selection import Selection

HADOLINT_NAMES = (".hadolint.yaml", ".hadolint.yml")
# what ``--config FILE`` recognises as hadolint's (its user-level files are named so)
_NAMED_AS_HADOLINT = (*HADOLINT_NAMES, "hadolint.yaml", "hadolint.yml")
_SEVERITIES = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO, "style": Severity.INFO}
_THRESHOLDS = {**_SEVERITIES, "ignore": Severity.INFO, "none": Severity.INFO}
_LABEL_TYPES = ("text", "url", "semver", "hash", "rfc3339", "spdx", "email")
# hadolint's keys -> the rule option that receives the value
RULE_OPTIONS = {"trustedRegistries": "trusted-registries", "trusted-registries": "trusted-registries",
                "label-schema": "label-schema", "strict-labels": "strict-labels"}


class HadolintConfig(NamedTuple):
    """One ``.hadolint.yaml``, in dockermig's terms."""

    source: Path
    ignored: tuple[str, ...] = ()
    overrides: tuple[tuple[str, Severity], ...] = ()  # (DL or SC code, severity), in file order
    fail_on: Severity | None = None
    options: tuple[tuple[str, Any], ...] = ()  # (rule option name, value)
    disable_ignore_pragma: bool | None = None

    @property
    def selection(self) -> Selection:
        return Selection(None, self.ignored)

    def severity(self, rules) -> dict[str, Severity]:
        """Severity overrides keyed the way the engine looks them up: by rule code for a
        rule that is one hadolint code, by the code itself for a finer code (SC2086)."""
        from dockermig.selection import has_subcodes, owns_subcode

        found: dict[str, Severity] = {}
        for code, severity in self.overrides:
            for rule in rules:
                if owns_subcode(rule, code):
                    found[code] = severity
                elif code in rule.hadolint and not has_subcodes(rule):
                    found[rule.code] = severity
        return found

    def rule_options(self, rule) -> dict[str, Any]:
        """The hadolint settings this rule takes as options (those it declares)."""
        return {name: value for name, value in self.options if name in rule.options}


def is_hadolint_file(path: Path) -> bool:
    return path.name in _NAMED_AS_HADOLINT


def hadolint_file_in(directory: Path) -> Path | None:
    for name in HADOLINT_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def user_hadolint_files() -> list[Path]:
    """The user's own hadolint config files, in the order hadolint looks at them:
    ``$XDG_CONFIG_HOME/hadolint.yaml``, ``~/.config/hadolint.yaml``,
    ``~/.hadolint/hadolint.yaml``, ``~/.hadolint/config.yaml``, ``~/.hadolint.yaml``."""
    import os

    home = Path(os.path.expanduser("~"))
    xdg = os.environ.get("XDG_CONFIG_HOME")
    found = [Path(xdg) / "hadolint.yaml"] if xdg and os.path.isabs(xdg) else []
    return found + [home / ".config" / "hadolint.yaml", home / ".hadolint" / "hadolint.yaml",
                    home / ".hadolint" / "config.yaml", home / ".hadolint.yaml"]


def user_hadolint_file() -> Path | None:
    """The first of the user's hadolint config files that is a regular file the user
    owns (one another account could write is not the user's settings)."""
    import os
    import stat

    for candidate in user_hadolint_files():
        try:
            status = os.stat(candidate)
        except (OSError, ValueError):
            continue
        if stat.S_ISREG(status.st_mode) and status.st_uid == os.getuid():
            return candidate
    return None


def load_hadolint_config(path: Path) -> HadolintConfig:
    """Read and check one hadolint config file (raises ConfigError)."""
    from dockermig.config import ConfigError, _line_of
    from dockermig.policy.loader import YamlError, load_yaml

    try:
        data = load_yaml(path)
    except YamlError as error:
        raise ConfigError(str(error)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read hadolint config ({error})") from None
    if data is None:
        return HadolintConfig(path)

    def fail(key: str, message: str):
        try:
            line = _line_of(path.read_text(encoding="utf-8", errors="replace"), key)
        except OSError:
            line = 1
        raise ConfigError(f"{path}:{line}: {message} (hadolint config)")

    if not isinstance(data, dict):
        fail("", "the config must be a table of settings")
    ignored = _codes(data.get("ignored"), "ignored", fail)
    overrides = []
    override = data.get("override")
    override = {} if override is None else override
    if not isinstance(override, dict):
        fail("override", "'override' must be a table of severity: [codes]")
    for level, codes in override.items():
        if level not in _SEVERITIES:
            fail(str(level), f"override: unknown severity {level!r} (expected error, warning, info or style)")
        overrides += [(code, _SEVERITIES[level]) for code in _codes(codes, f"override.{level}", fail)]
    fail_on = None
    if data.get("failure-threshold") is not None:
        threshold = str(data["failure-threshold"]).lower()
        if threshold not in _THRESHOLDS:
            fail("failure-threshold", f"failure-threshold: unknown severity {threshold!r}")
        fail_on = _THRESHOLDS[threshold]
    options = []
    for key, option in RULE_OPTIONS.items():
        if data.get(key) is None:
            continue
        value = data[key]
        if option == "trusted-registries":
            value = list(_codes(value, key, fail, upper=False))
            if not all(v and v.isprintable() and " " not in v for v in value):
                fail(key, f"'{key}' must be a list of registries (one word each)")
        elif option == "label-schema" and not (isinstance(value, dict) and all(v in _LABEL_TYPES for v in value.values())):
            fail(key, f"'label-schema' must be a table of label: type (one of {', '.join(_LABEL_TYPES)})")
        elif option == "strict-labels" and not isinstance(value, bool):
            fail(key, "'strict-labels' must be true or false")
        options.append((option, value))
    disable = data.get("disable-ignore-pragma")
    if disable is not None and not isinstance(disable, bool):
        fail("disable-ignore-pragma", "'disable-ignore-pragma' must be true or false")
    return HadolintConfig(path, ignored, tuple(overrides), fail_on, tuple(options), disable)


def _codes(value: Any, key: str, fail, upper: bool = True) -> tuple[str, ...]:
    """A list of strings (a lone string counts as a one-item list)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(key, f"'{key}' must be a list of strings")
    return tuple(v.strip().upper() if upper else v.strip() for v in value)
