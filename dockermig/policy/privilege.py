"""The RUNs that need root but run as another user: builds that were broken before.

The user in effect at a RUN is the last ``USER`` before it in its stage's lineage, else the
user its base image ends as: a master's, when the master model knows it (unknown: nothing
is claimed); a catalogued image's own ``USER`` (not the user an entrypoint switches to at
start: ``user-by: entrypoint``); root otherwise, as in the official images. A ``USER``
given by a variable is the build's to choose, and is not judged either.

What needs root, in the order a RUN is read (the first such command of a RUN is the one
reported; a command whose failure cannot fail the build, after ``||``, in a condition or
a loop, or inside ``sudo``, is left alone):

- anywhere: the system package managers' changes (``apt-get install``/``update``, ``apk
  add``, ``yum``/``dnf``/``zypper install``, ``dpkg -i``, ``rpm -i``), creating or changing
  users and groups, ``chown`` to another user, and the commands that rewrite the system's
  configuration (``update-ca-certificates``, ``ldconfig``, ``locale-gen``, ``setcap``...);
- on a base whose file system is known (a master, an official language or OS image):
  writing under ``/etc``, ``/usr``, ``/bin``, ``/lib``, ``/root`` and the package databases
  (``mkdir``, ``cp``, ``ln``, ``chmod``, ``tee``, ``sed -i``, ``curl -o``, ``tar -C``, a
  redirection...), unless the file gave that path to the user (``chown``, a ``chmod`` that
  lets everyone write, ``COPY --chown``, a ``WORKDIR``), and ``npm install -g`` into npm's
  own prefix (unless ``NPM_CONFIG_PREFIX`` or ``npm config set prefix`` moves it);
- ``pip install`` into the system site-packages only when pip cannot fall back to the
  user's site (as non-root it installs into ``~/.local`` instead, and that works): with
  ``PYTHONNOUSERSITE`` or ``PIP_USER`` off, or for a user without a home (``nobody``, a
  ``useradd`` without ``-m`` on a Debian image).
"""

from __future__ import annotations

import posixpath
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from dockermig.policy.search import first_two, last_starts
from dockermig.regex import compile_on_use
from dockermig.syntax.commands import Argv, runs, text
from dockermig.syntax.lexer import dequote, expand
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.shell import Command, ShellWord, all_scripts, installs
from dockermig.syntax.values import ROOT_NAMES, user_of

if TYPE_CHECKING:
    from dockermig.policy.facts import FileFacts, StageFacts
    from dockermig.syntax.query import Stage

# Paths no user but root may write in any Linux image.
_ROOT_OWNED = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/root", "/boot",
               "/var/lib/apt", "/var/lib/dpkg", "/var/cache/apt", "/var/cache/debconf")
_APT_CHANGES = frozenset({"install", "reinstall", "remove", "purge", "autoremove", "update", "upgrade",
                          "dist-upgrade", "full-upgrade", "build-dep", "clean", "autoclean", "satisfy"})
_APT_DRY = frozenset({"s", "simulate", "just-print", "dry-run", "recon", "no-act", "print-uris"})
_APT_VALUES = ("o", "option", "c", "config-file", "t", "target-release", "a", "host-architecture")
_APK_CHANGES = frozenset({"add", "del", "update", "upgrade", "fix"})
_RPM_CHANGES = frozenset({"install", "update", "upgrade", "remove", "erase", "reinstall", "downgrade",
                          "groupinstall", "localinstall", "autoremove", "distro-sync", "swap", "builddep"})
_ZYPPER_CHANGES = frozenset({"install", "in", "remove", "rm", "update", "up", "dist-upgrade", "dup", "refresh",
                             "ref", "addrepo", "ar", "patch"})
_ACCOUNTS = frozenset({"useradd", "groupadd", "adduser", "addgroup", "usermod", "groupmod", "userdel", "groupdel",
                       "deluser", "delgroup", "chpasswd", "gpasswd"})
_SYSTEM_TOOLS = frozenset({"update-ca-certificates", "locale-gen", "update-locale", "dpkg-reconfigure",
                           "debconf-set-selections", "add-apt-repository", "setcap"})
