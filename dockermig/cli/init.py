"""``dockermig init`` and ``dockermig check-config``: setting a repository up."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("directory", default=Path("."), type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
@click.option("--config-only", is_flag=True,
              help="Write only .dockermig.yaml, for the masters the repository already has.")
def init(directory: Path, force: bool, config_only: bool) -> int:
    """Write the master Dockerfiles and a starter config.

    Into DIRECTORY (default: .): docker/base/Dockerfile.*-agent-master and .dockermig.yaml.
    With --config-only, only the config, pointing at the masters' Dockerfiles already in
    the repository (found by name, label or compose image), which stay untouched.
    """
    from dockermig.cli import CommandError
    from dockermig.init import write_config_only, write_init

    if config_only:
        try:
            path, found = write_config_only(directory, force=force)
        except FileExistsError as error:
            raise CommandError(f"would overwrite {error}; use --force") from None
        for name, master in found.items():
            print(f"found master {name}: {master}")
        print(f"wrote {path}")
        return 0
    try:
        written = write_init(directory, force=force)
    except FileExistsError as error:
        raise CommandError(f"would overwrite {error}; use --force") from None
    for path in written:
        print(f"wrote {path}")
    return 0


@click.command("check-config")
@click.argument("path", default=Path("."), type=click.Path(exists=True, path_type=Path))
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
              help="Validate this file instead of the one that applies to PATH.")
def check_config(path: Path, config: Path | None) -> int:
    """Validate the config that applies to PATH.

    Keys, rules, masters (their Dockerfiles are read) and templates; PATH defaults to the
    working directory.
    """
    from dockermig.cli import CommandError
    from dockermig.config import ConfigError, config_for, load_config

    try:
        found = load_config(config) if config is not None else config_for(path)
        if found.source is None:
            print(f"no config file at or above {path}: the defaults apply")
            return 0
        policy = found.policy  # builds the masters (reading their Dockerfiles) and the catalogue
        problems = found.template_problems()  # renders each template once, in the sandbox
        if problems:
            raise ConfigError(f"{found.source}: " + "; ".join(problems))
    except ConfigError as error:
        raise CommandError(str(error)) from None
    print(f"ok: {found.source} ({len(policy.masters)} masters, {len(policy.catalogue)} keep-as-is entries)")
    return 0
