"""Check a master's manifest pins against what resolves today, and propose refreshed ones.

A master's manifest (``rules/masters.yaml`` or the master's own Dockerfile) pins apt, pip
and npm packages. Pins rot: Debian's archive keeps only the newest revision of a package
per suite, and a pip set can pin versions that cannot be installed together. This module
asks the real package managers, inside a container of the master's base image (never
pulled: the image must be on the machine), exactly as the master's build would:

- apt: ``apt-get update``, then ``apt-get install --dry-run`` of the pinned set, and each
  package's candidate version (``apt-cache policy``);
- pip: ``pip install --dry-run --ignore-installed --report`` of the whole pinned set, so a
  conflict between two pins shows (pip's ResolutionImpossible);
- npm: ``npm view NAME@VERSION version`` for each pin.

With ``propose=True`` the report also holds refreshed pins: the apt candidate for a pin that
does not resolve, and for pip the set pip resolves once the pins that conflict (the ones
pip names) are relaxed, the others kept.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any, NamedTuple

from dockermig.policy.model import Master
from dockermig.regex import compile_on_use

LABEL = "dockermig.pins"


class PinsError(Exception):
    """The check could not run (no engine, the base image is missing...)."""


class Pin(NamedTuple):
    manager: str
    name: str
    pinned: str | None  # the manifest's version, None when unpinned
    resolved: str | None  # what the package manager picks today (None: nothing)
    ok: bool
    detail: str = ""


class PinReport:
    def __init__(self, master: Master, image: str):
        self.master = master
        self.image = image
        self.pins: list[Pin] = []
        self.errors: dict[str, str] = {}  # manager -> what the resolver said, when the set fails
        self.proposed: dict[str, dict[str, str]] = {}  # manager -> name -> refreshed pin

    @property
    def ok(self) -> bool:
        return not self.errors and all(p.ok for p in self.pins)

    def failing(self) -> list[Pin]:
        return [p for p in self.pins if not p.ok]

    def as_dict(self) -> dict[str, Any]:
        return {"master": self.master.name, "image": self.image, "ok": self.ok,
                "pins": [p._asdict() for p in self.pins], "errors": self.errors, "proposed": self.proposed}


def check_pins(master: Master, *, image: str | None = None, client=None, propose: bool = False) -> PinReport:
    """Resolve ``master``'s manifest in a container of ``image`` (default: the master's
    base). Raises PinsError when the check itself cannot run."""
    import docker

    if master.problems:
        raise PinsError("; ".join(master.problems))
    image = image or master.base
    if image is None:
        raise PinsError(f"the base image of {master.name} is not known: give --image")
    try:
        client = client or docker.from_env(timeout=600)
        client.images.get(image)
    except docker.errors.ImageNotFound:
        raise PinsError(f"image {image} is not on this machine (nothing is pulled): build or load it first") from None
    except docker.errors.DockerException as error:
        raise PinsError(f"no Docker engine: {error}") from None
    report = PinReport(master, image)
    container = client.containers.run(image, ["sleep", "infinity"], entrypoint=[], user="0", detach=True,
                                      labels={LABEL: master.name}, environment={"DEBIAN_FRONTEND": "noninteractive"})
    try:
        shell = _Shell(container)
        apt = master.packages.get("apt") or {}
        pip = master.packages.get("pip") or {}
        npm = master.packages.get("npm") or {}
        # an image without the package managers is not the master's base: say so plainly
        for manager, tool, table in (("apt", "apt-get", apt or pip), ("npm", "npm", npm)):
            if table and shell(f"command -v {tool}")[0]:
                report.errors[manager] = f"{tool} is not in {image}: is it the base image of {master.name}?"
        if report.errors:
            return report
        if apt or pip:
            code, out = shell("apt-get update -qq")
            if code:
                report.errors["apt"] = f"apt-get update failed: {_tail(out)}"
                return report
        if apt:
            _check_apt(shell, apt, report, propose)
        if pip:
            _check_pip(shell, master, pip, report, propose)
        if npm:
            _check_npm(shell, npm, report, propose)
    finally:
        container.remove(force=True)
    return report


class _Shell:
    def __init__(self, container):
        self.container = container

    def __call__(self, script: str) -> tuple[int, str]:
        result = self.container.exec_run(["sh", "-c", script], user="0")
        return result.exit_code, result.output.decode("utf-8", "replace")


def _tail(text: str, lines: int = 8) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


# -- apt ----------------------------------------------------------------------------------------


def _check_apt(shell: _Shell, apt: dict[str, str | None], report: PinReport, propose: bool) -> None:
    names = sorted(apt)
    code, out = shell("for p in " + " ".join(shlex.quote(n) for n in names) + "; do "
                      "printf '%s %s\\n' \"$p\" \"$(apt-cache policy \"$p\" | awk '/Candidate:/ {print $2}')\"; done")
    candidates = {}
    for line in out.splitlines():
        name, _, candidate = line.partition(" ")
        candidates[name] = None if candidate in ("", "(none)") else candidate
    specs = " ".join(shlex.quote(f"{n}={v}" if v else n) for n, v in sorted(apt.items()))
    code, out = shell(f"apt-get install --dry-run -y --no-install-recommends {specs}")
    if code:
        report.errors["apt"] = _tail(out)
    for name in names:
        pinned, candidate = (str(apt[name]) if apt[name] else None), candidates.get(name)
        if candidate is None:
            report.pins.append(Pin("apt", name, pinned, None, False, "no such package in the configured suites"))
        elif pinned and not _apt_matches(pinned, candidate):
            report.pins.append(Pin("apt", name, pinned, candidate, False,
                                   f"{pinned} is not in the archive (it has {candidate})"))
            if propose:
                report.proposed.setdefault("apt", {})[name] = candidate
        else:
            report.pins.append(Pin("apt", name, pinned, candidate, True))


def _apt_matches(pinned: str, candidate: str) -> bool:
    # apt-get accepts a trailing `*` as a version prefix
    return candidate.startswith(pinned[:-1]) if pinned.endswith("*") else candidate == pinned


# -- pip ----------------------------------------------------------------------------------------

# what pip names when a set does not resolve: the pins in conflict, or a pin that does not exist
_CONFLICT_LINE = compile_on_use(r"^\s*(?:The user requested ([A-Za-z0-9_.\-\[\]]+)|([A-Za-z0-9_.\-]+) [^ ]+ depends on)")
_CANNOT_INSTALL = compile_on_use(r"Cannot install (.+?) because")
_NO_MATCH = compile_on_use(r"No matching distribution found for ([A-Za-z0-9_.\-]+)")
_REPORT = "--- dockermig pins report ---"


def _check_pip(shell: _Shell, master: Master, pip: dict[str, str | None], report: PinReport, propose: bool) -> None:
    from dockermig.policy.model import normalize_package

    code, _ = shell("python3 -m pip --version")
    if code:  # a base without pip (node:*-slim): the master installs Debian's python3-pip first
        code, out = shell("apt-get install -y -qq --no-install-recommends python3-pip >/dev/null")
        if code:
            report.errors["pip"] = f"pip is not available in {report.image}: {_tail(out)}"
            return
    flags = "" if master.language == "python" else " --break-system-packages"
    pins = {normalize_package("pip", n): (n, str(v) if v else None) for n, v in pip.items()}

    def resolve(relaxed: set[str]) -> tuple[int, str, dict[str, str]]:
        specs = " ".join(shlex.quote(f"{name}=={version}" if version and key not in relaxed else name)
                         for key, (name, version) in sorted(pins.items()))
        code, out = shell(f"python3 -m pip install{flags} --dry-run --ignore-installed --disable-pip-version-check "
                          f"--report /tmp/pins.json {specs} 2>&1 && echo '{_REPORT}' && cat /tmp/pins.json")
        resolved = {}
        if code == 0:
            document = json.loads(out[out.index(_REPORT) + len(_REPORT):])
            resolved = {normalize_package("pip", i["metadata"]["name"]): i["metadata"]["version"]
                        for i in document.get("install", [])}
        return code, out, resolved

    code, out, resolved = resolve(set())
    if code:
        report.errors["pip"] = _conflict_text(out)
    blamed = _blamed(out, pins) if code else set()
    for key, (name, version) in sorted(pins.items()):
        if code:
            detail = "named in the resolver's conflict" if key in blamed else "the set does not resolve"
            report.pins.append(Pin("pip", name, version, None, False, detail))
        else:
            report.pins.append(Pin("pip", name, version, resolved.get(key), True))
    if propose and code:
        relaxed: set[str] = set()
        for _ in range(5):  # each round relaxes what the resolver names, keeping the other pins
            relaxed |= _blamed(out, pins)
            code, out, resolved = resolve(relaxed)
            if code == 0 or not _blamed(out, pins) - relaxed:
                break
        if code == 0:
            report.proposed["pip"] = {pins[k][0]: resolved[k] for k in sorted(relaxed) if k in resolved}


def _blamed(output: str, pins: dict[str, tuple[str, str | None]]) -> set[str]:
    from dockermig.policy.model import normalize_package

    texts = []
    for line in output.splitlines():
        match = _CONFLICT_LINE.match(line) or _NO_MATCH.search(line)
        if match:
            texts.append(next(g for g in match.groups() if g))
        match = _CANNOT_INSTALL.search(line)
        if match:
            texts += re.split(r",\s*(?:and\s+)?|\s+and\s+", match.group(1))
    names = {normalize_package("pip", re.split(r"[=<>!~\[ ]", t.strip())[0]) for t in texts if t.strip()}
    return {n for n in names if n in pins and pins[n][1]}


def _conflict_text(output: str) -> str:
    lines = output.strip().splitlines()
    start = next((i for i, line in enumerate(lines) if "conflict is caused by" in line), None)
    return " | ".join(line.strip() for line in lines[start:start + 6]) if start is not None else _tail(output)


# -- npm ----------------------------------------------------------------------------------------


def _check_npm(shell: _Shell, npm: dict[str, str | None], report: PinReport, propose: bool) -> None:
    for name, version in sorted(npm.items()):
        spec = f"{name}@{version}" if version else name
        code, out = shell(f"npm view {shlex.quote(spec)} version --json 2>&1")
        found = _npm_versions(out) if code == 0 else []
        if found:
            report.pins.append(Pin("npm", name, str(version) if version else None, found[-1], True))
            continue
        report.pins.append(Pin("npm", name, str(version) if version else None, None, False, _tail(out, 2)))
        if propose:
            code, out = shell(f"npm view {shlex.quote(name)} version --json 2>&1")
            latest = _npm_versions(out) if code == 0 else []
            if latest:
                report.proposed.setdefault("npm", {})[name] = latest[-1]


def _npm_versions(output: str) -> list[str]:
    try:
        value = json.loads(output) if output.strip() else []
    except ValueError:
        return []
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]
