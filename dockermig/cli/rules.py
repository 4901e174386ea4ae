"""``dockermig rule CODE`` and ``dockermig rules``: the rule reference in the terminal."""

from __future__ import annotations

import sys

import click


def _complete_codes(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from dockermig.registry import all_rules

    return [rule.code for rule in all_rules() if rule.code.startswith(incomplete.upper())]


@click.command()
@click.argument("code", shell_complete=_complete_codes)
def rule(code: str) -> int:
    """Explain a rule: what, why, examples, options.

    CODE is a rule code (DM101) or name (not-on-master).
    """
    from dockermig.cli import CommandError
    from dockermig.docs import render_rule
    from dockermig.registry import rule_by_key

    found = rule_by_key(code)
    if found is None:
        raise CommandError(f"unknown rule {code!r}; `dockermig rules` lists them")
    page = render_rule(found, header=False)
    if sys.stdout.isatty():  # rendered for people; a pipe gets the Markdown, for a pager or a file
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(page))
    else:
        sys.stdout.write(page)
    return 0


@click.command()
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text",
              help="text: one line per rule; json: every rule's code, name, severity, fix, and the "
                   "hadolint codes and BuildKit checks it stands for.")
def rules(output_format: str) -> int:
    """List every rule: code, name, severity, summary."""
    from dockermig.registry import all_rules

    if output_format == "json":
        import json

        from dockermig.docs import catalogue

        print(json.dumps(catalogue(all_rules()), indent=2))
        return 0
    for found in all_rules():
        print(f"{found.code}  {found.name:<26} {found.severity.label:<8} {found.summary()}")
    return 0
