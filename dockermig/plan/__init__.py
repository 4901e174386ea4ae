"""The migration plan: every Dockerfile and every compose service of a repository,
joined, classified, categorised and ranked P0–P3; and the progress figures of `status`.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from dockermig.policy.facts import FileFacts, Verdict
from dockermig.config import Config, config_for, load_config
from dockermig.discover import SKIP_DIRS, discover
from dockermig.syntax.query import parse_image_ref

CLASSIFICATIONS = ("migrated", "keep-as-is", "migrate-python", "migrate-node", "needs-review", "master")
PRIORITIES = ("P0", "P1", "P2", "P3")
_COMPOSE = re.compile(r"^(docker-)?compose([._-][^/]*)?\.ya?ml$", re.IGNORECASE)
_DEV_WORDS = {"dev", "devel", "development", "test", "tests", "testing", "local", "ci", "e2e", "debug"}


class PlanError(ValueError):
    """A compose file that cannot be read; the message names it."""


# -- compose -------------------------------------------------------------------------------


class ComposeService:
    def __init__(self, name: str, compose: Path, dockerfile: Path | None, image: str | None, dev: bool):
        self.name = name
        self.compose = compose
        self.dockerfile = dockerfile  # resolved path of the Dockerfile it builds, if it builds
        self.image = image
        self.dev = dev


def compose_files(root: Path) -> list[Path]:
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        found += [Path(directory) / f for f in sorted(files) if _COMPOSE.match(f)]
    return found


def read_compose(path: Path) -> list[ComposeService]:
    from dockermig.limits import InputError, read_text
    from dockermig.policy.loader import YamlError, parse_yaml

    try:
        document = parse_yaml(read_text(path), path) or {}
    except (OSError, UnicodeDecodeError, InputError) as error:
        raise PlanError(f"{path}: cannot read ({error})") from None
    except YamlError as error:
        raise PlanError(str(error)) from None
    if not isinstance(document, dict) or not isinstance(document.get("services", {}), dict):
        raise PlanError(f"{path}: not a compose file (no `services:` table)")
    words = set(re.split(r"[._-]", path.name.lower()))
    file_is_dev = bool(words & _DEV_WORDS) or "override" in words
    services = []
    for name, spec in (document.get("services") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        build, dockerfile = spec.get("build"), None
        try:
            if isinstance(build, str):
                dockerfile = (path.parent / build / "Dockerfile").resolve()
            elif isinstance(build, dict) and "dockerfile_inline" not in build:
                context = path.parent / str(build.get("context", "."))
                dockerfile = (context / str(build.get("dockerfile", "Dockerfile"))).resolve()
        except (OSError, RuntimeError, ValueError) as error:  # a NUL byte, a symlink loop
            raise PlanError(f"{path}: service {name}: its build path cannot be resolved ({error})") from None
        profiles = spec.get("profiles")  # a list in a valid file; anything else is ignored
        profiles = {str(p).lower() for p in profiles} if isinstance(profiles, list) else set()
        dev = file_is_dev or bool(profiles & _DEV_WORDS)
        image = spec.get("image")
        services.append(ComposeService(str(name), path, dockerfile, str(image) if image else None, dev))
    return services


# -- plan ----------------------------------------------------------------------------------


def build_plan(root: Path, config_file: Path | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """(entries, errors): one entry per Dockerfile, and per compose service that only
    names an image."""
    from dockermig import parse
    from dockermig.engine import UNANALYSABLE, _lint, confined_to_repository, read_dockerfile, unanalysable_reason
    from dockermig.limits import confined, repository_root

    override = load_config(config_file) if config_file else None
    errors: list[str] = []
    services: list[ComposeService] = []
    with confined([repository_root(root, root)]):  # a compose file that is a symlink out is not read
        for compose in compose_files(root):
            try:
                services += read_compose(compose)
            except PlanError as error:
                errors.append(str(error))
    by_dockerfile: dict[Path, list[ComposeService]] = {}
    for service in services:
        if service.dockerfile is not None:
            by_dockerfile.setdefault(service.dockerfile, []).append(service)
    entries = []
    for item in discover([root], override):
        if item.error:
            errors.append(f"{item.path}: {item.error}")
            continue
        used_by = by_dockerfile.pop(item.path.resolve(), [])
        try:
            config = override or config_for(item.path)
            with confined_to_repository(item.path, config, item.root):
                text = read_dockerfile(item.path, config.max_file_size)
                findings, ctx = _lint(parse(text), item.path, config)
                entries.append(_file_entry(root, item.path, ctx.facts, findings, used_by, config))
        except UNANALYSABLE as error:
            errors.append(f"{item.path}: {unanalysable_reason(error)}")
    for path, orphans in by_dockerfile.items():
        where = "which does not exist" if not path.exists() else f"which is outside {root} (not planned)"
        for service in orphans:
            errors.append(f"{service.compose}: service {service.name} builds {path}, {where}")
    config = override or config_for(root)
    for service in services:
        if service.dockerfile is None and service.image:
            entries.append(_image_entry(root, service, config))
    rank(entries, config, root)
    entries.sort(key=lambda e: (e["priority"], e["path"] or "~", ",".join(e["service"])))
    return entries, errors


def _file_entry(root: Path, path: Path, facts: FileFacts, findings, used_by, config) -> dict[str, Any]:
    runtime = facts.runtime
    verdict = facts.verdict
    image = runtime.image.display if runtime and runtime.image else (runtime.stage.base if runtime else None)
    language = facts.language or facts.review_language
    target = None
    if verdict is Verdict.MIGRATE:
        classification = f"migrate-{facts.target.language}"
        target = facts.target.image
    elif verdict is Verdict.MIGRATED:
        classification, target = "migrated", runtime.master.image
    elif verdict is Verdict.MASTER_DEFINITION:
        classification = "master"
    elif verdict is Verdict.KEEP:
        classification = "keep-as-is"
    else:
        classification = "needs-review"
        master = facts.policy.master_for_language(language)
        target = master.image if master else None
    wrong = [f for f in findings if f.code in ("DM102", "DM105")]
    if classification == "migrated" and wrong:  # on a master, but the wrong one, or it should not be
        classification = "needs-review"
    names = [s.name for s in used_by]
    if classification == "master":
        category = "master"
    elif runtime and runtime.keep:
        category = runtime.keep.category
    else:
        category = _category(config, names, path.relative_to(root))
    reason = "; ".join(f"{f.code} {f.message}" for f in wrong) or _reason(facts, findings, classification)
    return {
        "path": path.relative_to(root).as_posix(),
        "service": names,
        "image": image,
        "classification": classification,
        "category": category,
        "priority": None,
        "target": target,
        "reason": reason,
        "non_root": _runs_non_root(facts),
        "compose": "dev" if used_by and all(s.dev for s in used_by) else ("production" if used_by else None),
    }


def _image_entry(root: Path, service: ComposeService, config: Config) -> dict[str, Any]:
    policy = config.policy
    ref = parse_image_ref(service.image)
    master, keep = policy.master_of(ref), policy.keep_entry(ref)
    language = policy.language_of_image(ref)
    if master is not None:
        classification, target, reason = "migrated", master.image, f"runs {master.image} directly"
    elif keep is not None:
        classification, target, reason = "keep-as-is", None, f"{ref.short} is kept as is ({keep.category})"
    else:
        classification = "needs-review"
        language_master = policy.master_for_language(language)
        target = language_master.image if language_master else None
        reason = (f"image-only service on {ref.display}: give it a Dockerfile FROM {target}" if target
                  else f"image-only service on {ref.display}, not in the keep-as-is catalogue")
    category = keep.category if keep else _category(config, [service.name], None)
    return {
        "path": None,
        "service": [service.name],
        "image": ref.display,
        "classification": classification,
        "category": category,
        "priority": None,
        "target": target,
        "reason": reason,
        "non_root": None,
        "compose": "dev" if service.dev else "production",
    }


def _reason(facts: FileFacts, findings, classification: str) -> str:
    if classification == "master":
        return "the Dockerfile of a master image"
    base = facts.reasons[0] if facts.reasons else ""
    if classification == "migrated":
        base = f"on {facts.runtime.master.image}"
    notes = [f"{f.code} {f.message}" for f in findings if f.code.startswith("DM4") and f.code != "DM401"]
    return "; ".join([base, *notes]) if notes else base


def _runs_non_root(facts: FileFacts) -> bool | None:
    runtime = facts.runtime
    if runtime is None:
        return None
    instruction, user = facts.final_user
    if instruction is not None:
        return None if user is None or not user.resolved else not user.is_root
    if runtime.master is not None:
        return runtime.master.user not in ("root", "0")
    if runtime.keep is not None and runtime.keep.user:
        return runtime.keep.user not in ("root", "0")
    return False


# -- categories and priorities -------------------------------------------------------------


def _rules(config: Config) -> dict[str, Any]:
    from dockermig.policy.loader import load_pack

    packed = load_pack("priorities.yaml")
    return {
        "priorities": config.data.get("priorities", packed["priorities"]),
        "categories": {**packed["categories"], **config.data.get("categories", {})},
    }


def _words(names: list[str], path: Path | None) -> list[str]:
    parts = [*names, *(path.parent.parts if path is not None else ())]
    words = []
    for part in parts:
        words.append(part.lower())
        words += re.split(r"[._/\-]+", part.lower())
    return words


def _category(config: Config, names: list[str], path: Path | None) -> str:
    words = _words(names, path)
    for category, keywords in _rules(config)["categories"].items():
        if any(word in keywords for word in words):
            return category
    return "utility"


def rank(entries: list[dict[str, Any]], config: Config, root: Path) -> None:
    import pathspec

    rules = _rules(config)["priorities"]
    specs = [pathspec.GitIgnoreSpec.from_lines(rule.get("paths", [])) if rule.get("paths") else None for rule in rules]
    for entry in entries:
        for rule, spec in zip(rules, specs):
            if _matches(rule, spec, entry):
                entry["priority"] = rule["priority"]
                if entry["classification"] in ("migrate-python", "migrate-node", "needs-review") and rule.get("reason"):
                    entry["reason"] = entry["reason"] or rule["reason"]
                break
        else:
            entry["priority"] = "P2"


def _matches(rule: dict[str, Any], spec, entry: dict[str, Any]) -> bool:
    checks = []
    if spec is not None:
        checks.append(entry["path"] is not None and spec.match_file(entry["path"]))
    if "classifications" in rule:
        checks.append(entry["classification"] in rule["classifications"])
    if "categories" in rule:
        checks.append(entry["category"] in rule["categories"])
    if "compose" in rule:
        checks.append(entry["compose"] == rule["compose"])
    return all(checks)


def waves(entries: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """The services to migrate, in priority order, in batches of at most ``size``."""
    todo = [e for e in entries if e["classification"] in ("migrate-python", "migrate-node")]
    todo.sort(key=lambda e: (e["priority"], e["path"] or ""))
    return [todo[i : i + size] for i in range(0, len(todo), size)]


# -- status --------------------------------------------------------------------------------


def status(entries: list[dict[str, Any]]) -> dict[str, Any]:
    files = [e for e in entries if e["path"] is not None]
    by_class = Counter(e["classification"] for e in entries)
    migratable = [e for e in files if e["classification"] in ("migrated", "migrate-python", "migrate-node")
                  or (e["classification"] == "needs-review" and e["target"])]
    migrated = sum(1 for e in migratable if e["classification"] == "migrated")
    known_users = [e for e in files if e["non_root"] is not None and e["classification"] != "master"]
    todo = [e for e in entries if e["classification"] in ("migrate-python", "migrate-node", "needs-review")]
    return {
        "dockerfiles": len(files),
        "services": len(entries),
        "classifications": {c: by_class.get(c, 0) for c in CLASSIFICATIONS},
        "categories": dict(sorted(Counter(e["category"] for e in entries).items())),
        "migratable": len(migratable),
        "migrated": migrated,
        "migrated_percent": round(100 * migrated / len(migratable), 1) if migratable else 100.0,
        "non_root_percent": round(100 * sum(e["non_root"] for e in known_users) / len(known_users), 1)
        if known_users else 100.0,
        "todo_by_priority": {p: sum(1 for e in todo if e["priority"] == p) for p in PRIORITIES},
    }
