"""DM505: two stages with the same name."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.query import from_words


class DuplicateStageName(Rule):
    """Two build stages share a name.

    ## What it does
    Reports a `FROM ... AS name` whose name an earlier stage already has. Stage names
    are compared as BuildKit compares them: without regard to case.

    ## Why is this bad?
    BuildKit refuses the file; older builders used one of the stages, and which one a
    `COPY --from` or `--target` meant is anybody's guess.

    ## References
    - hadolint DL3024, BuildKit DuplicateStageName
    """

    code = "DM505"
    name = "duplicate-stage-name"
    severity = Severity.ERROR
    tags = ("stages",)
    hadolint = ("DL3024",)
    buildkit = ("DuplicateStageName",)
    keywords = frozenset({"FROM"})

    examples = [
        Example.valid("FROM golang:1.22 AS build\nFROM debian:12 AS app\n"),
        Example.invalid("FROM golang:1.22 AS build\nFROM debian:12 AS Build\n", line=2,
                        message="stage name Build is already used on line 1"),
    ]

    def check(self, ctx: LintContext):
        seen: dict[str, int] = {}
        for stage in ctx.dockerfile.stages:
            if stage.name is None:
                continue
            if stage.name in seen:
                word = from_words(stage.from_)[1]
                yield self.finding(ctx, word, f"stage name {word.value} is already used on line {seen[stage.name]}")
            else:
                seen[stage.name] = stage.from_.start_line
