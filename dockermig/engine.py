"""The one loop: read -> parse -> rules -> findings, for one text or a stream of files."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path

from dockermig.config import Config, ConfigError, config_for, load_config
from dockermig.rule import Finding, LintContext, Rule
from dockermig.syntax import Dockerfile, parse


class InputError(Exception):
    """A file that cannot be linted; the message says why, in one line."""


class FileResult:
    """The outcome for one file: findings, or the one-line reason it could not be linted."""

    def __init__(self, path: Path | None, findings: list[Finding] | None = None,
                 error: str | None = None, config: Config | None = None):
        self.path = path
        self.findings = findings or []
        self.error = error
        self.config = config


class _Context(LintContext):
    """A LintContext whose facts are computed on first use."""

    def __init__(self, dockerfile: Dockerfile, path: Path | None, config: Config):
        self.dockerfile = dockerfile
        self.path = path
        self.config = config

    @cached_property
    def facts(self):
        from dockermig.analysis import analyse

        return analyse(self.dockerfile, self.path, self.config.policy)


_rules_cache: dict[int, tuple[Config, list[Rule]]] = {}


def active_rules(config: Config) -> list[Rule]:
    """Instances of the rules this config enables, with their options."""
    cached = _rules_cache.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    from dockermig.registry import all_rules

    rules = [
        rule_class(config.rule_options(rule_class.code, rule_class.name))
        for rule_class in all_rules()
        if config.is_enabled(rule_class.code, rule_class.name)
    ]
    _rules_cache[id(config)] = (config, rules)
    return rules


def lint_text(text: str, *, path: Path | None = None, config: Config | None = None) -> list[Finding]:
    """Findings for one Dockerfile text, sorted by position."""
    config = config or Config()
    ctx = _Context(parse(text), path, config)
    overrides = config.severity
    findings: list[Finding] = []
    for rule in active_rules(config):
        for finding in rule.check(ctx):
            severity = overrides.get(finding.code) or overrides.get(finding.name)
            if severity is not None and severity != finding.severity:
                finding = finding._replace(severity=severity)
            findings.append(finding)
    findings.sort(key=lambda f: (f.line, f.column, f.code))
    return findings


def read_dockerfile(path: Path, max_size: int) -> str:
    """The text of a Dockerfile, or an InputError that says plainly what is wrong."""
    try:
        if path.is_dir():
            raise InputError("is a directory, not a Dockerfile")
        size = path.stat().st_size
        if size > max_size:
            raise InputError(
                f"file too large ({size / 1048576:.1f} MiB, limit {max_size / 1048576:.1f} MiB; see max-file-size)"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file") from None
    except PermissionError:
        raise InputError("permission denied") from None
    except OSError as error:
        raise InputError(f"cannot read ({error.strerror or error})") from None
    nul = data.find(b"\0")
    if nul != -1:
        raise InputError(f"binary file (NUL byte at offset {nul}), not a Dockerfile")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); Dockerfiles are read as UTF-8"
        ) from None


def lint_file(path: Path, config: Config | None = None) -> FileResult:
    try:
        config = config or config_for(path)
    except ConfigError as error:
        return FileResult(path, error=str(error))
    try:
        text = read_dockerfile(path, config.max_file_size)
        return FileResult(path, lint_text(text, path=path, config=config), config=config)
    except InputError as error:
        return FileResult(path, error=str(error), config=config)
    except ConfigError as error:
        return FileResult(path, error=str(error), config=config)
    except RecursionError:
        return FileResult(path, error="too deeply nested to analyse", config=config)


def lint_paths(
    paths: Iterable[Path], *, config_file: Path | None = None, jobs: int | None = None
) -> Iterator[FileResult]:
    """Lint every Dockerfile under ``paths``, streaming results in a stable order.

    Many files are spread over a process pool (files are independent); a handful are
    linted in this process, which is faster than starting workers.
    """
    from dockermig.discover import discover

    override = load_config(config_file) if config_file else None
    files = list(discover(paths, override))
    workers = jobs if jobs is not None else min(os.cpu_count() or 1, 8)
    if workers <= 1 or len(files) < 64:
        for item in files:
            yield _lint_item(item, override)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers) as pool:
        chunk = max(1, len(files) // (workers * 8))
        yield from pool.map(_lint_item, files, [override] * len(files), chunksize=chunk)


def _lint_item(item, override: Config | None) -> FileResult:
    from dockermig.discover import Discovered

    if isinstance(item, Discovered) and item.error:
        return FileResult(item.path, error=item.error)
    path = item.path if isinstance(item, Discovered) else item
    return lint_file(path, override)


# -- fixing ------------------------------------------------------------------------------

MAX_PASSES = 10  # sqlfluff's runaway_limit


class FixResult:
    """What ``fix_text`` did to one text.

    ``findings`` are those of the first pass (what was wrong); ``fixed`` the ones whose
    fixes were applied over all passes; ``remaining`` what is left after fixing;
    ``refused`` says why the original text was kept, when a promise broke or the loop did
    not converge.
    """

    def __init__(self, original: str, text: str, findings: list[Finding], fixed: list[Finding],
                 remaining: list[Finding], refused: str | None = None, passes: int = 0):
        self.original = original
        self.text = text
        self.findings = findings
        self.fixed = fixed
        self.remaining = remaining
        self.refused = refused
        self.passes = passes

    @property
    def changed(self) -> bool:
        return self.text != self.original


def fix_text(text: str, *, path: Path | None = None, config: Config | None = None,
             level=None, max_passes: int = MAX_PASSES) -> FixResult:
    """Apply fixes until nothing applicable is left: parse, lint, apply, check the
    promises, repeat. The original text comes back, with a reason, when a pass breaks a
    promise, the result cycles, or it does not settle within ``max_passes``."""
    from dockermig.fix import Applicability, apply_fixes
    from dockermig.promises import broken_promise

    config = config or Config()
    level = Applicability.SAFE if level is None else level
    first = lint_text(text, path=path, config=config)
    current, findings = text, first
    seen = {text}
    fixed: list[Finding] = []
    for passes in range(1, max_passes + 1):
        result = apply_fixes(current, findings, lambda f: f.fix, level)
        if not result.applied or result.text == current:
            return FixResult(text, current, first, fixed, findings, None, passes - 1)
        problem = broken_promise(parse(current), result.text, result.applied)
        if problem is not None:
            return FixResult(text, text, first, [], first, f"refused: {problem}", passes)
        if result.text in seen:
            codes = ", ".join(sorted({f.code for f in result.applied}))
            return FixResult(text, text, first, [], first, f"refused: fixes cycle ({codes})", passes)
        seen.add(result.text)
        fixed.extend(result.applied)
        current = result.text
        findings = lint_text(current, path=path, config=config)
    codes = ", ".join(sorted({f.code for f in findings if f.fix is not None}))
    return FixResult(text, text, first, [], first,
                     f"refused: failed to converge after {max_passes} passes ({codes})", max_passes)
