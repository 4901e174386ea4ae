"""The programs a Dockerfile's RUNs run, as argument vectors.

Best-practice rules ask the same few questions of a command: which program, which
subcommand, which flags, which operands. This module answers them once per file, with
hadolint's reading of flags (``-abc`` is ``-a -b -c``, ``--name=value`` is ``--name``) so
that dockermig and hadolint agree on what a command says, and with dockermig's own
reading of the program (``sudo apt-get`` and ``/usr/bin/apt-get`` are apt-get, where
hadolint sees ``sudo`` and ``/usr/bin/apt-get``).

The scripts are those BuildKit hands to the shell: the RUN line, and heredoc bodies fed
to a shell (``RUN <<EOF``, ``RUN bash <<EOF``). A heredoc fed to another program
(``RUN python3 <<EOF``) or written to a file (``RUN cat <<EOF > /etc/x``) is data, not
shell: hadolint has read such bodies as shell (hadolint/hadolint#1137).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.parser import Dockerfile, onbuild_trigger
from dockermig.syntax.shell import Command, ShellWord, place_command, program_name, relative_scripts, unwrap


# the keywords of the instructions that hold RUNs: rules about commands look at these
RUN_KEYWORDS = frozenset({"RUN", "ONBUILD"})


class Argv:
    """One simple command, its wrappers (``sudo``, ``env``...) removed unless ``raw``."""

    __slots__ = ("command", "name", "args", "values", "_value_set", "_flags")

    def __init__(self, command: Command, raw: bool = False):
        if not raw:
            command = unwrap(command)
        self.command = command
        self.name = command.name  # basename of the program, '' when not a literal
        self.args = command.words[1:]
        self.values = [text(w) for w in self.args]  # what each argument says (raw text for expansions)
        self._value_set = frozenset(self.values)
        self._flags: frozenset[str] | None = None

    def __repr__(self) -> str:
        return f"<Argv {self.name} {self.values}>"

    @property
    def flags(self) -> frozenset[str]:
        """Flag names as hadolint reads them: ``-abc`` gives a, b and c; ``--x=1`` gives x."""
        if self._flags is None:
            found: set[str] = set()
            for value in self.values:
                if value in ("-", "--") or not value.startswith("-"):
                    continue
                if value.startswith("--"):
                    found.add(value[2:].partition("=")[0])
                else:
                    found.update(value[1:])
            self._flags = frozenset(found)
        return self._flags

    def has_flag(self, *names: str) -> bool:
        return not self.flags.isdisjoint(names)

    def has_arg(self, *values: str) -> bool:
        return not self._value_set.isdisjoint(values)

    def first(self, *values: str) -> ShellWord | None:
        """The first argument that is one of ``values`` (a subcommand, usually)."""
        if self._value_set.isdisjoint(values):
            return None
        return next(w for w, value in zip(self.args, self.values) if value in values)

    def operands(self, value_flags: Iterable[str] = (), after: ShellWord | None = None) -> list[ShellWord]:
        """The arguments that are not flags, nor the value of a flag in ``value_flags``
        (names without dashes: ``("t", "target-release")``), optionally only those
        after the word ``after`` (a subcommand)."""
        value_flags = frozenset(value_flags)
        found: list[ShellWord] = []
        skip_next = False
        for word, value in zip(self.args, self.values):
            if after is not None:
                if word is after:
                    after = None
                continue
            if skip_next:
                skip_next = False
                continue
            if value.startswith("-") and value not in ("-", "--"):
                if "=" not in value:
                    name = value[2:] if value.startswith("--") else value[-1]
                    skip_next = name in value_flags
                continue
            found.append(word)
        return found


def text(word: ShellWord) -> str:
    """A word's value, or its raw text when it holds an expansion."""
    return word.value if word.value is not None else word.text


class Use:
    """A program run by a RUN: the RUN (or ONBUILD RUN trigger) and the command, whose
    words are moved to source offsets on first use (most commands never are)."""

    __slots__ = ("instruction", "order", "_command", "_to_source", "_script", "_raw", "_argv")

    def __init__(self, instruction: Instruction, command: Command, to_source, script: int, raw: bool = False):
        self.instruction = instruction
        self.order = (instruction.start, script, command.start)  # file order
        self._command, self._to_source, self._script, self._raw = command, to_source, script, raw
        self._argv: Argv | None = None

    def __repr__(self) -> str:
        return f"<Use {self.argv!r} line {self.instruction.start_line}>"

    @property
    def argv(self) -> Argv:
        if self._argv is None:
            placed = place_command(self.instruction, self._command, self._to_source, self._script)
            self._argv = Argv(placed, raw=self._raw)
        return self._argv

    @property
    def span(self) -> tuple[int, int]:
        command = self.argv.command
        return command.start, command.end


