"""Lint results remembered across runs, as ruff remembers them: a pre-commit or CI re-run
on an unchanged file prints the same findings without importing a rule.

A result is kept under a key naming what it is a function of besides the files it read:
the file's bytes and path, its config file (and ``.hadolint.yaml``), the command line's
overrides, the kind of result asked for, ``DOCKERMIG_*`` variables, ShellCheck's binary
and dockermig's own code (each source and data file's size and mtime, so an edited
checkout counts as a new version). The files it read (``observed``: the config, the
master's Dockerfile and manifests, the build context's files) are stored with it, each
with its stat signature, and the result is used only while every one is unchanged.

Kept only what is sure to come back the same: a result without an error, with every
selected rule run, from a run that met no config problem, whose config does not read a
master from the Docker engine (the engine's state is not a file), and that read few enough
files to check (``observed.MAX_NOTED``). Entries live in the persistent cache folder
(``dockermig.cache``: signed, bounded, safe under concurrent runs), kind ``lint``.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

from dockermig import observed

KIND = "lint"
_FORMAT = 1  # the layout of an entry; bump it when that changes


class Remembered:
    """The lint results of one run's cache folder: ``recall`` before a file is analysed,
    ``keep`` after."""

    def __init__(self, folder: Path, settings, with_fingerprints: bool):
        from dockermig.cache import open_store

        self.store = open_store(folder, KIND)
        self.request = repr((_FORMAT, settings, with_fingerprints, _environment(), _code())).encode()

    def key(self, path: Path, data: bytes, config) -> bytes | None:
        if self.store is None or _reads_the_engine(config.data):
            return None
        hadolint = config.hadolint.source if config.hadolint else None
        identity = repr((os.path.abspath(path), config.source, hadolint, _shellcheck())).encode()
        return b"\0".join((self.request, identity, data))

    def recall(self, key: bytes | None, path: Path, config):
        """The result stored under ``key`` while what it read is unchanged, or None."""
        if key is None:
            return None
        stored = self.store.get(key)
        if not isinstance(stored, tuple) or len(stored) != 2 or not observed.unchanged(stored[0]):
            return None
        try:
            return _result(path, config, stored[1])
        except (TypeError, ValueError, KeyError):
            return None  # an entry of another layout

    def keep(self, key: bytes | None, result) -> None:
        if key is None or result.error or result.not_run:
            return
        from dockermig.outcome import config_problems

        if config_problems([result]):
            return  # a master's manifest missing: said once per run, by the run that reads it
        if result.config is not None and result.config.source is not None:
            observed.note(result.config.source)
        read = observed.noted()
        if read is not None:
            self.store.put(key, (read, _stored(result)))

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def _reads_the_engine(data) -> bool:
    """Whether a config asks for a master's facts from its built image (anywhere)."""
    if isinstance(data, dict):
        return bool(data.get("resolve-from-image")) or any(_reads_the_engine(v) for v in data.values())
    if isinstance(data, list):
        return any(_reads_the_engine(v) for v in data)
    return False


def _environment() -> tuple:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("DOCKERMIG_")))


def _shellcheck() -> bytes | None:
    from dockermig import shellcheck

    executable = shellcheck.binary()
    return shellcheck.namespace(executable) if executable else None


@lru_cache(maxsize=1)
def _code() -> tuple:
    """dockermig's own files as they are: Python's version, and each source and data
    file's path, size and mtime (a checkout being edited is a new version every save)."""
    from dockermig import __version__
    from dockermig.policy.loader import packs_dir

    files = []
    for top in (Path(__file__).parent, packs_dir()):
        for folder, folders, names in os.walk(top):
            folders[:] = sorted(f for f in folders if f != "__pycache__")
            for name in sorted(names):
                if not name.endswith((".pyc", ".pyo")):
                    files.append((os.path.join(folder, name), observed.signature(os.path.join(folder, name))))
    return __version__, sys.version, tuple(files)


# -- an entry: builtins only (marshal) ----------------------------------------------------


def _stored(result) -> tuple:
    return (tuple(_finding(f) for f in result.findings),
            tuple((_finding(f), reason) for f, reason in result.suppressed))


def _finding(finding) -> tuple:
    fix = finding.fix
    stored_fix = None if fix is None else (fix.title, int(fix.applicability), tuple(tuple(e) for e in fix._edits))
    return (*finding[:2], finding.severity.value, *finding[3:10], stored_fix, finding.fingerprint, finding.subcode)


def _result(path: Path, config, stored: tuple):
    from dockermig.engine import FileResult

    findings, suppressed = stored
    result = FileResult(path, [_unstored(f) for f in findings], config=config)
    result.suppressed = [(_unstored(f), reason) for f, reason in suppressed]
    result.remembered = True
    return result


def _unstored(stored: tuple):
    from dockermig.fix import Applicability, Edit, Fix
    from dockermig.rule import Finding, Severity

    code, name, severity, *position, fix, fingerprint, subcode = stored
    if fix is not None:
        title, applicability, edits = fix
        fix = Fix(title, [Edit(*e) for e in edits], Applicability(applicability))
    return Finding(code, name, Severity(severity), *position, fix, fingerprint, subcode)
