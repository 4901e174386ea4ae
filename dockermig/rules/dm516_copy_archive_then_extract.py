"""DM516: an archive copied in, then unpacked by RUN."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules._archives import basename, is_archive
from dockermig.syntax.commands import Argv, text, uses

_UNPACKERS = ("tar", "unzip", "gunzip", "bunzip2", "unlzma", "unxz", "zcat", "gzcat", "uncompress")


class CopyArchiveThenExtract(Rule):
    """Archive copied with `COPY`, then unpacked by a `RUN`.

    ## What it does
    Reports a `COPY` of an archive (`.tar`, `.tar.gz`, `.tgz`...) that a later `RUN` of
    the same stage unpacks (`tar -x`, `gunzip`...).

    ## Why is this bad?
    The archive stays in the layer the `COPY` made, so the image carries it twice;
    `ADD` unpacks a local tarball in one step, and `RUN --mount=type=bind` reads it
    without copying it at all.

    ## References
    - hadolint DL3010
    """

    code = "DM516"
    name = "copy-archive-then-extract"
    severity = Severity.INFO
    tags = ("copy", "size")
    hadolint = ("DL3010",)
    keywords = frozenset({"COPY"})

    examples = [
        Example.valid("FROM debian:12\nADD app.tar.gz /opt/\n"),
        Example.valid("FROM debian:12\nCOPY app.tar.gz /opt/\n"),
        Example.invalid("FROM debian:12\nCOPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt\n",
                        line=2, message="app.tar.gz"),
    ]

    def check(self, ctx: LintContext):
        extracted: dict[tuple[int, str], bool] = {}
        for use in uses(ctx.dockerfile, *_UNPACKERS):
            if _extracts(use.argv) and use.instruction.stage is not None:
                for word in use.argv.operands():
                    extracted[use.instruction.stage.index, basename(text(word))] = True
        if not extracted:
            return
        for stage in ctx.dockerfile.stages:
            for instruction in stage.all("COPY"):
                if instruction.flag("from") is not None:
                    continue
                paths = [w.value for w in (instruction.exec_form or instruction.words)]
                if len(paths) < 2:
                    continue
                archives = [p for p in paths[:-1] if is_archive(p)] or ([paths[-1]] if is_archive(paths[-1]) else [])
                for archive in archives:
                    if extracted.get((stage.index, basename(archive))):
                        yield self.finding(ctx, instruction,
                                           f"{basename(archive)} is copied, then unpacked: ADD it, or bind-mount it")
                        break


def _extracts(argv: Argv) -> bool:
    if argv.name != "tar":
        return True
    return argv.has_arg("--extract", "--get") or any(
        text(w).startswith("-") and not text(w).startswith("--") and "x" in text(w) for w in argv.args
    ) or bool(argv.args and text(argv.args[0])[:1] == "x")
