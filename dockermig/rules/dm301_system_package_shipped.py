"""DM301: an OS package that the master already ships is installed again."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules import shipped_duplicates


class SystemPackageShipped(Rule):
    """OS package installed again although the master ships it.

    ## What it does
    Compares the packages that `apt-get`/`apt`, `apk`, `yum` and `dnf` install in a
    stage built on a master (or in the shipped stage of a service about to move onto
    one) with the master's manifest. Each package the master already ships is reported
    at its own token, so the fix can remove that one word and keep the rest of the line.
    A version pin that the master's version does not satisfy is DM304 instead.

    ## Why is this bad?
    A second install of the same package adds a layer, network traffic at build time,
    and a chance of a different version than the one the master was tested with.

    ## Fix safety
    Safe: the package is removed from the install command, keeping the other packages,
    the flags, the continuation layout and the comments. A command left with nothing to
    install goes, with its companions (`apt-get update`, `rm -rf /var/lib/apt/lists/*`,
    `apk update`, `yum clean all`, `npm cache clean`) once no install of that manager is
    left in the RUN; a RUN left empty goes. Packages listed in a requirements file are
    reported but not edited. When a removal would drop a comment, no fix is offered.

    ## References
    - deis/deis#1249, phusion/passenger-docker#43: this cleanup done by hand
    """

    code = "DM301"
    name = "system-package-shipped"
    severity = Severity.WARNING
    fix_availability = FixAvailability.SOMETIMES
    tags = ("packages", "apt")

    examples = [
        Example.valid("FROM sutazai-python-agent-master:latest\nUSER root\nRUN apt-get update && apt-get install -y ffmpeg\nUSER appuser\n"),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nUSER root\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends curl ffmpeg \\\n"
            "    && rm -rf /var/lib/apt/lists/*\nUSER appuser\n",
            message="curl is already shipped by sutazai-python-agent-master:latest (apt)",
            line=3,
            fixed="FROM sutazai-python-agent-master:latest\nUSER root\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg \\\n"
            "    && rm -rf /var/lib/apt/lists/*\nUSER appuser\n",
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nUSER root\n"
            "RUN apt-get update \\\n    && apt-get install -y \\\n        git \\\n        jq \\\n"
            "    && rm -rf /var/lib/apt/lists/* \\\n    && pip install langchain\nUSER appuser\n",
            fixed="FROM sutazai-python-agent-master:latest\nUSER root\nRUN pip install langchain\nUSER appuser\n",
        ),
        Example.invalid(
            "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y git\nCMD [\"python\", \"bot.py\"]\n",
            message="the master this service moves to",
            fixed=None,  # the migration (DM101) removes it, together with the new FROM
        ),
    ]

    def check(self, ctx: LintContext):
        yield from shipped_duplicates(self, ctx, "apt")
