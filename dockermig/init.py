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
    files = {
        BASE_DIR / f"Dockerfile.{short}": render(
            "master.Dockerfile.j2",
            master=master,
            language_name=language_name(master.language),
            apt=sorted(master.packages.get("apt", {}).items()),
            npm=sorted(master.packages.get("npm", {}).items()),
            pip=pip,
            env=[(k, v) for k, v in master.env.items() if k != "SERVICE_PORT"],
            requirements_file=requirements,
            pip_command="pip install" if master.language == "python" else "pip3 install --break-system-packages",
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