_ALTERNATIVES_CHANGES = frozenset({"install", "set", "remove", "remove-all", "auto", "config"})
_PRIVILEGED = frozenset({"sudo", "doas"})  # what they run, runs as root
_REDIRECT = compile_on_use(r"(?<![<>&\d])\d*(?:&>>|&>|>>|>\||>)(?!&)[ \t]*(\"[^\"]*\"|'[^']*'|[^\s;&|<>()]+)")
_CONTINUATION = compile_on_use(r"\\\r?\n")
_FALSE = frozenset({"0", "false", "no", "off"})


class RunAs(NamedTuple):
    """Who runs a RUN: ``user`` as written, and why: the ``USER`` instruction, or (None)
    the base image, which ``source`` names."""

    user: str
    instruction: Instruction | None
    source: str

    @property
    def described(self) -> str:
        if self.instruction is not None:
            return f"{self.user} (USER, line {self.instruction.start_line})"
        return f"{self.user}, {self.source}"


class RootNeed(NamedTuple):
    """A RUN that needs root, the first command that does, and who really runs it."""

    instruction: Instruction
    command: Command
    what: str  # "apt-get install needs root", "writing /etc/hosts needs root"...
    run_as: RunAs
    why: str = ""  # what makes it need root, when the command alone does not say


def root_needs(facts: FileFacts) -> list[RootNeed]:
    """The RUNs of every stage that need root while a non-root user runs them, in file order."""
    posix = set(map(id, runs(facts.dockerfile)))
    found: list[RootNeed] = []
    at_end: dict[int, RunAs | None] = {}  # stage index -> who runs its last instruction
    for stage_facts in facts.stages:
        stage = stage_facts.stage
        if stage_facts.windows:
            continue  # ContainerUser, ContainerAdministrator: another system's users
        current = at_end[stage.parent.index] if stage.parent is not None else _base_user(stage_facts)
        for instruction in stage.instructions:
            if instruction.keyword == "USER":
                current = _user_line(stage, instruction)
            elif (instruction.keyword == "RUN" and id(instruction) in posix and current is not None
                  and current.user not in ROOT_NAMES):
                need = _first_need(facts, stage_facts, instruction, current)
                if need is not None:
                    found.append(need)
        at_end[stage.index] = current
    return found


def _base_user(stage_facts: StageFacts) -> RunAs | None:
    image = stage_facts.image
    master = stage_facts.master
    if master is not None:
        if not master.fact("user").known:
            return None  # nobody states it: nothing to claim
        return RunAs(master.user, None, f"the user {master.image} ends as{master.cited('user')}")
    keep = stage_facts.keep
    if keep is not None and keep.build_user is not None:
        return RunAs(keep.build_user, None, f"the USER of {image.display if image else keep.pattern.text} "
                                            f"(keep-as-is catalogue)")
    return RunAs("root", None, "")


def _user_line(stage: Stage, instruction: Instruction) -> RunAs | None:
    if "$" in instruction.args:
        return None  # the build may pass any value (a build argument): not ours to judge
    value = user_of(instruction, stage.variables(instruction))
    if value is None or not value.resolved:
        return None
    return RunAs(value.user, instruction, "")


# -- one RUN ------------------------------------------------------------------------------


def _first_need(facts: FileFacts, stage_facts: StageFacts, instruction: Instruction, run_as: RunAs) -> RootNeed | None:
    source = instruction.source
    context = None
    for script in all_scripts(instruction):
        within = _Chain(script.chain)
        for command in script.commands:
            if not command.words:
                continue
            element = within.element(command)
            if not _fails_the_build(source, element, command):
                continue
            raw = (command.words[0].value or "").rsplit("/", 1)[-1]
            if raw in _PRIVILEGED:
                continue
            if context is None:
                context = _Context(facts, stage_facts, instruction, run_as, _known_file_system(facts, stage_facts))
            what = _needs_root(Argv(command), command, context, source, element)
            if what is not None:
                what, why = what if isinstance(what, tuple) else (what, "")
                return RootNeed(instruction, command, what, run_as, why)
    return None


