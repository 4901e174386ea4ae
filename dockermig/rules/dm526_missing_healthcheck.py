"""DM526: the shipped image has no HEALTHCHECK (off by default)."""

from dockermig.rule import Example, LintContext, Rule, Severity


class MissingHealthcheck(Rule):
    """Image without a `HEALTHCHECK`.

    ## What it does
    Reports a Dockerfile whose shipped image sets no `HEALTHCHECK` (nor
    `HEALTHCHECK NONE`) in its stage or the stages it is built on. An image built on a
    master is not reported: the master's template has one. Off by default, like
    hadolint's; select it to run it.

    ## Why is this bad?
    Without a health check Docker and Compose only know whether the process runs, not
    whether it answers: a hung service stays "up".

    ## References
    - hadolint DL3057 (severity "ignore" by default there too)
    """

    code = "DM526"
    name = "missing-healthcheck"
    severity = Severity.INFO
    tags = ("health",)
    hadolint = ("DL3057",)
    opt_in = True

    examples = [
        Example.valid('FROM nginx:1.27\nHEALTHCHECK CMD ["curl", "-f", "http://localhost/"]\n'),
        Example.valid("FROM sutazai-python-agent-master:latest\nCOPY . .\n"),
        Example.invalid("FROM nginx:1.27\nCOPY site /usr/share/nginx/html\n", line=1),
    ]

    def check(self, ctx: LintContext):
        stages = ctx.dockerfile.stages
        if not stages:
            return
        final = stages[-1]
        if any(stage.last("HEALTHCHECK") for stage in final.ancestry()):
            return
        if ctx.config.policy.master_of(final.root_image) is not None:
            return
        yield self.finding(ctx, final.from_, "the image has no HEALTHCHECK: only a crash shows as unhealthy")
