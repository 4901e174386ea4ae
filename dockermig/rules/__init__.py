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