class _Chain:
    """The elements of a script's top-level chain (source spans), each command's found by
    bisection: a scan per command made a long ``&&`` chain quadratic."""

    __slots__ = ("chain", "starts")

    def __init__(self, chain: tuple[tuple[int, int], ...]):
        self.chain = chain
        ordered = all(chain[n][1] <= chain[n + 1][0] for n in range(len(chain) - 1))
        self.starts = [start for start, _ in chain] if ordered else None

    def element(self, command: Command) -> tuple[int, int] | None:
        """The first element that holds the command, None when none does."""
        if self.starts is None:  # never from tree-sitter, whose siblings do not overlap
            return next(((start, end) for start, end in self.chain
                         if start <= command.start and command.end <= end), None)
        found = bisect_right(self.starts, command.start) - 1
        if found >= 0 and command.end <= self.chain[found][1]:
            return self.chain[found]
        return None


def _fails_the_build(source: str, element: tuple[int, int] | None, command: Command) -> bool:
    """Whether the command's failure fails the RUN: it stands in the script's top-level
    chain (``&&``, ``;``, new lines), alone or with redirections, or ends a pipeline
    there (``element``, the chain's element that holds it); not after ``||``, in a
    condition, a loop, a subshell or a function."""
    if command.position >= 0:
        return True
    if element is None:
        return False
    start, end = element
    before = _CONTINUATION.sub(" ", source[start:command.start]).strip()
    if before and (not before.endswith("|") or before.endswith("||")):
        return False
    return not _REDIRECT.sub("", _CONTINUATION.sub(" ", source[command.end:end])).strip()


class _Context:
    """What the analysis of one RUN needs, computed on first use."""

    def __init__(self, facts: FileFacts, stage_facts: StageFacts, instruction: Instruction, run_as: RunAs,
                 known_base: bool):
        self.facts = facts
        self.stage_facts = stage_facts
        self.stage = stage_facts.stage
        self.instruction = instruction
        self.user = run_as.user
        self.known_base = known_base
        self._variables: Mapping[str, str] | None = None

    @property
    def variables(self) -> Mapping[str, str]:
        if self._variables is None:
            self._variables = self.stage.variables(self.instruction)
        return self._variables

    @property
    def at(self) -> int:
        """Where this RUN stands in the lineage."""
        return self.stage.position(self.instruction)

    def granted(self, path: str) -> bool:
        """Whether the file gave ``path`` (or a directory above it) to the user before this
        RUN: chown, chmod o+w, COPY --chown, WORKDIR."""
        grants = self.stage.memo.get("privilege grants")
        if grants is None:
            grants = self.stage.memo["privilege grants"] = _Grants(self.stage)
        return grants.holds(path, self.user.split(":", 1)[0], self.at)

    def path(self, word: ShellWord | str | None) -> str | None:
        """An absolute path a word names, ENV/ARG values expanded; None when not literal."""
        return _absolute(word, lambda: self.variables)


def _absolute(word: ShellWord | str | None, variables: Callable[[], Mapping[str, str]]) -> str | None:
    """An absolute path a word names, the ``variables`` (asked only when the word needs
    them) expanded; None when not literal."""
    if word is None:
        return None
    if isinstance(word, str):
        value = word
    elif word.value is not None:
        value = word.value
    else:
        expanded, missing = expand(word.text, variables())
        if missing or "$" in expanded or "`" in expanded:
            return None
        value = dequote(expanded)
    if not value.startswith("/"):
        return None  # relative to a WORKDIR, which the file made: not the system's
    return posixpath.normpath(value)


def _known_file_system(facts: FileFacts, stage_facts: StageFacts) -> bool:
    """Whether the base leaves /usr, /etc... to root, as the distribution does: a master,
    an official language or OS image. Other images may give their users more: a dev
    container's /usr/local/share/npm-global, prometheus' /etc/prometheus, rabbitmq's
    /etc/rabbitmq."""
    from dockermig.policy.facts import is_official

    image = stage_facts.image
    policy = facts.policy
    return stage_facts.master is not None or (
        is_official(image) and (policy.language_of_image(image) is not None or policy.is_os_image(image)))


