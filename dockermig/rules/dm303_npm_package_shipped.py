"""DM303: a global npm package that the master already ships is installed again."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules import shipped_duplicates


class NpmPackageShipped(Rule):
    """Global Node.js package installed again although the master ships it.

    ## What it does
    Compares the global installs (`npm install -g`) of a stage built on the Node.js
    master (or about to move onto it) with the master's npm manifest (`pm2`,
    `typescript`...). Local installs (`npm ci`, `npm install` without `-g`, `yarn`,
    `pnpm install`) are project dependencies and are not compared, and neither are
    `npm -g --prefix DIR`, `yarn global add` and `pnpm add -g`, which install into
    folders of their own, not the global `node_modules` the master's packages are in. A
    version range that the master's version does not satisfy is DM304 instead.

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
        Example.invalid(
            "FROM sutazai-nodejs-agent-master:latest\nRUN cd web && npm install -g typescript\nRUN cd web && npm install\n",
            # the first RUN goes whole (not down to `cd web`); the project install stays as it is
            fixed="FROM sutazai-nodejs-agent-master:latest\nRUN cd web && npm install\n",
        ),
        Example.valid("FROM sutazai-nodejs-agent-master:latest\nRUN yarn global add pm2 && npm i -g --prefix /opt/tools pm2\n"),
    ]

    def check(self, ctx: LintContext):
        yield from shipped_duplicates(self, ctx, "npm")
