"""``dockermig init``: the masters' own Dockerfiles and a starter config, rendered from
the same templates and manifests the rules use.

The config it writes points each master at its rendered Dockerfile, so from then on the
manifest that drives DM3xx is read from the file the master is built from.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from dockermig.policy.facts import language_name
from dockermig.policy.masters import default_policy
from dockermig.policy.model import Master

BASE_DIR = Path("docker") / "base"


def master_files(master: Master) -> dict[Path, str]:
    """The files that build one master: its Dockerfile and (Python) requirements file."""
    from dockermig.policy.render import render

    short = master.name.removeprefix("sutazai-")
    requirements = f"requirements-{short}.txt"
    pip = sorted(master.packages.get("pip", {}).items())
    apt = sorted(master.packages.get("apt", {}).items())
    files = {
        BASE_DIR / f"Dockerfile.{short}": render(
            "master.Dockerfile.j2",
            master=master,
            language_name=language_name(master.language),
            apt=apt,
            # the suite pins apt packages listed without a version: say so to DM543/DL3008
            apt_unpinned=any(not version for _, version in apt),
            npm=sorted(master.packages.get("npm", {}).items()),
            pip=pip,
            env=[(k, v) for k, v in master.env.items() if k != "SERVICE_PORT"],
            requirements_file=requirements,
            pip_command=("pip install --no-cache-dir" if master.language == "python"
                         else "pip3 install --no-cache-dir --break-system-packages"),
        )
    }
    if pip:
        files[BASE_DIR / requirements] = render("requirements.txt.j2", master=master, pip=pip)
    return files


def init_files(masters: tuple[Master, ...] | None = None) -> dict[Path, str]:
    """Every file ``init`` writes, relative to the target directory."""
    from dockermig.policy.render import render

    masters = masters or default_policy().masters
    files: dict[Path, str] = {}
    paths: dict[str, str] = {}
    for master in masters:
        rendered = master_files(master)
        files.update(rendered)
        paths[master.name] = next(iter(rendered)).as_posix()
    files[Path(".dockermig.yaml")] = render("dockermig.yaml.j2", masters=masters, paths=paths)
    return files


def write_init(target: Path, force: bool = False) -> list[Path]:
    """Write the files under ``target``; existing files are kept unless ``force``."""
    from dockermig.writer import atomic_write

    files = init_files()
    existing = [target / p for p in files if (target / p).exists()]
    if existing and not force:
        raise FileExistsError(", ".join(str(p) for p in existing))
    written = []
    for relative, content in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, content.encode("utf-8"))
        written.append(path)
    _forget_configs()
    return written


class MasterSearchError(ValueError):
    """Two live Dockerfiles build the same master: which one is the master is the user's call."""


class FoundMasters(NamedTuple):
    masters: dict[str, Path]  # master name -> its live Dockerfile
    contexts: dict[str, Path]  # master name -> the build context compose gives it, when not the file's folder
    copies: list[Path]  # copy folders (backups/, archive/, dated snapshots) seen, relative to the repository


def existing_masters(directory: Path) -> FoundMasters:
    """The masters whose Dockerfiles the repository already has, by master name: a file
    labelled ``dockermig.master=NAME``, one whose name says it builds a known master
    (``docker/base/Dockerfile.python-agent-master``), or one a compose service builds
    and tags as a known master's image. Copies (``backups/``, ``archive/``, dated
    snapshots) and .gitignored files are not masters; two live files for one master are a
    MasterSearchError that names both."""
    from dockermig.copies import copy_folder
    from dockermig.discover import discover
    from dockermig.engine import InputError, read_dockerfile
    from dockermig.policy.facts import MASTER_LABEL
    from dockermig.syntax import parse
    from dockermig.syntax.values import env_values

    directory = directory.resolve()
    masters = default_policy().masters
    candidates: dict[str, list[Path]] = {}
    copies: list[Path] = []
    for item in discover([directory]):
        if item.error:
            continue
        path = item.path.resolve()
        copy = copy_folder(path, directory)
        if copy is not None:
            copies.append(copy)
            continue
        try:
            text = read_dockerfile(item.path, 10 * 1024 * 1024)
        except InputError:
            continue
        labels = [env_values(i).get(MASTER_LABEL) for i in parse(text).instructions if i.keyword == "LABEL"]
        named = [label for label in labels if label]
        named += [m.name for m in masters if m.named_by(path)]
        for name in named[:1]:
            candidates.setdefault(name, []).append(path)
    contexts: dict[str, Path] = {}
    for name, path, context, copy in _built_by_compose(directory, masters):
        if copy is not None:
            copies.append(copy)
            continue
        if path not in candidates.setdefault(name, []):
            candidates[name].append(path)
        if context != path.parent:
            contexts[name] = context
    for name, paths in candidates.items():
        if len(paths) > 1:
            listed = ", ".join(p.relative_to(directory).as_posix() for p in paths)
            raise MasterSearchError(f"{len(paths)} live Dockerfiles build {name}: {listed}; keep one, or exclude "
                                    f"the others (exclude: in the config), then run init --config-only again")
    return FoundMasters({name: paths[0] for name, paths in candidates.items()}, contexts,
                        sorted(set(copies), key=lambda p: p.as_posix()))