def _needs_root(argv: Argv, command: Command, ctx: _Context, source: str,
                element: tuple[int, int] | None) -> str | tuple[str, str] | None:
    """What about the command needs root ("apt-get install needs root"), with why when
    the command alone does not say; None when it runs as any user."""
    name = argv.name
    if name in ("apt-get", "apt", "aptitude"):
        verb = _verb(argv, _APT_VALUES)
        if verb in _APT_CHANGES and not argv.has_flag(*_APT_DRY) and not _apt_elsewhere(argv):
            return f"{name} {verb} needs root"
        return None
    if name == "apk":
        verb = _verb(argv, ("X", "repository", "p", "root", "t", "virtual", "arch", "cache-dir", "keys-dir",
                            "repositories-file"))
        if verb in _APK_CHANGES and not argv.has_flag("p", "root", "s", "simulate"):
            return f"apk {verb} needs root"
        return None
    if name in ("yum", "dnf", "microdnf", "tdnf"):
        verb = _verb(argv, ("x", "exclude", "setopt", "enablerepo", "disablerepo", "installroot", "releasever",
                            "c", "config", "repo", "repofrompath"))
        if verb in _RPM_CHANGES and not argv.has_flag("installroot"):
            return f"{name} {verb} needs root"
        return None
    if name == "zypper":
        verb = _verb(argv, ("R", "root", "c", "config"))
        if verb in _ZYPPER_CHANGES and not argv.has_flag("R", "root"):
            return f"zypper {verb} needs root"
        return None
    if name == "dpkg":
        if (argv.has_flag("i", "install", "r", "remove", "P", "purge", "configure", "unpack", "add-architecture")
                and not argv.has_flag("root", "instdir", "admindir", "force-not-root")):
            return "dpkg needs root"
        return None
    if name == "rpm":
        if (argv.has_flag("i", "U", "F", "e", "install", "upgrade", "freshen", "erase", "import", "reinstall")
                and not argv.has_flag("q", "query", "V", "verify", "root", "dbpath", "test")):
            return "rpm needs root"
        return None
    if name in _ACCOUNTS:
        return f"{name} needs root"
    if name in _SYSTEM_TOOLS:
        return f"{name} needs root"
    if name == "ldconfig":
        if not argv.has_flag("p", "print-cache", "n", "C", "r", "N", "X", "V", "version", "help", "usage"):
            return "ldconfig needs root"
        return None
    if name == "apt-key":
        return "apt-key needs root" if _verb(argv, ("keyring",)) in ("add", "adv", "del") else None
    if name == "update-alternatives":
        if argv.has_flag(*_ALTERNATIVES_CHANGES) and not argv.has_flag("altdir", "admindir", "root"):
            return "update-alternatives needs root"
        return None
    if name == "chown":
        return _chown(argv, ctx)
    install = _install_of(ctx.instruction, command)
    if install is not None:
        return _install_needs_root(install, ctx)
    if ctx.known_base:
        path = _written_path(argv, ctx) or _redirected_path(command, ctx, source, element)
        if path is not None:
            return f"writing {path} needs root"
    return None


def _verb(argv: Argv, value_flags) -> str | None:
    operands = argv.operands(value_flags)
    return text(operands[0]) if operands else None


def _apt_elsewhere(argv: Argv) -> bool:
    """``-o Dir::...`` or ``-o Debug::NoLocking``: apt told to work on other files."""
    values = argv.values
    for i, value in enumerate(values):
        if value in ("-o", "--option"):
            option = values[i + 1] if i + 1 < len(values) else ""
        elif value.startswith("--option="):
            option = value.partition("=")[2]
        elif value.startswith("-o"):
            option = value[2:]
        else:
            continue
        if option.startswith(("Dir", "Debug::NoLocking")):
            return True
    return False


def _chown(argv: Argv, ctx: _Context) -> str | None:
    if argv.has_flag("reference"):
        return None  # the owner of another file: not known here
    operands = argv.operands(("from",))
    if len(operands) < 2 or operands[0].value is None:
        return None
    owner = _owner(operands[0].value)
    if not owner:
        return None  # ``chown :group``: the group only, which a member may give
    user = ctx.user.split(":", 1)[0]
    if owner != user:
        if owner.isdigit() != user.isdigit():
            return None  # a name and a uid: the same user, perhaps
        return f"chown to {owner} needs root"
    if ctx.known_base:
        for word in operands[1:]:
            path = ctx.path(word)
            if path is not None and _root_owned(path, ctx):
                return f"chown of {path} needs root"
    return None


