"""Per-file, per-stage facts that the rules share: what each stage is built on, what
language it runs, and the migration verdict for the image the file ships.

Computed once per file, lazily, so a rule selection that needs none of it costs nothing.
"""

from __future__ import annotations

import enum
import os
import re
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from dockermig.policy.masters import CatalogueEntry, Master, Policy
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.parser import Dockerfile
from dockermig.syntax.query import ImageRef, Stage
from dockermig.syntax.shell import commands, installs, manager_of, unwrap
from dockermig.syntax.values import User, env_values, user_of

_PACKAGE_LANGUAGE = {
    re.compile(r"python3?(\.\d+)?(-pip|-dev|-venv)?$"): "python",
    re.compile(r"(nodejs|npm|yarn)$"): "node",
}
_LANGUAGE_NAMES = {"python": "Python", "node": "Node.js", "go": "Go", "java": "Java", "dotnet": ".NET",
                   "ruby": "Ruby", "php": "PHP", "rust": "Rust"}
MASTER_LABEL = "dockermig.master"


def language_name(language: str | None) -> str:
    return _LANGUAGE_NAMES.get(language or "", language or "unknown")


class Verdict(enum.Enum):
    """What should happen to the image a Dockerfile ships."""

    MASTER_DEFINITION = "master"  # the Dockerfile of a master itself
    MIGRATED = "migrated"  # already on a master
    KEEP = "keep-as-is"  # infrastructure, database, monitoring, GPU...
    MIGRATE = "migrate"  # a Python/Node service the fix can move onto its master
    REVIEW = "needs-review"  # Python/Node, but not safely migratable by machine
    OTHER = "other"  # another language, or none we can tell: not ours to migrate
    EMPTY = "empty"  # no FROM at all


class Evidence(NamedTuple):
    language: str
    kind: str  # image, command, install, copy, context
    reason: str
    offset: int | None = None


class StageFacts:
    """What a stage is built on and what it runs."""

    def __init__(self, stage: Stage, image: ImageRef | None, master: Master | None,
                 keep: CatalogueEntry | None, image_language: str | None):
        self.stage = stage
        self.image = image
        self.master = master
        self.keep = keep
        self.image_language = image_language
        self.evidence: list[Evidence] = []

    @property
    def musl(self) -> bool:
        image = self.image
        if image is None:
            return False
        return image.short == "alpine" or "alpine" in (image.tag or "")

    @property
    def windows(self) -> bool:
        image = self.image
        tag = (image.tag or "") if image else ""
        return bool(image) and ("windowsservercore" in tag or "nanoserver" in tag or image.short.startswith("mcr.microsoft.com/windows"))

    @property
    def distroless(self) -> bool:
        return bool(self.image) and self.image.short.startswith(("gcr.io/distroless/", "cgr.dev/chainguard/"))


class FileFacts:
    """The stages of one file and the verdict for the image it ships."""

    def __init__(self, dockerfile: Dockerfile, path: Path | None, policy: Policy, stages: list[StageFacts]):
        self.dockerfile = dockerfile
        self.path = path
        self.policy = policy
        self.stages = stages
        self.verdict = Verdict.EMPTY
        self.language: str | None = None
        self.target: Master | None = None
        self.reasons: list[str] = []
        self.review_language: str | None = None
        # why a person must look: arg, ambiguous, build-only, musl, windows, distroless,
        # python2 or downgrade
        self.review_kind: str | None = None

    @property
    def runtime(self) -> StageFacts | None:
        return self.stages[-1] if self.stages else None

    def master_for(self, facts: StageFacts) -> tuple[Master | None, bool]:
        """(master, already on it) for a stage: the master it is on, or the one the
        runtime stage is about to move to."""
        if facts.master is not None:
            return facts.master, True
        if facts is self.runtime and self.verdict is Verdict.MIGRATE:
            return self.target, False
        return None, False

    @cached_property
    def final_user(self) -> tuple[Instruction | None, User | None]:
        """The last USER instruction of the runtime stage's chain, and its value."""
        runtime = self.runtime
        if runtime is None:
            return None, None
        for stage in runtime.stage.ancestry():
            instruction = stage.last("USER")
            if instruction is not None:
                return instruction, user_of(instruction, stage.variables(instruction))
        return None, None


