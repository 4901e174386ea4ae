"""``dockermig verify``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

EXIT_CODES = {"pass": 0, "fail": 1, "rollback": 3}


def _env(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    if any("=" not in value for value in values):
        raise click.BadParameter("takes K=V")
    return dict(value.split("=", 1) for value in values)


def _steps(ctx: click.Context, param: click.Parameter, value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(part) for part in value.split(",")]
    except ValueError:
        raise click.BadParameter("takes percentages separated by commas, e.g. 10,25,50,100") from None


@click.command()
@click.option("--old-image", metavar="IMAGE", help="Image mode: the image before the migration.")
@click.option("--new-image", metavar="IMAGE", help="Image mode: the migrated image.")
@click.option("--build", nargs=2, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="OLD_DOCKERFILE NEW_DOCKERFILE",
              help="Build both first (with --context) and report build time, cached rebuild, size.")
@click.option("--context", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR",
              help="Build context for --build.")
@click.option("--old-url", metavar="URL", help="URL mode: the running service before the migration.")
@click.option("--new-url", metavar="URL", help="URL mode: the migrated running service.")
@click.option("--port", type=click.IntRange(1, 65535), help="The port the service listens on in the container.")
@click.option("--path", default="/", show_default=True, help="The path the load requests.")
@click.option("--health-path", default="/health", show_default=True)
@click.option("--metrics-path", help="Prometheus metrics of the services: error rate and latency from them too.")
@click.option("--requests", type=click.IntRange(min=1), metavar="N", help="Requests per service (default: 200).")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), metavar="S",
              help="Drive load for S seconds instead.")
@click.option("--concurrency", type=click.IntRange(min=1), metavar="C")
@click.option("--startup-timeout", type=click.FloatRange(min=0, min_open=True), metavar="S",
              help="How long each service may take to answer its health check (default: 60, "
                   "or health-timeout in the config).")
@click.option("--env", multiple=True, callback=_env, metavar="K=V", help="Environment of both containers (repeatable).")
@click.option("--memory", metavar="LIMIT", help="Memory limit of both containers, e.g. 256m.")
@click.option("--dependent-url", multiple=True, metavar="URL",
              help="A service that depends on this one: it must stay healthy (repeatable).")
@click.option("--steps", callback=_steps, metavar="P,P,...", help="Progressive traffic steps, e.g. 10,25,50,100.")
@click.option("--service", default="", help="The {service} of --shift-cmd/--rollback-cmd.")
@click.option("--shift-cmd", metavar="CMD", help="Run at each step: placeholders {service} {percent}.")
@click.option("--rollback-cmd", metavar="CMD", help="Run when a rollback trigger fires.")
@click.option("--step-wait", type=click.FloatRange(min=0), default=0.0, metavar="S")
@click.option("--format", "output_format", type=click.Choice(("text", "json", "markdown")), default="text",
              show_default=True)
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
              help="Read [tool.dockermig.verify] from this file.")
def verify(old_image, new_image, build, context, old_url, new_url, port, path, health_path, metrics_path, requests,
           duration, concurrency, startup_timeout, env, memory, dependent_url, steps, service, shift_cmd, rollback_cmd,
           step_wait, output_format, config) -> int:
    """Compare the old and the migrated image at run time.

    Both images (or two running services) get the same interleaved load and are measured
    against the gates: health, error rate, latency, memory, CPU.

    Exit 0 pass, 1 fail (a gate missed), 2 error, 3 rollback (a trigger fired). Progress
    goes to stderr while the services start.
    """
    from dockermig.cli import CommandError
    from dockermig.config import config_for, load_config
    from dockermig.verify.progress import WaitProgress
    from dockermig.verify.report import render
    from dockermig.verify.run import VerifyError, build_pair, check_inputs, progressive, verify_images, verify_urls
    from dockermig.verify.settings import Settings

    try:
        check_inputs(old_url=old_url, new_url=new_url, dependents=dependent_url,
                     shift_cmd=shift_cmd, rollback_cmd=rollback_cmd)  # before anything runs
        found = load_config(config) if config else config_for(Path("."))
        settings = Settings(found.data.get("verify"), concurrency=concurrency, health_timeout=startup_timeout)
        common = dict(path=path, health_path=health_path, metrics_path=metrics_path, dependents=dependent_url,
                      requests=requests, duration=duration, progress=WaitProgress())
        build_figures = None
        if build:
            if context is None or port is None:
                raise VerifyError("--build needs --context DIR and --port")
            old_image, new_image, build_figures = build_pair(*map(str, build), str(context))
        if old_image or new_image:
            if not (old_image and new_image and port):
                raise VerifyError("image mode needs --old-image, --new-image and --port")

            def measure():
                return verify_images(old_image, new_image, port, settings, env=env, memory=memory, **common)
        elif old_url and new_url:
            def measure():
                return verify_urls(old_url, new_url, settings, **common)
        else:
            raise VerifyError("give --old-image/--new-image/--port, --build ... --context, or --old-url/--new-url")
        if steps:
            if not shift_cmd:
                raise VerifyError("--steps needs --shift-cmd")
            result = progressive(measure, steps, service, shift_cmd, rollback_cmd, step_wait)
        else:
            result = measure()
        if build_figures:
            result.measurements["build"] = build_figures
    except (VerifyError, ValueError) as error:  # ConfigError is a ValueError
        raise CommandError(str(error)) from None
    except KeyboardInterrupt:
        raise CommandError("interrupted; every container dockermig started was removed") from None
    sys.stdout.write(render(result, output_format))
    return EXIT_CODES[result.verdict]