def _owner(spec: str) -> str:
    """The user of a chown ``OWNER[:GROUP]`` (or the old ``OWNER.GROUP``, ``OWNER.``)."""
    owner, colon, _ = spec.partition(":")
    return owner.partition(".")[0] if not colon else owner


def _install_of(instruction: Instruction, command: Command):
    # the RUN's installs by span, found once per RUN (a scan per command was quadratic)
    spans = instruction.__dict__.get("_privilege_installs")
    if spans is None:
        spans = instruction.__dict__["_privilege_installs"] = {}
        for install in installs(instruction):
            spans.setdefault((install.command.start, install.command.end), install)
    return spans.get((command.start, command.end))


def _install_needs_root(install, ctx: _Context) -> tuple[str, str] | None:
    from dockermig.policy.environments import install_table

    table = install_table(install, ctx.stage, ctx.instruction)
    if table == "npm":
        if not ctx.known_base or _npm_prefix_moved(ctx):
            return None
        return "npm install -g needs root", "npm's global prefix, /usr/local, is root's"
    if table == "pip":
        why = _no_user_site(ctx)
        if why is not None:
            return "pip install into the system site-packages needs root", why
    return None


_NPM_PREFIX = compile_on_use(r"npm\s+config\s+set\s+prefix")


def _npm_prefix_moved(ctx: _Context) -> bool:
    if any(name in ctx.variables for name in ("NPM_CONFIG_PREFIX", "npm_config_prefix")):
        return True
    master = ctx.stage_facts.master
    if master is not None and any(name in master.env for name in ("NPM_CONFIG_PREFIX", "npm_config_prefix")):
        return True
    # where the lineage first sets it, found once per stage
    first = ctx.stage.memo.get("npm prefix")
    if first is None:
        lineage = ctx.stage.lineage_instructions()
        first = ctx.stage.memo["npm prefix"] = next(
            (n for n, i in enumerate(lineage) if i.keyword == "RUN" and _NPM_PREFIX.search(i.args)), len(lineage))
    return first <= ctx.stage.position(ctx.instruction, len(ctx.stage.lineage_instructions()))


def _no_user_site(ctx: _Context) -> str | None:
    """Why pip cannot fall back to a user install (as non-root it does, into ~/.local,
    when the system's site-packages is not writable), or None when it can."""
    variables = ctx.variables
    if variables.get("PYTHONNOUSERSITE"):
        return "PYTHONNOUSERSITE turns off the user install pip falls back to"
    if variables.get("PIP_USER", "").lower() in _FALSE:
        return "PIP_USER turns off the user install pip falls back to"
    user = ctx.user.split(":", 1)[0]
    if user in ("nobody", "65534"):
        return f"{user} has no home for the user install pip falls back to"
    if ctx.stage_facts.musl or not ctx.known_base:
        return None  # BusyBox's and other distributions' defaults make homes
    homeless = ctx.stage.memo.get("privilege homeless")
    if homeless is None:
        homeless = ctx.stage.memo["privilege homeless"] = _homeless(ctx.stage)
    spans = homeless.get(user)
    if spans is not None:
        at = ctx.at
        found = bisect_left(spans, (at,)) - 1  # the last span opened before this RUN
        if found >= 0 and at <= spans[found][1]:
            return f"{user} has no home (useradd without -m) for the user install pip falls back to"
    return None


