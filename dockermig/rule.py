"""The rule model: Rule base class, Example, Severity, FixAvailability, Finding.

A rule is one class in one file: metadata as class attributes, documentation in the
docstring (fixed sections), and ``examples`` that are both its tests and its docs.
``Rule.__init_subclass__`` checks all of this when the class is defined, so a malformed
rule fails at import, not in a user's CI.
"""

from __future__ import annotations

import enum
import sys
from typing import TYPE_CHECKING, Any, ClassVar, Iterator, NamedTuple

from dockermig.fix import Fix
from dockermig.regex import compile_on_use
from dockermig.selection import has_subcodes

if TYPE_CHECKING:
    from pathlib import Path

    from dockermig.config import Config
    from dockermig.policy.facts import FileFacts
    from dockermig.syntax import Dockerfile, Node
    from dockermig.syntax.nodes import Span


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None


class FixAvailability(enum.Enum):
    NONE = "none"
    SOMETIMES = "sometimes"
    ALWAYS = "always"


class Finding(NamedTuple):
    code: str
    name: str
    severity: Severity
    message: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int
    fix: Fix | None = None
    # stable across unrelated edits: code + the instruction's text + the flagged text
    # (set by the engine for baselines and CI formats, which match findings over time)
    fingerprint: str = ""
    # the finer code inside a rule that stands for several (ShellCheck's SC2086 inside
    # DM700, one of several hadolint codes): pragmas, selection and severity see it too
    subcode: str = ""


class Example(NamedTuple):
    """A documented case of a rule; run as a test and rendered in the docs.

    ``files`` are extra files of the build context (next to the Dockerfile), e.g. a
    ``requirements.txt``; ``config`` is a ``[tool.dockermig]`` table for this case.
    ``fixed=None`` on an invalid example means fixing must leave the text unchanged.
    """

    source: str
    is_valid: bool
    fixed: str | None = None
    message: str | None = None  # a substring the finding's message must contain
    line: int | None = None
    files: dict[str, str] = {}  # never mutated: a shared default is safe
    config: dict[str, Any] = {}
    applicability: str | None = None

    @classmethod
    def valid(cls, source: str, **kwargs: Any) -> Example:
        return cls(source, True, **kwargs)

    @classmethod
    def invalid(cls, source: str, **kwargs: Any) -> Example:
        return cls(source, False, **kwargs)


SECTIONS = ("What it does", "Why is this bad?", "Fix safety", "Configuration", "References")
_CODE = compile_on_use(r"^DM\d{3}$")
_NAME = compile_on_use(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


class LintContext:
    """What a rule sees of one file (``facts`` is provided by the engine, lazily)."""

    dockerfile: Dockerfile
    facts: FileFacts
    path: Path | None
    config: Config
    pragmas: list  # the file's suppression comments
    used_suppressions: set  # (pragma index, code) pairs that silenced a finding


class Rule:
    """Base class of every rule. Subclasses define metadata and ``check``."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    tags: ClassVar[tuple[str, ...]] = ()
    fix_availability: ClassVar[FixAvailability] = FixAvailability.NONE
    options: ClassVar[dict[str, Any]] = {}
    aliases: ClassVar[tuple[str, ...]] = ()
    hadolint: ClassVar[tuple[str, ...]] = ()  # hadolint codes this rule corresponds to
    buildkit: ClassVar[tuple[str, ...]] = ()  # BuildKit build-check names it corresponds to
    # off unless selected by name (hadolint's rules of severity "ignore", e.g. DL3057)
    opt_in: ClassVar[bool] = False
    # the instruction keywords the rule looks at: the engine skips it for a file that has
    # none of them (empty: the rule always runs)
    keywords: ClassVar[frozenset[str]] = frozenset()
    # runs after the suppressions are applied, and sees them (ctx.pragmas)
    after_suppressions: ClassVar[bool] = False
    examples: ClassVar[list[Example]] = []
    by_subcode: ClassVar[bool] = False  # its findings carry one of several codes (set from ``hadolint``)

    def __init__(self, options: dict[str, Any] | None = None):
        self.settings = {**self.options, **(options or {})}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _validate(cls)
        cls.by_subcode = has_subcodes(cls)  # asked of every finding: answered once

    @classmethod
    def summary(cls) -> str:
        return _cleandoc(cls.__doc__ or "").splitlines()[0]

    @classmethod
    def sections(cls) -> dict[str, str]:
        """The docstring's ``## `` sections, in order."""
        return _sections(cls.__doc__ or "")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        raise NotImplementedError

    def finding(
        self,
        ctx: LintContext,
        where: Node | Span | tuple[int, int],
        message: str,
        fix: Fix | None = None,
        subcode: str = "",
    ) -> Finding:
        if hasattr(where, "start") and hasattr(where, "end"):
            start, end = where.start, where.end
        else:
            start, end = where
        if hasattr(where, "kind") and where.kind == "instruction":
            # point at the instruction line, not at a trailing heredoc or newline
            end = where.instruction_line_end
        df = ctx.dockerfile
        line, column = df.position(start)
        end_line, end_column = df.position(max(end, start))
        return Finding(
            self.code, self.name, self.severity, message, start, end, line, column, end_line, end_column, fix,
            subcode=subcode,
        )


def _cleandoc(doc: str) -> str:
    """inspect.cleandoc without importing inspect (it costs more than a lint run)."""
    lines = doc.expandtabs().splitlines() or [""]
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    margin = min(indents, default=0)
    cleaned = [lines[0].strip()] + [line[margin:].rstrip() for line in lines[1:]]
    return "\n".join(cleaned).strip("\n")


def _sections(doc: str) -> dict[str, str]:
    found: dict[str, str] = {}
    current = None
    for line in _cleandoc(doc).splitlines()[1:]:
        if line.startswith("## "):
            current = line[3:].strip()
            found[current] = ""
        elif current is not None:
            found[current] += line + "\n"
    return {k: v.strip() for k, v in found.items()}


def _validate(cls: type[Rule]) -> None:
    where = f"rule class {cls.__name__}"
    for attribute in ("code", "name", "severity"):
        if not hasattr(cls, attribute):
            raise TypeError(f"{where}: missing {attribute}")
    if not _CODE.match(cls.code):
        raise TypeError(f"{where}: code {cls.code!r} is not DM + 3 digits")
    if not _NAME.match(cls.name):
        raise TypeError(f"{where}: name {cls.name!r} is not a kebab-case slug")
    if not cls.__doc__:
        raise TypeError(f"{where}: missing docstring")
    sections = list(cls.sections())
    required = ["What it does", "Why is this bad?"]
    if cls.fix_availability is not FixAvailability.NONE:
        required.append("Fix safety")
    if cls.options:
        required.append("Configuration")
    for section in required:
        if section not in sections:
            raise TypeError(f"{where}: docstring lacks the section '## {section}'")
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise TypeError(f"{where}: unknown docstring section(s) {unknown}")
    if sections != sorted(sections, key=SECTIONS.index):
        raise TypeError(f"{where}: docstring sections out of order (expected {SECTIONS})")
    if not any(e.is_valid for e in cls.examples) or all(e.is_valid for e in cls.examples):
        raise TypeError(f"{where}: needs at least one valid and one invalid example")
    module_file = (getattr(sys.modules.get(cls.__module__), "__file__", None) or "").replace("\\", "/").rsplit("/", 1)[-1]
    expected_prefix = cls.code.lower() + "_"
    if cls.__module__.startswith("dockermig.rules.") and not module_file.startswith(expected_prefix):
        raise TypeError(f"{where}: file {module_file} should start with {expected_prefix}")
