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
@click.option("--waves", type=click.IntRange(min=1), metavar="N", help="Group the services to migrate into waves of N.")
@_config
@_strict
def plan(path, output_format, waves, config, strict) -> int:
    """The migration matrix: every service, ranked P0-P3.

    Every Dockerfile and image-only compose service of the repository at PATH (default: .),
    classified, categorised and ranked.

    Text output fits the terminal ($COLUMNS, else 80 when not a terminal); markdown and json
    keep every cell whole.
    """
    from dockermig.plan import render, waves as group

    made = _build(path, config)
    grouped = group(made.entries, waves) if waves else None
    if output_format == "text":
        sys.stdout.write(render.plan_text(made.entries, grouped, width=_width()))
    else:
        sys.stdout.write({"markdown": render.plan_markdown, "json": render.plan_json}[output_format](made.entries, grouped))
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
