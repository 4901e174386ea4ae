"""Finds the rules: one module per rule in ``dockermig/rules/``."""

from __future__ import annotations

import importlib
import os
from functools import lru_cache

from dockermig.regex import compile_on_use
from dockermig.rule import Rule

_RULE_MODULE = compile_on_use(r"^(dm\d{3}_\w+)\.py$")


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    """Every built-in rule class, ordered by code."""
    import dockermig.rules as package

    # a directory listing, not pkgutil.iter_modules: that one imports inspect (~8 ms)
    names = sorted(
        {match[1] for entry in os.listdir(package.__path__[0]) if (match := _RULE_MODULE.match(entry))}
    )
    found: list[type[Rule]] = []
    for name in names:
        module = importlib.import_module(f"{package.__name__}.{name}")
        found.extend(
            value
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Rule) and value.__module__ == module.__name__
        )
    return tuple(sorted(found, key=lambda rule: rule.code))


def rule_by_key(key: str) -> type[Rule] | None:
    """Look a rule up by code (any case), name or alias, or by one of the finer codes a
    rule reports (ShellCheck's SC2086 finds DM700)."""
    from dockermig.selection import owns_subcode

    for rule in all_rules():
        if key.upper() == rule.code or key == rule.name or key in rule.aliases:
            return rule
    return next((rule for rule in all_rules() if owns_subcode(rule, key)), None)
