"""DM560: gems installed without a version."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules._packages import names, unpinned_operands
from dockermig.syntax.commands import RUN_KEYWORDS

# gem install options that take the next word as their value
_VALUE_FLAGS = ("v", "version", "s", "source", "n", "bindir", "i", "install-dir", "platform", "P", "trust-policy",
                "g", "file", "build-root")


class GemUnpinned(Rule):
    """Gems installed without a version.

    ## What it does
    Reports `gem install` of gems without a version (`rails:7.1.3`, or `-v`/`--version`
    for the command). `.gem` files and option values (`--source URL`) are not gems.

    ## Why is this bad?
    The image gets the newest release the day it is built: builds of one commit differ.

    ## References
    - hadolint DL3028. Deliberate difference: option values are not read as gem names.
    """

    code = "DM560"
    name = "gem-unpinned"
    severity = Severity.WARNING
    tags = ("packages", "gem", "reproducibility")
    hadolint = ("DL3028",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM ruby:3.3-slim\nRUN gem install bundler:2.5.11 && gem install rails -v 7.1.3\n"),
        Example.invalid("FROM ruby:3.3-slim\nRUN gem install --source https://rubygems.org bundler\n",
                        message="bundler"),
    ]

    def check(self, ctx: LintContext):
        for use, loose in unpinned_operands(ctx, ("gem",), ("install", "i"), _VALUE_FLAGS, _pinned):
            yield self.finding(ctx, use.span, f"gems without a version: {names(loose)} (pin them with name:version)")


def _pinned(argv, gem: str) -> bool:
    return ":" in gem or gem.endswith(".gem") or gem == "--" or argv.has_flag("v", "version")
