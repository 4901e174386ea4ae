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
_strict = click.option("--strict", is_flag=True,
                       help="Exit 2 when a file had to be left out (a broken compose file, an unreadable Dockerfile).")


@click.command()
@_path
@click.option("--format", "output_format", type=click.Choice(("text", "markdown", "json")), default="text",
              show_default=True)
@click.option("--waves", type=click.IntRange(min=1), metavar="N",
              help="At most N services per wave (default: 5).")
@click.option("--waves-only", is_flag=True, help="Leave the matrix out: only wave 0 and the waves (text, markdown).")
@_config
@_strict
def plan(path, output_format, waves, waves_only, config, strict) -> int:
    """The migration plan: every service ranked P0-P3, the blockers, the waves.

    Every Dockerfile and image-only compose service of the repository at PATH (default: .),
    classified, categorised and ranked by what the compose files run and how many services
    depend on it; wave 0 is the master changes that unblock services, then waves of
    services to migrate, canaries first, each with the `verify` command of its services.

    Text output fits the terminal ($COLUMNS, else 80 when not a terminal); markdown (for a
    tracking issue) and json keep every cell whole.
    """
    from dockermig.plan import DEFAULT_WAVE_SIZE, blockers, render, waves as group

    made = _build(path, config)
    grouped = group(made.entries, waves or DEFAULT_WAVE_SIZE)
    held = blockers(made.entries)
    if output_format == "text":
        sys.stdout.write(render.plan_text(made.entries, grouped, held, width=_width(), matrix=not waves_only))
    elif output_format == "markdown":
        sys.stdout.write(render.plan_markdown(made.entries, grouped, held, matrix=not waves_only))
    else:
        sys.stdout.write(render.plan_json(made.entries, grouped, held))
    return _exit(made, strict)


@click.command()
@_path
@click.option("--format", "output_format", type=click.Choice(("text", "json", "prometheus")), default="text",
              show_default=True)
@_config
@_strict
def status(path, output_format, config, strict) -> int:
    """Migration progress: text, JSON or Prometheus.

    The share of migratable Dockerfiles on a master under PATH (default: .), the non-root
    share, and what is left by priority.
    """
    from dockermig.plan import render, status as figures

    made = _build(path, config)
    render_status = {"text": render.status_text, "json": render.status_json, "prometheus": render.status_prometheus}
    sys.stdout.write(render_status[output_format](figures(made.entries)))
    return _exit(made, strict)


def _build(path: Path, config: Path | None):
    from dockermig.cli import CommandError
    from dockermig.config import ConfigError, Settings
    from dockermig.plan import build_plan

    try:
        made = build_plan(path, Settings(config))
    except ConfigError as error:
        raise CommandError(str(error)) from None
    from dockermig.report import printable

    for warning in made.warnings:
        print(printable(f"warning: {warning}"), file=sys.stderr)
    return made


def _exit(made, strict: bool) -> int:
    from dockermig.outcome import ERROR, OK

    return ERROR if strict and made.warnings else OK


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
