"""Paths a service writes at run time that stay root-owned after it switches to non-root.

A directory a RUN makes as root (``mkdir -p /logs /models``) is root's; a file COPY puts
in the image is root's unless ``--chown`` says otherwise. A service that ran as root
wrote there; once it runs as the master's user (the migration ends the file with ``USER
appuser``) it gets "Permission denied". An empty directory the service made for itself
is made to be written at run time, and so is a VOLUME; one the build then fills (COPY
into it, ``tar -C`` it, a WORKDIR) holds code or tools, which are read.
"""

from __future__ import annotations

import posixpath
from bisect import bisect_left
from typing import TYPE_CHECKING, NamedTuple

from dockermig.fix import Edit
from dockermig.policy.search import last_starts
from dockermig.regex import compile_on_use
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.shell import Command, commands_named, unwrap
from dockermig.syntax.values import user_of

if TYPE_CHECKING:
    from dockermig.policy.facts import FileFacts

_OWNERSHIP = compile_on_use(r"mkdir|chown|chmod")
# Never written by a service at run time.
_SYSTEM = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/root", "/proc", "/sys", "/boot", "/dev",
           "/var/lib/apt", "/var/cache", "/opt/conda")
# Directories every Debian image has (``mkdir -p`` leaves them as they are: root's, or
# writable by everyone like /tmp); a directory made inside them is the service's.
_DEBIAN_DIRS = frozenset({"/opt", "/srv", "/mnt", "/media", "/home", "/var", "/var/log", "/var/lib", "/var/opt",
                          "/var/spool", "/var/mail", "/run", "/run/lock", "/tmp", "/var/tmp"})


class RootOwned(NamedTuple):
    """A mkdir (``command`` set) or a COPY/ADD (``command`` None) that leaves paths the
    service writes owned by root; ``owner`` is what they should belong to."""

    instruction: Instruction
    command: Command | None
    paths: tuple[str, ...]
    owner: str


def runtime_owner(facts: FileFacts) -> str | None:
    """``user[:group]`` the shipped image runs as when that is not root: its own last
    USER, or the master's user (the migration adds it). None for root or unknown."""
    master = facts.master
    if master is None:
        return None
    own = f"{master.user}:{master.group}" if master.group else master.user
    instruction, user = facts.final_user
    if instruction is None:
        return own  # None when the master's user is unknown: nothing to hand over to
    if user is None or not user.resolved or user.is_root:
        return None
    # the master's user by name or by uid (DM525 writes the uid; a chown by name is the same owner)
    if user.user in (master.user, str(master.uid)) and user.group is None:
        return own
    return f"{user.user}:{user.group}" if user.group else user.user


