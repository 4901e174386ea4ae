"""DM608: with the ARG defaults, a FROM names no valid image."""


from dockermig.buildkit import is_valid_reference
from dockermig.regex import compile_on_use
from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.lexer import expand
from dockermig.syntax.query import arg_defaults, from_words

# what the predefined platform ARGs hold in a plain `docker build` on a typical builder
_PREDEFINED_VALUES = {
    "BUILDPLATFORM": "linux/amd64", "BUILDOS": "linux", "BUILDARCH": "amd64", "BUILDVARIANT": "",
    "TARGETPLATFORM": "linux/amd64", "TARGETOS": "linux", "TARGETARCH": "amd64", "TARGETVARIANT": "",
}
_UNSET = compile_on_use(r"\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)")


class InvalidDefaultArgInFrom(Rule):
    """`FROM` image that is empty or invalid with the `ARG` defaults.

    ## What it does
    Expands each `FROM` image that uses variables with the defaults of the `ARG`s before
    the first `FROM` (an `ARG` without a default is empty), and reports a result that is
    not a valid image reference (`python:`, an empty name, capital letters), like
    BuildKit's InvalidDefaultArgInFrom check. A `FROM` without variables is left to the
    build: BuildKit rejects it outright.

    ## Why is this bad?
    The Dockerfile builds only when every build passes the right `--build-arg`; a plain
    `docker build`, a CI job that forgets it, or a linter that reads the base image get
    an error or a wrong image. Give the `ARG` a working default.

    ## References
    - BuildKit check InvalidDefaultArgInFrom
    """

    code = "DM608"
    name = "invalid-default-arg-in-from"
    severity = Severity.WARNING
    tags = ("buildkit", "args")
    buildkit = ("InvalidDefaultArgInFrom",)

    examples = [
        Example.valid("ARG TAG=3.12-slim\nFROM python:${TAG}\nARG VARIANT\nFROM alpine${VARIANT}\n"),
        Example.invalid(
            "ARG TAG\nFROM python:${TAG}\n",
            message="Default value for ARG python:${TAG} results in empty or invalid base image name",
        ),
        Example.invalid("ARG IMAGE\nFROM $IMAGE\n"),
    ]

    def check(self, ctx: LintContext):
        values = dict(_PREDEFINED_VALUES)
        in_stages = False  # only the ARGs before the first FROM reach FROM lines
        for instruction in ctx.dockerfile.instructions:
            in_stages = in_stages or instruction.keyword == "FROM"
            if instruction.keyword == "ARG" and not in_stages:
                for name, default in arg_defaults(instruction).items():
                    if default is not None:
                        values[name] = _expanded(default, values)
                    else:
                        values.pop(name, None)
            elif instruction.keyword == "FROM":
                image, _ = from_words(instruction)
                if image is None or "$" not in image.value:
                    continue
                if not is_valid_reference(_expanded(image.value, values)):
                    yield self.finding(
                        ctx, (image.start, image.end),
                        f"Default value for ARG {image.value} results in empty or invalid base image name",
                    )


def _expanded(text: str, values: dict[str, str]) -> str:
    """``text`` with ``values`` substituted and every variable without a value empty."""
    return _UNSET.sub("", expand(text, values)[0])
