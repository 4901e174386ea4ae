"""Which rules run: ruff's rule selection, layer by layer.

The defaults (every rule) are the first layer, the config file the next, the command line
the last. A layer that has a ``select`` starts the set afresh; a layer without one adds its
``extend-select`` to what the layers before it chose and takes its ``ignore`` away. Inside
one layer the most specific selector wins (an exact code, name or alias, then the longest
code prefix, then ``ALL``); on a tie, ignore wins.

A hadolint code (``DL3002``) selects the rules that declare it, so a team's existing
``hadolint --ignore DL3002`` carries over as ``dockermig --ignore DL3002``.

Some rules stand for many codes and say which one each finding is (``Finding.subcode``):
DM700 reports ShellCheck's codes (its hadolint codes are the pattern ``SC*``), and a rule
may declare several DL codes. Selecting such a code runs the rule; ignoring it silences
the findings with that code only (``subcode_enabled``), as ``hadolint --ignore SC2086``
does, and leaves the rule's other codes alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

EXACT = 1000  # an exact code, name, alias or hadolint code beats any prefix


class Selection(NamedTuple):
    """One layer: the config file's ``select``/``ignore``, or the command line's flags."""

    select: tuple[str, ...] | None = None  # None: keep what the layers before chose
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()


# The defaults layer: every rule but the opt-in ones (``Rule.opt_in``, like hadolint's
# rules of severity "ignore"), which run only when a selector names them (``ALL``
# included: a tie between a select and an ignore goes to the ignore, but a later layer's
# select starts afresh).
OPT_IN = "<opt-in>"
EVERY_RULE = Selection(select=("ALL",), ignore=(OPT_IN,))


def specificity(selector: str, rule) -> int:
    """How closely ``selector`` names ``rule``: -1 not at all, 0 for ``ALL``, the length
    of a code prefix, or EXACT."""
    if selector == "ALL":
        return 0
    if selector == OPT_IN:
        return 0 if rule.opt_in else -1
    upper = selector.upper()
    if upper == rule.code or selector == rule.name or selector in rule.aliases or upper in rule.hadolint:
        return EXACT
    if owns_subcode(rule, selector):
        return EXACT
    if upper.startswith("DM") and rule.code.startswith(upper):
        return len(selector)
    return -1


def enabled_codes(rules: Iterable, layers: Sequence[Selection]) -> frozenset[str]:
    """The codes of the rules that run after applying ``layers`` in order."""
    rules = list(rules)
    chosen: set[str] = set()
    for layer in layers:
        selectors = (*(layer.select or ()), *layer.extend_select)
        switched_on, switched_off = set(), set()
        for rule in rules:
            best_select = max((specificity(s, rule) for s in selectors), default=-1)
            # ignoring one of a rule's finer codes silences those findings, not the rule
            best_ignore = max((specificity(s, rule) for s in layer.ignore if not owns_subcode(rule, s)), default=-1)
            if best_select > best_ignore:
                switched_on.add(rule.code)
            elif best_ignore >= 0:
                switched_off.add(rule.code)
        chosen = switched_on if layer.select is not None else (chosen | switched_on) - switched_off
    return frozenset(chosen)


def matches_nothing(selector: str, rules: Iterable) -> bool:
    """True for a selector that names no rule: a typo, or a hadolint code no rule maps to."""
    return all(specificity(selector, rule) < 0 for rule in rules)


def has_subcodes(rule) -> bool:
    """Whether the rule's findings carry one of several codes (see ``owns_subcode``)."""
    return len(rule.hadolint) > 1 or any(code.endswith("*") for code in rule.hadolint)


def owns_subcode(rule, code: str) -> bool:
    """Whether ``code`` is one of the finer codes ``rule`` reports: one of several
    hadolint codes it declares, or a code a declared pattern matches (``SC*``: any
    ShellCheck code)."""
    upper = code.upper()
    for declared in rule.hadolint:
        if declared.endswith("*"):
            prefix = declared[:-1]
            if upper.startswith(prefix) and upper[len(prefix):].isdigit():
                return True
    return len(rule.hadolint) > 1 and upper in rule.hadolint


def subcode_enabled(rule, subcode: str, layers: Sequence[Selection]) -> bool:
    """Whether findings of ``rule`` with this subcode are reported, the rule being on.
    Layer by layer as ``enabled_codes``: a ``select`` naming some of the rule's codes (and
    not the rule) keeps only those; an ``ignore`` naming the code drops it. A finding
    without a subcode stands for all of the rule's codes."""
    if not subcode:
        codes = [code for code in rule.hadolint if not code.endswith("*")]
        return all(subcode_enabled(rule, code, layers) for code in codes)
    upper = subcode.upper()
    on = True
    for layer in layers:
        selectors = (*(layer.select or ()), *layer.extend_select)
        named = EXACT if any(s.upper() == upper for s in selectors) else -1
        whole = max((specificity(s, rule) for s in selectors if not owns_subcode(rule, s)), default=-1)
        ignored = EXACT if any(s.upper() == upper for s in layer.ignore) else -1
        if layer.select is not None:
            on = max(named, whole) > ignored
        elif named > ignored:
            on = True
        elif ignored >= 0:
            on = False
    return on