def root_owned_paths(facts: FileFacts) -> list[RootOwned]:
    owner = runtime_owner(facts)
    if owner is None:
        return []
    master = facts.master
    stage = facts.runtime.stage
    instructions = stage.lineage_instructions()
    # paths the master already has exist: ``mkdir -p`` leaves their owner alone
    existing = {p for p in (master.workdir, master.home) if p} | {*master.workdir_contents, *master.workdir_made}
    volumes = [path for i in instructions if i.keyword == "VOLUME" for path in _volume_paths(i)]
    user = "root" if facts.runtime.master is None else master.user  # the migration adds USER root above RUNs
    workdir = master.workdir or "/"
    later = _Later(instructions, workdir, owner.partition(":")[0])
    volume_roots = _PathTrie()
    for volume in volumes:
        volume_roots.mark(volume, True)
    # mkdirs whose paths wait for one question asked of the whole file at the end: is the
    # directory filled later? (asked path by path, it rescanned the rest of the file each time)
    found: list[RootOwned | tuple[Instruction, Command, list]] = []
    questions: list[tuple[str, str, int, Command]] = []
    for index, instruction in enumerate(instructions):
        keyword = instruction.keyword
        if keyword == "USER":
            value = user_of(instruction, stage.variables(instruction))
            user = value.user if value and value.resolved else "?"
        elif keyword == "WORKDIR" and instruction.words:
            workdir = posixpath.normpath(posixpath.join(workdir, instruction.words[0].value))
        elif keyword == "RUN" and user in ("root", "0"):
            for command, written, parents in _mkdirs(instruction):
                candidates = []  # (value, parents made, index of the question or -1: kept)
                for value in written:
                    path = posixpath.normpath(posixpath.join(workdir, value))
                    if not _written(path, existing) or later.handed_over(path, index, command):
                        continue
                    # with -p, the parents it makes are new too (the service writes
                    # /var/lib/worker/heartbeat next to the queue/ it asked for)
                    made = _made_parents(value, workdir, existing) if parents else []
                    if volume_roots.holds(path):
                        candidates.append((value, made, -1))
                    else:
                        candidates.append((value, made, len(questions)))
                        questions.append((path, value, index, command))
                if candidates:
                    found.append((instruction, command, candidates))
        elif keyword in ("COPY", "ADD") and instruction.flag("chown") is None and volumes:
            words = instruction.exec_form or instruction.words
            if len(words) >= 2 and not instruction.heredocs:
                destination = posixpath.normpath(posixpath.join(workdir, words[-1].value))
                if volume_roots.holds(destination):
                    found.append(RootOwned(instruction, None, (words[-1].value,), owner))
    filled = later.filled(questions)
    result: list[RootOwned] = []
    for entry in found:
        if isinstance(entry, RootOwned):
            result.append(entry)
            continue
        instruction, command, candidates = entry
        paths: list[str] = []
        for value, made, question in candidates:
            if question < 0 or not filled[question]:
                paths += [p for p in (*made, value) if p not in paths]
        if paths:
            result.append(RootOwned(instruction, command, tuple(paths), owner))
    return result


