"""What the package-manager rules (DM540-DM561) share: a missing flag and its fix, a
cleanup missing after installs and its fix, unpinned packages, rpm version pins."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dockermig.fix import Applicability, Edit, Fix
from dockermig.fix.edits import NotSafe, append_command, insert_after
from dockermig.regex import compile_on_use
from dockermig.syntax.commands import (
    Argv,
    Use,
    cache_mounted,
    lacking_flag,
    once_per_run,
    runs,
    uses,
)
from dockermig.syntax.shell import Install, Package, installs


def missing_flag(rule, ctx, programs: tuple[str, ...], verbs: tuple[str, ...], flags: tuple[str, ...],
                 message: str, insert: str, applicability: Applicability = Applicability.SAFE,
                 accept: Callable[[Argv], bool] | None = None, cache: tuple[str, ...] = ()) -> Iterator:
    """A finding for each ``program verb`` that has none of ``flags`` (nor passes
    ``accept``, nor runs with a build cache mounted on one of ``cache``), with the fix
    that adds ``insert`` after the verb."""
    lacking = (
        (use, verb) for use, verb in lacking_flag(ctx.dockerfile, programs, verbs, flags)
        if not (accept is not None and accept(use.argv)) and not (cache and cache_mounted(use.instruction, *cache))
    )
    for use, verb in once_per_run(lacking, lambda pair: pair[0].instruction):
        yield rule.finding(ctx, use.span, message,
                           fix=Fix(f"Add {insert}", [insert_after(verb, insert)], applicability))


def missing_cleanup(rule, ctx, programs: tuple[str, ...], installs: Callable[[Argv], bool],
                    cleans: Callable[[Argv], bool], cleanup: Callable[[Use], str], cache: tuple[str, ...],
                    message: str, cleanup_programs: tuple[str, ...] = ()) -> Iterator:
    """A finding for each RUN whose last install (``installs``) is not followed, in the
    same RUN, by a cleanup (``cleans``), unless the RUN mounts a build cache on one of
    ``cache``. The fix appends the command ``cleanup(install)`` to the RUN. A cleanup
    *before* the install cleans nothing (hadolint counts it: hadolint/hadolint#957)."""
    dockerfile = ctx.dockerfile
    last_install: dict[int, Use] = {}
    for use in uses(dockerfile, *programs):
        if installs(use.argv):
            last_install[id(use.instruction)] = use
    if not last_install:
        return
    cleaned: set[int] = set()
    for use in uses(dockerfile, *programs, *cleanup_programs):
        install = last_install.get(id(use.instruction))
        if install is not None and cleans(use.argv) and use.argv.command.start > install.argv.command.start:
            cleaned.add(id(use.instruction))
    for key, install in last_install.items():
        if key in cleaned or cache_mounted(install.instruction, *cache):
            continue
        yield rule.finding(ctx, install.span, message, fix=cleanup_fix(dockerfile, install, cleanup(install)))


def cleanup_fix(dockerfile, install: Use, command: str) -> Fix | None:
    """The safe fix that ends the install's RUN with ``&& command``, where it can."""
    try:
        edit = append_command(dockerfile, install.instruction, install.argv.command.script, command)
    except NotSafe:
        return None
    # The command cleaned up after, rewritten as itself: a fix that deletes it (the
    # migration removing an install the master ships) overlaps this one, which waits for
    # the next pass and is gone with its command, instead of leaving a cleanup for nothing.
    start, end = install.argv.command.start, install.argv.command.end
    premise = Edit(start, end, dockerfile.text[start:end])
    return Fix(f"Add {command}", [premise, edit], Applicability.SAFE)


_VERSION_PART = compile_on_use(r"^[0-9][0-9A-Za-z.~^_:+]*$|^[A-Za-z.~^_:+][0-9A-Za-z.~^_:+]*$")


def rpm_pinned(package: str) -> bool:
    """Whether an rpm package argument names a version (``httpd-2.4.6``, a ``.rpm``
    file), read as hadolint's DL3041 does: after a dash, version characters, one part
    starting with a digit. ``python3-pip`` has no version."""
    if package.endswith(".rpm"):
        return True
    parts = package.split("-")[1:]
    return bool(parts) and all(_VERSION_PART.match(p) for p in parts) and any(p[:1].isdigit() for p in parts)


def unpinned(ctx, manager: str, pinned: Callable[[Package], bool], skip: Callable[[Install], bool] | None = None):
    """(install, unpinned package words) for each install command of ``manager`` that
    names packages without a version, by ``pinned``. A word with an expansion
    (``$PACKAGES``) is not judged: its value is unknown (hadolint reports it:
    hadolint/hadolint#928)."""
    for run in runs(ctx.dockerfile):
        for install in installs(run):
            if install.manager != manager or (skip is not None and skip(install)):
                continue
            loose = [p.word.value for p in install.packages if not pinned(p)]
            if loose:
                yield install, loose
                break  # once per RUN


def names(packages: list[str]) -> str:
    """The first few names for a message: ``curl, git and 3 more``."""
    shown = ", ".join(packages[:3])
    return shown if len(packages) <= 3 else f"{shown} and {len(packages) - 3} more"


def unpinned_operands(ctx, programs: tuple[str, ...], verbs: tuple[str, ...], value_flags: tuple[str, ...],
                      pinned: Callable[[Argv, str], bool]):
    """(use, unpinned operands) for each ``program verb`` whose operands after the verb
    (flag values aside) include one without a version, by ``pinned(argv, operand)``.
    Operands with an expansion are not judged."""
    found = []
    for use in uses(ctx.dockerfile, *programs):
        verb = use.argv.first(*verbs)
        if verb is None:
            continue
        operands = use.argv.operands(value_flags, after=verb)
        loose = [w.value for w in operands if w.value is not None and not pinned(use.argv, w.value)]
        if loose:
            found.append((use, loose))
    return once_per_run(found, lambda pair: pair[0].instruction)
