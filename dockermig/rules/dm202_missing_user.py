"""DM202: no USER, and the base image runs as root."""

from dockermig.policy.facts import Verdict
from dockermig.rule import Example, LintContext, Rule, Severity


class MissingUser(Rule):
    """Shipped image sets no USER and inherits root from its base.

    ## What it does
    Reports a Dockerfile whose shipped stage (with the stages it is built `FROM`) has
    no `USER` instruction when the base image's own default user is root. It knows the
    default user of the masters (from their manifests) and of the catalogued images that
    run as non-root (`grafana/grafana`, `prom/prometheus`...); any other base is assumed
    to run as root, as Docker does. Images kept as is are left to their vendor's
    entrypoint, which often drops privileges itself.

    ## Why is this bad?
    No `USER` means root. hadolint's DL3002 only looks at an explicit `USER root` and
    misses this, the most common case (hadolint#328, #989).

    ## References
    - hadolint DL3002 (explicit root only), Checkov CKV_DOCKER_3
    """

    code = "DM202"
    name = "missing-user"
    severity = Severity.WARNING
    tags = ("security", "user")
    hadolint = ("DL3002",)

    examples = [
        Example.valid("FROM sutazai-nodejs-agent-master:latest\nCMD [\"node\", \"index.js\"]\n"),
        Example.valid("FROM node:18-slim\nUSER node\nCMD [\"node\", \"index.js\"]\n"),
        Example.valid("FROM grafana/grafana:11.2.0\n"),
        Example.invalid("FROM python:3.11-slim\nCMD [\"python\", \"app.py\"]\n", message="runs as root", line=1),
        Example.valid("FROM scratch\nCOPY app /app\nCMD [\"/app\"]\n"),  # no user database
        Example.valid("FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /app\nCMD [\"/app\"]\n"),
        Example.invalid(
            "FROM node:18-slim\nCMD [\"node\", \"index.js\"]\n",
            message="no USER instruction: the image runs as root (its base node:18-slim runs as root); "
            "the master ends with USER appuser",
        ),
        Example.invalid(
            "FROM acme/root-master:2\nCMD [\"python\", \"app.py\"]\n",
            message="no USER instruction: the image runs as root (acme/root-master runs as 0)",
            config={"masters": [{"image": "acme/root-master", "language": "python", "user": "0"}]},
        ),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        runtime = facts.runtime
        if runtime is None or facts.verdict in (Verdict.KEEP, Verdict.MASTER_DEFINITION):
            return
        instruction, _ = facts.final_user
        if instruction is not None:
            return
        if runtime.master is not None:
            if runtime.master.user not in ("root", "0"):
                return  # its own non-root user, or one its files do not name: nothing to claim
            base_user = f"{runtime.master.image} runs as {runtime.master.user}"
        elif runtime.image is None or runtime.image.is_scratch or "nonroot" in (runtime.image.tag or ""):
            return  # scratch has no user database; distroless ``:nonroot`` tags run as 65532
        else:
            base_user = f"its base {runtime.image.display} runs as root"
        master = facts.master
        hint = (f"; the master ends with USER {master.user}{master.cited('user')}" if master and master.user else "")
        yield self.finding(
            ctx, runtime.stage.from_, f"no USER instruction: the image runs as root ({base_user}){hint}"
        )