def _under(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


_SEGMENT = compile_on_use(r"&&|\|\||;|\n")
_NOT_FILLING = ("mkdir", "chown", "chmod", "rm", "test", "[")


class _Later:
    """What the instructions of a lineage do after a given one, indexed in one pass so that
    asking it of every mkdir stays linear: which directories a WORKDIR, a COPY/ADD or a
    command names (the build fills them), and which a chown gives to the runtime user or a
    chmod opens to everyone (handed over)."""

    def __init__(self, instructions: list[Instruction], workdir: str, user: str):
        self.instructions = instructions
        self.targets = _PathTrie()  # WORKDIR and COPY/ADD destinations: index of the last one
        self.given = _PathTrie()  # chown/chmod operands: (index, offset) of the last one
        self.given_exactly: dict[str, tuple[int, int]] = {}
        # the RUN segments that may fill a directory, joined by newlines (no segment holds
        # one): one text to search, and where each RUN's segments start in it
        segments: list[str] = []
        self.segment_starts: list[int] = []  # source offset of each segment
        self.segment_offsets: list[int] = []  # its offset in ``self.text``
        length = 0
        for index, instruction in enumerate(instructions):
            keyword = instruction.keyword
            if keyword == "WORKDIR" and instruction.words:
                workdir = posixpath.normpath(posixpath.join(workdir, instruction.words[0].value))
                self._target(workdir, index)
            elif keyword in ("COPY", "ADD"):
                words = instruction.exec_form or instruction.words
                if len(words) >= 2:
                    self._target(posixpath.normpath(posixpath.join(workdir, words[-1].value)), index)
            elif keyword == "RUN":
                text = str(instruction)
                at = 0
                for separator in (*_SEGMENT.finditer(text), None):
                    end = separator.start() if separator else len(text)
                    segment = text[at:end]
                    words = segment.split()
                    if words and words[0] not in _NOT_FILLING:
                        self.segment_starts.append(instruction.start + at)
                        self.segment_offsets.append(length)
                        segments.append(segment)
                        length += len(segment) + 1
                    at = separator.end() if separator else end
                self._handing_over(instruction, index, workdir, user)
        self.text = "\n".join(segments)

    def _target(self, path: str, index: int) -> None:
        self.targets.mark_parents(path, index)
        self.targets.mark(path, index)

    def _handing_over(self, instruction: Instruction, index: int, workdir: str, user: str) -> None:
        for command in commands_named(instruction, ("chown", "chmod"), _OWNERSHIP):
            argv = [v or "" for v in unwrap(command).argv()]
            if len(argv) < 3:
                continue
            recursive = any(a == "--recursive" or (a.startswith("-") and not a.startswith("--") and "R" in a)
                            for a in argv[1:])
            operands = [a for a in argv[1:] if not a.startswith("-")]
            setting, targets = operands[0], operands[1:]
            if argv[0].endswith("chown") and setting.partition(":")[0] != user and not setting[:1].isdigit():
                continue
            if argv[0].endswith("chmod") and not _world_writable(setting):
                continue
            when = (index, command.start)
            for target in targets:
                # relative to the working directory of the chown (the RUN runs there)
                target = posixpath.normpath(posixpath.join(workdir, target))
                if when > self.given_exactly.get(target, (-1, -1)):
                    self.given_exactly[target] = when
                if recursive:
                    self.given.mark(target, when)

    def handed_over(self, path: str, index: int, mkdir: Command) -> bool:
        """Whether a chown after ``mkdir`` (later in its RUN, or in a later RUN) gives
        ``path`` to the runtime user, or a chmod opens it to everyone."""
        when = (index, mkdir.start)
        exact = self.given_exactly.get(path)
        if exact is not None and exact > when:
            return True
        last = self.given.last_above(path)
        return last is not None and last > when

    def filled(self, questions: list[tuple[str, str, int, Command]]) -> list[bool]:
        """For each (path, as written, index of the mkdir's RUN, mkdir): whether the build
        puts something in the directory after making it: a COPY/ADD or a WORKDIR there, or
        a later command that names it (``tar -xzf x -C /opt/yarn``)."""
        answers: list[bool] = []
        searched: list[tuple[int, tuple[str, ...], int]] = []  # (question, names, text offset)
        for path, written, index, mkdir in questions:
            last = self.targets.last_at(path)
            if last is not None and last > index:
                answers.append(True)
                continue
            names = (path, written) if not written.startswith("/") else (path,)
            # the rest of the mkdir's own segment, then every segment after it
            run = self.instructions[index]
            rest = run.source[mkdir.end : run.end]
            separator = _SEGMENT.search(rest)
            head = rest[: separator.start()] if separator else rest
            words = head.split()
            if words and words[0] not in _NOT_FILLING and any(name in head for name in names):
                answers.append(True)
                continue
            after = mkdir.end + (separator.end() if separator else len(rest))
            first = bisect_left(self.segment_starts, after)
            answers.append(False)
            if first < len(self.segment_offsets):
                searched.append((len(answers) - 1, names, self.segment_offsets[first]))
        if searched:
            if any(not name or "\n" in name for _, names, _ in searched for name in names):
                occurrences = None  # never in a real path: ask the text itself
            else:
                occurrences = last_starts(self.text, {name for _, names, _ in searched for name in names})
            for question, names, offset in searched:
                if occurrences is None:
                    answers[question] = any(_occurs(self.text, name, offset) for name in names)
                else:
                    answers[question] = any(occurrences[name] >= offset for name in names)
        return answers


def _occurs(text: str, name: str, offset: int) -> bool:
    """``name`` in a segment of ``text`` starting at ``offset``, as ``name in segment`` says."""
    if "\n" in name:
        return False
    if not name:
        return offset < len(text)
    return text.find(name, offset) >= 0


class _PathTrie:
    """Values kept by path, read back for a path's parents or the paths below one, in the
    time it takes to walk the path (``a`` is above ``b`` when ``b`` starts with ``a/``,
    the test :func:`_under` makes). Each value kept is the greatest one given."""

    def __init__(self):
        self.root: dict = {}

    @staticmethod
    def _parts(path: str) -> list[str]:
        return path.rstrip("/").split("/")

    def mark(self, path: str, value) -> None:
        """Keep ``value`` for the paths below ``path``: read back by :meth:`last_above`."""
        node = self.root
        for part in self._parts(path):
            node = node.setdefault(part, {})
        if node.get(None) is None or value > node[None]:
            node[None] = value

    def mark_parents(self, path: str, value) -> None:
        """Keep ``value`` for every path ``path`` is below: read back by :meth:`last_at`."""
        node = self.root
        for part in path.split("/")[:-1]:
            node = node.setdefault(part, {})
            if node.get(None) is None or value > node[None]:
                node[None] = value

    def last_at(self, path: str):
        """The greatest value kept here by :meth:`mark_parents` or :meth:`mark`."""
        node = self.root
        for part in self._parts(path):
            node = node.get(part)
            if node is None:
                return None
        return node.get(None)

    def last_above(self, path: str):
        """The greatest value kept by :meth:`mark` for a path ``path`` is below."""
        best = None
        node = self.root
        for part in path.split("/")[:-1]:
            node = node.get(part)
            if node is None:
                break
            value = node.get(None)
            if value is not None and (best is None or value > best):
                best = value
        return best

    def holds(self, path: str) -> bool:
        """Whether ``path`` is, or is below, a path given to :meth:`mark`."""
        return self.last_above(path) is not None or self.last_at(path) is not None


def _volume_paths(instruction: Instruction) -> list[str]:
    words = instruction.exec_form if instruction.exec_form is not None else instruction.words
    return [posixpath.normpath(w.value) for w in words if w.value.startswith("/") and "$" not in w.value]


def _mkdirs(instruction: Instruction) -> list[tuple[Command, list[str], bool]]:
    """(mkdir command, the directories it makes as written, whether -p makes their
    parents) for the top-level mkdirs of a RUN that do not make their directories
    writable by everyone (``-m 777``)."""
    found = []
    for command in commands_named(instruction, ("mkdir",), _OWNERSHIP):
        words = unwrap(command).words
        if command.position < 0:
            continue
        operands, mode, parents, i = [], "", False, 1
        while i < len(words):
            value = words[i].value
            if value in ("-m", "--mode"):
                mode = words[i + 1].value or "" if i + 1 < len(words) else ""
                i += 2
                continue
            if value is not None and value.startswith("--mode="):
                mode = value.partition("=")[2]
            elif value is None or any(c in value for c in "$*?{"):
                return found  # a path we cannot know: say nothing about this RUN
            elif value == "--parents" or (value.startswith("-") and not value.startswith("--") and "p" in value):
                parents = True
            elif not value.startswith("-"):
                operands.append(value)
            i += 1
        if operands and not _world_writable(mode):
            found.append((command, operands, parents))
    return found


def _made_parents(written: str, workdir: str, existing: set[str]) -> list[str]:
    """The parents ``mkdir -p written`` makes, as written, outermost first: those below
    the first one an image already has (a Debian or system directory, the master's)."""
    made = []
    parent = posixpath.dirname(written.rstrip("/"))
    while parent and parent not in ("/", "."):
        if not _written(posixpath.normpath(posixpath.join(workdir, parent)), existing):
            break
        made.append(parent)
        parent = posixpath.dirname(parent)
    return made[::-1]


def _written(path: str, existing: set[str]) -> bool:
    return path not in existing and path not in _DEBIAN_DIRS and path != "/" and not any(path == s or path.startswith(s + "/") for s in _SYSTEM)


def _world_writable(mode: str) -> bool:
    if mode.isdigit():
        return int(mode[-1]) & 2 == 2
    return any(part.startswith(("o+", "a+", "+")) and "w" in part for part in mode.split(","))


def ownership_edit(found: RootOwned) -> Edit | None:
    """Hand the paths to their runtime owner: ``&& chown`` right after the mkdir (still
    as root, in the same shell), or ``--chown`` on the COPY."""
    if found.command is not None:
        if found.command.position < 0:
            return None  # inside a condition or pipeline: where a chown would run is not clear
        end = found.command.end
        return Edit(end, end, f" && chown {found.owner} {' '.join(found.paths)}")
    instruction = found.instruction
    if instruction.exec_form is not None or not instruction.words:
        return None
    start = instruction.words[0].start
    return Edit(start, start, f"--chown={found.owner} ")
