"""DM557: pip packages installed without a version."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules._packages import names, unpinned
from dockermig.syntax.commands import RUN_KEYWORDS


class PipUnpinned(Rule):
    """pip packages installed without a version.

    ## What it does
    Reports `pip install` of packages without a version specifier (`==`, `>=`, `~=`...).
    A command that installs from a requirements file (`-r`), with constraints (`-c`),
    or a local project (`.`), and wheels, archives, paths, URLs and VCS references are
    not reported, nor are option values (`--index-url URL`) or packages given by a
    variable.

    ## Why is this bad?
    The image gets the newest release the day it is built: a new major version of a
    dependency breaks the service with no change in the repository.

    ## References
    - hadolint DL3013, with fixtures for its false positives: an option value before
      the packages (hadolint/hadolint#287), a version given by a variable (#67), a
      local project (#915)
    """

    code = "DM557"
    name = "pip-unpinned"
    severity = Severity.WARNING
    tags = ("packages", "pip", "reproducibility")
    hadolint = ("DL3013",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM python:3.12-slim\nRUN pip install --no-cache-dir -r requirements.txt\n"),
        Example.invalid("FROM python:3.12-slim\nRUN pip install --no-cache-dir flask 'uvicorn>=0.30'\n",
                        message="flask"),
        # hadolint/hadolint#287: the --index-url value is not a package
        Example.valid("FROM python:3.12-slim\nRUN pip install --index-url https://example.com/simple foobar==1.0.0\n"),
        # hadolint/hadolint#67: a version from a variable is a pin
        Example.valid('FROM python:3.12-slim\nARG V=0.9.15\nRUN pip install whisper=="$V"\n'),
        # hadolint/hadolint#915: the local project
        Example.valid("FROM python:3.12-slim\nRUN pip install --no-cache-dir .\n"),
    ]

    def check(self, ctx: LintContext):
        for install, loose in unpinned(ctx, "pip", lambda package: package.version is not None, skip=_from_files):
            yield self.finding(ctx, install.command, f"pip packages without a version: {names(loose)} "
                                                         f"(pin them with name==version)")


def _from_files(install) -> bool:
    """Versions come from files: requirements, constraints, or the local project."""
    if install.requirement_files:
        return True
    for word in install.command.words:
        value = word.value or ""
        if value in (".", "-c", "--constraint") or value.startswith("--constraint="):
            return True
    return False
