"""How a ``lint`` or ``fix`` run ends: one exit-code policy for both (Fixit's bitmask).

0 clean; 1 (FINDINGS) a finding at or above the ``fail-on`` severity of the config that
applied to its file, or a condition of the run itself (a stale baseline entry, a change
under ``fix --diff``); 2 (ERROR) a path, a file or the config could not be read, or a
selected rule could not run on a file (ShellCheck failed there); 3 both.
"""

from __future__ import annotations

from collections.abc import Iterable

from dockermig.rule import Severity

OK, FINDINGS, ERROR = 0, 1, 2


def config_problems(results: Iterable) -> list[str]:
    """What keeps the configs that applied from being read whole (a manifest a master's
    Dockerfile copies is missing), once each: errors of the run, though every file was
    still checked (with what could be read: no install is removed on the strength of a
    manifest that was not)."""
    from dockermig.config import ConfigError

    found: dict[str, None] = {}
    for result in results:
        if result.config is None or getattr(result, "remembered", False):
            continue  # (a remembered result's config had none: dockermig.lint_cache)
        try:
            found.update(dict.fromkeys(result.config.policy.problems))
        except ConfigError:
            continue  # the file's own error says it
    return list(found)


def exit_code(results: Iterable, *, exit_zero: bool = False, failed: bool = False) -> int:
    """The exit code for ``results`` (FileResult or FileFix: each has ``error``,
    ``findings`` and the ``config`` that applied, command-line overrides included).
    ``failed``: the run itself found a problem; ``exit_zero``: findings do not fail."""
    results = list(results)
    code = ERROR if config_problems(results) else OK
    code |= FINDINGS if failed else OK
    for result in results:
        if result.error or getattr(result, "not_run", None):
            code |= ERROR
        threshold = result.config.fail_on if result.config is not None else Severity.INFO
        if any(finding.severity >= threshold for finding in result.findings):
            code |= FINDINGS
    return code & ~FINDINGS if exit_zero else code
