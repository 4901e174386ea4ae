"""DM558: npm packages installed without a version."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules._packages import names, unpinned
from dockermig.syntax.commands import RUN_KEYWORDS

# dist-tags name a moving release, not a version
_MOVING = frozenset({"latest", "next", "*", "x", ""})


class NpmUnpinned(Rule):
    """npm packages installed without a version.

    ## What it does
    Reports `npm install <package>` (and `pnpm add`, `yarn add`, globally or not) of
    packages without `@version`. `npm install`/`npm ci` without package names install
    the lockfile's versions and are not reported; tarballs, folders, URLs and packages
    given by a variable neither.

    ## Why is this bad?
    The image gets the newest release the day it is built: a new major version breaks
    the service with no change in the repository.

    ## References
    - hadolint DL3016. Deliberate differences: a dist-tag (`pkg@latest`, `@next`) is not
      a version, and `yarn add`/`pnpm add` are checked too.
    """

    code = "DM558"
    name = "npm-unpinned"
    severity = Severity.WARNING
    tags = ("packages", "npm", "reproducibility")
    hadolint = ("DL3016",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM node:18-slim\nRUN npm ci && npm install -g pm2@5.4.3 @angular/cli@18.2.0\n"),
        Example.invalid("FROM node:18-slim\nRUN npm install -g pm2 typescript@latest\n",
                        message="pm2, typescript@latest"),
    ]

    def check(self, ctx: LintContext):
        for install, loose in unpinned(ctx, "npm", lambda package: (package.version or "") not in _MOVING):
            yield self.finding(ctx, install.command, f"npm packages without a version: {names(loose)} "
                                                     f"(pin them with name@version)")
