"""``dockermig init``: the masters' own Dockerfiles and a starter config, rendered from
the same templates and manifests the rules use.

The config it writes points each master at its rendered Dockerfile, so from then on the
manifest that drives DM3xx is read from the file the master is built from.
"""

from __future__ import annotations

from pathlib import Path

from dockermig.policy.facts import language_name
from dockermig.policy.masters import Master, default_policy

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
    return written


def existing_masters(directory: Path) -> dict[str, Path]:
    """The masters whose Dockerfiles the repository already has, by master name: a file
    labelled ``dockermig.master=NAME``, one whose name says it builds a known master
    (``docker/base/Dockerfile.python-agent-master``), or one a compose service builds
    and tags as a known master's image."""
    from dockermig.discover import discover
    from dockermig.engine import InputError, read_dockerfile
    from dockermig.policy.facts import MASTER_LABEL
    from dockermig.syntax import parse
    from dockermig.syntax.values import env_values

    masters = default_policy().masters
    found: dict[str, Path] = {}
    for item in discover([directory]):
        if item.error:
            continue
        try:
            text = read_dockerfile(item.path, 10 * 1024 * 1024)
        except InputError:
            continue
        labels = [env_values(i).get(MASTER_LABEL) for i in parse(text).instructions if i.keyword == "LABEL"]
        named = [label for label in labels if label]
        named += [m.name for m in masters if m.named_by(item.path.resolve())]
        for name in named[:1]:
            found.setdefault(name, item.path.resolve())
    for name, path in _built_by_compose(directory, masters).items():
        found.setdefault(name, path)
    return found


def _built_by_compose(directory: Path, masters) -> dict[str, Path]:
    from dockermig.config import Config
    from dockermig.discover import walk
    from dockermig.plan import PlanError, is_compose_name, read_compose
    from dockermig.syntax.query import parse_image_ref

    found: dict[str, Path] = {}
    for compose, unreadable in walk(directory, Config(), is_compose_name):
        if unreadable:
            continue  # `dockermig plan` reports it
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
                    found.setdefault(master.name, service.dockerfile)
    return found


def config_for_existing(directory: Path) -> tuple[str, dict[str, Path]]:
    """(config text, masters found): the built-in masters, each pointed at its Dockerfile
    when the repository has one (and a master only the repository knows, by its label)."""
    from io import StringIO

    from ruamel.yaml import YAML

    from dockermig.policy.loader import load_pack

    directory = directory.resolve()
    found = existing_masters(directory)
    entries = []
    for raw in load_pack("masters.yaml")["masters"]:
        path = found.get(raw["name"])
        if path is None:
            entries.append(raw)  # not in this repository: the built-in definition, in full
        else:
            entries.append({key: raw[key] for key in ("name", "image", "language", "user", "port", "replaces")
                            if key in raw} | {"dockerfile": path.relative_to(directory).as_posix()})
    known = {raw["name"] for raw in load_pack("masters.yaml")["masters"]}
    for name, path in found.items():
        if name not in known:
            entries.append({"name": name, "image": f"{name}:latest", "dockerfile": path.relative_to(directory).as_posix()})
    out = StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.representer.sort_base_mapping_type_on_output = False  # keep name and image first
    yaml.dump({"masters": entries}, out)
    header = ("# dockermig configuration, written by `dockermig init --config-only` for the masters this\n"
              "# repository already has (read from their own Dockerfiles; the others as dockermig knows them).\n"
              "# Every key is explained in dockermig's docs/configuration.md.\n")
    return header + out.getvalue(), found


def write_config_only(target: Path, force: bool = False) -> tuple[Path, dict[str, Path]]:
    """Write ``.dockermig.yaml`` for the masters already in ``target``; never touches them."""
    from dockermig.writer import atomic_write

    path = target / ".dockermig.yaml"
    if path.exists() and not force:
        raise FileExistsError(str(path))
    text, found = config_for_existing(target)
    atomic_write(path, text.encode("utf-8"))
    return path, found
