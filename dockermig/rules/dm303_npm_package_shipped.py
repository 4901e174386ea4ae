"""DM303: a global npm package that the master already ships is installed again."""

from dockermig.policy.shipped import report_duplicates
from dockermig.rule import Example, FixAvailability, Rule, Severity


class NpmPackageShipped(Rule):
    """Global Node.js package installed again although the master ships it.

    ## What it does
    Compares the global installs (`npm install -g`, `pnpm add -g`, `yarn global add`)
    of a stage built on the Node.js master (or about to move onto it) with the master's
    npm manifest (`pm2`, `typescript`...). Local installs (`npm ci`, `npm install`
    without `-g`) are project dependencies and are not compared. A version range that
    the master's version does not satisfy is DM304 instead.

    ## Why is this bad?
    A second global install of the same tool costs build time and may shadow the
    master's tested version with another one.

    ## Fix safety
    Safe: the package is removed from the install command, keeping the other packages,
    the flags, the continuation layout and the comments. A command left with nothing to
    install goes, with its companions (`apt-get update`, `rm -rf /var/lib/apt/lists/*`,
    `apk update`, `yum clean all`, `npm cache clean`) once no install of that manager is
    left in the RUN; a RUN left empty goes. Packages listed in a requirements file are
    reported but not edited. When a removal would drop a comment, no fix is offered.

    ## References
    - `rules/masters.yaml` (the Node.js master's npm manifest)
    """

    code = "DM303"
    name = "npm-package-shipped"
    severity = Severity.WARNING
    fix_availability = FixAvailability.SOMETIMES
    tags = ("packages", "npm")

    examples = [
        Example.valid("FROM sutazai-nodejs-agent-master:latest\nRUN npm ci --omit=dev\n"),
        Example.invalid(
            "FROM sutazai-nodejs-agent-master:latest\nRUN npm install -g pm2 && npm ci\n",
            message="pm2 is already shipped by sutazai-nodejs-agent-master:latest (npm 5.4.3)",
            fixed="FROM sutazai-nodejs-agent-master:latest\nRUN npm ci\n",
        ),
    ]

    def check(self, ctx):
        yield from report_duplicates(self, ctx, "npm")
