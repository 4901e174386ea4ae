"""DM304: a package pin conflicts with the version the master ships."""

from dockermig.fix import Applicability
from dockermig.policy.shipped import package_fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity


class VersionConflict(Rule):
    """Package pinned to a version the master's does not satisfy.

    ## What it does
    For every package a stage on a master (or about to move onto one) installs and the
    master ships, checks the requested version against the master's: pip specifiers by
    PEP 440 (`fastapi<0.100` excludes 0.115.6), npm ranges (`^4`, `~5.3`, `5.3.0`), apt
    and yum pins by exact version or glob, apk `=` pins. Constraints it cannot judge are
    not reported.

    ## Why is this bad?
    The service was tested with another version than the one it will run with on the
    master: either the service needs that version (then the install must stay, and the
    master's copy is shadowed), or the pin is stale. A person has to decide; the fix
    never drops such a pin silently.

    ## Fix safety
    Unsafe: the fix removes the pinned install so the service uses the master's version,
    which may change its behaviour. Only with `--unsafe-fixes`; never done silently.

    ## References
    - PEP 440, npm semver ranges
    """

    code = "DM304"
    name = "version-conflict"
    severity = Severity.WARNING
    fix_availability = FixAvailability.SOMETIMES
    tags = ("packages", "review")

    examples = [
        Example.valid("FROM sutazai-python-agent-master:latest\nRUN pip install 'fastapi>=0.110'\n"),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nRUN pip install fastapi==0.99.1\n",
            message="fastapi==0.99.1 conflicts with sutazai-python-agent-master:latest, which ships fastapi 0.115.6",
            fixed="FROM sutazai-python-agent-master:latest\n",
            applicability="unsafe",
        ),
        Example.invalid(
            "FROM sutazai-nodejs-agent-master:latest\nRUN npm i -g typescript@4.9.5 @nestjs/cli\n",
            message="which ships typescript 5.7.2",
            fixed="FROM sutazai-nodejs-agent-master:latest\nRUN npm i -g @nestjs/cli\n",
            applicability="unsafe",
        ),
        Example.invalid(
            "FROM sutazai-python-agent-master:latest\nRUN pip install fastapi==0.99.1\n",
            fixed=None,  # never without --unsafe-fixes
        ),
        Example.valid("FROM sutazai-nodejs-agent-master:latest\nRUN npm i -g typescript@^5.1 ts-node@~10.9.0\n"),
        Example.invalid("FROM sutazai-nodejs-agent-master:latest\nRUN npm i -g typescript@^4.9\n",
                        message="typescript@^4.9 conflicts"),
    ]

    def check(self, ctx: LintContext):
        for package in ctx.facts.shipped:
            if package.conflicts:
                origin = f" (from {package.origin})" if package.origin else ""
                yield self.finding(
                    ctx,
                    (package.start, package.end),
                    f"{package.written}{origin} conflicts with {package.describe_master()}, "
                    f"which ships {package.name} {package.shipped_version}"
                    + (f" ({package.listed_at[2:]})" if package.listed_at else ""),
                    fix=package_fix(ctx.facts, package, Applicability.UNSAFE),
                )
