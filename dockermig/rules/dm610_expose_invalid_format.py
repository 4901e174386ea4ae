"""DM610: EXPOSE with an IP address or a host port."""

from dockermig.fix import Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity


class ExposeInvalidFormat(Rule):
    """`EXPOSE` with an IP address or a host-port mapping.

    ## What it does
    Reports `EXPOSE 127.0.0.1:80:80` and `EXPOSE 8080:80`, like BuildKit's
    ExposeInvalidFormat check: `EXPOSE` takes a container port (or range) and a protocol.

    ## Why is this bad?
    The image records only the container port; the address and the host port are
    silently dropped, so the line promises a mapping that never happens (publishing is
    `docker run -p`'s job). BuildKit will make it an error.

    ## Fix safety
    Safe: the port becomes the container port it already records (`8080:80/udp` ->
    `80/udp`), so the image is the same. A port written with a variable is left alone.

    ## References
    - BuildKit check ExposeInvalidFormat, moby/buildkit#2173
    """

    code = "DM610"
    name = "expose-invalid-format"
    severity = Severity.WARNING
    tags = ("buildkit", "ports")
    fix_availability = FixAvailability.SOMETIMES
    buildkit = ("ExposeInvalidFormat",)

    examples = [
        Example.valid("FROM nginx:1.27\nEXPOSE 80 443/tcp 8000-8010\n"),
        Example.invalid(
            "FROM nginx:1.27\nEXPOSE 127.0.0.1:8080:80\n",
            message="should not define an IP address or host-port mapping, found '127.0.0.1:8080:80'",
            fixed="FROM nginx:1.27\nEXPOSE 80\n",
        ),
        Example.invalid("FROM nginx:1.27\nEXPOSE 8443:443/tcp\n", fixed="FROM nginx:1.27\nEXPOSE 443/tcp\n"),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword != "EXPOSE":
                continue
            for word in instruction.words:
                if ":" not in word.value:
                    continue
                fix = None
                if word.text == word.value and "$" not in word.text:
                    container_port = word.text.rsplit(":", 1)[1]
                    fix = Fix(f"Expose {container_port}", [Edit(word.start, word.end, container_port)])
                yield self.finding(
                    ctx, (word.start, word.end),
                    f"EXPOSE instruction should not define an IP address or host-port mapping, found '{word.value}'",
                    fix=fix,
                )