def runs(dockerfile: Dockerfile) -> tuple[Instruction, ...]:
    """The RUN instructions and the RUNs that ONBUILD registers, in file order (cached).
    A RUN under a ``SHELL`` that is not a POSIX shell (PowerShell, cmd) is left out: its
    script is not shell, and no rule here knows what it means."""
    cached = dockerfile.__dict__.get("_runs")
    if cached is None:
        found = []
        posix_after: dict[int, bool] = {}  # stage index -> POSIX shell at its end (a child inherits it)
        for stage in dockerfile.stages:  # building them sets each instruction's stage
            posix = posix_after[stage.parent.index] if stage.parent is not None else True
            for instruction in stage.instructions:
                if instruction.keyword == "SHELL":
                    posix = _is_posix_shell(instruction)
                elif posix:
                    if instruction.keyword == "RUN":
                        found.append(instruction)
                    elif instruction.keyword == "ONBUILD":
                        trigger = onbuild_trigger(instruction)
                        if trigger is not None and trigger.keyword == "RUN":
                            found.append(trigger)
            posix_after[stage.index] = posix
        cached = dockerfile.__dict__["_runs"] = tuple(found)
    return cached


def _is_posix_shell(instruction: Instruction) -> bool:
    words = instruction.exec_form
    program = words[0].value.replace("\\", "/").rsplit("/", 1)[-1].lower() if words else ""
    return not program.startswith(("pwsh", "powershell", "cmd"))


def programs(dockerfile: Dockerfile) -> dict[str, list[Use]]:
    """Every simple command of every RUN, by program name (cached per file). A wrapped
    command is listed under both names: ``sudo make`` under ``sudo`` and ``make``."""
    cached = dockerfile.__dict__.get("_programs")
    if cached is None:
        cached = {}
        for instruction in runs(dockerfile):
            for index, (script, to_source) in enumerate(relative_scripts(instruction)):
                for command in script.commands:
                    name = program_name(command)
                    cached.setdefault(name, []).append(Use(instruction, command, to_source, index))
                    if command.name != name:
                        cached.setdefault(command.name, []).append(Use(instruction, command, to_source, index, True))
        dockerfile.__dict__["_programs"] = cached
    return cached


def uses(dockerfile: Dockerfile, *names: str) -> Iterator[Use]:
    """The commands that run one of the programs ``names``, in file order."""
    table = programs(dockerfile)
    found = [use for name in names for use in table.get(name, ())]
    if len(names) > 1:
        found.sort(key=lambda use: use.order)
    return iter(found)


def once_per_run(items: Iterable, instruction_of=lambda item: item.instruction) -> Iterator:
    """The first of ``items`` in each RUN: a rule reports a RUN once, as hadolint does,
    at its first offending command (a fix pass later, the next one if any)."""
    seen: set[int] = set()
    for item in items:
        key = id(instruction_of(item))
        if key not in seen:
            seen.add(key)
            yield item


def lacking_flag(dockerfile: Dockerfile, programs_: tuple[str, ...], verbs: tuple[str, ...],
                 flags: tuple[str, ...]) -> Iterator[tuple[Use, ShellWord]]:
    """(use, subcommand word) for each ``program verb ...`` that has none of ``flags``."""
    for use in uses(dockerfile, *programs_):
        verb = use.argv.first(*verbs)
        if verb is not None and not use.argv.has_flag(*flags):
            yield use, verb


def cache_mounted(instruction: Instruction, *directories: str) -> bool:
    """Whether the RUN mounts a build cache on one of ``directories`` (or on a directory
    above it): what such a cache holds never reaches the image, so it needs no cleaning."""
    for flag in instruction.flags:
        if flag.name != "mount" or not flag.value:
            continue
        options = dict(part.partition("=")[::2] for part in flag.value.split(","))
        target = options.get("target") or options.get("dst") or options.get("destination") or ""
        target = target.rstrip("/") + "/"
        if options.get("type") == "cache" and any((d.rstrip("/") + "/").startswith(target) for d in directories):
            return True
    return False