def _built_by_compose(directory: Path, masters):
    """(master name, Dockerfile, build context, copy folder or None) of the compose
    services that build a master's image."""
    from dockermig.config import Config
    from dockermig.copies import copy_folder
    from dockermig.discover import walk
    from dockermig.plan import PlanError, is_compose_name, read_compose
    from dockermig.syntax.query import parse_image_ref

    for compose, unreadable in walk(directory, Config(), is_compose_name):
        if unreadable:
            continue  # `dockermig plan` reports it
        copy = copy_folder(compose.resolve(), directory)
        try:
            services = read_compose(compose)
        except PlanError:
            continue  # `dockermig plan` reports it
        for service in services:
            if service.dockerfile is None or not service.image or not service.dockerfile.is_file():
                continue
            ref = parse_image_ref(service.image)
            for master in masters:
                if master.matches(ref):
                    yield master.name, service.dockerfile.resolve(), (service.context or service.dockerfile.parent).resolve(), copy


def config_for_existing(directory: Path) -> tuple[str, FoundMasters]:
    """(config text, what was found): each built-in master the repository has, pointed at
    its live Dockerfile, with nothing else said about it: every fact about a master is read
    from its own files. A master only the repository knows (by its label) is listed too;
    one it does not have is left out (``dockermig init`` renders it). The copy folders seen
    are excluded."""
    from io import StringIO

    from ruamel.yaml import YAML

    from dockermig.policy.loader import load_pack

    directory = directory.resolve()
    found = existing_masters(directory)
    entries = []
    known = load_pack("masters.yaml")["masters"]
    for raw in known:
        path = found.masters.get(raw["name"])
        if path is not None:
            entry = {key: raw[key] for key in ("name", "image", "language") if key in raw}
            entry["dockerfile"] = path.relative_to(directory).as_posix()
            if raw["name"] in found.contexts:
                entry["context"] = found.contexts[raw["name"]].relative_to(directory).as_posix()
            if raw.get("replaces"):
                entry["replaces"] = raw["replaces"]
            entries.append(entry)
    names = {raw["name"] for raw in known}
    for name, path in found.masters.items():
        if name not in names:
            entries.append({"name": name, "image": f"{name}:latest", "dockerfile": path.relative_to(directory).as_posix()})
    document: dict = {"masters": entries}
    if found.copies:
        document["exclude"] = [f"{copy.as_posix()}/" for copy in _outermost(found.copies)]
    out = StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096  # a long path stays on its key's line
    yaml.representer.sort_base_mapping_type_on_output = False  # keep name and image first
    yaml.dump(document, out)
    missing = [raw["name"] for raw in known if raw["name"] not in found.masters]
    header = ("# dockermig configuration, written by `dockermig init --config-only` for the masters this\n"
              "# repository already has. Everything about a master (its user and ids, WORKDIR, health\n"
              "# check, packages) is read from its own Dockerfile and the manifests it copies:\n"
              "# `dockermig check-config --explain` shows each fact with the line it came from.\n"
              "# Every key is explained in dockermig's docs/configuration.md.\n")
    if missing:
        header += "".join(f"# {name}: not in this repository (`dockermig init` renders it)\n" for name in missing)
    if found.copies:
        header += "# exclude: copies of the live files (backups, archives, dated snapshots) are not linted.\n"
    return header + out.getvalue(), found


def _outermost(folders: list[Path]) -> list[Path]:
    return [f for f in folders if not any(other != f and other in f.parents for other in folders)]


def write_config_only(target: Path, force: bool = False) -> tuple[Path, FoundMasters]:
    """Write ``.dockermig.yaml`` for the masters already in ``target``; never touches them."""
    from dockermig.writer import atomic_write

    path = target / ".dockermig.yaml"
    if path.exists() and not force:
        raise FileExistsError(str(path))
    text, found = config_for_existing(target)
    atomic_write(path, text.encode("utf-8"))
    _forget_configs()
    return path, found


def _forget_configs() -> None:
    """The search for masters looked up the config of every folder (there was none): a
    caller that goes on in this process (a test, a library user) must find the new one."""
    from dockermig.config import forget_configs

    forget_configs()
