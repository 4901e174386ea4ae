"""Compose files as the plan reads them: each service's build (Dockerfile and context) or
image, whether a dev/test file or profile runs it, the names it answers to and the hosts
it reaches."""

from __future__ import annotations

import re
from pathlib import Path

from dockermig.plan.graph import answers_to, references
from dockermig.regex import compile_on_use
from dockermig.report import display_path

_COMPOSE = compile_on_use(r"^(docker-)?compose([._-][^/]*)?\.ya?ml$", re.IGNORECASE)
_DEV_WORDS = {"dev", "devel", "development", "test", "tests", "testing", "local", "ci", "e2e", "debug"}


class PlanError(ValueError):
    """A compose file that cannot be read; the message names it."""


class ComposeService:
    def __init__(self, name: str, compose: Path, dockerfile: Path | None, image: str | None, dev: bool,
                 hosts: frozenset[str] = frozenset(), references: frozenset[str] = frozenset(),
                 context: Path | None = None, copy: bool = False):
        self.name = name
        self.compose = compose
        self.dockerfile = dockerfile  # resolved path of the Dockerfile it builds, if it builds
        self.context = context  # resolved build context of that Dockerfile
        self.image = image
        self.dev = dev
        self.hosts = hosts or frozenset({name.lower()})  # the names other services reach it by
        self.references = references  # the hosts it reaches (depends_on, links, env URLs...)
        self.copy = copy  # its compose file is a copy (under backups/, archive/...): it runs nothing live


def is_compose_name(name: str) -> bool:
    return bool(_COMPOSE.match(name))


class Services(list):
    """The services of one compose file; ``left_out``: a message for each service that
    could not be read (the others are planned)."""

    def __init__(self, services=(), left_out=()):
        super().__init__(services)
        self.left_out = list(left_out)


def read_compose(path: Path, copy: bool = False) -> Services:
    """The services of one compose file. Parsing YAML in pure Python costs ~0.2 s for a
    compose file of 1,500 lines, more than linting a hundred Dockerfiles: what is read of
    it is kept in dockermig's cache (policy/loader.py: signed, keyed by the file's path,
    size and modification time), and a file read before costs nothing."""
    from dockermig.limits import InputError
    from dockermig.policy.loader import cached_by_file

    try:
        found, left_out = cached_by_file("compose-services", path, lambda: _services(path))
    except (OSError, InputError) as error:
        raise PlanError(f"{display_path(path)}: cannot read ({error})") from None
    return Services([ComposeService(name, path, Path(dockerfile) if dockerfile else None, image, dev,
                                    frozenset(hosts), frozenset(refs), Path(context) if context else None, copy)
                     for name, dockerfile, context, image, dev, hosts, refs in found], left_out)


def _services(path: Path) -> tuple[list[tuple], list[str]]:
    """(name, Dockerfile, context, image, dev, hosts, references) of each service, in
    what ``marshal`` stores, and a message for each service left out (a build path that
    cannot be resolved: only that service is); a PlanError when the file is not a
    compose file."""
    from dockermig.limits import InputError, read_text
    from dockermig.policy.loader import YamlError, parse_yaml

    try:
        document = parse_yaml(read_text(path), display_path(path)) or {}
    except (OSError, UnicodeDecodeError, InputError) as error:
        raise PlanError(f"{display_path(path)}: cannot read ({error})") from None
    except YamlError as error:
        raise PlanError(str(error)) from None
    if not isinstance(document, dict) or not isinstance(document.get("services", {}), dict):
        raise PlanError(f"{display_path(path)}:1: not a compose file (no `services:` table)")
    words = set(re.split(r"[._-]", path.name.lower()))
    file_is_dev = bool(words & _DEV_WORDS) or "override" in words
    services, left_out = [], []
    for name, spec in (document.get("services") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        build, dockerfile, context = spec.get("build"), None, None
        try:
            if isinstance(build, str):
                context = (path.parent / build).resolve()
                dockerfile = (context / "Dockerfile").resolve()
            elif isinstance(build, dict) and "dockerfile_inline" not in build:
                context = (path.parent / str(build.get("context", "."))).resolve()
                dockerfile = (context / str(build.get("dockerfile", "Dockerfile"))).resolve()
        except (OSError, RuntimeError, ValueError) as error:  # a NUL byte, a symlink loop
            left_out.append(f"{display_path(path)}: service {name}: its build path cannot be resolved ({error}): "
                            "left out of the plan")
            continue
        profiles = spec.get("profiles")  # a list in a valid file; anything else is ignored
        profiles = {str(p).lower() for p in profiles} if isinstance(profiles, list) else set()
        image = spec.get("image")
        services.append((str(name), str(dockerfile) if dockerfile else None, str(context) if context else None,
                         str(image) if image else None, file_is_dev or bool(profiles & _DEV_WORDS),
                         tuple(sorted(answers_to(str(name), spec))), tuple(sorted(references(spec)))))
    return services, left_out
