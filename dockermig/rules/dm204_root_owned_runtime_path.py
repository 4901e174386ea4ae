"""DM204: a path the service writes stays root-owned after the switch to non-root."""

from dockermig.fix import Applicability, Fix
from dockermig.policy.ownership import ownership_edit, root_owned_paths
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity


class RootOwnedRuntimePath(Rule):
    """Directory made, or file copied, as root for a service that runs as non-root.

    ## What it does
    For a service on a master that runs as a non-root user (its own last `USER`, or the
    master's `appuser`), finds the empty directories a RUN makes as root (`mkdir -p /logs
    /models`: nothing in the build puts anything there, so the service will) and the
    files COPY/ADD put into a `VOLUME` without `--chown`, unless a later `chown` gives
    them to that user or a `chmod` opens them to everyone. A directory the build fills
    (a COPY or WORKDIR there, `tar -C` into it) holds code or tools and is left alone,
    and so are paths the master already has (its WORKDIR, the user's home), system paths
    (`/usr`, `/etc`...) and `mkdir -m 777`.

    ## Why is this bad?
    A service that ran as root wrote there; as `appuser` it gets "Permission denied"
    at run time, after the image built fine. The migration is exactly that switch.

    ## Fix safety
    Safe: the directories get `&& chown <user>:<group> <paths>` right after the `mkdir`
    that makes them (in the same RUN, still as root); the COPY gets
    `--chown=<user>:<group>`. Ownership is what the service had as root: the right to
    write. A `mkdir` inside a condition or pipeline, or a COPY in JSON form, is reported
    without a fix. A service still moving onto its master gets the same edits from the
    migration (DM101), which is the switch to non-root.

    ## References
    - Docker docs: COPY `--chown`; hadolint has no equivalent
    """

    code = "DM204"
    name = "root-owned-runtime-path"
    severity = Severity.WARNING
    tags = ("user", "migration", "runtime")
    fix_availability = FixAvailability.SOMETIMES

    examples = [
        Example.valid(
            "FROM sutazai-python-agent-master:latest\nUSER root\nRUN mkdir -p /logs && chown appuser /logs\nUSER appuser\n"
        ),
        Example.valid("FROM sutazai-python-agent-master:latest\nUSER root\nRUN mkdir -p /logs\n"),  # runs as root
        Example.valid("FROM python:3.11-slim\nRUN mkdir -p /logs\nCMD [\"python\", \"app.py\"]\n"),  # the migration's
        Example.valid(  # filled by the build: tools and code, which the service reads
            "FROM sutazai-python-agent-master:latest\nUSER root\nRUN mkdir -p /opt/tool && tar -xzf /tmp/t.tgz -C /opt/tool\n"
            "RUN mkdir /srv/app\nCOPY . /srv/app\nUSER appuser\nCMD [\"python\", \"/srv/app/main.py\"]\n"
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nUSER root\nRUN mkdir -p /logs /workspace && pip install rich\n"
            "USER appuser\nCMD [\"python\", \"app.py\"]\n",
            message="/logs /workspace stay owned by root",
            fixed="FROM sutazai-python-agent-master:latest\nUSER root\n"
            "RUN mkdir -p /logs /workspace && chown appuser:appuser /logs /workspace && pip install rich\n"
            "USER appuser\nCMD [\"python\", \"app.py\"]\n",
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nUSER root\nRUN mkdir -p models\nCOPY seed/ /data/\nVOLUME /data\n"
            "USER appuser\nCMD [\"python\", \"app.py\"]\n",
            message="COPY into the VOLUME /data/ leaves root-owned files",
            fixed="FROM sutazai-python-agent-master:latest\nUSER root\nRUN mkdir -p models && chown appuser:appuser models\n"
            "COPY --chown=appuser:appuser seed/ /data/\nVOLUME /data\nUSER appuser\nCMD [\"python\", \"app.py\"]\n",
        ),
    ]

    def check(self, ctx: LintContext):
        facts = ctx.facts
        if facts.runtime is None or facts.runtime.master is None:
            return  # a service still moving onto its master gets this from the migration (DM101)
        for found in root_owned_paths(facts):
            user = found.owner.partition(":")[0]
            paths = " ".join(found.paths)
            edit = ownership_edit(found)
            fix = Fix(f"Hand {paths} to {found.owner}", [edit], Applicability.SAFE) if edit else None
            if found.command is not None:
                message = f"{paths} stay owned by root, but the service runs as {user}: it cannot write there"
                where = found.command
            else:
                message = f"COPY into the VOLUME {paths} leaves root-owned files, but the service runs as {user}"
                where = found.instruction
            yield self.finding(ctx, where, message, fix=fix)
