"""DM001: the Dockerfile does not parse."""

from dockermig.rule import Example, LintContext, Rule, Severity


class UnparsableDockerfile(Rule):
    """Dockerfile that BuildKit would refuse to parse.

    ## What it does
    Reports what `docker build` rejects before running anything: an unterminated
    heredoc, a parser directive given twice, an escape directive other than `\\` or
    `` ` ``.

    ## Why is this bad?
    The image cannot be built at all, and no other rule can be trusted on a file whose
    instruction boundaries are wrong.

    ## References
    - BuildKit `frontend/dockerfile/parser`
    - hadolint DL1000 (its parse error): `--ignore DL1000` and `# hadolint ignore=DL1000`
      act on this rule. hadolint's parser rejects files BuildKit reads (a heredoc followed
      by a comment, templates); dockermig reports only what BuildKit refuses.
    """

    code = "DM001"
    name = "unparsable-dockerfile"
    severity = Severity.ERROR
    tags = ("syntax",)
    hadolint = ("DL1000",)

    examples = [
        Example.valid("FROM debian:bookworm\nRUN <<EOF\necho hi\nEOF\n"),
        Example.invalid("FROM debian:bookworm\nRUN <<EOF\necho hi\n", message="unterminated heredoc EOF", line=2),
    ]

    def check(self, ctx: LintContext):
        df = ctx.dockerfile
        for problem in df.problems:
            start = df.line_starts[problem.line - 1]
            yield self.finding(ctx, (start, start), problem.message)
