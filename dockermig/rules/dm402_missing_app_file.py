"""DM402: CMD starts a Python file or module that is not in the build context."""

import posixpath

from dockermig.rule import Example, LintContext, Rule, Severity


class MissingAppFile(Rule):
    """CMD starts a Python file that the build context does not have.

    ## What it does
    Finds what the container runs (`python app.py`, `python -m service.main`,
    `uvicorn app:app`, `gunicorn app:app`, through `tini` or `sh -c`), follows the COPY
    instructions that put that path in the image back to the build context (the
    Dockerfile's folder), and reports when the file is not there. A `python -m` module is
    only checked when its top-level package is in the context (otherwise pip installed
    it); an ASGI/WSGI `module:app` is always a file of the service. The message names
    what the CMD runs as the CMD writes it, and the file of the build context a COPY
    takes it from when that has another name.

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
        Example.invalid("FROM sutazai-python-agent-master:latest\nCOPY enhanced_app.py app.py\nCMD [\"python\", \"app.py\"]\n",
                        files={"app.py": "print('hi')\n"},
                        message="CMD runs app.py, copied from enhanced_app.py, which is not in the build context"),
        Example.invalid("FROM sutazai-python-agent-master:latest\nCOPY . /app\nCMD [\"uvicorn\", \"enhanced_app:app\"]\n",
                        files={"app.py": "print('hi')\n"},
                        message="CMD runs the module enhanced_app, which is not in the build context"),
    ]

    def check(self, ctx: LintContext):
        info = ctx.facts.app
        if info is None or info.source is not None:
            return
        entry = info.entry
        if entry.kind == "module":
            top = entry.target.split(".")[0]
            from dockermig.observed import kind

            if not (kind(ctx.path.parent / top) == "dir" or kind(ctx.path.parent / f"{top}.py") == "file"):
                return  # an installed package, not a file of this service
        yield self.finding(ctx, entry.instruction,
                           f"{entry.instruction.keyword} runs {_shown(ctx, entry)}, which is not in the build context")


def _shown(ctx: LintContext, entry) -> str:
    """What the CMD runs, as it writes it (``src/main.py``, ``the module app``), and the
    file of the context a COPY takes a script from when that is another file."""
    if entry.kind != "script":
        return f"the module {entry.target}"
    prefix = entry.app_dir.rstrip("/") + "/"
    written = entry.target[len(prefix):] if entry.target.startswith(prefix) else entry.target
    from dockermig.policy.manifest import copied_file

    master = ctx.facts.master
    workdir = (master.workdir if master is not None else None) or "/"
    found = copied_file(ctx.facts.runtime.stage, entry.target, ctx.path.parent, before=None, workdir=workdir)
    if found is None:
        return written
    source = found.relative_to(ctx.path.parent).as_posix()
    return written if source == posixpath.normpath(written) else f"{written}, copied from {source}"
