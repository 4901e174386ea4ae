"""``dockermig init`` and ``dockermig check-config``: setting a repository up."""

from __future__ import annotations

import sys
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
    from dockermig.init import MasterSearchError, write_config_only, write_init

    if config_only:
        try:
            path, found = write_config_only(directory, force=force)
        except FileExistsError as error:
            raise CommandError(f"would overwrite {error}; use --force") from None
        except MasterSearchError as error:
            raise CommandError(str(error)) from None
        for name, master in found.masters.items():
            print(f"found master {name}: {master}")
        if found.copies:
            print(f"left out {len(found.copies)} cop{'y' if len(found.copies) == 1 else 'ies'} of live files "
                  f"(excluded in the config): {', '.join(p.as_posix() + '/' for p in found.copies)}")
        print(f"wrote {path}")
        return _report_problems(path)
    try:
        written = write_init(directory, force=force)
    except FileExistsError as error:
        raise CommandError(f"would overwrite {error}; use --force") from None
    for path in written:
        print(f"wrote {path}")
    return 0


def _report_problems(config_file: Path) -> int:
    """Read back the config just written: what keeps a master from being read whole (a
    manifest its Dockerfile copies that is missing) is an error, exit 2."""
    from dockermig.config import ConfigError, load_config

    try:
        problems = load_config(config_file).policy.problems
    except ConfigError as error:
        problems = (str(error),)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 2 if problems else 0


@click.command("check-config")
@click.argument("path", default=Path("."), type=click.Path(exists=True, path_type=Path))
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
              help="Validate this file instead of the one that applies to PATH.")
@click.option("--explain", is_flag=True,
              help="Print every fact known about each master (user, ids, WORKDIR, health check, packages...) "
                   "with the line it came from; unknown facts say why.")
def check_config(path: Path, config: Path | None, explain: bool) -> int:
    """Validate the config that applies to PATH.

    Keys, rules, masters (their Dockerfiles and the manifests they copy are read) and
    templates; PATH defaults to the working directory. A master whose manifest is
    missing is an error (exit 2).
    """
    from dockermig.cli import CommandError
    from dockermig.config import ConfigError, config_for, load_config

    try:
        found = load_config(config) if config is not None else config_for(path)
        policy = found.policy  # builds the masters (reading their Dockerfiles) and the catalogue
        problems = found.template_problems()  # renders each template once, in the sandbox
        if problems:
            raise ConfigError(f"{found.source}: " + "; ".join(problems))
    except ConfigError as error:
        raise CommandError(str(error)) from None
    if explain:
        for master in policy.masters:
            print(f"{master.name} ({master.image})")
            for key, value, source in master.explain():
                print(f"  {key}: {value}\n      {source}")
    for problem in policy.problems:
        print(f"error: {problem}", file=sys.stderr)
    if policy.problems:
        return 2
    if found.source is None:
        print(f"no config file at or above {path}: the defaults apply")
        return 0
    print(f"ok: {found.source} ({len(policy.masters)} masters, {len(policy.catalogue)} keep-as-is entries)")
    return 0


@click.command("check-pins")
@click.argument("path", default=Path("."), type=click.Path(exists=True, path_type=Path))
@click.option("--master", "names", multiple=True, metavar="NAME", help="Only this master (repeatable).")
@click.option("--image", metavar="IMAGE", help="Resolve in this local image instead of the master's base.")
@click.option("--propose", is_flag=True, help="Propose refreshed pins for the ones that do not resolve.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def check_pins(path: Path, names: tuple[str, ...], image: str | None, propose: bool, output_format: str) -> int:
    """Check the masters' package pins against what apt, pip and npm resolve today.

    The masters are those of the config that applies to PATH (default: .). The package
    managers run in a container of each master's base image, which must be on this
    machine: nothing is pulled. Exit 0 when every pin resolves, 1 when one does not, 2
    when the check cannot run. JSON: one report per master, one per line.
    """
    import json

    from dockermig.cli import CommandError
    from dockermig.config import ConfigError, config_for
    from dockermig.policy.pins import PinsError, check_pins as check

    try:
        masters = config_for(path).policy.masters
    except ConfigError as error:
        raise CommandError(str(error)) from None
    unknown = sorted(set(names) - {m.name for m in masters})
    if unknown:
        raise CommandError(f"unknown master: {', '.join(unknown)} (known: {', '.join(m.name for m in masters)})")
    status = 0
    for master in masters:
        if names and master.name not in names:
            continue
        try:
            report = check(master, image=image, propose=propose)
        except PinsError as error:
            raise CommandError(f"{master.name}: {error}") from None
        status = max(status, 0 if report.ok else 1)
        if output_format == "json":
            print(json.dumps(report.as_dict()))
            continue
        print(f"{master.name} (in {report.image}): {'all pins resolve' if report.ok else 'PINS DO NOT RESOLVE'}")
        for manager, message in report.errors.items():
            print(f"  {manager}: {message}")
        for pin in report.pins:
            if not pin.ok:
                print(f"  {pin.manager} {pin.name}=={pin.pinned or '(unpinned)'}: {pin.detail}")
        for manager, table in report.proposed.items():
            print(f"  proposed {manager} pins:")
            for name, version in table.items():
                print(f"    {name}: \"{version}\"")
    return status
