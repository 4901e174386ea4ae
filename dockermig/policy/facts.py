"""Per-file, per-stage facts that the rules share: what each stage is built on, what
language it runs, the migration decision for the image the file ships, and the analyses
several rules ask for (packages the master ships, the Python app, the final user).

Computed once per file, lazily, so a rule selection that needs none of it costs nothing.
"""

from __future__ import annotations

import enum
import os
import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from dockermig import observed
from dockermig.policy.accounts import Recreated, recreated_accounts
from dockermig.policy.masters import CatalogueEntry, Master, Policy
from dockermig.policy.workdir import into_filled_workdir
from dockermig.regex import compile_on_use
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.parser import Dockerfile
from dockermig.syntax.query import DOCKER_HUB, ImageRef, Stage, parse_image_ref
from dockermig.syntax.shell import installs, manager_of, relative_commands, unwrap
from dockermig.syntax.values import User, env_values, user_of

if TYPE_CHECKING:
    from dockermig.policy.pyapp import AppInfo
    from dockermig.policy.shipped import ShippedPackage

_PACKAGE_LANGUAGE = {
    compile_on_use(r"python3?(\.\d+)?(-pip|-dev|-venv)?$"): "python",
    compile_on_use(r"(nodejs|npm|yarn)$"): "node",
    # the other runtimes an OS image can be given: evidence that competes with the masters'
    compile_on_use(r"(openjdk-\d+-(jdk|jre)(-headless)?|default-(jdk|jre)(-headless)?|java-\d+-openjdk.*|maven|gradle|"
                   r"tomcat\d*|ant)$"): "java",
    compile_on_use(r"(ruby(\d[\d.]*)?(-full|-dev)?|rubygems|bundler)$"): "ruby",
    compile_on_use(r"(php(\d[\d.]*)?(-cli|-fpm|-common)?|composer)$"): "php",
    compile_on_use(r"(golang(-\d[\d.]*)?(-go)?)$"): "go",
    compile_on_use(r"(dotnet-(sdk|runtime|host)(-\d[\d.]*)?|aspnetcore-runtime(-\d[\d.]*)?)$"): "dotnet",
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
        # alpine, node:18-alpine, mhart/alpine-node, alpine/git: Alpine under any name
        return "alpine" in image.path or "alpine" in (image.tag or "")

    @property
    def windows(self) -> bool:
        image = self.image
        tag = (image.tag or "") if image else ""
        return bool(image) and ("windowsservercore" in tag or "nanoserver" in tag or image.short.startswith("mcr.microsoft.com/windows"))

    @property
    def distroless(self) -> bool:
        return bool(self.image) and self.image.short.startswith(("gcr.io/distroless/", "cgr.dev/chainguard/"))


class Decision(NamedTuple):
    """What should happen to the image a file ships, decided once per file.

    ``target`` is the master: the one the image is on (MIGRATED), moves onto (MIGRATE), or
    would move onto once a person has looked (REVIEW). ``review_kind`` says why a person
    must look (arg, ambiguous, build-only, musl, windows, distroless, python2, downgrade...);
    on a master it marks a file that is on the wrong one (wrong-master, infrastructure) or
    that does not build there (account, workdir). ``kept`` is the catalogue entry of a KEEP:
    the one its base matches, or the one whose program its CMD/ENTRYPOINT runs.
    """

    verdict: Verdict
    reason: str = ""
    language: str | None = None
    target: Master | None = None
    review_kind: str | None = None
    kept: CatalogueEntry | None = None

    @property
    def classification(self) -> str:
        """The plan's column: migrated, keep-as-is, migrate-python, migrate-node,
        needs-review or master."""
        verdict = self.verdict
        if verdict is Verdict.MIGRATE:
            return f"migrate-{self.target.language}"
        if verdict is Verdict.MIGRATED:
            return "needs-review" if self.review_kind else "migrated"
        if verdict is Verdict.MASTER_DEFINITION:
            return "master"
        if verdict is Verdict.KEEP:
            return "keep-as-is"
        return "needs-review"


class FileFacts:
    """The stages of one file, the decision for the image it ships, and what several
    rules ask about it (each computed on first use)."""

    def __init__(self, dockerfile: Dockerfile, path: Path | None, policy: Policy, stages: list[StageFacts]):
        self.dockerfile = dockerfile
        self.path = path
        self.policy = policy
        self.stages = stages
        self.decision = _decide(self) if stages else Decision(Verdict.EMPTY, "no FROM instruction")

    @property
    def verdict(self) -> Verdict:
        return self.decision.verdict

    @property
    def runtime(self) -> StageFacts | None:
        return self.stages[-1] if self.stages else None

    def master_for(self, facts: StageFacts) -> tuple[Master | None, bool]:
        """(master, already on it) for a stage: the master it is on, or the one the
        runtime stage is about to move to."""
        if facts.master is not None:
            return facts.master, True
        if facts is self.runtime and self.verdict is Verdict.MIGRATE:
            return self.decision.target, False
        return None, False

    @property
    def master(self) -> Master | None:
        """The master the shipped image is on or about to move onto."""
        return self.master_for(self.runtime)[0] if self.runtime else None

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

    @cached_property
    def shipped(self) -> list[ShippedPackage]:
        """Packages the stages install that their master already ships, same environment."""
        from dockermig.policy.shipped import find_shipped

        return find_shipped(self)

    @cached_property
    def recreated(self) -> list[Recreated]:
        """Users and groups the shipped stage's chain creates that its master (the one it is
        on, moves onto, or would move onto after review) already has."""
        master = self.decision.target
        return recreated_accounts(self.runtime.stage, master) if master is not None else []

    @cached_property
    def app(self) -> AppInfo | None:
        """The Python app the shipped image runs, read from the build context."""
        from dockermig.policy.pyapp import app_info

        return app_info(self)


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
    return FileFacts(dockerfile, path, policy, stage_facts)


# -- evidence ---------------------------------------------------------------------------


def _stage_evidence(stage: Stage, policy: Policy) -> list[Evidence]:
    found: list[Evidence] = []
    language_files = {f: lang.name for lang in policy.languages for f in lang.files}
    for instruction in stage.instructions:
        keyword = instruction.keyword
        if keyword == "RUN":
            for command, to_source, _ in relative_commands(instruction):
                managed = manager_of(command)
                program = unwrap(command).name
                language = "python" if managed and managed[0] == "pip" else policy.language_of_program(program)
                if language:
                    found.append(Evidence(language, "command", f"`{program}` in RUN (line {instruction.start_line})",
                                          to_source(command.start)))
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
        names = set(observed.listing(path.parent))
    except OSError:
        return []
    return [
        Evidence(lang.name, "context", f"{name} in the build context")
        for lang in policy.languages
        for name in lang.files
        if name in names
    ]


# -- verdict ----------------------------------------------------------------------------


def _decide(facts: FileFacts) -> Decision:
    runtime = facts.runtime
    assert runtime is not None
    policy = facts.policy
    if _is_master_definition(facts):
        return Decision(Verdict.MASTER_DEFINITION, "the Dockerfile of a master image")
    if runtime.master is not None:
        return _on_master(facts, runtime.master)
    if runtime.keep is not None:
        return Decision(Verdict.KEEP, f"{runtime.image.short} is kept as is ({runtime.keep.category})", kept=runtime.keep)
    runs = _runs_kept_program(policy, runtime)
    if runs is not None:
        return runs
    language, why = _runtime_language(facts)
    image = runtime.image
    if image is None or not image.is_resolved:
        missing = ", ".join(sorted(image.unresolved)) if image else ""
        return Decision(Verdict.REVIEW,
                        f"the base image `{runtime.stage.base}` depends on build argument(s) {missing or 'without defaults'}",
                        language, policy.master_for_language(language), "arg")
    if not image.is_well_formed:
        return Decision(Verdict.REVIEW, f"the base image {image.raw!r} is not a valid image reference",
                        language, policy.master_for_language(language), "invalid")
    if language is None and why:
        return Decision(Verdict.REVIEW, f"{why}: choose the master by hand", None, None, "ambiguous")
    master = policy.master_for_language(language)
    if master is None:
        if language:
            return Decision(Verdict.OTHER,
                            f"{language_name(language)} service ({why}); there is no {language_name(language)} master",
                            language)
        build_only = _build_stage_languages(facts)
        if build_only:
            return Decision(Verdict.REVIEW,
                            f"{language_name(build_only)} is used only in build stages; the runtime base "
                            f"{image.short} is neither a master nor kept as is",
                            build_only, policy.master_for_language(build_only), "build-only")
        return Decision(Verdict.OTHER, f"no Python or Node.js evidence, and {image.short} is not in the keep-as-is catalogue")
    competing = _competing_runtimes(facts, language) if runtime.image_language is None else ""
    if competing:
        return Decision(Verdict.REVIEW, f"{language_name(language)} service ({why}), but {competing}: one runtime "
                        f"moves onto a master, a person decides which this image is", language, master, "multi-runtime")
    unsafe = _review_reason(facts, master)
    if unsafe:
        kind, text = unsafe
        return Decision(Verdict.REVIEW, f"{language_name(language)} service ({why}) {text}", language, master, kind)
    return Decision(Verdict.MIGRATE, f"{language_name(language)} service ({why})", language, master)


def _runs_kept_program(policy: Policy, runtime: StageFacts) -> Decision | None:
    """Infrastructure built from a plain OS (or any non-language) image is known by what it
    starts: ``FROM ubuntu`` + ``CMD ["ollama", "serve"]`` is the ollama service, kept as is.
    A language image running such a program stays a review (DM103 says why): its runtime
    may be what the service really is."""
    if runtime.image_language is not None:
        return None
    entry, program = entry_of(runtime.stage)
    kept = next((e for e in policy.catalogue if program in e.binaries), None) if program else None
    if kept is None:
        return None
    return Decision(Verdict.KEEP, f"{entry.keyword} runs `{program}`, the service of {kept.pattern.text} "
                    f"({kept.category}): kept as is although built FROM {runtime.image.short if runtime.image else runtime.stage.base}",
                    kept=kept)


def _runtime_language(facts: FileFacts) -> tuple[str | None, str]:
    runtime = facts.runtime
    assert runtime is not None
    masters = facts.policy.master_languages
    if runtime.image_language:
        entry, program, language = entry_language(facts.policy, runtime.stage)
        if language in masters and runtime.image_language in masters and language != runtime.image_language:
            return None, (f"the base image {runtime.image.display} is {language_name(runtime.image_language)} "
                          f"but {entry.keyword} runs `{program}`")
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


def _competing_runtimes(facts: FileFacts, language: str) -> str:
    """The evidence, in the shipped stage's chain, of runtimes that have no master (Java,
    Ruby, PHP, Go, .NET): a plain OS image given Node.js for a UI build beside Maven and
    Tomcat is not a Node.js service. Empty when there is none."""
    masters = facts.policy.master_languages
    others: dict[str, Evidence] = {}
    for evidence in facts.runtime.evidence:
        if evidence.language not in masters and evidence.language != language:
            others.setdefault(evidence.language, evidence)
    return "; ".join(f"it also {_as_clause(e)} ({language_name(e.language)})" for e in others.values())


def _as_clause(evidence: Evidence) -> str:
    reason = evidence.reason
    if evidence.kind == "command":
        return f"runs {reason}"
    if evidence.kind == "entrypoint":
        return f"starts it: {reason}"
    return reason  # "installs openjdk-17-jre (line 3)", "copies pom.xml"


def _build_stage_languages(facts: FileFacts) -> str | None:
    masters = facts.policy.master_languages
    for stage in facts.stages[:-1]:
        for evidence in stage.evidence:
            if evidence.language in masters:
                return evidence.language
    return None


def _on_master(facts: FileFacts, master: Master) -> Decision:
    """On a master: the right one, unless it runs the other language or a kept service."""
    stage = facts.runtime.stage
    entry, program, language = entry_language(facts.policy, stage)
    other = facts.policy.master_for_language(language)
    if other is not None and other is not master:
        return Decision(Verdict.MIGRATED, f"{language_name(language)} service ({entry.keyword} runs `{program}`) "
                        f"is on {master.image}: use {other.image}", master.language, master, "wrong-master")
    kept, evidence = catalogued_service(facts.policy, stage)
    if kept is not None:
        return Decision(Verdict.MIGRATED, f"{kept.pattern.text} ({kept.category}) is kept as is, but this file "
                        f"rebuilds it on {master.image} ({evidence}): build it from {kept.pattern.text} again",
                        master.language, master, "infrastructure")
    # what fails its build on the master (DM203, DM106 say where)
    broken = _account_conflict(facts.runtime, master) or _filled_workdir(facts.runtime, master)
    if broken is not None:
        kind, text = broken
        return Decision(Verdict.MIGRATED, f"on {master.image}, but it {text}", master.language, master, kind)
    return Decision(Verdict.MIGRATED, f"on {master.image}", master.language, master)


def entry_of(stage: Stage) -> tuple[Instruction | None, str | None]:
    """(instruction, program) of what the stage's image starts: its last ENTRYPOINT,
    else its last CMD, looked for in the stage and then in the ones it builds on."""
    for ancestor in stage.ancestry():
        instruction = ancestor.last("ENTRYPOINT") or ancestor.last("CMD")
        if instruction is not None:
            return instruction, entry_program(instruction)
    return None, None


def entry_language(policy: Policy, stage: Stage) -> tuple[Instruction | None, str | None, str | None]:
    """``entry_of`` with the language of the program."""
    instruction, program = entry_of(stage)
    return instruction, program, policy.language_of_program(program) if program else None


def catalogued_service(policy: Policy, stage: Stage) -> tuple[CatalogueEntry | None, str]:
    """A keep-as-is service the stage's chain runs (CMD/ENTRYPOINT) or installs (its OS
    package), with the evidence; (None, "") when there is none."""
    # the first entry that lists each package: one lookup per installed package (a RUN
    # may install 100k of them), not one scan of the catalogue
    entry_of_package: dict[str, CatalogueEntry] = {}
    for entry in policy.catalogue:
        for name in entry.packages:
            entry_of_package.setdefault(name, entry)
    for ancestor in stage.ancestry():
        for instruction in ancestor.instructions:
            if instruction.keyword in ("CMD", "ENTRYPOINT"):
                program = entry_program(instruction)
                for entry in policy.catalogue:
                    if program and program in entry.binaries:
                        return entry, f"{instruction.keyword} runs `{program}`"
            elif instruction.keyword == "RUN":
                for install in installs(instruction):
                    if install.manager not in ("apt", "apk", "yum", "dnf"):
                        continue
                    for package in install.packages:
                        entry = entry_of_package.get(package.name)
                        if entry is not None:
                            return entry, f"installs {package.name} on line {instruction.start_line}"
    return None, ""


def _review_reason(facts: FileFacts, master: Master) -> tuple[str, str] | None:
    """(kind, explanation) when moving the shipped stage onto ``master`` is not
    mechanical: the build or the service would break, or a person must choose."""
    runtime = facts.runtime
    return (_unknown_master(master) or _base_risk(facts.policy, runtime) or _runtime_risk(facts.policy, runtime, master)
            or _inherited_entry(runtime, master) or _kept_service(facts.policy, runtime) or _root_home(facts)
            or _account_conflict(runtime, master) or _filled_workdir(runtime, master))


def _unknown_master(master: Master) -> tuple[str, str] | None:
    """A master whose user or base no source states: the move cannot be shown safe."""
    fact = master.fact("user")
    if not fact.known:
        return "master-unknown", f"would move onto {master.image}, but the user it runs as is not known ({fact.source})"
    return None


def _base_risk(policy: Policy, runtime: StageFacts) -> tuple[str, str] | None:
    image = runtime.image
    if runtime.windows:
        return "windows", "is on a Windows base; the master is Linux"
    if runtime.musl:
        return "musl", "is on Alpine/musl: its packages and wheels need a Debian mapping"
    if runtime.distroless:
        return "distroless", "is on a distroless image: the master adds a shell and a package manager"
    listed = policy.review_base(image, lambda: programs_run(runtime.stage))
    if listed is not None:
        return listed.kind, f"is on {image.display}: {listed.reason}"
    others = sorted({install.manager for instruction in runtime.stage.lineage_instructions()
                     for install in installs(instruction) if install.manager in ("apk", "yum", "dnf")})
    if others:
        return "package-manager", f"installs with {others[0]}: the master is Debian, its packages need apt names"
    return None


def programs_run(stage: Stage) -> set[str]:
    """Programs the stage's chain runs: in its RUNs, and what its image starts."""
    found = {unwrap(command).name for instruction in stage.lineage_instructions() if instruction.keyword == "RUN"
             for command, _, _ in relative_commands(instruction)}
    _, program = entry_of(stage)
    return found | {program} if program else found


def _version(tag: str | None) -> tuple[int, ...] | None:
    match = re.match(r"(\d+)(?:\.(\d+))?", tag or "")
    if not match:
        return None
    return tuple(int(g) for g in match.groups() if g is not None)


def is_official(image: ImageRef | None) -> bool:
    """A Docker Hub library image: only its tag is its runtime's version."""
    return image is not None and image.registry == DOCKER_HUB and image.path.startswith("library/")


def runtime_version(policy: Policy, image: ImageRef, language: str) -> tuple[int, ...] | None:
    """The runtime version an image's tag names (``node:iron`` is 20); None for a floating
    tag (``lts``) or one without a version."""
    rules = policy.runtimes.get(language)
    first = (image.tag or "latest").split("-")[0]
    if rules is not None and first in rules.codenames:
        first = rules.codenames[first]
    return _version(first)


def _runtime_risk(policy: Policy, runtime: StageFacts, master: Master) -> tuple[str, str] | None:
    """Python 2, an end-of-life runtime, or a newer one than the master's (a codename
    tag names its version; a floating tag like ``lts`` is newer than any pinned master)."""
    image = runtime.image
    if runtime.image_language != master.language:
        return None
    rules = policy.runtimes.get(master.language)
    if rules is not None and (image.tag or "latest").split("-")[0] in rules.floating:
        return "downgrade", (f"is on {image.display}, which follows the newest release: moving to "
                             f"{master.base} may downgrade it")
    have = runtime_version(policy, image, master.language)
    if have and master.base is None:
        return "master-unknown", (f"is {language_name(master.language)} {'.'.join(map(str, have))}, and the base of "
                                  f"{master.image} is not known ({master.fact('base').source}): moving may change it")
    want = _version(parse_image_ref(master.base).tag) if master.base else None
    if have and want and have[0] == 2 and master.language == "python":
        return "python2", f"is Python 2; the master runs Python {'.'.join(map(str, want))}"
    eol = rules.end_of_life if rules is not None else None
    # only an official image's tag is its runtime's version (devcontainers/javascript-node:1-18 is not node 1)
    official = is_official(image)
    if have and eol and official and len(have) >= len(eol) and have[: len(eol)] <= eol:
        return "end-of-life", (f"is on {image.display}, an end-of-life {language_name(master.language)}: moving "
                               f"to {master.base} skips every release in between")
    if have and want and have[: len(want)] > want:
        return "downgrade", f"is newer than the master's {master.base}: moving would downgrade it"
    return None


def _inherited_entry(runtime: StageFacts, master: Master) -> tuple[str, str] | None:
    """A service that starts nothing of its own runs what its base starts; on the master
    that is the master's CMD, unless the base is the official image the master is built on."""
    if entry_of(runtime.stage)[0] is not None:
        return None
    image = runtime.image
    if is_official(image) and runtime.image_language == master.language:
        return None  # python:3.11 starts python3, like the master built on python
    started = " ".join(master.cmd) if master.cmd else "what the master's base starts"
    return "inherited-cmd", (f"has no CMD or ENTRYPOINT of its own: it runs what {image.display} starts, "
                             f"which on the master becomes {started}")


def _root_home(facts: FileFacts) -> tuple[str, str] | None:
    """``pip install --user`` as root puts packages in /root/.local: a service that ran as
    root imported them, as the master's user it cannot."""
    if facts.final_user[0] is not None:
        return None  # it chose its user itself: the move does not change it
    for instruction in facts.runtime.stage.lineage_instructions():
        for install in installs(instruction):
            if install.manager == "pip" and any(w.value == "--user" for w in install.command.words):
                return "root-home", (f"installs with pip --user as root (line {instruction.start_line}): as the "
                                     f"master's user the service would not find those packages")
    return None


def _kept_service(policy: Policy, runtime: StageFacts) -> tuple[str, str] | None:
    kept, evidence = catalogued_service(policy, runtime.stage)
    if kept is None:
        return None
    return "infrastructure", (f"{evidence}, a service kept as is ({kept.pattern.text}, {kept.category}): "
                              f"it does not belong on the master")


def _account_conflict(runtime: StageFacts, master: Master) -> tuple[str, str] | None:
    conflicts = [r.problem for r in recreated_accounts(runtime.stage, master) if not r.removable]
    return ("account", f"{conflicts[0]}: the build would fail on the master") if conflicts else None


def _filled_workdir(runtime: StageFacts, master: Master) -> tuple[str, str] | None:
    into = into_filled_workdir(runtime.stage, master)
    if not into:
        return None
    return "workdir", f"{into[0].what}, which {master.image} already fills: decide what the service keeps"


def _is_master_definition(facts: FileFacts) -> bool:
    """A master's own Dockerfile, by the config's ``dockerfile:``, its name, or its label:
    migrating it would make it build FROM itself."""
    path = facts.path
    for master in facts.policy.masters:
        if path is not None and master.dockerfile is not None and master.dockerfile.resolve() == path.resolve():
            return True
        if path is not None and master.named_by(path):
            return True
    for instruction in facts.dockerfile.instructions:
        # the cheap substring test first: env_values imports dockerfile-parse
        if instruction.keyword == "LABEL" and MASTER_LABEL in instruction.args and MASTER_LABEL in env_values(instruction):
            return True
    return False
