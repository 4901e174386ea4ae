"""The command line (click). Thin: parse options, call the library, print, choose the exit code.

Each subcommand lives in its own module, imported only when that subcommand runs: the
pre-commit path (``dockermig lint FILE``) never imports what only ``plan`` or ``verify``
need. ``dockermig --help`` imports them all, to show their help.

Exit codes: 0 clean, 1 findings, 2 errors (a bitmask for lint and fix: 3 is both, see
``dockermig.outcome``), and for ``verify`` 3 rollback. A usage error is 2, with the
usage of the subcommand that failed.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
from threading import current_thread
from threading import enumerate as threading_enumerate

import click

from dockermig import __version__

# name -> "module:command", in the order ``--help`` lists them
COMMANDS = {
    "lint": "dockermig.cli.lint:lint",
    "fix": "dockermig.cli.fix:fix",
    "restore": "dockermig.cli.fix:restore",
    "plan": "dockermig.cli.plan:plan",
    "status": "dockermig.cli.plan:status",
    "report": "dockermig.cli.report:report",
    "verify": "dockermig.cli.verify:verify",
    "init": "dockermig.cli.init:init",
    "check-config": "dockermig.cli.init:check_config",
    "check-pins": "dockermig.cli.init:check_pins",
    "rule": "dockermig.cli.rules:rule",
    "rules": "dockermig.cli.rules:rules",
    "server": "dockermig.cli.server:server",
}


class CommandError(click.ClickException):
    """A command that cannot run at all (a bad config, a verifier with nothing to compare): exit 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        print(f"error: {self.message}", file=file or sys.stderr)


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (click's documented pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="dockermig", message="%(prog)s %(version)s")
def cli() -> None:
    """Lint Dockerfiles and migrate them onto the approved master base images.

    Shell completion: eval "$(_DOCKERMIG_COMPLETE=bash_source dockermig)" in ~/.bashrc
    (zsh_source for zsh, fish_source for fish).
    """


# The analysis allocates many small tuples (words, spans, findings). CPython collects
# its youngest generation every 700 allocations, and each full collection rescans every
# tree still alive: a fifth of the time of a 10,000-instruction lint. Cycles (a tree and
# its nodes) are still collected, in larger batches: +10 MiB on the whole corpus.
GC_THRESHOLDS = (100_000, 50, 50)


def main(argv: list[str] | None = None) -> int:
    """The console script: run one command and return its exit code."""
    import gc

    gc.set_threshold(*GC_THRESHOLDS)
    try:
        code = cli.main(args=argv, prog_name="dockermig", standalone_mode=False)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        print("Aborted.", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `dockermig lint | head`
        sys.stderr.close()
        return 0
    return code or 0


def entry() -> None:
    """The console script (and ``python -m dockermig``): ``main``, then out of the process
    without tearing the interpreter down. Freeing every module and object one by one is
    a tenth of a one-file lint and changes nothing (mypy leaves the same way). What
    must run still runs: the exit handlers (ShellCheck processes stopped, temporary
    folders removed) and the flush of stdout and stderr. While another thread of ours
    still runs (none does when a command returns), the usual exit waits for it; under a
    profiler or a tracer (``python -m cProfile``), the usual exit lets it write its report."""
    code = main()
    others = [t for t in threading_enumerate() if t is not current_thread() and not t.daemon]
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if others or run_exit_handlers is None or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`dockermig lint | head`), a closed stream
            pass
    os._exit(code)
