"""The safe-fix measurement (DESIGN.md promise 7): fix every file of a tree, lint it again,
and check what the fix removed with code that shares nothing with the fix.

- new findings: a finding code a file has more of after `fix` than before;
- classification changes: a file whose plan classification after `fix` is not what the
  migration promised (migrate-X becomes migrated on X's master; everything else stays);
- removed commands and tokens: BuildKit's own parser (the `dockerfile` package) reads
  both texts, a crude splitter cuts each RUN at `&&`, `;`, `|` and newlines, and every
  command or word that went must be an install of packages the master's manifest lists
  (read here straight from `rules/masters.yaml`), a companion of such an install (`apt-get
  update`, cache cleanup), the master's own user created again, or the `cd`/`export` of a
  RUN that went whole. An install that named no package going is a dropped project install.

Run as a script for the figures: ``python tests/safefix.py [CORPUS]``.
"""

from __future__ import annotations

import difflib
import re
import shlex
import sys
from collections import Counter
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent

_SEPARATOR = re.compile(r"&&|\|\||;|\||\n")
_INSTALL_VERBS = {"install", "i", "add", "in", "isntall"}
_MANAGERS = {"apt-get": "apt", "apt": "apt", "apk": "apt", "pip": "pip", "pip3": "pip", "npm": "npm"}
_COMPANIONS = {("apt-get", "update"), ("apt", "update"), ("apt-get", "clean"), ("apt-get", "autoclean"),
               ("apt-get", "autoremove"), ("apk", "update"), ("npm", "cache")}
_CACHES = ("/var/lib/apt/lists", "/var/cache/apt", "/var/cache/apk", "/root/.npm")
_ACCOUNT_TOOLS = {"useradd", "groupadd", "adduser", "addgroup"}
_CONTEXT = {"cd", "export", "set", "source", ".", "pushd", "popd", "umask", "true", ":"}
# instructions a rule rewrites as another (DM515 ADD -> COPY, DM511 MAINTAINER -> LABEL)
_REWRITTEN_AS = {"ADD": "COPY", "MAINTAINER": "LABEL"}
# instructions only the last of which counts: an earlier one going (DM518-DM520) removes nothing
_OVERRIDDEN = {"CMD", "ENTRYPOINT", "HEALTHCHECK"}
# pip options whose value is the next word
_PIP_VALUED = {"-c", "--constraint", "--timeout", "--retries", "--progress-bar", "--cache-dir", "--root-user-action"}


class Manifest(NamedTuple):
    image: str
    users: set[str]  # the master's user, and the users its base brings (node)
    tables: dict[str, set[str]]  # apt (with what the runtime replaces), pip, npm: normalised names


def manifests() -> list[Manifest]:
    from ruamel.yaml import YAML

    document = YAML(typ="safe", pure=True).load((ROOT / "rules" / "masters.yaml").read_text())
    found = []
    for master in document["masters"]:
        tables = {table: {_normal(table, n) for n in (master.get("packages", {}).get(table) or {})}
                  for table in ("apt", "pip", "npm")}
        tables["apt"] |= {_normal("apt", n) for n in master.get("replaces", {}).get("apt", [])}
        users = {master.get("user", "appuser"), *(a["name"] for a in master.get("accounts") or [])}
        found.append(Manifest(master["image"].split(":")[0], users, tables))
    return found