def analyse(dockerfile: Dockerfile, path: Path | None, policy: Policy) -> FileFacts:
    stage_facts: list[StageFacts] = []
    by_stage: dict[int, StageFacts] = {}
    for stage in dockerfile.stages:
        parent = by_stage.get(stage.parent.index) if stage.parent else None
        image = stage.root_image
        facts = StageFacts(
            stage=stage,
            image=image,
            master=parent.master if parent else policy.master_of(image),
            keep=parent.keep if parent else policy.keep_entry(image),
            image_language=parent.image_language if parent else policy.language_of_image(image),
        )
        if parent is not None:
            facts.evidence.extend(parent.evidence)
        elif facts.image_language:
            facts.evidence.append(Evidence(facts.image_language, "image", f"base image {image.display}", stage.from_.start))
        facts.evidence.extend(_stage_evidence(stage, policy))
        stage_facts.append(facts)
        by_stage[stage.index] = facts
    result = FileFacts(dockerfile, path, policy, stage_facts)
    if stage_facts:
        _decide(result)
    return result


# -- evidence ---------------------------------------------------------------------------


def _stage_evidence(stage: Stage, policy: Policy) -> list[Evidence]:
    found: list[Evidence] = []
    language_files = {f: lang.name for lang in policy.languages for f in lang.files}
    for instruction in stage.instructions:
        keyword = instruction.keyword
        if keyword == "RUN":
            for command in commands(instruction):
                managed = manager_of(command)
                program = unwrap(command).name
                language = "python" if managed and managed[0] == "pip" else policy.language_of_program(program)
                if language:
                    found.append(Evidence(language, "command", f"`{program}` in RUN (line {instruction.start_line})", command.start))
            for install in installs(instruction):
                if install.manager in ("apt", "apk", "yum", "dnf"):
                    for package in install.packages:
                        for pattern, language in _PACKAGE_LANGUAGE.items():
                            if pattern.match(package.name):
                                found.append(Evidence(language, "install", f"installs {package.name} (line {instruction.start_line})", package.word.start))
        elif keyword in ("CMD", "ENTRYPOINT"):
            program = entry_program(instruction)
            language = policy.language_of_program(program) if program else None
            if language:
                found.append(Evidence(language, "entrypoint", f"{keyword} runs `{program}`", instruction.start))
        elif keyword in ("COPY", "ADD") and not instruction.flag("from"):
            words = instruction.exec_form or instruction.words
            for word in words[:-1]:
                language = language_files.get(os.path.basename(word.value.rstrip("/")))
                if language:
                    found.append(Evidence(language, "copy", f"copies {os.path.basename(word.value)}", word.start))
    return found


_WRAPPERS = frozenset({"tini", "dumb-init", "--", "exec", "nohup", "env"})
_USER_SWITCHERS = frozenset({"gosu", "su-exec"})  # gosu USER program ...


def unwrap_argv(argv: list[str]) -> list[str]:
    """The command a container really runs, through tini/dumb-init/gosu/env and
    ``sh -c "exec python ..."``."""
    while argv:
        program = os.path.basename(argv[0])
        if program in _WRAPPERS:
            argv = argv[1:] if program != "env" else _drop_assignments(argv[1:])
        elif program in _USER_SWITCHERS:
            argv = argv[2:]
        elif program in ("sh", "bash") and len(argv) >= 3 and argv[1] == "-c":
            argv = argv[2].split()
        else:
            break
    return argv


def _drop_assignments(argv: list[str]) -> list[str]:
    while argv and "=" in argv[0] and not argv[0].startswith("-"):
        argv = argv[1:]
    return argv


def instruction_argv(instruction: Instruction) -> list[str]:
    words = instruction.exec_form if instruction.exec_form is not None else instruction.words
    return [w.value for w in words]


def entry_program(instruction: Instruction) -> str | None:
    argv = unwrap_argv(instruction_argv(instruction))
    return os.path.basename(argv[0]) if argv else None


def _context_evidence(path: Path | None, policy: Policy) -> list[Evidence]:
    if path is None:
        return []
    try:
        names = set(os.listdir(path.parent))
    except OSError:
        return []
    return [
        Evidence(lang.name, "context", f"{name} in the build context")
        for lang in policy.languages
        for name in lang.files
        if name in names
    ]


# -- verdict ----------------------------------------------------------------------------


