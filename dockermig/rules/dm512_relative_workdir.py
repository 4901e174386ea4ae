"""DM512: a relative WORKDIR."""

import posixpath

from dockermig.fix import Applicability, Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._paths import is_absolute


class RelativeWorkdir(Rule):
    """Relative `WORKDIR`.

    ## What it does
    Reports a `WORKDIR` whose path is not absolute (nor a variable, nor a Windows path).

    ## Why is this bad?
    A relative `WORKDIR` is relative to the one before it, which may be the base
    image's: the same Dockerfile puts the app elsewhere when the base image changes its
    `WORKDIR`, which is what migrating onto a master does.

    ## Fix safety
    Safe, and only when an earlier absolute `WORKDIR` of the stage (or of the stages it
    is built on) fixes the directory: the path becomes that directory joined with the
    relative one, the same directory BuildKit resolves. Without one the base image
    decides, and nothing is offered.

    ## References
    - hadolint DL3000, BuildKit WorkdirRelativePath (BuildKit reports only a relative
      `WORKDIR` with no absolute one before it; dockermig reports both, and fixes the
      second kind)
    """

    code = "DM512"
    name = "relative-workdir"
    severity = Severity.ERROR
    tags = ("paths",)
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL3000",)
    buildkit = ("WorkdirRelativePath",)
    keywords = frozenset({"WORKDIR"})

    examples = [
        Example.valid("FROM debian:12\nWORKDIR /app\nWORKDIR $HOME/src\n"),
        Example.invalid("FROM debian:12\nWORKDIR app\n", fixed=None),
        Example.invalid("FROM debian:12\nWORKDIR /srv\nWORKDIR app\n",
                        fixed="FROM debian:12\nWORKDIR /srv\nWORKDIR /srv/app\n"),
    ]

    def check(self, ctx: LintContext):
        for stage in ctx.dockerfile.stages:
            current = "/" if stage.root_image is not None and stage.root_image.is_scratch else None
            for instruction in stage.lineage_instructions():
                if instruction.keyword != "WORKDIR" or not instruction.words:
                    continue
                word = instruction.words[0]
                plain = word.text == word.value
                if is_absolute(word.value):
                    current = word.value if plain and "$" not in word.value else None
                    continue
                if current is not None and plain:
                    current = posixpath.normpath(posixpath.join(current, word.value))
                    fix = Fix(f"Use {current}", [Edit(word.start, word.end, current)], Applicability.SAFE)
                else:
                    current, fix = None, None
                if instruction.stage is stage:  # a parent stage's WORKDIR is reported there
                    yield self.finding(ctx, instruction, f"WORKDIR {word.value} is relative: use an absolute path",
                                       fix=fix)