def _normal(table: str, name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower() if table == "pip" else name.lower()


def _package_name(table: str, word: str) -> str | None:
    """The package a word names (versions cut off), or None for a path, URL or extra."""
    if not word or word[0] in "./$~" or "://" in word or "[" in word or word.endswith((".whl", ".tar.gz")):
        return None
    if table == "npm":
        at = word.find("@", 1)
        return word[:at] if at > 0 else word
    return re.split(r"[=<>~!;@ ]", word, maxsplit=1)[0]


def _runs(text: str) -> list[tuple[str, str]]:
    """(keyword, script) of every instruction, by BuildKit's parser."""
    import dockerfile

    found = []
    for command in dockerfile.parse_string(text):
        script = " ".join(command.value) + "".join("\n" + h.content for h in command.heredocs)
        keyword = (command.cmd or "").upper()
        # other instructions as BuildKit reads them: keyword case and ``ENV k v`` vs
        # ``ENV k=v`` (rewrites of form, DM604/DM607) do not count as changes
        value = command.value
        if keyword == "ENV":  # ``k=v`` keeps a value's quotes that expansion removes later
            value = tuple(re.sub(r"""^"(.*)"$|^'(.*)'$""", lambda m: m.group(1) or m.group(2) or "", v) for v in value)
        found.append((keyword, script if keyword == "RUN" else " ".join((keyword, *command.flags, *value))))
    return found


def _segments(script: str) -> list[tuple[str, ...]]:
    found = []
    for piece in _SEPARATOR.split(script):
        try:
            words = tuple(shlex.split(piece, comments=False))
        except ValueError:
            words = tuple(piece.split())
        words = tuple(w for w in words if w != "\\" and not w.startswith("<<"))  # continuations, heredoc markers
        program = next((i for i, w in enumerate(words) if not re.match(r"^\w+=", w)), None)
        if program is not None and words[program] == "apt":  # apt -> apt-get (DM538) removes nothing
            words = (*words[:program], "apt-get", *words[program + 1 :])
        if words:
            found.append(words)
    return found


class Removal(NamedTuple):
    path: str
    what: str  # the command or words that went
    problem: str | None  # None when the manifest allows it


def _program(words: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    words = tuple(w for w in words if w not in ("sudo",))
    while words and re.match(r"^\w+=", words[0]):  # DEBIAN_FRONTEND=noninteractive apt-get ...
        words = words[1:]
    if len(words) >= 3 and words[0].startswith("python") and words[1] == "-m" and words[2].startswith("pip"):
        return "pip", words[3:]
    return (words[0].rsplit("/", 1)[-1], words[1:]) if words else ("", ())


def _install_operands(program: str, rest: tuple[str, ...]) -> list[str] | None:
    """The operands of an install command (None when it is not an install)."""
    verbs = [i for i, w in enumerate(rest) if w in _INSTALL_VERBS]
    if not verbs:
        return None
    operands, skip = [], False
    for word in rest[verbs[0] + 1 :]:
        if skip:
            skip = False
        elif word in _PIP_VALUED:
            skip = True
        elif not word.startswith("-"):
            operands.append(word)
    return operands


def judge_removed_command(words: tuple[str, ...], manifest: Manifest, whole_run: bool) -> str | None:
    """None when the manifest allows this whole command to go, else the problem."""
    program, rest = _program(words)
    table = _MANAGERS.get(program)
    operands = _install_operands(program, rest) if table else None
    if operands is not None:
        if not operands:
            return "dropped project install"
        unlisted = [o for o in operands if _normal(table, _package_name(table, o) or "?") not in manifest.tables[table]]
        return f"removed unlisted package(s) {unlisted}" if unlisted else None
    if (program, rest[0] if rest else "") in _COMPANIONS:
        return None
    if program == "rm" and all(w.startswith(_CACHES) for w in rest if not w.startswith("-")):
        return None
    if program in _ACCOUNT_TOOLS and manifest.users & set(rest):
        return None
    if program in _CONTEXT and whole_run:
        return None
    return "removed a command the manifest does not explain"


def judge_removed_words(before: tuple[str, ...], removed: list[str], manifest: Manifest) -> str | None:
    program, _ = _program(before)
    table = _MANAGERS.get(program)
    if table is None:
        return "cut words out of a command that installs nothing"
    if any(w in ("-e", "--editable", "-r", "--requirement") or _package_name(table, w) is None for w in removed):
        return "dropped project install"  # a path, URL or requirements file: the project's own
    unlisted = [w for w in removed if _normal(table, _package_name(table, w) or "?") not in manifest.tables[table]]
    return f"removed unlisted package(s) {unlisted}" if unlisted else None


def removals(path: str, old: str, new: str, masters: list[Manifest]) -> list[Removal]:
    """Every command and word of a RUN that ``fix`` took out, judged against the manifest
    of the master the file is on after fixing."""
    try:
        old_runs, new_runs = _runs(old), _runs(new)
    except Exception:  # BuildKit refuses one of them: test_corpus checks parsing
        return []
    # FROM words, and ARG defaults (``ARG BASE=image`` then ``FROM $BASE``)
    bases = [word.rpartition("=")[2].split(":")[0] for keyword, line in new_runs if keyword in ("FROM", "ARG")
             for word in line.split()[1:]]
    on = [m for base in bases for m in masters if m.image == base]
    workdirs = {line.split()[-1].rstrip("/") for keyword, line in new_runs if keyword == "WORKDIR" and line.split()[1:]}
    manifest = on[-1] if on else None  # the master the shipped stage's chain starts from
    found: list[Removal] = []
    matcher = difflib.SequenceMatcher(a=old_runs, b=new_runs, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag not in ("replace", "delete"):
            continue
        changed_new = [s for k, s in new_runs[j1:j2] if k == "RUN"]
        for keyword, script in old_runs[i1:i2]:
            if keyword != "RUN":
                became = {k for k, _ in new_runs[j1:j2]}
                if keyword not in became and _REWRITTEN_AS.get(keyword) not in became and not (
                        keyword in _OVERRIDDEN and keyword in {k for k, _ in new_runs[j2:]}):
                    found.append(Removal(path, script, f"a {keyword} instruction went"))
                continue
            found += _judge_run(path, script, changed_new, manifest, workdirs)
    return found


def _judge_run(path: str, script: str, candidates: list[str], manifest: Manifest | None,
               workdirs: set[str]) -> list[Removal]:
    old_segments = _segments(script)
    # the new RUN this one became: the one with most words in common (none: it went)
    words = Counter(w for segment in old_segments for w in segment)
    best, best_common = None, 0
    for candidate in candidates:
        common = sum((words & Counter(w for segment in _segments(candidate) for w in segment)).values())
        if common > best_common:
            best, best_common = candidate, common
    new_segments = _segments(best) if best is not None else []
    gone = list((Counter(old_segments) - Counter(new_segments)).elements())
    added = list((Counter(new_segments) - Counter(old_segments)).elements())
    found = []
    for segment in gone:
        grown = next((a for a in added if _is_subsequence(segment, a)
                      and all(w.startswith("-") for w in (Counter(a) - Counter(segment)).elements())), None)
        if grown is not None:  # options added (-y, --no-cache-dir...): nothing went
            added.remove(grown)
            continue
        if len(segment) == 2 and segment[0] == "cd" and any(w.endswith("/" + segment[1].strip("/")) for w in workdirs):
            continue  # the cd became a WORKDIR (DM530)
        if manifest is None:
            found.append(Removal(path, " ".join(segment), "changed a RUN of a file on no known master"))
            continue
        # a new segment without the options a hygiene fix added, shorter than the old one
        shorter = next((a for a in added if _is_subsequence(_old_options(a, segment), segment)), None)
        if shorter is not None:
            added.remove(shorter)
            removed = list((Counter(segment) - Counter(_old_options(shorter, segment))).elements())
            found.append(Removal(path, " ".join(removed), judge_removed_words(segment, removed, manifest)))
        else:
            whole_run = best is None or all(_program(s)[0] in _CONTEXT for s in new_segments)
            found.append(Removal(path, " ".join(segment), judge_removed_command(segment, manifest, whole_run)))
    return found


def _old_options(new: tuple[str, ...], old: tuple[str, ...]) -> tuple[str, ...]:
    """``new`` without the options ``old`` did not have."""
    return tuple(w for w in new if w in old or not w.startswith("-"))


def _is_subsequence(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    remaining = iter(long)
    return len(short) < len(long) and all(any(w == other for other in remaining) for w in short)


class Figures(NamedTuple):
    files: int
    rewritten: int
    new_findings: Counter  # code -> how many more after fix than before
    new_examples: list[tuple[str, str]]
    classification_changes: list[tuple[str, str, str]]  # path, before, after
    removals: list[Removal]

    @property
    def bad_removals(self) -> list[Removal]:
        return [r for r in self.removals if r.problem]

    @property
    def dropped_project_installs(self) -> list[Removal]:
        return [r for r in self.removals if r.problem == "dropped project install"]


def expected_after(before: str) -> str:
    """The classification a file must have after fixing: a migration lands, nothing else moves."""
    return "migrated" if before.startswith("migrate-") else before


def measure(files: list[Path]) -> Figures:
    from dockermig.config import config_for
    from dockermig.engine import fix_text, lint_text

    masters = manifests()
    rewritten = 0
    new: Counter = Counter()
    examples: list[tuple[str, str]] = []
    changes: list[tuple[str, str, str]] = []
    removed: list[Removal] = []
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        config = config_for(path)
        result = fix_text(text, path=path, config=config)
        before = result.before.facts.decision
        if not result.changed:
            continue
        rewritten += 1
        added = Counter(f.code for f in lint_text(result.text, path=path, config=config)) - Counter(f.code for f in result.findings)
        new += added
        examples += [(str(path), code) for code in added]
        after = result.after.facts.decision
        if after.classification != expected_after(before.classification) or (
            before.target is not None and after.target is not None and after.target.language != before.target.language
        ):
            changes.append((str(path), before.classification, after.classification))
        removed += removals(str(path), text, result.text, masters)
    return Figures(len(files), rewritten, new, examples, changes, removed)


def report(figures: Figures) -> str:
    allowed = len(figures.removals) - len(figures.bad_removals)
    lines = [
        f"{figures.files} files, {figures.rewritten} rewritten by fix",
        f"new findings after fix: {sum(figures.new_findings.values())} {dict(figures.new_findings)}",
        f"classification changes: {len(figures.classification_changes)}",
        f"removed commands/words: {len(figures.removals)}, all explained by the manifest: {allowed} "
        f"({len(figures.bad_removals)} not)",
        f"dropped project installs: {len(figures.dropped_project_installs)}",
    ]
    lines += [f"  new {code}: {path}" for path, code in figures.new_examples[:10]]
    lines += [f"  classification {b} -> {a}: {p}" for p, b, a in figures.classification_changes[:10]]
    lines += [f"  removal {r.problem}: {r.what[:80]} ({r.path})" for r in figures.bad_removals[:10]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import corpus_files

    if len(sys.argv) > 1:
        import conftest

        conftest.CORPUS = Path(sys.argv[1])
    print(report(measure(corpus_files())))
