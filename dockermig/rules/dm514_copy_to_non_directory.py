"""DM514: COPY of several sources to a destination that is not a directory."""

from dockermig.fix import Applicability, Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity


class CopyToNonDirectory(Rule):
    """`COPY` of several sources to a destination without a trailing `/`.

    ## What it does
    Reports `COPY` and `ADD` with more than one source whose destination does not end
    with `/`. A destination given by a variable is not reported (its value may end
    with `/`).

    ## Why is this bad?
    BuildKit stops the build: several sources can only go into a directory, and the
    destination must say so with a trailing `/`.

    ## Fix safety
    Safe: a `/` is added to the destination; a build that failed now copies into that
    directory.

    ## References
    - hadolint DL3021. Deliberate difference: `ADD` is checked too (BuildKit refuses
      it the same way).
    """

    code = "DM514"
    name = "copy-to-non-directory"
    severity = Severity.ERROR
    tags = ("paths",)
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL3021",)
    keywords = frozenset({"COPY", "ADD"})

    examples = [
        Example.valid("FROM debian:12\nCOPY a.txt b.txt /data/\n"),
        Example.valid("FROM debian:12\nCOPY a.txt /data/b.txt\n"),
        Example.invalid("FROM debian:12\nCOPY a.txt b.txt /data\n", fixed="FROM debian:12\nCOPY a.txt b.txt /data/\n"),
        Example.invalid('FROM debian:12\nCOPY ["a.txt", "b.txt", "/my data"]\n',
                        fixed='FROM debian:12\nCOPY ["a.txt", "b.txt", "/my data/"]\n'),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword not in ("COPY", "ADD"):
                continue
            paths = instruction.exec_form or instruction.words
            if len(paths) < 3:
                continue
            destination = paths[-1]
            if destination.value.endswith("/") or "$" in destination.value:
                continue
            # insert before a closing quote: "/my data" -> "/my data/"
            quoted = destination.text[-1:] in "\"'" and len(destination.text) > 1
            at = destination.end - 1 if quoted else destination.end
            yield self.finding(ctx, instruction,
                               f"{len(paths) - 1} sources need a directory: end {destination.value} with /",
                               fix=Fix("Add a trailing /", [Edit(at, at, "/")], Applicability.SAFE))
