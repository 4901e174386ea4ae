"""DM552: zypper without its non-interactive switch."""

from dockermig.fix import Applicability, Fix
from dockermig.fix.edits import insert_after
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._rpm import ZYPPER
from dockermig.syntax.commands import RUN_KEYWORDS, once_per_run, uses

_PROMPTING = ("install", "in", "remove", "rm", "source-install", "si", "patch", "update", "up")


class ZypperNonInteractive(Rule):
    """`zypper install` without a non-interactive switch.

    ## What it does
    Reports `zypper install` (`in`, `remove`, `rm`, `source-install`, `patch`, `update`)
    without `-y`/`--no-confirm` or the global `-n`/`--non-interactive`.

    ## Why is this bad?
    A build has no terminal to answer zypper's prompts: the step aborts.

    ## Fix safety
    Safe: the global `--non-interactive` is added after `zypper`; it answers the prompts
    with their defaults, which is what `-y` does for the confirmation.

    ## References
    - hadolint DL3034. Deliberate difference: the global `-n`/`--non-interactive`
      counts (hadolint wants `-y` after the subcommand).
    """

    code = "DM552"
    name = "zypper-non-interactive"
    severity = Severity.WARNING
    tags = ("packages", "zypper")
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL3034",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM opensuse/leap:15.6\nRUN zypper -n install curl=8.6.0 && zypper in -y git=2.43.0\n"),
        Example.invalid("FROM opensuse/leap:15.6\nRUN zypper install curl=8.6.0\n",
                        fixed="FROM opensuse/leap:15.6\nRUN zypper --non-interactive install curl=8.6.0\n"),
    ]

    def check(self, ctx: LintContext):
        prompting = (u for u in uses(ctx.dockerfile, *ZYPPER) if u.argv.first(*_PROMPTING) is not None
                     and not u.argv.has_flag("y", "no-confirm", "n", "non-interactive"))
        for use in once_per_run(prompting):
            argv = use.argv
            yield self.finding(ctx, use.span, "zypper would ask for confirmation: add --non-interactive",
                               fix=Fix("Add --non-interactive",
                                       [insert_after(argv.command.words[0], "--non-interactive")], Applicability.SAFE))
