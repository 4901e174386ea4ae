"""Shell analysis of RUN: the simple commands it runs and the packages it installs.

The script BuildKit hands to ``/bin/sh -c`` is the instruction's logical line (or, for
``RUN <<EOF``, the heredoc body). We parse that with tree-sitter-bash, which is
error-tolerant, fast, and reports the position of every word, and map each position back
to the Dockerfile source, so a fix can remove one package token and keep the rest.
tree-sitter is imported on first use only: most RUNs are filtered out by a cheap regex.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Callable, NamedTuple

from dockermig.regex import compile_on_use
from dockermig.syntax.lexer import dequote
from dockermig.syntax.nodes import Instruction

_INTERESTING = compile_on_use(
    r"apt|apk|yum|dnf|pip|npm|yarn|pnpm|python|node|useradd|adduser|groupadd|addgroup|chown|chmod|rm\b|uv\b"
)
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
_WRAPPERS = frozenset({"sudo", "env", "command", "exec", "time", "nice", "nohup", "eatmydata"})
_PYTHON = compile_on_use(r"python(?:\d+(?:\.\d+)*)?$")
_PIP = compile_on_use(r"pip(?:\d+(?:\.\d+)*)?$")


class ShellWord(NamedTuple):
    """One argument: raw text, its value once quotes are consumed (None when it contains
    an expansion), and its offsets in the Dockerfile source."""

    text: str
    value: str | None
    start: int
    end: int


class Command(NamedTuple):
    """A simple command: its argv (after env assignments) and source span.

    ``position`` is its index in its script's top-level chain (commands joined by
    ``&&``, ``;`` or newlines), or -1 when it is nested (in a pipeline, ``||``, a
    subshell...), where removing it would change what the script means.
    """

    words: tuple[ShellWord, ...]
    start: int
    end: int
    script: int = 0
    position: int = -1

    def __hash__(self) -> int:
        # by span, not by every word: commands key dicts and sets, and hashing an
        # ``apt-get install`` of 100k packages word by word made those lookups quadratic
        return hash((self.start, self.end, self.script))

    @property
    def name(self) -> str:
        """Basename of the program, or '' when it is not a literal word."""
        value = self.words[0].value if self.words else None
        return value.rsplit("/", 1)[-1] if value else ""

    def argv(self) -> list[str | None]:
        return [w.value for w in self.words]


class Package(NamedTuple):
    name: str  # as written, without the version part
    # The version constraint as written: apt/yum ``1.2-3`` (after ``=``), apk ``=1.2`` or
    # ``>1.2``, pip a specifier set (``==1.2``, ``>=1,<2``), npm a range (``5.3.0``, ``^5``).
    version: str | None
    word: ShellWord
    extras: str | None = None  # pip ``name[extra,...]``: more than the package itself


class Script(NamedTuple):
    """One shell script of a RUN (its logical line, or a heredoc body)."""

    commands: tuple[Command, ...]
    chain: tuple[tuple[int, int], ...]  # source spans of the top-level chain's elements
    comments: tuple[tuple[int, int], ...]  # source spans of shell comments
    pipes: tuple[tuple[int, int], ...] = ()  # source spans of pipelines (``a | b``)


class Install(NamedTuple):
    """A package-install command: ``apt-get install``, ``pip install``, ``npm i -g`` ..."""

    manager: str  # apt, apk, yum, dnf, pip, npm
    command: Command
    packages: tuple[Package, ...]
    requirement_files: tuple[ShellWord, ...] = ()
    is_global: bool = True  # npm/yarn: installed globally (always True for OS and pip)
    operands: int = 0  # words that name what to install: packages, but also paths, URLs, wheels

    @property
    def only_packages(self) -> bool:
        """Nothing but package names to install: no requirements file, path or URL."""
        return not self.requirement_files and self.operands == len(self.packages)


# -- scripts of an instruction ---------------------------------------------------------


def scripts(instruction: Instruction) -> list[tuple[str, Callable[[int], int]]]:
    """(script, offset mapper) pairs of a RUN: what the shell runs, and where each
    character of it stands in the Dockerfile source."""
    if instruction.keyword != "RUN" or instruction.escape != "\\":
        return []  # a backtick escape means a Windows/PowerShell file: not a POSIX shell
    if instruction.exec_form is not None:
        return []
    found: list[tuple[str, Callable[[int], int]]] = []
    args, base = instruction.args, instruction.args_offset
    if not instruction.is_heredoc_only:
        found.append((args, _logical_mapper(instruction, base)))
    first = args.split(None, 1)[0].rsplit("/", 1)[-1] if args.strip() else ""
    if instruction.is_heredoc_only or first in _SHELLS:
        source = instruction.source
        for heredoc in instruction.heredocs:
            start = heredoc.body.start
            found.append((source[start : heredoc.body.end], start.__add__))
    return found


def _logical_mapper(instruction: Instruction, base: int) -> Callable[[int], int]:
    """Offset in the arguments -> offset in the source; one addition for a one-line RUN."""
    lstarts, sstarts = instruction._segments
    if len(lstarts) == 1:
        return (sstarts[0] - lstarts[0] + base).__add__
    from bisect import bisect_right

    def to_source(i: int) -> int:
        i += base
        j = bisect_right(lstarts, i) - 1
        return sstarts[j] + i - lstarts[j]

    return to_source


def parsed_scripts(instruction: Instruction, wanted: re.Pattern | None = _INTERESTING) -> tuple[Script, ...]:
    """The scripts of a RUN that mention what ``wanted`` matches (None: all of them),
    parsed. Each script is parsed once and each answer kept (on the instruction): most
    RUNs mention no program any rule cares about and are never parsed at all."""
    answers = instruction.__dict__.setdefault("_scripts", {})
    found = answers.get(wanted)
    if found is None:
        parsed = instruction.__dict__.setdefault("_parsed", {})
        found = []
        for index, (text, to_source) in enumerate(scripts(instruction)):
            if wanted is not None and not wanted.search(text):
                continue
            if index not in parsed:
                parsed[index] = _place(instruction, _relative(instruction, index, text), to_source, index)
            found.append(parsed[index])
        found = answers[wanted] = tuple(found)
    return found


def all_scripts(instruction: Instruction) -> tuple[Script, ...]:
    """The scripts of a RUN, parsed whatever programs they mention: for rules about any
    command (``cd``, ``sudo``, pipes...)."""
    return parsed_scripts(instruction, None)


def commands(instruction: Instruction, wanted: re.Pattern | None = _INTERESTING) -> tuple[Command, ...]:
    """The simple commands a RUN executes, in source order, in the scripts that mention
    what ``wanted`` matches (by default the programs the rules care about)."""
    answers = instruction.__dict__.setdefault("_commands", {})
    found = answers.get(wanted)
    if found is None:
        found = answers[wanted] = tuple(c for script in parsed_scripts(instruction, wanted) for c in script.commands)
    return found


@lru_cache(maxsize=1)
def _parser():
    import tree_sitter

    return tree_sitter.Parser(tree_sitter.Language(_bash_language()))


def _bash_language():
    """The grammar from tree-sitter-bash's compiled binding.

    The package's ``__init__`` imports importlib.resources (for highlight queries we do
    not use), which costs more than the rest of a one-file lint; so the extension module
    is loaded on its own, falling back to the package import if the layout changes.
    """
    import importlib.machinery
    import importlib.util

    spec = importlib.util.find_spec("tree_sitter_bash")
    for directory in (spec.submodule_search_locations or []) if spec else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            location = f"{directory}/_binding{suffix}"
            binding = importlib.util.spec_from_file_location("tree_sitter_bash._binding", location)
            if binding is None or binding.loader is None:
                continue
            try:
                module = importlib.util.module_from_spec(binding)
                binding.loader.exec_module(module)
            except (ImportError, OSError):
                continue
            return module.language()
    import tree_sitter_bash

    return tree_sitter_bash.language()


@lru_cache(maxsize=4096)
def _parse_script(script: str) -> Script:
    """Parse a script; offsets are relative to the script (character, not byte).

    Cached by text: the fix loop re-lints files whose RUNs did not change, and real
    repositories repeat the same RUN lines across many Dockerfiles.
    """
    data = script.encode("utf-8", "surrogatepass")
    if len(data) == len(script):
        char_at = None
    else:  # tree-sitter speaks UTF-8 byte offsets; map them to characters
        char_at = []
        for i, ch in enumerate(script):
            char_at.extend([i] * len(ch.encode("utf-8", "surrogatepass")))
        char_at.append(len(script))
    at = char_at.__getitem__ if char_at is not None else int  # int(n) is n: one call either way

    root = _parser().parse(data).root_node
    chain = [e for child in root.named_children if child.type != "comment" for e in _chain(child)]
    positions = {(e.start_byte, e.end_byte): i for i, e in enumerate(chain) if e.type == "command"}
    new = tuple.__new__
    found: list[Command] = []
    comments: list[tuple[int, int]] = []
    pipes: list[tuple[int, int]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        kind = node.type
        if kind == "comment":
            comments.append((at(node.start_byte), at(node.end_byte)))
        elif kind == "pipeline":
            pipes.append((at(node.start_byte), at(node.end_byte)))
        elif kind == "command":
            words = []
            for child in node.children:
                word_kind = child.type
                if word_kind in _NOT_WORDS:
                    continue
                if word_kind == "command_name" and child.child_count:
                    child = child.children[0]
                    word_kind = child.type
                start, end = child.start_byte, child.end_byte
                raw = data[start:end].decode("utf-8", "surrogatepass")
                words.append(new(ShellWord, (raw, _literal(word_kind, raw), at(start), at(end))))
            if words:
                start, end = node.start_byte, node.end_byte
                found.append(Command(tuple(words), at(start), at(end), 0, positions.get((start, end), -1)))
        if node.named_child_count:
            stack.extend(reversed(node.named_children))
    found.sort(key=lambda c: c.start)
    return Script(tuple(found), tuple((at(e.start_byte), at(e.end_byte)) for e in chain), tuple(sorted(comments)),
                  tuple(sorted(pipes)))


_NOT_WORDS = frozenset({"variable_assignment", "file_redirect", "herestring_redirect"})


def _place(instruction: Instruction, script: Script, to_source: Callable[[int], int], index: int) -> Script:
    """A parsed script's relative offsets moved to the Dockerfile source. An end maps
    through its last character, so a span never swallows a continuation after it."""

    def span(start: int, end: int) -> tuple[int, int]:
        return to_source(start), (to_source(end - 1) + 1 if end > start else to_source(start))

    commands = [place_command(instruction, command, to_source, index) for command in script.commands]
    return Script(tuple(commands), tuple(span(*e) for e in script.chain), tuple(span(*c) for c in script.comments),
                  tuple(span(*p) for p in script.pipes))


def place_command(instruction: Instruction, command: Command, to_source: Callable[[int], int], index: int) -> Command:
    """One command of the RUN's script ``index``, parsed with relative offsets, moved to
    the source (once per command: cached on the instruction, whichever analysis asks)."""
    placed = instruction.__dict__.setdefault("_placed", {})
    key = (index, command.start)
    found = placed.get(key)
    if found is None:
        # inlined span (an end maps through its last character), and tuple.__new__ instead
        # of the NamedTuple's own __new__: this runs for every word of most RUNs
        new = tuple.__new__
        words = tuple(new(ShellWord, (w.text, w.value, to_source(w.start),
                                      to_source(w.end - 1) + 1 if w.end > w.start else to_source(w.start)))
                      for w in command.words)
        start, end = command.start, command.end
        found = placed[key] = Command(words, to_source(start), to_source(end - 1) + 1 if end > start else to_source(start),
                                      index, command.position)
    return found


def relative_commands(instruction: Instruction, wanted: re.Pattern | None = _INTERESTING,
                      ) -> Iterator[tuple[Command, Callable[[int], int], int]]:
    """(command, offset mapper, script index) for every command of the scripts of a RUN
    that mention what ``wanted`` matches, offsets relative to the script (cached on the
    instruction): for analyses that read every command but need source offsets for few
    (:func:`place_command` moves those; placing every word of every RUN cost a tenth of
    a lint)."""
    answers = instruction.__dict__.setdefault("_relative_commands", {})
    found = answers.get(wanted)
    if found is None:
        found = answers[wanted] = tuple(
            (command, to_source, index)
            for index, (text, to_source) in enumerate(scripts(instruction)) if wanted is None or wanted.search(text)
            for command in _relative(instruction, index, text).commands)
    return iter(found)


def commands_named(instruction: Instruction, names, wanted: re.Pattern | None = _INTERESTING) -> Iterator[Command]:
    """The commands of a RUN whose program (wrappers removed) is one of ``names``, moved
    to the source; the others are never placed."""
    for command, to_source, index in relative_commands(instruction, wanted):
        if program_name(command) in names:
            yield place_command(instruction, command, to_source, index)


def relative_scripts(instruction: Instruction) -> tuple[tuple[Script, Callable[[int], int]], ...]:
    """The scripts of a RUN, parsed, with offsets relative to each script and the mapper
    to the source (cached on the instruction). Cheaper than :func:`all_scripts` when only
    some commands need source offsets (:func:`place_command` moves those)."""
    cached = instruction.__dict__.get("_relative_scripts")
    if cached is None:
        cached = tuple((_relative(instruction, index, text), to_source)
                       for index, (text, to_source) in enumerate(scripts(instruction)))
        instruction.__dict__["_relative_scripts"] = cached
    return cached


def _relative(instruction: Instruction, index: int, text: str) -> Script:
    """Script ``index`` of a RUN parsed, offsets relative to it: parsed once whichever
    analysis asks first (placed or not)."""
    parses = instruction.__dict__.setdefault("_relative", {})
    found = parses.get(index)
    if found is None:
        found = parses[index] = _parse_script(text)
    return found


def program_name(command: Command) -> str:
    """The program a command runs, wrappers (``sudo``, ``env``...) removed: cheap when
    there is none to remove, which is nearly always."""
    first = command.words[0].value if command.words else None
    if first is not None and first.rsplit("/", 1)[-1] not in _WRAPPERS:
        return first.rsplit("/", 1)[-1]
    return unwrap(command).name


def _chain(node) -> list:
    """Flatten ``a && b && c`` into its commands; anything else is one opaque element.
    tree-sitter nests a chain a list per ``&&``: walked with a stack, not recursion, so a
    RUN of thousands of them is not "too deeply nested"."""
    chain, pending = [], [node]
    while pending:
        current = pending.pop()
        if current.type == "list" and all(c.type == "&&" for c in current.children if not c.is_named):
            pending.extend(reversed(current.named_children))
        else:
            chain.append(current)
    return chain


def _literal(kind: str, raw: str) -> str | None:
    """The value of a word of node type ``kind`` if it is a plain literal (quotes
    allowed, no expansions)."""
    if kind in _LITERAL_KINDS:
        if ("$" in raw or "`" in raw) and kind != "raw_string" and ("`" in raw or "$" in raw.replace("'$", "")):
            return None
        return dequote(raw)
    return None


_LITERAL_KINDS = frozenset({"word", "string", "raw_string", "concatenation", "number"})


# -- package installs ------------------------------------------------------------------

# Options that take a value as the next word, per manager; the value is not a package.
_VALUE_OPTIONS = {
    "apt": {"-o", "--option", "-t", "--target-release", "-c", "--config-file", "-a", "--host-architecture"},
    "apk": {"-t", "--virtual", "-X", "--repository", "-p", "--root", "--arch", "--cache-dir", "--keys-dir", "--repositories-file"},
    "yum": {"-x", "--exclude", "--setopt", "--enablerepo", "--disablerepo", "--installroot", "--releasever", "-c", "--config", "--repo", "--repofrompath"},
    "pip": {
        "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
        "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
        "--trusted-host", "--platform", "--python-version", "--implementation", "--abi",
        "--only-binary", "--no-binary", "--progress-bar", "--src", "--upgrade-strategy",
        "--cache-dir", "--log", "--proxy", "--retries", "--timeout", "-C", "--config-settings",
        "--global-option", "--install-option", "--report", "--python", "--exists-action",
        "--root-user-action", "-p",
    },
    "npm": {"--prefix", "--registry", "--cache", "-w", "--workspace", "--omit", "--include", "--tag", "--loglevel",
            "--filter", "-F"},
}
_INSTALL_VERBS = {
    "apt": ("install",),
    "apk": ("add",),
    "yum": ("install",),
    "pip": ("install",),
    "npm": ("install", "i", "add", "isntall", "in"),
}


def installs(instruction: Instruction) -> tuple[Install, ...]:
    """Package installs of a RUN, with the exact source span of every package token
    (cached on the instruction: evidence, DM1xx and DM3xx all ask)."""
    cached = instruction.__dict__.get("_installs")
    if cached is None:
        # placed only once known to be an install: most commands are not
        placed = (place_command(instruction, command, to_source, index)
                  for command, to_source, index in relative_commands(instruction) if manager_of(command) is not None)
        cached = tuple(i for i in map(_install_of, placed) if i is not None)
        instruction.__dict__["_installs"] = cached
    return cached


def unwrap(command: Command) -> Command:
    """Drop ``sudo``/``env``/``exec`` prefixes and their options."""
    first = command.words[0].value if command.words else ""
    if not first or first.rsplit("/", 1)[-1] not in _WRAPPERS:
        return command  # most commands: nothing to drop, nothing to copy
    words = list(command.words)
    while words and words[0].value and words[0].value.rsplit("/", 1)[-1] in _WRAPPERS:
        wrapper = words.pop(0).value.rsplit("/", 1)[-1]
        while words and words[0].value and (
            words[0].value.startswith("-") or (wrapper == "env" and "=" in words[0].value)
        ):
            option = words.pop(0).value
            if wrapper == "sudo" and option in ("-u", "-g", "-C", "-D", "-h", "-p", "-U"):
                if words:
                    words.pop(0)
    return command._replace(words=tuple(words))


def manager_of(command: Command) -> tuple[str, list[ShellWord]] | None:
    """(manager, words after the program) for a package-manager command."""
    command = unwrap(command)
    name = command.name
    words = list(command.words[1:])
    if name in ("apt-get", "apt", "aptitude"):
        return "apt", words
    if name == "apk":
        return "apk", words
    if name in ("yum", "dnf", "microdnf", "tdnf"):
        return ("dnf" if name != "yum" else "yum"), words
    if _PIP.match(name):
        return "pip", words
    if _PYTHON.match(name) and len(words) >= 2 and words[0].value == "-m" and words[1].value and _PIP.match(words[1].value):
        return "pip", words[2:]
    if name == "uv" and words and words[0].value == "pip":
        return "pip", words[1:]
    if name in ("npm", "pnpm"):
        return "npm", words
    if name == "yarn":
        return "yarn", words
    return None


def _install_of(command: Command) -> Install | None:
    found = manager_of(command)
    if found is None:
        return None
    manager, words = found
    if manager == "yarn":
        # yarn global add PKG (yarn 1); a local ``yarn add`` is a project dependency
        values = [w.value for w in words]
        if "add" not in values:
            return None
        is_global = "global" in values[: values.index("add")]
        rest = words[values.index("add") + 1 :]
        operands = [w for w in rest if not (w.value or "").startswith("-")]
        return Install("npm", command, tuple(_packages("npm", operands)), (), is_global, len(operands))
    table = "yum" if manager == "dnf" else manager
    verbs = _INSTALL_VERBS[table]
    value_options = _VALUE_OPTIONS[table]
    # find the verb, skipping leading options (and their values)
    i = 0
    while i < len(words):
        value = words[i].value or ""
        if value in value_options:
            i += 2
            continue
        if value.startswith("-"):
            i += 1
            continue
        break
    if i >= len(words) or words[i].value not in verbs:
        return None
    args = words[i + 1 :]
    operands: list[ShellWord] = []
    requirement_files: list[ShellWord] = []
    is_global = manager != "npm"
    j = 0
    while j < len(args):
        word = args[j]
        value = word.value or ""
        if manager == "pip" and value in ("-r", "--requirement") and j + 1 < len(args):
            requirement_files.append(args[j + 1])
            j += 2
            continue
        if manager == "pip" and value in ("-e", "--editable") and j + 1 < len(args):
            operands.append(args[j + 1])  # an editable project: installed, but not a package name
            j += 2
            continue
        if manager == "pip" and value.startswith("--editable="):
            operands.append(ShellWord(word.text, value.partition("=")[2], word.start, word.end))
            j += 1
            continue
        if manager == "pip" and value.startswith(("--requirement=", "-r")):
            path = value.partition("=")[2] if value.startswith("--") else value[2:]
            requirement_files.append(ShellWord(word.text, path, word.start, word.end))
            j += 1
            continue
        if manager == "npm" and value in ("-g", "--global", "--location=global"):
            is_global = True
            j += 1
            continue
        if value in value_options:
            j += 2
            continue
        if value.startswith("-") or "=" in value and value.startswith("--"):
            j += 1
            continue
        operands.append(word)
        j += 1
    return Install(
        manager, command, tuple(_packages(manager, operands)), tuple(requirement_files), is_global, len(operands)
    )


_PIP_NAME = compile_on_use(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")
_NOT_A_PACKAGE = compile_on_use(r"^(?:\.|/|~|\$|[a-z+]+://|git\+)|\.(?:whl|tar\.gz|zip|tgz)$")


def _packages(manager: str, words: list[ShellWord]) -> list[Package]:
    packages = []
    for word in words:
        value = word.value
        if value is None or not value or _NOT_A_PACKAGE.search(value):
            continue
        if manager == "pip":
            match = _PIP_NAME.match(value)
            if match:
                packages.append(Package(match[1], match[3].strip() or None, word, match[2]))
        elif manager == "npm":
            at = value.find("@", 1)  # a scope starts with @
            if at == -1:
                packages.append(Package(value, None, word))
            else:
                packages.append(Package(value[:at], value[at + 1 :] or None, word))
        elif manager == "apk":
            name = re.split(r"[=<>~]", value, maxsplit=1)[0]
            packages.append(Package(name, value[len(name) :] or None, word))
        else:  # apt, yum, dnf: name=version; apt also name/release
            name, _, version = value.partition("=")
            if manager == "apt":
                name = name.split("/", 1)[0]
            packages.append(Package(name, version or None, word))
    return packages
