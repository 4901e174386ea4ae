"""Built-in rules, one per module, named ``dm<code>_<slug>.py``; helpers that several
rules share are here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockermig.rule import Finding, LintContext, Rule


def shipped_duplicates(rule: Rule, ctx: LintContext, table: str) -> Iterator[Finding]:
    """DM301-DM303: findings (with their fixes) for one manifest table's packages that
    the master ships, a conflicting pin aside (that is DM304)."""
    from dockermig.fix import Applicability
    from dockermig.policy.shipped import duplicate_message, package_fix

    for package in ctx.facts.shipped:
        if package.manager == table and not package.conflicts:
            yield rule.finding(ctx, (package.start, package.end), duplicate_message(package),
                               fix=package_fix(ctx.facts, package, Applicability.SAFE))


def global_arg_names(dockerfile) -> frozenset[str]:
    """The names the ARGs before the first FROM declare (with a default or not)."""
    from dockermig.syntax.query import arg_defaults

    names: set[str] = set()
    for instruction in dockerfile.instructions:
        if instruction.keyword == "FROM":
            break
        if instruction.keyword == "ARG":
            names.update(arg_defaults(instruction))
    return frozenset(names)


def closest_name(name: str, candidates) -> str | None:
    """The candidate ``name`` was most likely meant to be (a typo or another case), as
    BuildKit's suggestions do: the same name in another case, else one edit away, else
    two edits away for a long name."""
    folded = {c.lower(): c for c in candidates}
    if name.lower() in folded and folded[name.lower()] != name:
        return folded[name.lower()]
    best, best_distance = None, 3 if len(name) >= 8 else 2
    for candidate in sorted(candidates):
        distance = _edit_distance(name.lower(), candidate.lower(), best_distance)
        if distance < best_distance:
            best, best_distance = candidate, distance
    return best


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or ``limit`` once it is certain to reach it."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) >= limit:
            return limit
        previous = current
    return min(previous[-1], limit)
