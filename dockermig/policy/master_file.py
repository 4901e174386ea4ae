"""What a master's own Dockerfile states about the image it builds, each fact with the
line it came from.

The final stage is read with every stage it is built ``FROM`` (``FROM base AS production``
inherits what ``base`` made): the user it ends as and, when the file creates that user,
its ids, group and home as the creating command gives them (``useradd -r`` gives no uid:
the build chooses a system uid, so the uid is unknown); WORKDIR and what the file puts in
it; ENV; EXPOSE; HEALTHCHECK with its port expression (``${SERVICE_PORT:-8080}``);
CMD/ENTRYPOINT; and the packages of each environment, from the install commands and from
the manifests the file COPYs from its build context. A COPY source missing from the
context, or a manifest installed but never copied, is a problem: the master cannot be
built from this repository, and the package table it feeds is incomplete.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import NamedTuple

from dockermig import observed
from dockermig.limits import InputError, read_text
from dockermig.policy.environments import install_table
from dockermig.policy.manifest import copied_file, exact_version, parse_requirements
from dockermig.policy.provenance import (
    DOCKERFILE,
    MANIFEST,
    NO_HEALTHCHECK,
    Fact,
    HealthCheck,
    Package,
    PortExpression,
    Source,
    unknown,
)
from dockermig.regex import compile_on_use
from dockermig.syntax import parse
from dockermig.syntax.accounts import AccountCreation, account_creations
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.query import ImageRef, Stage
from dockermig.syntax.shell import commands_named, installs, unwrap
from dockermig.syntax.values import env_pairs, exposed_ports, probed_url, user_of

_PORT = compile_on_use(r"\$\{(\w+)(?::?-(\d+))?\}|\$(\w+)|(\d+)")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1"})


class MasterFileError(ValueError):
    """A master Dockerfile that cannot be read at all (missing, unreadable, no FROM)."""


class MasterFile(NamedTuple):
    """What the file states: ``facts`` by key (see masters.FACT_KEYS), the packages of
    each table, the root image, and ``problems`` (missing COPY sources and manifests,
    each naming the line) with the tables they leave incomplete."""

    facts: dict[str, Fact]
    packages: dict[str, dict[str, Package]]
    root_image: ImageRef | None
    problems: tuple[str, ...]
    incomplete: dict[str, str]  # table -> why it is not complete


def read_master_file(path: Path, display: str, context: Path, context_display: str) -> MasterFile:
    """Read the master Dockerfile at ``path`` (``display``: its name in messages), built
    in ``context``."""
    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError, InputError) as error:
        reason = "no such file" if isinstance(error, FileNotFoundError) else error
        raise MasterFileError(f"{display}: cannot read master Dockerfile ({reason})") from None
    dockerfile = parse(text)
    if not dockerfile.stages:
        raise MasterFileError(f"{display}: master Dockerfile has no FROM")
    return _Reader(dockerfile.stages[-1], display, context, context_display).read()


class _Reader:
    def __init__(self, final: Stage, display: str, context: Path, context_display: str):
        self.final = final
        self.display = display
        self.context = context
        self.context_display = context_display
        self.facts: dict[str, Fact] = {}
        self.packages: dict[str, dict[str, Package]] = {"apt": {}, "pip": {}, "npm": {}}
        self.problems: list[str] = []
        self.missing: dict[Path, int] = {}  # COPY source not in the context -> index of its problem
        self.incomplete: dict[str, str] = {}

    def source(self, instruction: Instruction, text: str | None = None, kind: str = DOCKERFILE) -> Source:
        return Source(kind, f"{self.display}:{instruction.start_line}", text if text is not None else _one_line(instruction))

    def read(self) -> MasterFile:
        root = self.final.root_image
        first = self.final.lineage()[0]
        self.facts["base"] = Fact(root.raw if root else first.base, self.source(first.from_))
        created: dict[tuple[str, str], tuple[AccountCreation, Instruction]] = {}
        user: tuple[str, str | None, Instruction] | None = None
        workdir, workdir_line = None, None
        placed: list[str] = []
        made: list[str] = []
        for stage in self.final.lineage():
            for instruction in stage.instructions:
                keyword = instruction.keyword
                if keyword == "USER":
                    value = user_of(instruction, stage.variables(instruction))
                    if value is not None and value.resolved:
                        user = (value.user, value.group, instruction)
                elif keyword == "WORKDIR" and instruction.words:
                    workdir = posixpath.normpath(posixpath.join(workdir or "/", instruction.words[0].value))
                    workdir_line = instruction
                elif keyword == "ENV":
                    for name, value in env_pairs(instruction):
                        self.facts[f"env.{name}"] = Fact(value, self.source(instruction))
                elif keyword == "EXPOSE":
                    ports = tuple(p.text for p in exposed_ports(instruction, stage.variables(instruction)))
                    self.facts["expose"] = Fact(ports, self.source(instruction))
                elif keyword == "HEALTHCHECK":
                    self.facts["healthcheck"] = Fact(_healthcheck(instruction), self.source(instruction))
                elif keyword in ("ENTRYPOINT", "CMD"):
                    words = instruction.exec_form if instruction.exec_form is not None else instruction.words
                    self.facts[keyword.lower()] = Fact(tuple(w.value for w in words), self.source(instruction))
                elif keyword in ("COPY", "ADD"):
                    self._check_sources(instruction)
                    placed += [(path, instruction) for path in _destinations(instruction, workdir)]
                elif keyword == "RUN":
                    self._read_installs(stage, instruction)
                    if workdir is not None and any(i.manager == "npm" and not i.is_global for i in installs(instruction)):
                        placed.append((posixpath.join(workdir, "node_modules"), instruction))
                    for creation in account_creations(instruction):
                        if creation.name:
                            created[(creation.kind, creation.name)] = (creation, instruction)
                    made += [(path, instruction) for path in _made_directories(instruction, workdir)]
        if workdir is not None:
            self.facts["workdir"] = Fact(workdir, self.source(workdir_line))
            inside = [(p, i) for p, i in placed if _inside(p, workdir)]
            self.facts["workdir_contents"] = Fact(tuple(p for p, _ in inside),
                                                  self.source(inside[-1][1]) if inside else self.source(workdir_line))
            within = [(p, i) for p, i in made if p != workdir and _inside(p, workdir)]
            self.facts["workdir_made"] = Fact(tuple(p for p, _ in within),
                                              self.source(within[-1][1]) if within else self.source(workdir_line))
        else:
            self.facts["workdir"] = unknown(DOCKERFILE, self.display, "no WORKDIR: the base image's")
        self._read_user(user, created)
        if "healthcheck" not in self.facts:
            self.facts["healthcheck"] = Fact(NO_HEALTHCHECK, Source(DOCKERFILE, self.display, "no HEALTHCHECK"))
        self.facts.setdefault("expose", Fact((), Source(DOCKERFILE, self.display, "no EXPOSE")))
        for keyword in ("entrypoint", "cmd"):
            if keyword not in self.facts:
                self.facts[keyword] = unknown(DOCKERFILE, self.display, f"no {keyword.upper()}: the base image's")
        return MasterFile(self.facts, self.packages, root, tuple(self.problems), self.incomplete)

    # -- users ------------------------------------------------------------------------------

    def _read_user(self, user, created) -> None:
        if user is None:
            # nothing in the file says: the base image's user (root for the official images)
            self.facts["user"] = unknown(DOCKERFILE, self.display, "no USER: the base image's user")
            return
        name, group, instruction = user
        self.facts["user"] = Fact(name, self.source(instruction))
        if name.isdigit():
            self.facts["uid"] = Fact(int(name), self.source(instruction))
        if group is not None:
            self.facts["group"] = Fact(group, self.source(instruction))
            if group.isdigit():
                self.facts["gid"] = Fact(int(group), self.source(instruction))
        found = created.get(("user", name))
        if found is None:
            return  # made by the base image: the built-in knowledge of base images may say
        creation, made_by = found
        where = self.source(made_by, _command_text(creation))
        if "uid" not in self.facts:
            if creation.id and creation.id.isdigit():
                self.facts["uid"] = Fact(int(creation.id), where)
            else:
                system = creation.flags & {"-r", "--system", "-S"}
                why = ("a system uid the build chooses (pin it: -u N)" if system
                       else "the next free uid when it is built (pin it: -u N)")
                self.facts["uid"] = Fact(None, where._replace(text=f"{where.text}: {why}"))
        if "group" not in self.facts:
            primary = creation.group
            if primary is None:
                primary = name  # useradd and adduser make a group of the user's name
            if primary.isdigit():
                self.facts["gid"] = Fact(int(primary), where)
                named = next((c for (kind, _), (c, _) in created.items() if kind == "group" and c.id == primary), None)
                self.facts["group"] = Fact(named.name if named else None, where)
            else:
                self.facts["group"] = Fact(primary, where)
        if "gid" not in self.facts:
            group_name = self.facts["group"].value
            made = created.get(("group", group_name or ""))
            if made is not None and made[0].id and made[0].id.isdigit():
                self.facts["gid"] = Fact(int(made[0].id), self.source(made[1], _command_text(made[0])))
            else:
                origin = self.source(made[1], _command_text(made[0])) if made else where
                self.facts["gid"] = Fact(None, origin._replace(text=f"{origin.text}: no gid given"))
        if creation.creates_home:
            self.facts["home"] = Fact(creation.home or f"/home/{name}", where)
        else:
            self.facts["home"] = Fact(None, where._replace(text=f"{where.text}: makes no home directory"))

    # -- packages and the build context ---------------------------------------------------

    def _read_installs(self, stage: Stage, instruction: Instruction) -> None:
        for install in installs(instruction):
            table = install_table(install, stage, instruction)
            if table is None:
                continue  # a venv, --user, a project's node_modules: not the master's environment
            for package in install.packages:
                version = exact_version(package.version) if table == "pip" else package.version
                self.packages[table][package.name] = Package(version, self.source(instruction))
            for word in install.requirement_files:
                self._read_manifest(stage, instruction, table, word.value or "")

    def _read_manifest(self, stage: Stage, instruction: Instruction, table: str, name: str) -> None:
        source = copied_file(stage, name, self.context, instruction)
        if source is None or observed.kind(source) != "file":
            consequence = (f"its {table} packages are not known: no {table} install is reported or removed as "
                           f"shipped")
            index = self.missing.get(source) if source is not None else None
            if index is not None:  # the COPY of it is a problem already: say what it costs there
                self.problems[index] += (f", and {consequence} (line {instruction.start_line} installs them "
                                         f"from it)")
            else:
                why = (f"installs -r {name}, which no COPY puts in the image" if source is None
                       else f"installs -r {name}, which is not in the build context {self.context_display}")
                self.problems.append(f"{self.display}:{instruction.start_line}: {why}: {consequence}")
            self.incomplete[table] = self.problems[index if index is not None else -1]
            return
        shown = _relative(source, self.context, self.context_display)
        for requirement in parse_requirements(source):
            line = _relative(requirement.path, self.context, self.context_display)
            self.packages[table][requirement.name] = Package(
                exact_version(requirement.specifier),
                Source(MANIFEST, f"{line}:{requirement.line}", f"{requirement.name}{requirement.specifier or ''}"
                       f" (installed by {self.display}:{instruction.start_line} from {shown})"))

    def _check_sources(self, instruction: Instruction) -> None:
        """A COPY/ADD source that is not in the build context: the master does not build."""
        if instruction.flag("from") or instruction.heredocs:
            return
        words = [w.value for w in (instruction.exec_form or instruction.words)]
        for source in words[:-1]:
            if any(c in source for c in "*?[$") or "://" in source or source.startswith("git@"):
                continue  # a glob, a variable, a URL: nothing to look for
            path = self.context / posixpath.normpath(source.lstrip("/"))
            if observed.kind(path) is None:
                self.missing[path] = len(self.problems)
                self.problems.append(f"{self.display}:{instruction.start_line}: {instruction.keyword} {source}: "
                                     f"no such file in the build context {self.context_display}: the master "
                                     f"does not build")


def _healthcheck(instruction: Instruction) -> HealthCheck:
    words = [w.value for w in instruction.words]
    if not words or words[0].upper() == "NONE":
        return NO_HEALTHCHECK
    command = _one_line(instruction).split(None, 1)[1] if " " in _one_line(instruction) else ""
    return probe_of(command, probed_url(instruction))


def probe_of(command: str, url: tuple[str, str, str | None] | None) -> HealthCheck:
    """The health check that runs ``command``, probing ``url`` (host, path, port as
    written): an HTTP probe of this container, or a command we do not read further."""
    if url is None or url[0] not in _LOCAL_HOSTS:
        return HealthCheck(command)
    _, path, port = url
    return HealthCheck(command, path, _port_expression(port if port is not None else "80"))


def _port_expression(text: str) -> PortExpression:
    match = _PORT.fullmatch(text)
    if match is None:
        return PortExpression(text, None, None)
    if match[4]:
        return PortExpression(text, None, int(match[4]))
    variable = match[1] or match[3]
    default = int(match[2]) if match[2] else None
    return PortExpression(text, variable, default)


def _destinations(instruction: Instruction, workdir: str | None) -> list[str]:
    """Paths a COPY/ADD writes (the destination, resolved against the WORKDIR)."""
    words = [w.value for w in (instruction.exec_form or instruction.words)]
    if len(words) < 2:
        return []
    destination = words[-1]
    if not destination.startswith("/") and workdir is None:
        return []
    return [posixpath.normpath(posixpath.join(workdir or "/", destination))]


def _made_directories(instruction: Instruction, workdir: str | None) -> list[str]:
    found = []
    for command in commands_named(instruction, ("mkdir",)):
        for value in unwrap(command).argv()[1:]:
            if value and not value.startswith("-") and (value.startswith("/") or workdir):
                found.append(posixpath.normpath(posixpath.join(workdir or "/", value)))
    return found


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _one_line(instruction: Instruction) -> str:
    text = " ".join(line.strip().rstrip("\\").strip() for line in str(instruction).splitlines())
    return text if len(text) <= 160 else text[:157] + "..."


def _command_text(creation: AccountCreation) -> str:
    return " ".join(w.value or "?" for w in unwrap(creation.command).words)


def _relative(path: Path, context: Path, context_display: str) -> str:
    try:
        return posixpath.join(context_display, path.relative_to(context).as_posix())
    except ValueError:
        return str(path)
