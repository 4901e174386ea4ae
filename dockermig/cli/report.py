"""``dockermig report``: the migration's payoff, measured (see docs/payoff.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--after", "after", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR",
              help="The migrated tree to compare with (default: what `dockermig fix` writes, in a temporary copy).")
@click.option("--unsafe-fixes", is_flag=True, help="The default after tree: apply unsafe fixes too.")
@click.option("--only", multiple=True, metavar="GLOB",
              help="Only the services whose folder matches (repeatable), e.g. 'services/*'.")
@click.option("--jobs", type=click.IntRange(min=1), metavar="N", help="Builds at once (default: 2, or report.jobs).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="S",
              help="Seconds one service may take: builds and health check (default: 900, or report.timeout).")
@click.option("--cold-masters", is_flag=True, help="Build the masters without the build cache too.")
@click.option("--keep-images", is_flag=True, help="Keep the service images the report built.")
@click.option("--format", "output_format", type=click.Choice(("markdown", "json")), default="markdown",
              show_default=True, help="What goes to stdout.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the JSON report here too.")
@click.option("--markdown", "markdown_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the markdown here too.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the self-contained HTML page with its charts here.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
              help="The config whose report: table (jobs, timeout, targets) applies (default: PATH's).")
def report(path, after, unsafe_fixes, only, jobs, timeout, cold_masters, keep_images, output_format,
           json_file, markdown_file, html_file, config) -> int:
    """Build every service before and after the migration on the local Docker engine and
    report what it bought: image sizes, bytes unique and shared across the fleet, cold and
    cached build times, non-root and healthy services, against the plan's targets.

    Exit 0: every target met; 1: a target missed, or a service that built before does not
    after; 2: the report could not run. Nothing is pulled: base images must be in the engine.
    """
    from dockermig.cli import CommandError
    from dockermig.config import config_for, load_config
    from dockermig.payoff import render
    from dockermig.payoff.run import report as measure
    from dockermig.payoff.settings import settings as report_settings
    from dockermig.payoff.trees import TreeError

    try:
        found = load_config(config) if config else config_for(path.resolve())
        settings = report_settings(found.data.get("report"))
        settings.update({k: v for k, v in {"jobs": jobs, "timeout": timeout}.items() if v is not None})
        result = measure(path, after, unsafe=unsafe_fixes, only=tuple(only), settings=settings,
                         cold_masters=cold_masters, keep_images=keep_images)
    except (TreeError, ValueError) as error:  # ConfigError is a ValueError
        raise CommandError(str(error)) from None
    except KeyboardInterrupt:
        raise CommandError("interrupted") from None
    except Exception as error:  # the engine: no socket, no permission
        if type(error).__module__.startswith(("docker", "requests", "urllib3")):
            raise CommandError(f"the Docker engine: {error}") from None
        raise
    text = render.markdown(result)
    for target, content in ((json_file, json.dumps(result, indent=2) + "\n"), (markdown_file, text),
                            (html_file, render.page(result) if html_file else "")):
        if target:
            target.write_text(content, encoding="utf-8")
    sys.stdout.write(json.dumps(result, indent=2) + "\n" if output_format == "json" else text)
    if not (result["before"]["fleet"]["built"] or result["after"]["fleet"]["built"]):
        print("error: no service built on either side", file=sys.stderr)
        return 2
    return result["exit_code"]
