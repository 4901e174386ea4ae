"""DM521: EXPOSE of a port outside 0-65535."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.lexer import expand


class PortOutOfRange(Rule):
    """`EXPOSE` of a port outside 0–65535.

    ## What it does
    Reports an `EXPOSE` port (or either end of a port range) above 65535, once
    `ARG`/`ENV` variables are expanded.

    ## Why is this bad?
    No such port exists: the build fails, or the port silently means nothing.

    ## References
    - hadolint DL3011
    """

    code = "DM521"
    name = "port-out-of-range"
    severity = Severity.ERROR
    tags = ("ports",)
    hadolint = ("DL3011",)
    keywords = frozenset({"EXPOSE"})

    examples = [
        Example.valid("FROM debian:12\nEXPOSE 8080 53/udp 8000-8010\n"),
        Example.invalid("FROM debian:12\nEXPOSE 80800\n", message="80800"),
    ]

    def check(self, ctx: LintContext):
        for stage in ctx.dockerfile.stages:
            for instruction in stage.all("EXPOSE"):
                variables = stage.variables(instruction) if "$" in instruction.args else {}
                for word in instruction.words:
                    value = expand(word.value, variables)[0]
                    ports = value.partition("/")[0].split("-")
                    if any(p.isdigit() and int(p) > 65535 for p in ports):
                        yield self.finding(ctx, word, f"port {value} is outside 0-65535")
