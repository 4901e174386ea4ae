"""DM302: a Python package that the master already ships is installed again."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules import shipped_duplicates


class PipPackageShipped(Rule):
    """Python package installed again although the master ships it.

    ## What it does
    Compares what `pip`, `pip3`, `python -m pip` and `uv pip` install in a stage built
    on a master (or about to move onto one) with the master's pip manifest, package
    names normalised as PEP 503 does (`PyYAML` is `pyyaml`). Requirements files installed
    with `-r` are read from the build context (following the COPY that put them in the
    image), and their shipped packages are reported at the `-r` argument. A pin that the
    master's version does not satisfy is DM304 instead.

    Only installs into the master's own Python site count. A virtualenv (created in the
    image and activated, put first on `PATH`, or its own `bin/pip`), `--user`,
    `--target`, `--prefix`, `--root`, `uv pip` without `--system`, a private index or
    local wheels (`-i`, `--extra-index-url`, `-f`, `--no-index`) are another environment,
    where the master's packages are not. A requirement with extras (`uvicorn[standard]`)
    or a direct reference (`name @ git+https://...`) is more than the master's package.

    ## Why is this bad?
    Reinstalling what the master ships costs build time and image size, and pip may pick
    a different version than the one the master was tested with.

    ## Fix safety
    Safe: the package is removed from the install command, keeping the other packages,
    the flags, the continuation layout and the comments. A command left with nothing to
    install goes, with its companions (`apt-get update`, `rm -rf /var/lib/apt/lists/*`,
    `apk update`, `yum clean all`, `npm cache clean`) once no install of that manager is
    left in the RUN; a RUN left empty goes, and so does what is left of a RUN when that
    is only `cd`/`export`/`set`. An install that names no package (`pip install .`,
    `pip install -e .[server]`, `-r requirements.txt`) installs the project and is never
    touched. Packages listed in a requirements file are reported but not edited. When a
    removal would drop a comment, no fix is offered.

    ## References
    - PEP 503 (name normalisation), PEP 440 (version specifiers)
    """

    code = "DM302"
    name = "pip-package-shipped"
    severity = Severity.WARNING
    fix_availability = FixAvailability.SOMETIMES
    tags = ("packages", "pip")

    examples = [
        Example.valid("FROM sutazai-python-agent-master:latest\nRUN pip install --no-cache-dir langchain==0.3.13\n"),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nRUN pip install --no-cache-dir FastAPI langchain\n",
            message="FastAPI is already shipped by sutazai-python-agent-master:latest (pip 0.115.6)",
            fixed="FROM sutazai-python-agent-master:latest\nRUN pip install --no-cache-dir langchain\n",
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nCOPY requirements.txt /tmp/\nRUN pip install -r /tmp/requirements.txt\n",
            files={"requirements.txt": "uvicorn>=0.30\nlangchain==0.3.13\n"},
            message="uvicorn (from requirements.txt:1) is already shipped",
            fixed=None,  # requirements files are reported, not edited
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nWORKDIR /srv\nRUN cd /srv && pip install requests\n"
            "RUN pip install --no-cache-dir -e . httpx\n",
            message="requests is already shipped",
            # the RUN goes whole, not down to `cd /srv`; the project's own install stays
            fixed="FROM sutazai-python-agent-master:latest\nWORKDIR /srv\nRUN pip install --no-cache-dir -e .\n",
        ),
        Example.valid(
            "FROM sutazai-python-agent-master:latest\nRUN python -m venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\n"
            "RUN pip install --upgrade pip fastapi\n"
        ),
        Example.valid(
            "FROM sutazai-python-agent-master:latest\n"
            "RUN pip install --target /opt/deps requests && pip install 'uvicorn[standard]'\n"
        ),
    ]

    def check(self, ctx: LintContext):
        yield from shipped_duplicates(self, ctx, "pip")
