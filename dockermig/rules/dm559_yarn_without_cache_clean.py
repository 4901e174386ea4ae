"""DM559: yarn install without yarn cache clean after it."""

from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity
from dockermig.rules._packages import missing_cleanup
from dockermig.syntax.commands import RUN_KEYWORDS


class YarnWithoutCacheClean(Rule):
    """`yarn install` without `yarn cache clean` after it.

    ## What it does
    Reports a `RUN` that runs `yarn install` and not `yarn cache clean` after it,
    unless it mounts a build cache on yarn's cache directory.

    ## Why is this bad?
    yarn keeps a copy of every package it installed in its global cache: as much again
    as `node_modules`, in the layer, for nothing.

    ## Fix safety
    Safe: `&& yarn cache clean` ends the `RUN`. Not offered for a heredoc script.

    ## References
    - hadolint DL3060. Deliberate difference: a clean before the install does not count
      (hadolint/hadolint#957).
    """

    code = "DM559"
    name = "yarn-without-cache-clean"
    severity = Severity.INFO
    tags = ("packages", "npm", "size")
    fix_availability = FixAvailability.SOMETIMES
    hadolint = ("DL3060",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM node:18-slim\nRUN yarn install --frozen-lockfile && yarn cache clean\n"),
        Example.invalid("FROM node:18-slim\nRUN yarn install --frozen-lockfile\n",
                        fixed="FROM node:18-slim\nRUN yarn install --frozen-lockfile && yarn cache clean\n"),
    ]

    def check(self, ctx: LintContext):
        return missing_cleanup(
            self, ctx, ("yarn",),
            installs=lambda argv: argv.has_arg("install"),
            cleans=lambda argv: argv.has_arg("cache") and argv.has_arg("clean"),
            cleanup=lambda install: "yarn cache clean",
            cache=("/usr/local/share/.cache/yarn", "/root/.cache/yarn", "/root/.yarn"),
            message="yarn's cache stays in the image: end the RUN with yarn cache clean",
        )
