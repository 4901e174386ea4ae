"""DM538: apt, the interactive front end, in a RUN."""

from dockermig.fix import Applicability, Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.syntax.commands import RUN_KEYWORDS, once_per_run, uses

# subcommands apt-get has with the same meaning (apt's upgrade also installs new
# packages, apt-get's does not; list, search and show have no apt-get form)
_SAME_IN_APT_GET = ("install", "update", "remove", "purge", "autoremove", "clean", "autoclean", "dist-upgrade")


class AptInsteadOfAptGet(Rule):
    """`apt` in a `RUN` instead of `apt-get`.

    ## What it does
    Reports `apt` commands in `RUN` scripts.

    ## Why is this bad?
    `apt` is the interactive front end: its command line is not stable between
    releases (it says so on every run in a script), and its output is meant for a
    terminal. `apt-get` and `apt-cache` are the scripting interface.

    ## Fix safety
    Safe, for `install`, `update`, `remove`, `purge`, `autoremove`, `clean`,
    `autoclean` and `dist-upgrade`: `apt` becomes `apt-get`, which does the same. Other
    subcommands (`upgrade`, `list`, `search`...) are left for a person.

    ## References
    - hadolint DL3027
    """

    code = "DM538"
    name = "apt-instead-of-apt-get"
    severity = Severity.WARNING
    tags = ("packages", "apt")
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL3027",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM debian:12\nRUN apt-get update\n"),
        Example.invalid("FROM debian:12\nRUN apt update && apt install -y curl\n",
                        fixed="FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"),
        Example.invalid("FROM debian:12\nRUN apt upgrade -y\n", fixed=None),
    ]

    def check(self, ctx: LintContext):
        for use in once_per_run(uses(ctx.dockerfile, "apt")):
            argv = use.argv
            program = argv.command.words[0]
            fix = None
            if argv.first(*_SAME_IN_APT_GET) is not None and program.value == "apt":
                fix = Fix("Use apt-get", [Edit(program.start, program.end, "apt-get")], Applicability.SAFE)
            yield self.finding(ctx, use.span, "apt is for terminals: use apt-get in scripts", fix=fix)
