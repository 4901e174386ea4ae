"""DM515: ADD where COPY does the same."""

from dockermig.fix import Applicability, Edit, Fix
from dockermig.fix.edits import same_case
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._archives import REMOTE, archive_by_content, is_archive
from dockermig.syntax.lexer import expand

# flags only ADD has: with one of them, ADD is chosen on purpose
_ADD_ONLY_FLAGS = frozenset({"checksum", "keep-git-dir", "unpack"})


class AddInsteadOfCopy(Rule):
    """`ADD` of local files, where `COPY` does the same.

    ## What it does
    Reports an `ADD` whose sources are all local files or directories that are not
    archives: no URL, no git repository, no tarball to unpack, no ADD-only flag. A
    source given by a variable is judged by the value `ARG`/`ENV` give it, and not
    reported when that is unknown (it may be a URL).

    ## Why is this bad?
    `ADD` fetches URLs and unpacks archives, so a reader (and a reviewer) has to check
    which one it does; `COPY` only copies. A `.zip` is not unpacked by `ADD`, so it is
    treated as a plain file. ADD recognises an archive by its content: a source in the
    build context that is a tarball, whatever its name, is not reported.

    ## Fix safety
    Safe: the keyword becomes `COPY` (in the case it is written in); for local files
    that are not archives both copy the same bytes with the same flags.

    ## References
    - hadolint DL3020
    """

    code = "DM515"
    name = "add-instead-of-copy"
    severity = Severity.ERROR
    tags = ("copy",)
    fix_availability = FixAvailability.ALWAYS
    hadolint = ("DL3020",)
    keywords = frozenset({"ADD"})

    examples = [
        Example.valid("FROM debian:12\nADD https://example.com/tool.tar.gz /opt/\nADD rootfs.tar.xz /\n"),
        Example.invalid("FROM debian:12\nADD --chown=app app.py requirements.txt /app/\n",
                        fixed="FROM debian:12\nCOPY --chown=app app.py requirements.txt /app/\n"),
        Example.invalid("from debian:12\nadd site.zip /srv/\n", fixed="from debian:12\ncopy site.zip /srv/\n"),
        Example.valid("FROM debian:12\nARG SRC\nADD $SRC /opt/\n"),
        # a tarball by its content, whatever its name: ADD unpacks it
        Example.valid("FROM scratch\nADD rootfs /\n", files={"rootfs": "rootfs/" + "\0" * 250 + "ustar\0"}),
        Example.invalid("FROM debian:12\nENV PKG=tool/\nADD $PKG /opt/\n",
                        fixed="FROM debian:12\nENV PKG=tool/\nCOPY $PKG /opt/\n"),
    ]

    def check(self, ctx: LintContext):
        text = ctx.dockerfile.text
        for stage in ctx.dockerfile.stages:
            for instruction in stage.all("ADD"):
                if any(f.name in _ADD_ONLY_FLAGS for f in instruction.flags):
                    continue
                paths = instruction.exec_form or instruction.words
                sources = [w.value for w in paths[:-1]]
                if any("$" in s for s in sources):  # judged by the values ARG/ENV give them
                    variables = stage.variables(instruction)
                    sources = [expand(s, variables) for s in sources]
                    if any(missing for _, missing in sources):
                        continue
                    sources = [s for s, _ in sources]
                context = ctx.path.parent if ctx.path is not None else None
                if sources and not any(REMOTE.match(s) or is_archive(s) or archive_by_content(context, s)
                                       for s in sources):
                    yield self._finding(ctx, text, instruction)

    def _finding(self, ctx, text, instruction):
        copy = same_case(text[slice(*instruction.keyword_span)], "COPY")
        return self.finding(ctx, instruction, "ADD of local files: use COPY",
                            fix=Fix("Use COPY", [Edit(*instruction.keyword_span, copy)], Applicability.SAFE))
