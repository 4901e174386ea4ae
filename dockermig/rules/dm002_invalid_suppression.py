"""DM002: a suppression comment names a rule that does not exist."""

from dockermig.registry import rule_by_key
from dockermig.rule import Example, LintContext, Rule, Severity


class InvalidSuppression(Rule):
    """Suppression comment names an unknown rule.

    ## What it does
    Checks the codes of every `# dockermig: ignore=...` and
    `# dockermig: global ignore=...` comment against the rules dockermig has (codes and
    names). The codes of hadolint's own pragmas are hadolint's business and are not
    checked, but a `# hadolint ignore=` comment that hadolint itself cannot read (codes in
    lower case, a reason without a second `#`) is reported: it silences nothing in either
    tool.

    ## Why is this bad?
    A typo in a suppression silences nothing, while the comment says something is
    silenced; the finding it meant to hide still fails CI, and nobody knows why.

    ## References
    - ruff RUF100 / RUF101, hadolint pragmas
    """

    code = "DM002"
    name = "invalid-suppression"
    severity = Severity.ERROR
    tags = ("suppression",)
    after_suppressions = True

    examples = [
        Example.valid("# dockermig: ignore=DM101 moves in wave 3\nFROM python:3.11-slim\nRUN true\n"),
        Example.invalid("# dockermig: global ignore=DM999\nFROM debian:bookworm\n", message="unknown rule DM999"),
        Example.invalid("FROM debian:bookworm\n# hadolint ignore=DL3002 needs root\nUSER root\n",
                        message="hadolint does not read this pragma"),
    ]

    def check(self, ctx: LintContext):
        for pragma in ctx.pragmas:
            if pragma.problem:
                yield self.finding(ctx, pragma.comment, pragma.problem)
            if pragma.tool != "dockermig":
                continue
            for code in pragma.codes:
                if rule_by_key(code) is None:
                    yield self.finding(ctx, pragma.comment, f"suppression names an unknown rule {code}")
