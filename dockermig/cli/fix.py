"""``dockermig fix`` and ``dockermig restore``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from dockermig.cli.options import file_options


@click.command()
@file_options
@click.option("--diff", is_flag=True, help="Print a unified diff instead of writing; exit 1 when there would be changes.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that may change behaviour.")
@click.option("--backup", is_flag=True,
              help="Keep the original beside each changed file as <name>.backup (see `restore`).")
@click.option("--show-fixes", is_flag=True, help="List the fixes applied to each file.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the per-file migration report (.json or .md).")
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit 1 when a file was changed.")
def fix(paths, settings, stdin, quiet, jobs, no_cache, diff, unsafe_fixes, backup, show_fixes, report,
        exit_non_zero_on_fix) -> int:
    """Migrate the Dockerfiles under PATHS in place.

    PATHS default to the working directory; - reads one Dockerfile from stdin and prints
    the fixed text.

    Exit 0 when nothing is left at or above fail-on, 1 findings remain (or, with --diff or
    --exit-non-zero-on-fix, a file changed), 2 errors (3: both).
    """
    from dockermig.cli.options import not_run_lines, note_missing_shellcheck
    from dockermig.engine import fix_paths, fix_stdin
    from dockermig.fix import Applicability
    from dockermig.outcome import exit_code
    from dockermig.report import printable
    from dockermig.summary import summary_lines, write_report

    level = Applicability.UNSAFE if unsafe_fixes else Applicability.SAFE
    if stdin is not None:
        data = stdin.read()
        fixes = fix_stdin(data, stdin.filename, settings, level=level, cache=not no_cache)
        for outcome in fixes:
            _print_file(outcome, diff=diff, show_fixes=show_fixes, notes=sys.stderr)
        if not diff:  # the fixed text; the input as it came when it was excluded or could not be fixed
            if fixes and fixes[0].result is not None and not fixes[0].error:
                sys.stdout.write(fixes[0].result.text)
            else:
                sys.stdout.buffer.write(data)
    else:
        fixes = []
        for outcome in _with_progress(fix_paths(paths, settings=settings, jobs=jobs, level=level,
                                                write=not diff, backup=backup, cache=not no_cache)):
            fixes.append(outcome)
            _print_file(outcome, diff=diff, show_fixes=show_fixes, notes=sys.stderr if diff else sys.stdout)
    if not quiet:
        # under --diff or stdin, stdout carries the diff or the text: the summary goes to stderr
        out = sys.stderr if diff or stdin is not None else sys.stdout
        for line in summary_lines(fixes, written=not diff and stdin is None, level=level):
            print(printable(line), file=out)
        note_missing_shellcheck(fixes)
    if report:
        from dockermig.cli import CommandError
        from dockermig.writer import WriteError

        try:
            write_report(report, fixes, written=not diff and stdin is None, level=level)
        except WriteError as error:  # a missing folder, a full disk
            raise CommandError(str(error)) from None
    from dockermig.cli.lint import _print_config_problems

    _print_config_problems(fixes)
    for line in not_run_lines(fixes):
        print(line, file=sys.stderr)
    changed = any(f.changed for f in fixes)
    return exit_code(fixes, failed=changed and (diff or exit_non_zero_on_fix))


def _print_file(outcome, *, diff: bool, show_fixes: bool, notes) -> None:
    """Errors to stderr, the diff to stdout, --show-fixes lines to ``notes`` (stderr when
    stdout carries a diff or the fixed text)."""
    from dockermig.report import display_path, printable

    path = display_path(outcome.path)
    if outcome.error:
        print(printable(f"{path}: error: {outcome.error}"), file=sys.stderr)
        return
    if diff and outcome.changed:
        import difflib

        sys.stdout.writelines(map(printable, difflib.unified_diff(
            outcome.result.original.splitlines(keepends=True), outcome.result.text.splitlines(keepends=True),
            fromfile=f"a/{path}", tofile=f"b/{path}")))
    if show_fixes:
        for finding in outcome.result.fixed:
            print(printable(f"{path}:{finding.line}:{finding.column}: {finding.code} fixed: {finding.fix.title}"),
                  file=notes)


def _with_progress(results):
    """A progress bar on an interactive terminal only: not in CI, pipes or files."""
    if not sys.stderr.isatty() or os.environ.get("CI") or os.environ.get("NO_COLOR") == "progress":
        yield from results
        return
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("fixing", total=None)
        for result in results:
            progress.advance(task)
            yield result


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def restore(paths) -> int:
    """Put back the backups that `fix --backup` kept.

    Every backup `fix --backup` recorded under PATHS (default: .) replaces its file,
    atomically, with its mode, owner and group; a <name>.backup of your own is never used.
    """
    from dockermig.outcome import ERROR, OK
    from dockermig.report import display_path, printable
    from dockermig.writer import restore_paths

    code, restored = OK, 0
    for path, error in restore_paths(list(paths) or [Path(".")]):
        if error:
            print(printable(f"{display_path(path)}: error: {error}"), file=sys.stderr)
            code = ERROR
        else:
            print(printable(f"restored {display_path(path)}"))
            restored += 1
    if not restored and code == OK:
        print("no backups found")
    return code
