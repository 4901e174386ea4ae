"""``dockermig lint``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dockermig.cli.options import file_options

FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")


@click.command()
@file_options
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMATS),
              help="Output format, repeatable (default: text).")
@click.option("-o", "--output", "outputs", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Write the n-th --format to FILE (repeatable); the one left over goes to stdout.")
@click.option("--statistics", is_flag=True, help="Count findings per rule instead of listing them.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (errors still exit 2).")
@click.option("--baseline", type=click.Path(path_type=Path), metavar="FILE",
              help="Report only findings not recorded in FILE; its stale entries fail the run.")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Record today's findings in FILE.")
def lint(paths, settings, stdin, quiet, jobs, no_cache, formats, outputs, statistics, exit_zero, baseline,
         write_baseline) -> int:
    """Lint the Dockerfiles under PATHS, or stdin.

    PATHS default to the working directory; - reads one Dockerfile from stdin.

    Exit 0 clean, 1 findings at or above fail-on, 2 a path or the config could not be read
    (3: both).
    """
    from dockermig.engine import lint_paths, lint_stdin
    from dockermig.outcome import ERROR, exit_code

    formats = list(formats) or ["text"]
    if len(formats) - len(outputs) > 1 or len(outputs) > len(formats):
        raise click.UsageError("give one --output FILE for every --format but (at most) one")
    fingerprints = bool(baseline or write_baseline) or any(f in ("sarif", "gitlab") for f in formats)
    options = dict(with_edits="sarif" in formats, with_fingerprints=fingerprints, cache=not no_cache)
    if stdin is not None:
        results = lint_stdin(stdin.read(), stdin.filename, settings, **options)
    else:
        results = list(lint_paths(paths, settings=settings, jobs=jobs, **options))
    if write_baseline:
        from dockermig.baseline import write_baseline as write
        from dockermig.report import display_path, plural

        for result in results:
            if result.error:
                print(f"{display_path(result.path)}: error: {result.error} (not in the baseline)", file=sys.stderr)
        count = _write_or_fail(write, write_baseline, results)
        print(f"wrote {plural(count, 'finding')} to {write_baseline}", file=sys.stderr)
        return exit_code(results, exit_zero=True)
    stale, baselined = [], 0
    if baseline:
        from dockermig.baseline import BaselineError, apply_baseline

        found = sum(len(r.findings) for r in results)
        try:
            stale = apply_baseline(baseline, results)
        except BaselineError as error:
            print(f"error: {error}", file=sys.stderr)
            return ERROR
        baselined = found - sum(len(r.findings) for r in results)
    from dockermig.cli.options import incomplete, not_run_lines

    _report(results, formats, list(outputs), statistics=statistics, quiet=quiet, baselined=baselined, stale=len(stale),
            incomplete=incomplete(results))
    _print_config_problems(results)
    for line in not_run_lines(results):
        print(line, file=sys.stderr)
    if not quiet:
        from dockermig.cli.options import note_missing_shellcheck

        note_missing_shellcheck(results)
    for path, code, _ in stale:
        print(f"{path}: stale baseline entry {code} (fixed since): run --write-baseline to shrink the baseline",
              file=sys.stderr)
    return exit_code(results, exit_zero=exit_zero, failed=bool(stale))


def _report(results, formats: list[str], outputs: list[Path], *, statistics: bool, quiet: bool, baselined: int,
            stale: int, incomplete: str | None = None) -> None:
    """Each format to its --output file, the one left over to stdout; errors once, on stderr."""
    import importlib

    errors_printed = False
    for index, name in enumerate(formats):
        render = importlib.import_module(f"dockermig.report.{name}").render
        target = outputs[index] if index < len(outputs) else None
        if name == "text":
            from dockermig.report.text import use_color

            out, err = render(results, color=target is None and use_color(), statistics=statistics,
                              summary=not quiet, baselined=baselined, stale=stale, incomplete=incomplete)
        else:
            out, err = render(results)
        if not errors_printed:
            for line in err:
                print(line, file=sys.stderr)
            errors_printed = True
        text = "\n".join(out) + "\n" if out else ""
        if target is None:
            sys.stdout.write(text)
        else:
            from dockermig.writer import write_output

            _write_or_fail(write_output, target, text)


def _print_config_problems(results) -> None:
    """A master the config names that could not be read whole: once per run, on stderr."""
    from dockermig.outcome import config_problems
    from dockermig.report import printable

    for problem in config_problems(results):
        print(printable(f"error: {problem}"), file=sys.stderr)


def _write_or_fail(write, *args):
    """``write(*args)``; a missing folder or a full disk is the run's error (exit 2)."""
    from dockermig.cli import CommandError
    from dockermig.writer import WriteError

    try:
        return write(*args)
    except WriteError as error:
        raise CommandError(str(error)) from None
