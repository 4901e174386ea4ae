"""Baselines for a progressive migration: CI fails on *new* findings only, while the
old ones are migrated in waves.

An entry is (path, code, fingerprint). The fingerprint hashes the code, the text of the
instruction the finding sits in (whitespace collapsed) and the flagged text, so entries
survive unrelated edits (lines added above, a comment changed) but not a change of the
instruction itself. Identical findings in one file are told apart by their order.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from dockermig.syntax.parser import Dockerfile

VERSION = 1


class BaselineError(ValueError):
    """An unreadable baseline file; the message names it."""


def fingerprinted(tree: Dockerfile, findings: list) -> list:
    """The findings with their fingerprints set."""
    import hashlib
    from bisect import bisect_right

    starts = [i.start for i in tree.instructions]
    seen: Counter[str] = Counter()
    result = []
    for finding in findings:
        index = bisect_right(starts, finding.start) - 1
        instruction = tree.instructions[index] if index >= 0 else None
        context = " ".join(instruction.logical.split()) if instruction is not None else ""
        flagged = " ".join(tree.text[finding.start : finding.end].split())
        digest = hashlib.blake2b(f"{finding.code}\0{context}\0{flagged}".encode(), digest_size=8).hexdigest()
        seen[digest] += 1
        result.append(finding._replace(fingerprint=f"{digest}-{seen[digest]}"))
    return result


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def write_baseline(target: Path, results: list) -> int:
    """Record every current finding; returns how many."""
    from dockermig.writer import write_output

    base = target.resolve().parent
    rows = sorted((_relative(r.path, base), f.line, f.code, f.fingerprint, f.message) for r in results for f in r.findings)
    entries = [{"path": p, "code": c, "fingerprint": fp, "message": m} for p, _, c, fp, m in rows]
    document = {"version": VERSION, "tool": "dockermig", "entries": entries}
    write_output(target, json.dumps(document, indent=2) + "\n")
    return len(entries)


def load_baseline(path: Path) -> Counter[tuple[str, str, str]]:
    from dockermig.limits import InputError, read_text

    try:
        document = json.loads(read_text(path, confine=False))
        if document.get("version") != VERSION:
            raise BaselineError(f"{path}: unknown baseline version {document.get('version')!r}")
        return Counter((e["path"], e["code"], e["fingerprint"]) for e in document["entries"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, InputError, RecursionError) as error:
        if isinstance(error, BaselineError):
            raise
        raise BaselineError(f"{path}: not a dockermig baseline ({error})") from None


def apply_baseline(path: Path, results: list) -> list[tuple[str, str, str]]:
    """Drop the findings the baseline knows; return its stale entries (fixed since) for
    the files of this run. Files not linted in this run keep their entries."""
    known = load_baseline(path)
    base = path.resolve().parent
    linted = set()
    for result in results:
        relative = _relative(result.path, base)
        linted.add(relative)
        kept = []
        for finding in result.findings:
            key = (relative, finding.code, finding.fingerprint)
            if known[key] > 0:
                known[key] -= 1
            else:
                kept.append(finding)
        result.findings = kept
    return sorted(key for key, count in known.items() if count > 0 and key[0] in linted for _ in range(count))
