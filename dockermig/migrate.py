"""The migration of a service onto its master, as one atomic fix.

1. The base: the image word of the runtime stage's FROM becomes the master image
   (``--platform`` and ``AS name`` untouched). A base given entirely by an ``ARG`` is
   rewritten at the ARG's default when that ARG feeds nothing else; otherwise there is
   no fix and the finding asks for review.
2. The installs: packages the master ships leave the RUNs of the shipped stage (for
   each package table whose DM3xx rule is enabled), exactly as those rules' fixes do.
3. The user: the master runs as a non-root user, so the RUNs that ran as root before the
   file's first own ``USER`` get a ``USER root`` above them, and unless the file switches
   to a user of its own, it ends with ``USER <master user>`` before CMD/ENTRYPOINT, as
   the master template does. RUNs that the package fixes delete entirely are not counted.
"""

from __future__ import annotations

import re

from dockermig.edits import NotSafe, insert_lines_after, insert_lines_before, keyword
from dockermig.fix import Applicability, Edit, Fix
from dockermig.masters import Master
from dockermig.packages import RULE_OF_TABLE, deletes_whole, run_removal
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.query import arg_defaults, from_words

_WHOLE_VARIABLE = re.compile(r"^\$(?:\{(\w+)(?::?[-+][^}]*)?\}|(\w+))$")


def migration_fix(ctx, master: Master, level: Applicability = Applicability.SAFE) -> Fix | None:
    facts = ctx.facts
    dockerfile = ctx.dockerfile
    runtime = facts.runtime
    chain = list(reversed(list(runtime.stage.ancestry())))
    root_stage = chain[0]
    base_edit = _base_edit(dockerfile, root_stage.from_, master)
    if base_edit is None:
        return None
    instructions = [i for stage in chain for i in stage.instructions]
    tables = {table for table, (code, name) in RULE_OF_TABLE.items() if ctx.config.is_enabled(code, name)}
    removals: list[Edit] = []
    gone: set[Instruction] = set()
    for instruction in instructions:
        if instruction.keyword != "RUN" or not tables:
            continue
        try:
            edits = run_removal(ctx, instruction, level, tables)
        except NotSafe:
            continue  # the DM3xx findings stay, for a person
        removals += edits
        if deletes_whole(instruction, edits):
            gone.add(instruction)
    plan = _user_plan(ctx, instructions, gone)

    def build() -> list[Edit]:
        from dockermig.render import render_line

        override = ctx.config.templates_dir
        lower = keyword(dockerfile, "USER") == "user"
        edits = [base_edit, *removals]
        for where, before, user in plan:
            line = render_line("user.j2", override, lower=lower, user=user or master.user)
            edits.append(insert_lines_before(dockerfile, where, [line]) if before
                         else insert_lines_after(dockerfile, where, [line]))
        return edits

    return Fix(f"Migrate onto {master.image}", applicability=level, build=build)


def _base_edit(dockerfile, from_: Instruction, master: Master) -> Edit | None:
    image_word, _ = from_words(from_)
    if image_word is None:
        return None
    if "$" not in image_word.text:
        return Edit(image_word.start, image_word.end, master.image)
    whole = _WHOLE_VARIABLE.match(image_word.value)
    if whole is None:
        # python:${PYTHON_VERSION}-slim: the master fixes the version, the ARG goes unused
        return Edit(image_word.start, image_word.end, master.image)
    name = whole[1] or whole[2]
    declaration = None
    for instruction in dockerfile.instructions:
        if instruction.keyword == "FROM":
            break
        if instruction.keyword == "ARG" and name in arg_defaults(instruction):
            declaration = instruction
    if declaration is None or _used_elsewhere(dockerfile, name, declaration, from_):
        return None  # the ARG feeds something else too: a person decides
    for word in declaration.words:
        if word.value.partition("=")[0] == name:
            return Edit(word.start, word.end, f"{name}={master.image}")
    return None


def _used_elsewhere(dockerfile, name: str, declaration: Instruction, from_: Instruction) -> bool:
    reference = re.compile(r"\$(?:\{" + re.escape(name) + r"\b|" + re.escape(name) + r"\b)")
    return any(
        reference.search(instruction.logical)
        for instruction in dockerfile.instructions
        if instruction is not declaration and instruction is not from_
    )


def _user_plan(ctx, instructions: list[Instruction], gone: set[Instruction]):
    """(anchor instruction, insert before?, user or None for the master's user) triples."""
    plan = []
    first_user = next((i for i in instructions if i.keyword == "USER"), None)
    before_user = instructions[: instructions.index(first_user)] if first_user else instructions
    runs = [i for i in before_user if i.keyword == "RUN" and i not in gone]
    if runs:
        plan.append((runs[0], True, "root"))
    if first_user is not None:
        return plan
    after_last_run = instructions[instructions.index(runs[-1]) + 1 :] if runs else instructions
    anchor = next((i for i in after_last_run if i.keyword in ("CMD", "ENTRYPOINT")), None)
    if anchor is not None:
        plan.append((anchor, True, None))
    elif instructions:
        plan.append((instructions[-1], False, None))
    else:
        plan.append((ctx.facts.runtime.stage.from_, False, None))
    return plan

