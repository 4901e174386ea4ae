"""DM537: useradd of a high uid without -l."""

from dockermig.fix import Applicability, Fix
from dockermig.fix.edits import insert_after
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.commands import RUN_KEYWORDS, once_per_run, text, uses


class UseraddWithoutNoLogInit(Rule):
    """`useradd` of a high uid without `-l`.

    ## What it does
    Reports `useradd -u <uid>` with a uid of more than five digits and without
    `-l`/`--no-log-init`.

    ## Why is this bad?
    useradd reserves the user's entry in the lastlog and faillog databases, sparse files
    indexed by uid: a uid like 1234567 writes a file of gigabytes into the layer.

    ## Fix safety
    Safe: `-l` only skips those log databases.

    ## References
    - hadolint DL3046
    """

    code = "DM537"
    name = "useradd-without-no-log-init"
    severity = Severity.WARNING
    tags = ("user", "size")
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL3046",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM debian:12\nRUN useradd -l -u 1234567 app\n"),
        Example.valid("FROM debian:12\nRUN useradd -u 1001 app\n"),
        Example.invalid("FROM debian:12\nRUN useradd -u 1234567 app\n",
                        fixed="FROM debian:12\nRUN useradd -l -u 1234567 app\n"),
    ]

    def check(self, ctx: LintContext):
        big = (u for u in uses(ctx.dockerfile, "useradd")
               if not u.argv.has_flag("l", "no-log-init") and _uid(u.argv).isdigit() and len(_uid(u.argv)) > 5)
        for use in once_per_run(big):
            argv = use.argv
            yield self.finding(ctx, use.span, "useradd of a high uid without -l writes huge lastlog/faillog files",
                               fix=Fix("Add -l", [insert_after(argv.command.words[0], "-l")], Applicability.SAFE))


def _uid(argv) -> str:
    args = [text(w) for w in argv.args]
    for i, value in enumerate(args):
        if value.startswith("--uid="):
            return value.partition("=")[2]
        if value in ("-u", "--uid") and i + 1 < len(args):
            return args[i + 1]
    return ""
