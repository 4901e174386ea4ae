"""DM402: CMD starts a Python file or module that is not in the build context."""

from dockermig.rule import Example, LintContext, Rule, Severity


class MissingAppFile(Rule):
    """CMD starts a Python file that the build context does not have.

    ## What it does
    Finds what the container runs (`python app.py`, `python -m service.main`,
    `uvicorn app:app`, `gunicorn app:app`, through `tini` or `sh -c`), follows the COPY
    instructions that put that path in the image back to the build context (the
    Dockerfile's folder), and reports when the file is not there. A `python -m` module is
    only checked when its top-level package is in the context (otherwise pip installed
    it); an ASGI/WSGI `module:app` is always a file of the service.

    ## Why is this bad?
    The image builds, then exits on start with "can't open file". After a migration that
    moved files or changed WORKDIR, this is the first thing to break.

    ## References
    - `dockermig plan` shows these as reasons
    """

    code = "DM402"
    name = "missing-app-file"
    severity = Severity.ERROR
    tags = ("template", "python")

    examples = [
        Example.valid("FROM sutazai-python-agent-master:latest\nCOPY . /app\nCMD [\"python\", \"main.py\"]\n",
                      files={"main.py": "print('hi')\n"}),
        Example.invalid("FROM sutazai-python-agent-master:latest\nCOPY . /app\nCMD [\"python\", \"main.py\"]\n",
                        files={"app.py": "print('hi')\n"}, message="CMD runs main.py, which is not in the build context"),
    ]

    def check(self, ctx: LintContext):
        info = ctx.facts.app
        if info is None or info.source is not None:
            return
        entry = info.entry
        if entry.kind == "module":
            top = entry.target.split(".")[0]
            if not ((ctx.path.parent / top).is_dir() or (ctx.path.parent / f"{top}.py").is_file()):
                return  # an installed package, not a file of this service
        shown = entry.target.rsplit("/", 1)[-1] if entry.kind == "script" else entry.target
        yield self.finding(ctx, entry.instruction,
                           f"{entry.instruction.keyword} runs {shown}, which is not in the build context")