def _homeless(stage: Stage) -> dict[str, list[tuple[int, int]]]:
    """For each user a ``useradd`` without ``-m`` creates, the RUNs (by lineage position)
    that find them still without a home: ``(after, upto)`` spans, sorted and apart, for the
    RUNs past ``after`` up to ``upto``: past the useradd, up to the first other instruction
    that names the home (a ``mkdir`` of it, a ``WORKDIR``...), which gives them one; the
    useradd does not count when the rest of its own RUN names the home. Made in one pass
    over the lineage, once per stage, so that asking it of every pip install stays linear."""
    from dockermig.syntax.accounts import account_creations

    lineage = stage.lineage_instructions()
    created: list[tuple[str, int, str]] = []  # user, position of the useradd, home
    for index, instruction in enumerate(lineage):
        if instruction.keyword != "RUN":
            continue
        wanted = []
        for creation in account_creations(instruction):
            command_name = (creation.command.words[0].value or "").rsplit("/", 1)[-1]
            if (creation.kind == "user" and creation.name and command_name == "useradd"
                    and not creation.creates_home):
                wanted.append((creation, creation.home or f"/home/{creation.name}"))
        if wanted:
            last = last_starts(str(instruction), {home for _, home in wanted})
            created += [(creation.name, index, home) for creation, home in wanted
                        if last[home] < creation.command.end - instruction.start]
    if not created:
        return {}
    naming = first_two(list(map(str, lineage)), {home for _, _, home in created})
    spans: dict[str, list[tuple[int, int]]] = {}
    for user, index, home in created:
        others = [n for n in naming[home] if n != index]
        spans.setdefault(user, []).append((index, others[0] if others else len(lineage)))
    for user, found in spans.items():
        merged: list[tuple[int, int]] = []
        for after, upto in sorted(found):
            if upto <= after:
                continue  # the home was named before the useradd: no RUN after it finds none
            if merged and after <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], upto))
            else:
                merged.append((after, upto))
        spans[user] = merged
    return spans


# -- paths --------------------------------------------------------------------------------


def _root_owned(path: str, ctx: _Context) -> bool:
    if not any(path == prefix or path.startswith(prefix + "/") for prefix in _ROOT_OWNED):
        return False
    return not ctx.granted(path)


def _written_path(argv: Argv, ctx: _Context) -> str | None:
    """The first root-owned path a command writes, from its arguments."""
    name = argv.name
    candidates: list[ShellWord | str | None] = []
    if name in ("mkdir", "touch", "tee", "rmdir"):
        candidates = argv.operands(("m", "mode", "d", "date", "r", "reference", "t", "context"))
    elif name in ("cp", "mv", "install", "ln"):
        target = _value_of(argv, ("-t", "--target-directory"))
        operands = argv.operands(("t", "target-directory", "m", "mode", "o", "owner", "g", "group", "S", "suffix"))
        if target is not None:
            candidates = [target]
        elif name == "install" and argv.has_flag("d", "directory"):
            candidates = operands
        elif len(operands) >= 2:
            candidates = [operands[-1]]
    elif name == "chmod":
        operands = argv.operands(("reference",))
        candidates = operands[1:] if not argv.has_flag("reference") else operands
    elif name == "sed" and argv.has_flag("i", "in-place"):
        operands = argv.operands(("e", "expression", "f", "file", "l", "line-length"))
        candidates = operands if argv.has_flag("e", "expression", "f", "file") else operands[1:]
    elif name == "curl":
        candidates = [_value_of(argv, ("-o", "--output"))]
    elif name == "wget":
        candidates = [_value_of(argv, ("-O", "--output-document")), _value_of(argv, ("-P", "--directory-prefix"))]
    elif name == "tar" and _extracts(argv):
        candidates = [_value_of(argv, ("-C", "--directory"))]
    elif name == "unzip":
        candidates = [_value_of(argv, ("-d",))]
    for word in candidates:
        path = ctx.path(word)
        if path is not None and path not in ("/dev/null",) and _root_owned(path, ctx):
            return path
    return None


def _value_of(argv: Argv, options: tuple[str, ...]) -> ShellWord | str | None:
    """The value given to one of ``options`` (``-o FILE``, ``--output=FILE``, ``-oFILE``)."""
    args, values = argv.args, argv.values
    for i, value in enumerate(values):
        for option in options:
            if value == option and i + 1 < len(args):
                return args[i + 1]
            if option.startswith("--") and value.startswith(option + "="):
                return value[len(option) + 1:]
            if len(option) == 2 and not value.startswith("--") and value.startswith("-") and len(value) > 2:
                if value.startswith(option):
                    return value[2:]  # -oFILE
                if value.endswith(option[1]) and value[1:].isalpha() and i + 1 < len(args):
                    return args[i + 1]  # -sSLo FILE
    return None