def _decide(facts: FileFacts) -> None:
    runtime = facts.runtime
    assert runtime is not None
    policy = facts.policy
    if _is_master_definition(facts):
        facts.verdict = Verdict.MASTER_DEFINITION
        return
    if runtime.master is not None:
        facts.verdict = Verdict.MIGRATED
        facts.language = runtime.master.language
        return
    if runtime.keep is not None:
        facts.verdict = Verdict.KEEP
        facts.reasons.append(f"{runtime.image.short} is kept as is ({runtime.keep.category})")
        return
    language, why = _runtime_language(facts)
    facts.language = language
    image = runtime.image
    if image is None or not image.is_resolved:
        facts.verdict = Verdict.REVIEW
        missing = ", ".join(sorted(image.unresolved)) if image else ""
        facts.reasons.append(
            f"the base image `{runtime.stage.base}` depends on build argument(s) {missing or 'without defaults'}"
        )
        facts.review_language = language
        facts.review_kind = "arg"
        return
    if not image.is_well_formed:
        facts.verdict = Verdict.REVIEW
        facts.reasons.append(f"the base image {image.raw!r} is not a valid image reference")
        facts.review_language = language
        facts.review_kind = "invalid"
        return
    if language is None and why:
        facts.verdict = Verdict.REVIEW
        facts.review_kind = "ambiguous"
        facts.reasons.append(f"{why}: choose the master by hand")
        return
    master = policy.master_for_language(language)
    if master is None:
        facts.verdict = Verdict.OTHER
        if language:
            facts.reasons.append(f"{language_name(language)} service ({why}); there is no {language_name(language)} master")
        else:
            build_only = _build_stage_languages(facts)
            if build_only:
                facts.verdict = Verdict.REVIEW
                facts.review_kind = "build-only"
                facts.review_language = build_only
                facts.reasons.append(
                    f"{language_name(build_only)} is used only in build stages; the runtime base {image.short} is neither a master nor kept as is"
                )
            else:
                facts.reasons.append(f"no Python or Node.js evidence, and {image.short} is not in the keep-as-is catalogue")
        return
    unsafe = _unsafe_reason(runtime, master)
    if unsafe:
        facts.verdict = Verdict.REVIEW
        facts.review_language = language
        facts.review_kind, text = unsafe
        facts.reasons.append(f"{language_name(language)} service ({why}) {text}")
        return
    facts.verdict = Verdict.MIGRATE
    facts.target = master
    facts.reasons.append(f"{language_name(language)} service ({why})")


def _runtime_language(facts: FileFacts) -> tuple[str | None, str]:
    runtime = facts.runtime
    assert runtime is not None
    masters = facts.policy.master_languages
    if runtime.image_language:
        return runtime.image_language, f"base image {runtime.image.display}"
    evidence = runtime.evidence
    for kinds in (("entrypoint",), ("command", "install"), ("copy",)):
        languages = {e.language for e in evidence if e.kind in kinds}
        ours = languages & masters
        if len(ours) == 1:
            language = ours.pop()
            return language, next(e.reason for e in evidence if e.language == language and e.kind in kinds)
        if len(languages) == 1:
            language = languages.pop()
            return language, next(e.reason for e in evidence if e.language == language)
        if len(ours) > 1:
            return None, "both Python and Node.js are used"
    if runtime.image and facts.policy.is_os_image(runtime.image) or runtime.image and runtime.image.is_scratch:
        return None, ""
    context = [e for e in _context_evidence(facts.path, facts.policy) if e.language in masters]
    if len({e.language for e in context}) == 1:
        return context[0].language, context[0].reason
    return None, ""


def _build_stage_languages(facts: FileFacts) -> str | None:
    masters = facts.policy.master_languages
    for stage in facts.stages[:-1]:
        for evidence in stage.evidence:
            if evidence.language in masters:
                return evidence.language
    return None


def _version(tag: str | None) -> tuple[int, ...] | None:
    match = re.match(r"(\d+)(?:\.(\d+))?", tag or "")
    if not match:
        return None
    return tuple(int(g) for g in match.groups() if g is not None)


def _unsafe_reason(runtime: StageFacts, master: Master) -> tuple[str, str] | None:
    """(kind, explanation) when moving this stage onto the master is not mechanical."""
    image = runtime.image
    assert image is not None
    if runtime.windows:
        return "windows", "is on a Windows base; the master is Linux"
    if runtime.musl:
        return "musl", "is on Alpine/musl: its packages and wheels need a Debian mapping"
    if runtime.distroless:
        return "distroless", "is on a distroless image: the master adds a shell and a package manager"
    if runtime.image_language != master.language:
        return None
    from dockermig.syntax.query import parse_image_ref

    have = _version(image.tag)
    want = _version(parse_image_ref(master.base).tag) if master.base else None
    if have and want and have[0] == 2 and master.language == "python":
        return "python2", f"is Python 2; the master runs Python {'.'.join(map(str, want))}"
    if have and want and have[: len(want)] > want:
        return "downgrade", f"is newer than the master's {master.base}: moving would downgrade it"
    return None


def _is_master_definition(facts: FileFacts) -> bool:
    path = facts.path.resolve() if facts.path else None
    for master in facts.policy.masters:
        if path is not None and master.dockerfile is not None and master.dockerfile.resolve() == path:
            return True
    for instruction in facts.dockerfile.instructions:
        # the cheap substring test first: env_values imports dockerfile-parse
        if instruction.keyword == "LABEL" and MASTER_LABEL in instruction.args and MASTER_LABEL in env_values(instruction):
            return True
    return False
