"""The options ``lint`` and ``fix`` share, with ruff's names and meanings: which files
(paths, stdin, excludes), which config, which rules, how strict, how talkative."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import NamedTuple

import click

from dockermig.config import Overrides, Settings
from dockermig.rule import Severity
from dockermig.selection import Selection

SEVERITIES = ("error", "warning", "info")
STDIN = Path("-")


class Stdin(NamedTuple):
    """The Dockerfile comes from stdin; ``filename`` (``--stdin-filename``) is the path it stands for."""

    filename: Path | None

    def read(self) -> bytes:
        return sys.stdin.buffer.read()


def _selectors(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """Repeatable and comma-separated (``--select DM1,DM201``); each must name a rule."""
    selectors = tuple(part.strip() for value in values for part in value.split(",") if part.strip())
    if selectors:
        from dockermig.registry import all_rules
        from dockermig.selection import matches_nothing

        for selector in selectors:
            if matches_nothing(selector, all_rules()):
                raise click.BadParameter(f"{selector!r} matches no rule (`dockermig rules` lists them)")
    return selectors


def _patterns(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


_OPTIONS = [
    click.argument("paths", nargs=-1, type=click.Path(path_type=Path, allow_dash=True)),
    click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
                 help="Use this config file for every path instead of the nearest one above each."),
    click.option("--select", multiple=True, callback=_selectors, metavar="CODES",
                 help="Run only these rules: codes, prefixes (DM3), names or hadolint codes (DL3002); "
                      "replaces the config's select and ignore. Comma-separated, repeatable."),
    click.option("--extend-select", multiple=True, callback=_selectors, metavar="CODES",
                 help="Run these rules too, on top of the config's selection."),
    click.option("--ignore", multiple=True, callback=_selectors, metavar="CODES",
                 help="Do not run these rules (on top of the config's selection)."),
    click.option("--exclude", multiple=True, callback=_patterns, metavar="PATTERNS",
                 help="Gitignore-style patterns to skip, relative to the working directory; "
                      "replaces the config's exclude."),
    click.option("--extend-exclude", multiple=True, callback=_patterns, metavar="PATTERNS",
                 help="Patterns to skip as well as the config's exclude."),
    click.option("--force-exclude", is_flag=True,
                 help="Apply the excludes to paths named on the command line too (for pre-commit)."),
    click.option("--stdin-filename", type=click.Path(path_type=Path), metavar="PATH",
                 help="Read the Dockerfile from stdin (also with the path -), as if it were PATH: "
                      "its config, its excludes, its name in the output."),
    click.option("--fail-on", type=click.Choice(SEVERITIES),
                 help="Lowest severity that fails the run (default: the config's fail-on, else info)."),
    click.option("-q", "--quiet", is_flag=True, help="Print the findings (or the diff) and errors, no summary."),
    click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N",
                 help="Worker processes (default: one per CPU, up to 8)."),
    click.option("--no-cache", is_flag=True,
                 help="Neither read nor write the results cache (.dockermig_cache/ at the project root)."),
]


def file_options(command):
    """Add the shared options; the command receives ``settings`` and ``stdin`` (a Stdin,
    or None when the paths are read) in their place."""

    @functools.wraps(command)
    def run(*, paths, config, select, extend_select, ignore, exclude, extend_exclude, force_exclude,
            stdin_filename, fail_on, **rest):
        overrides = Overrides(
            selection=Selection(select or None, ignore, extend_select),
            exclude=exclude or None,
            extend_exclude=extend_exclude,
            force_exclude=force_exclude,
            fail_on=Severity.parse(fail_on) if fail_on else None,
            base=Path.cwd(),
        )
        if config is not None:  # one clear error, not one per file
            from dockermig.cli import CommandError
            from dockermig.config import ConfigError, load_config_once

            try:
                load_config_once(config)
            except ConfigError as error:
                raise CommandError(str(error)) from None
        settings = Settings(config, overrides)
        reads_stdin = STDIN in paths or (not paths and stdin_filename is not None)
        if reads_stdin and len(paths) > 1:
            raise click.UsageError("- (stdin) cannot be given with other paths")
        return command(paths=list(paths) or [Path(".")], settings=settings,
                       stdin=Stdin(stdin_filename) if reads_stdin else None, **rest)

    for option in reversed(_OPTIONS):
        run = option(run)
    return run


def note_missing_shellcheck(outcomes) -> None:
    """One line on stderr when DM700 was on for some file but no shellcheck is installed."""
    from dockermig.shellcheck import missing_note

    note = missing_note(outcomes)
    if note:
        print(note, file=sys.stderr)


def not_run_lines(outcomes) -> list[str]:
    """A short line for each file on which a selected rule could not run (ShellCheck
    crashed or timed out there): the file's other findings were reported."""
    from dockermig.report import display_path, printable

    return [printable(f"{display_path(outcome.path)}: error: {code} did not run: {why}")
            for outcome in outcomes for code, why in outcome.not_run]


def incomplete(outcomes) -> str | None:
    """What the summary must say did not run, instead of "All checks passed", else None."""
    from dockermig.report import plural
    from dockermig.shellcheck import missing_note

    failed = [outcome for outcome in outcomes if outcome.not_run]
    if failed:
        codes = ", ".join(sorted({code for outcome in failed for code, _ in outcome.not_run}))
        return f"{codes} did not run on {plural(len(failed), 'file')} (the errors are on stderr)"
    if missing_note(outcomes):
        return "DM700 did not run: shellcheck is not installed"
    return None
