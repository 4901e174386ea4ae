"""DM540: apt-get install without -y."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._apt import APT
from dockermig.rules._packages import missing_flag
from dockermig.syntax.commands import RUN_KEYWORDS, text

# subcommands that ask for confirmation when they would change anything
_PROMPTING = ("install", "reinstall", "upgrade", "dist-upgrade", "full-upgrade", "remove", "purge",
              "autoremove", "build-dep")


class AptWithoutYes(Rule):
    """`apt-get install` without `-y`.

    ## What it does
    Reports `apt-get` (and `apt`, `aptitude`) `install`, `upgrade`, `remove`... without
    `-y`/`--yes`/`--assume-yes`, `-qq` (which implies it) or `APT::Get::Assume-Yes`.

    ## Why is this bad?
    A build has no terminal to answer apt's "Do you want to continue? [Y/n]": apt-get
    aborts, and the build fails whenever the install pulls in anything unexpected.

    ## Fix safety
    Safe: `-y` is added after the subcommand; a step that could only abort now proceeds.

    ## References
    - hadolint DL3014. Deliberate differences: a single `-q` does not count (it does not
      answer the prompt; hadolint accepts it), and the other prompting subcommands and
      `apt`/`aptitude` are checked too.
    """

    code = "DM540"
    name = "apt-without-yes"
    severity = Severity.WARNING
    tags = ("packages", "apt")
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL3014",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM debian:12\nRUN apt-get -qq install curl && apt-get install --yes git\n"),
        Example.invalid("FROM debian:12\nRUN apt-get update && apt-get install curl\n",
                        fixed="FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"),
    ]

    def check(self, ctx: LintContext):
        return missing_flag(self, ctx, APT, _PROMPTING, ("y", "yes", "assume-yes"),
                            "apt-get would ask for confirmation: add -y", "-y", accept=_answers_yes)


def _answers_yes(argv) -> bool:
    if argv.has_flag("s", "simulate", "dry-run", "just-print", "no-act", "recon", "print-uris"):
        return True  # a simulation changes nothing, so asks nothing
    values = [text(w) for w in argv.args]
    quiet = sum(v.count("q") for v in values if v.startswith("-") and not v.startswith("--"))
    quiet += values.count("--quiet")
    return quiet >= 2 or any(v.startswith("--quiet=2") or v.startswith("-q=2") or "Assume-Yes=true" in v
                             for v in values)
