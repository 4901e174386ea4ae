"""DM609: the protocol of an EXPOSE port is not lower case."""

from dockermig.fix import Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity


class ExposeProtoCasing(Rule):
    """`EXPOSE` protocol not in lower case.

    ## What it does
    Reports `EXPOSE 53/UDP` and other protocols with capital letters, like BuildKit's
    ExposeProtoCasing check.

    ## Why is this bad?
    BuildKit lower-cases the protocol, so the image is right, but tools that read the
    Dockerfile itself (compose generators, scanners, this linter's port checks) may
    not, and `docker build` warns.

    ## Fix safety
    Safe: the protocol is lower-cased; a port written with a variable is left alone.

    ## References
    - BuildKit check ExposeProtoCasing
    """

    code = "DM609"
    name = "expose-proto-casing"
    severity = Severity.INFO
    tags = ("buildkit", "style")
    fix_availability = FixAvailability.SOMETIMES
    buildkit = ("ExposeProtoCasing",)

    examples = [
        Example.valid("FROM coredns/coredns:1.11.1\nEXPOSE 53/udp 53/tcp\n"),
        Example.invalid(
            "FROM coredns/coredns:1.11.1\nEXPOSE 53/UDP 53\n",
            message="Defined protocol '53/UDP' in EXPOSE instruction should be lowercase",
            fixed="FROM coredns/coredns:1.11.1\nEXPOSE 53/udp 53\n",
        ),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword != "EXPOSE":
                continue
            for word in instruction.words:
                _, slash, protocol = word.value.partition("/")
                if not slash or protocol == protocol.lower():
                    continue
                fix = None
                if word.text == word.value and "$" not in word.text:
                    fix = Fix("Lower-case the protocol", [Edit(word.start, word.end, word.text.lower())])
                yield self.finding(
                    ctx, (word.start, word.end),
                    f"Defined protocol '{word.value}' in EXPOSE instruction should be lowercase", fix=fix,
                )