def _extracts(argv: Argv) -> bool:
    values = argv.values
    if argv.has_flag("x", "extract", "get"):
        return True
    first = values[0] if values else ""
    return bool(first) and not first.startswith("-") and "x" in first  # ``tar xzf``, the old style


def _redirected_path(command: Command, ctx: _Context, source: str, element: tuple[int, int] | None) -> str | None:
    """The root-owned file a redirection of the command writes (``> /etc/timezone``), in the
    rest of the chain's element that holds it."""
    if element is None:
        return None
    tail = _CONTINUATION.sub(" ", source[command.end:element[1]])
    for match in _REDIRECT.finditer(tail):
        path = ctx.path(dequote(match[1]))
        if path is not None and _root_owned(path, ctx):
            return path
    return None


class _Grants:
    """Paths the file makes a user's, or everyone's: ``chown`` to the user, ``chmod`` that
    lets others write, ``COPY --chown``/``ADD --chown`` to the user, and every ``WORKDIR``
    (mkdir in one's own workdir is fine); each with where the lineage first gives it, found
    in one pass, once per stage (for every user), so that asking at every RUN stays linear.
    A chown's or chmod's operands expand with the ENV/ARG values its own RUN sees."""

    def __init__(self, stage: Stage):
        # owner (None: everyone) -> (path -> where first given, the same by the path
        # without its trailing slashes)
        self.given: dict[str | None, tuple[dict[str, int], dict[str, int]]] = {}
        workdir = "/"
        for index, instruction in enumerate(stage.lineage_instructions()):
            keyword = instruction.keyword
            if keyword == "WORKDIR" and instruction.words:
                workdir = posixpath.normpath(posixpath.join(workdir, instruction.words[0].value))
                self._give(None, workdir, index)
            elif keyword in ("COPY", "ADD"):
                flag = instruction.flag("chown")
                words = instruction.exec_form or instruction.words
                if flag is not None and flag.value and words:
                    self._give(flag.value.split(":", 1)[0],
                               posixpath.normpath(posixpath.join(workdir, words[-1].value)), index)
            elif keyword == "RUN":
                variables = _Lazy(stage, instruction)
                for script in all_scripts(instruction):
                    for command in script.commands:
                        argv = Argv(command)
                        if argv.name not in ("chown", "chmod"):
                            continue
                        operands = argv.operands(("reference", "from"))
                        if len(operands) < 2 or operands[0].value is None:
                            continue
                        if argv.name == "chown":
                            owner: str | None = _owner(operands[0].value)
                        elif _lets_others_write(operands[0].value):
                            owner = None
                        else:
                            continue
                        for word in operands[1:]:
                            path = _absolute(word, variables)
                            if path:
                                self._give(owner, path, index)

    def _give(self, owner: str | None, path: str, index: int) -> None:
        exactly, below = self.given.setdefault(owner, ({}, {}))
        exactly.setdefault(path, index)
        below.setdefault(path.rstrip("/"), index)

    def holds(self, path: str, user: str, at: int) -> bool:
        """Whether an instruction before position ``at`` gave ``path``, or a directory above
        it, to ``user`` or to everyone (``path == given`` or
        ``path.startswith(given.rstrip("/") + "/")``)."""
        for owner in (None, user):
            found = self.given.get(owner)
            if found is None:
                continue
            exactly, below = found
            if exactly.get(path, at) < at:
                return True
            slash = path.find("/")
            while slash >= 0:
                if below.get(path[:slash], at) < at:
                    return True
                slash = path.find("/", slash + 1)
        return False


class _Lazy:
    """The ENV/ARG values a RUN sees, looked up on first use."""

    __slots__ = ("instruction", "stage", "values")

    def __init__(self, stage: Stage, instruction: Instruction):
        self.stage, self.instruction, self.values = stage, instruction, None

    def __call__(self) -> Mapping[str, str]:
        if self.values is None:
            self.values = self.stage.variables(self.instruction)
        return self.values


def _lets_others_write(mode: str) -> bool:
    if mode.isdigit():
        return int(mode[-1]) & 2 == 2
    return any(re.match(r"[ugoa]*[ao][ugoa]*[+=][rwxXst]*w", part) for part in mode.split(","))
