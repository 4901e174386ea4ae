"""DM405: the Python entry file could not be read."""

from dockermig.rule import Example, LintContext, Rule, Severity


class UnreadableApp(Rule):
    """Python entry file that libcst cannot parse.

    ## What it does
    Notes that the file the container starts does not parse as Python (or cannot be
    read), so the port and route checks (DM403, DM404) could not look at it.

    ## Why is this bad?
    It may not be: the file may be Python 2, or generated. But the checks that protect
    the migration were skipped for this service, and the note says so instead of staying
    silent.

    ## References
    - libcst's parser
    """

    code = "DM405"
    name = "unreadable-app"
    severity = Severity.INFO
    tags = ("python",)

    examples = [
        Example.valid("FROM sutazai-python-agent-master:latest\nCOPY . /app\nCMD [\"python\", \"app.py\"]\n",
                      files={"app.py": "print('ok')\n"}),
        Example.invalid("FROM sutazai-python-agent-master:latest\nCOPY . /app\nCMD [\"python\", \"app.py\"]\n",
                        files={"app.py": "print 'python 2'\n"}, message="could not read app.py"),
    ]

    def check(self, ctx: LintContext):
        info = ctx.facts.app
        if info is not None and info.error:
            yield self.finding(ctx, info.entry.instruction, f"could not read {info.error}; DM403 and DM404 skipped it")
