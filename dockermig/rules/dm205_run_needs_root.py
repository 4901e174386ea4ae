"""DM205: a RUN needs root, but a non-root user runs it."""

from dockermig.policy.privilege import root_needs
from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.commands import RUN_KEYWORDS


class RunNeedsRoot(Rule):
    """`RUN` that needs root, run by a non-root user.

    ## What it does
    Finds the `RUN`s that run as a user other than root and need root: the last `USER`
    before them in their stage (or the stage it is built on), else the user their base
    image ends as: a master's when its model knows it (unknown, nothing is reported), a
    catalogued image's own `USER` (`grafana/grafana` runs as 472, `prom/prometheus` as
    `nobody`; not `consul`, whose entrypoint switches user at start), root for the others.
    It reports each such RUN once, at its first command that needs root:

    - on any base: package managers changing the system (`apt-get install`/`update`,
      `apk add`, `yum`/`dnf`/`zypper install`, `dpkg -i`, `rpm -i`), `useradd`, `groupadd`,
      `adduser`, `usermod`..., `chown` to another user, `update-ca-certificates`,
      `ldconfig`, `locale-gen`, `setcap`, `apt-key add`, `update-alternatives --install`;
    - on a base whose file system is known (a master, an official language or OS image):
      writing under `/etc`, `/usr`, `/bin`, `/lib`, `/root` or the package
      databases (`mkdir`, `cp`, `ln`, `chmod`, `chown`, `tee`, `sed -i`, `curl -o`,
      `tar -C`, `> file`...), unless the file gave the path to the user before (`chown`,
      `chmod o+w`, `COPY --chown`, a `WORKDIR`), and `npm install -g` into npm's prefix;
    - `pip install` into the system site-packages only where pip cannot fall back to a
      user install (`PYTHONNOUSERSITE`, `PIP_USER=0`, a user with no home: `nobody`, a
      `useradd` without `-m`): elsewhere, as non-root, pip installs into `~/.local`.

    Not reported: a command run through `sudo`, or whose failure cannot fail the build
    (after `||`, in a condition or a loop), `pip install --user`, a venv, a local
    `npm install`, a `USER` given by a build argument, and `mkdir` in the user's home or
    workdir.

    ## Why is this bad?
    The command fails ("Permission denied", "you must be root", "are you root?") and the
    build with it: the file never built as it is. Many services ran `groupadd` or
    `apt-get` after `USER nobody`, or after the non-root user of their base; a migration
    lead must tell such files, broken before the migration, from what a fix broke, and
    `dockermig plan` marks them. No fix: a person decides between `USER root` above the
    command (and the user again after it) and dropping the command.

    ## References
    - Docker docs: `USER` sets the user for the `RUN`, `CMD` and `ENTRYPOINT` that follow
    - pip's `--user` fallback: "Defaulting to user installation because normal
      site-packages is not writeable"
    """

    code = "DM205"
    name = "run-needs-root"
    severity = Severity.ERROR
    tags = ("user", "build")
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM python:3.12-slim\nRUN groupadd -r app && useradd -r -m -g app app\nUSER app\n"
                      "RUN pip install --no-cache-dir requests\n"),
        Example.invalid(
            "FROM python:3.12-slim\nUSER nobody\nRUN groupadd -r app && apt-get update\n",
            message="groupadd needs root, but the RUN runs as nobody (USER, line 2)",
            line=3,
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n"
            "CMD [\"python\", \"app.py\"]\n",
            message="apt-get update needs root, but the RUN runs as appuser, the user "
                    "sutazai-python-agent-master:latest ends as",
        ),
        Example.invalid("FROM grafana/grafana:11.2.0\nRUN grafana cli plugins install grafana-clock-panel && apk add --no-cache curl\n",
                        message="apk add needs root, but the RUN runs as 472, the USER of grafana/grafana:11.2.0"),
        Example.valid("FROM grafana/grafana:11.2.0\nUSER root\nRUN apk add --no-cache curl\nUSER 472\n"),
        Example.valid("FROM debian:12\nUSER app\nRUN sudo apt-get update || true\n"),  # sudo, and cannot fail
        Example.valid("FROM node:20-slim\nUSER node\nWORKDIR /home/node/app\nRUN npm ci && mkdir -p logs\n"),
        Example.invalid("FROM node:20-slim\nUSER node\nRUN npm install -g pm2\n", message="npm install -g needs root"),
        Example.invalid("FROM python:3.12-slim\nRUN useradd app\nUSER app\nRUN pip install requests\n",
                        message="app has no home (useradd without -m)"),
        Example.valid("FROM consul:1.15\nRUN apk add --no-cache curl\n"),  # its entrypoint switches user, its USER is root
    ]

    def check(self, ctx: LintContext):
        for need in root_needs(ctx.facts):
            message = f"{need.what}, but the RUN runs as {need.run_as.described}: the build fails"
            if need.why:
                message += f"; {need.why}"
            yield self.finding(ctx, need.command, message)
