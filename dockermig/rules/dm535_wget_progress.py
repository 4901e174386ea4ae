"""DM535: wget printing its progress bar into the build log."""

from dockermig.fix import Applicability, Fix
from dockermig.fix.edits import insert_after
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.commands import RUN_KEYWORDS, once_per_run, uses


class WgetProgress(Rule):
    """`wget` without a quieter progress setting.

    ## What it does
    Reports `wget` without `--progress`, `-q`/`--quiet`, `-nv`/`--no-verbose`, or an
    output log (`-o`, `-a`).

    ## Why is this bad?
    wget's default progress bar writes thousands of lines into a non-interactive build
    log, which buries the errors and slows CI log viewers.

    ## Fix safety
    Unsafe: `--progress=dot:giga` is added after `wget`. GNU wget knows it; BusyBox's
    (Alpine) does not, so no fix is offered on an Alpine or BusyBox base, and on an
    unknown base the build may stop with an unknown option.

    ## References
    - hadolint DL3047
    """

    code = "DM535"
    name = "wget-progress"
    severity = Severity.INFO
    tags = ("shell", "logs")
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL3047",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM debian:12\nRUN wget -q https://example.com/a.tgz\n"),
        Example.invalid(
            "FROM debian:12\nRUN wget https://example.com/a.tgz\n",
            fixed="FROM debian:12\nRUN wget --progress=dot:giga https://example.com/a.tgz\n",
            applicability="unsafe",
        ),
        Example.invalid("FROM alpine:3.20\nRUN wget https://example.com/a.tgz\n", fixed=None, applicability="unsafe"),
    ]

    def check(self, ctx: LintContext):
        for use in once_per_run(u for u in uses(ctx.dockerfile, "wget") if not _quiet(u.argv)):
            argv = use.argv
            fix = None
            if not _busybox(use.instruction.stage):
                fix = Fix("Add --progress=dot:giga", [insert_after(argv.command.words[0], "--progress=dot:giga")],
                          Applicability.UNSAFE)
            yield self.finding(ctx, use.span, "wget without --progress or -q: its progress bar floods the build log",
                               fix=fix)


def _quiet(argv) -> bool:
    return argv.has_flag("progress", "q", "quiet", "o", "output-file", "a", "append-output", "no-verbose") \
        or argv.has_arg("-nv")


def _busybox(stage) -> bool:
    image = stage.root_image if stage is not None else None
    return image is None or "alpine" in image.short or "alpine" in (image.tag or "") or "busybox" in image.short
