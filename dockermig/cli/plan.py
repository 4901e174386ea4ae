"""``dockermig plan`` and ``dockermig status``."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _repository(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    if not value.is_dir():
        folder = value.parent.as_posix() or "."
        raise click.BadParameter(f"{value} is a file; {ctx.info_name} takes the repository's folder "
                                 f"(dockermig {ctx.info_name} {folder})")
    return value


_path = click.argument("path", default=Path("."), callback=_repository,
                       type=click.Path(exists=True, path_type=Path))
_config = click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
                       help="Use this config file instead of the nearest one.")
_copies = click.option("--include-copies", is_flag=True,
                        help="Plan the copies too: backups/, archive/, old/, deprecated/, dated snapshots.")
_strict = click.option("--strict", is_flag=True,
                       help="Exit 2 on any warning, such as a service that builds a Dockerfile that does not exist "
                            "(a file or service that cannot be read, a broken compose file, always exits 2).")


@click.command()
@_path
@click.option("--format", "output_format", type=click.Choice(("text", "markdown", "json")), default="text",
              show_default=True)
@click.option("--waves", type=click.IntRange(min=1), metavar="N",
              help="At most N services per wave (default: about a day's work, 10 to 25, sized by the repository).")
@click.option("--waves-only", is_flag=True, help="Leave the summary and the matrix out: only wave 0 and the waves.")
@_copies
@_config
@_strict
def plan(path, output_format, waves, waves_only, include_copies, config, strict) -> int:
    """The migration plan: every service once, ranked P0-P3, the blockers, the waves.

    One row per service of the repository at PATH (default: .): its Dockerfile (or the
    image compose runs), whatever compose files run it, classified, categorised and
    ranked by what the compose files run and how many services depend on it. A summary
    says how big the migration is; wave 0 is the master changes that unblock services,
    then waves of about a day's work, canaries first, each service with the commands that
    migrate and verify it. P0 (the kept and the critical services) is watched, never in a
    wave. Copies (backups/, archive/, dated snapshots...) are left out unless
    --include-copies.

    Text output fits the terminal ($COLUMNS, else 80 when not a terminal) and never
    splits a path; markdown (for a tracking issue) and json keep every cell whole.
    """
    from dockermig.plan import blockers, masters_to_build, render
    from dockermig.plan import waves as group

    made = _build(path, config, include_copies)
    grouped = group(made.entries, waves)
    held = blockers(made.entries)
    masters = masters_to_build(grouped, made.masters, made.entries, path)
    extra = {"left_out": made.left_out, "masters": masters, "compose_files": made.compose_files, "wave_size": waves}
    if output_format == "text":
        sys.stdout.write(render.plan_text(made.entries, grouped, held, width=_width(), matrix=not waves_only, **extra))
    elif output_format == "markdown":
        sys.stdout.write(render.plan_markdown(made.entries, grouped, held, matrix=not waves_only, **extra))
    else:
        sys.stdout.write(render.plan_json(made.entries, grouped, held, **extra))
    return _exit(made, strict)


@click.command()
@_path
@click.option("--format", "output_format", type=click.Choice(("text", "json", "prometheus")), default="text",
              show_default=True)
@_copies
@_config
@_strict
def status(path, output_format, include_copies, config, strict) -> int:
    """Migration progress: text, JSON or Prometheus.

    The share of migratable Dockerfiles on a master under PATH (default: .), the non-root
    share, and what is left by priority.
    """
    from dockermig.plan import render
    from dockermig.plan import status as figures

    made = _build(path, config, include_copies)
    render_status = {"text": render.status_text, "json": render.status_json, "prometheus": render.status_prometheus}
    sys.stdout.write(render_status[output_format](figures(made.entries)))
    return _exit(made, strict)


def _build(path: Path, config: Path | None, include_copies: bool):
    from dockermig.cli import CommandError
    from dockermig.config import ConfigError, Settings
    from dockermig.plan import build_plan

    try:
        made = build_plan(path, Settings(config), include_copies=include_copies)
    except ConfigError as error:
        raise CommandError(str(error)) from None
    from dockermig.report import printable

    for warning in made.warnings:
        print(printable(f"warning: {warning}"), file=sys.stderr)
    return made


def _exit(made, strict: bool) -> int:
    """The error bit when a file or a service could not be read (the figures leave it
    out: they are not the repository's), and with --strict for any warning."""
    from dockermig.outcome import ERROR, OK

    return ERROR if made.unread or (strict and made.warnings) else OK


def _width() -> int:
    """$COLUMNS, else the width of the terminal stdout is, else 80."""
    import os

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else 80
    except (OSError, ValueError, AttributeError):  # a stream without a file descriptor
        return 80
