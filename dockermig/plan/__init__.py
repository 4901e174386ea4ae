"""The migration plan: every Dockerfile and every compose service of a repository,
joined, classified, categorised and ranked P0–P3; and the progress figures of `status`.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from dockermig.config import Config, Settings
from dockermig.discover import discover, walk
from dockermig.plan.graph import answers_to, dependency_edges, dependents, references
from dockermig.plan.order import DEFAULT_WAVE_SIZE, blockers, holds, settles, waves  # noqa: F401 (waves, blockers: the package's API)
from dockermig.policy.facts import FileFacts
from dockermig.report import display_path, plural
from dockermig.syntax.query import parse_image_ref

CLASSIFICATIONS = ("migrated", "keep-as-is", "migrate-python", "migrate-node", "needs-review", "master")
PRIORITIES = ("P0", "P1", "P2", "P3")
_COMPOSE = re.compile(r"^(docker-)?compose([._-][^/]*)?\.ya?ml$", re.IGNORECASE)
_DEV_WORDS = {"dev", "devel", "development", "test", "tests", "testing", "local", "ci", "e2e", "debug"}


class PlanError(ValueError):
    """A compose file that cannot be read; the message names it."""


# -- compose -------------------------------------------------------------------------------


class ComposeService:
    def __init__(self, name: str, compose: Path, dockerfile: Path | None, image: str | None, dev: bool,
                 hosts: frozenset[str] = frozenset(), references: frozenset[str] = frozenset(),
                 context: Path | None = None):
        self.name = name
        self.compose = compose
        self.dockerfile = dockerfile  # resolved path of the Dockerfile it builds, if it builds
        self.context = context  # resolved build context of that Dockerfile
        self.image = image
        self.dev = dev
        self.hosts = hosts or frozenset({name.lower()})  # the names other services reach it by
        self.references = references  # the hosts it reaches (depends_on, links, env URLs...)


def is_compose_name(name: str) -> bool:
    return bool(_COMPOSE.match(name))


def read_compose(path: Path) -> list[ComposeService]:
    from dockermig.limits import InputError, read_text
    from dockermig.policy.loader import YamlError, parse_yaml

    try:
        document = parse_yaml(read_text(path), display_path(path)) or {}
    except (OSError, UnicodeDecodeError, InputError) as error:
        raise PlanError(f"{display_path(path)}: cannot read ({error})") from None
    except YamlError as error:
        raise PlanError(str(error)) from None
    if not isinstance(document, dict) or not isinstance(document.get("services", {}), dict):
        raise PlanError(f"{display_path(path)}:1: not a compose file (no `services:` table)")
    words = set(re.split(r"[._-]", path.name.lower()))
    file_is_dev = bool(words & _DEV_WORDS) or "override" in words
    services = []
    for name, spec in (document.get("services") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        build, dockerfile, context = spec.get("build"), None, None
        try:
            if isinstance(build, str):
                context = (path.parent / build).resolve()
                dockerfile = (context / "Dockerfile").resolve()
            elif isinstance(build, dict) and "dockerfile_inline" not in build:
                context = (path.parent / str(build.get("context", "."))).resolve()
                dockerfile = (context / str(build.get("dockerfile", "Dockerfile"))).resolve()
        except (OSError, RuntimeError, ValueError) as error:  # a NUL byte, a symlink loop
            raise PlanError(f"{display_path(path)}: service {name}: its build path cannot be resolved ({error})") from None
        profiles = spec.get("profiles")  # a list in a valid file; anything else is ignored
        profiles = {str(p).lower() for p in profiles} if isinstance(profiles, list) else set()
        dev = file_is_dev or bool(profiles & _DEV_WORDS)
        image = spec.get("image")
        services.append(ComposeService(str(name), path, dockerfile, str(image) if image else None, dev,
                                       frozenset(answers_to(str(name), spec)), frozenset(references(spec)), context))
    return services


# -- plan ----------------------------------------------------------------------------------


class Plan(NamedTuple):
    entries: list[dict[str, Any]]
    warnings: list[str]  # what had to be left out of the plan, and why (file and line)


def build_plan(root: Path, settings: Settings | None = None) -> Plan:
    """One entry per Dockerfile, and per compose service that only names an image (once per
    compose file). A compose file or Dockerfile that cannot be read is left out with a
    warning; the rest of the plan is made. A broken config is an error (ConfigError)."""
    from dockermig import parse
    from dockermig.engine import InputError, _lint, confined_to_repository, read_dockerfile, unanalysable_reason
    from dockermig.limits import confined, is_inside, repository_root
    from dockermig.policy.render import TemplateError

    settings = settings or Settings()
    config = settings.config_for(root)
    warnings: list[str] = []
    services: list[ComposeService] = []
    tree = repository_root(root, root)
    with confined([tree]):  # a compose file that is a symlink out of the repository is not read
        for compose, error in walk(root, config, is_compose_name):  # the same excludes and .gitignore as the Dockerfiles
            try:
                if error:
                    raise PlanError(f"{display_path(compose)}: {error}")
                services += read_compose(compose)
            except PlanError as problem:
                warnings.append(f"{problem}: its services are left out of the plan")
    by_dockerfile: dict[Path, list[ComposeService]] = {}
    for service in services:
        if service.dockerfile is not None:
            by_dockerfile.setdefault(service.dockerfile, []).append(service)
    entries = []
    for item in discover([root], settings):
        if item.error:
            warnings.append(f"{display_path(item.path)}: {item.error}: left out of the plan")
            continue
        file_config = settings.config_for(item.path)
        used_by = by_dockerfile.pop(item.path.resolve(), [])
        try:
            with confined_to_repository(item.path, file_config, item.root):
                text = read_dockerfile(item.path, file_config.max_file_size)
                findings, ctx = _lint(parse(text), item.path, file_config)
                facts = ctx.facts
        except (InputError, TemplateError, RecursionError) as error:  # a broken config stops the plan
            warnings.append(f"{display_path(item.path)}: {unanalysable_reason(error)}: left out of the plan")
            continue
        entries.append(_file_entry(root, item.path, facts, findings, used_by, file_config))
    for path, orphans in by_dockerfile.items():
        why = ("does not exist" if not path.exists() else f"is outside {display_path(tree)}" if not is_inside(path, tree)
               else "is excluded or not named like a Dockerfile")
        for service in orphans:
            warnings.append(f"{display_path(service.compose)}: service {service.name} builds {display_path(path)}, "
                            f"which {why}: left out of the plan")
    for service in services:
        if service.dockerfile is None and service.image:
            entries.append(_image_entry(root, service, config))
    _link(entries, services)
    rank(entries, config, root)
    # most depended-on first within a priority: what the matrix shows first matters most
    entries.sort(key=lambda e: (e["priority"], -e["dependents"], e["path"] or "~", ",".join(e["service"]),
                                e["compose_files"]))
    return Plan(entries, warnings)


def _link(entries: list[dict[str, Any]], services: list[ComposeService]) -> None:
    """Each entry's ``dependents`` (how many services depend on one of its services, directly
    or through others) and ``depends_on`` (the services its own depend on directly); for the
    waves and the reason, the masks of the services on either side (``_users``, ``_needs``)
    and the first names of those that depend on it (``_user_names``)."""
    edges = dependency_edges(services)
    reach = dependents(edges)
    for entry in entries:
        own = reach.mask(entry["_nodes"])
        users = 0
        for node in entry["_nodes"]:
            users |= reach.users.get(node, 0)
        users &= ~own
        needs = {target for node in entry["_nodes"] for target in edges.get(node, ())} - set(entry["_nodes"])
        entry["dependents"] = users.bit_count()
        entry["depends_on"] = sorted({name for _, name in needs})
        entry["_own"], entry["_users"], entry["_needs"] = own, users, reach.mask(needs)
        entry["_user_names"] = reach.names(users, 5)


def _file_entry(root: Path, path: Path, facts: FileFacts, findings, used_by, config) -> dict[str, Any]:
    runtime = facts.runtime
    decision = facts.decision
    image = runtime.image.display if runtime and runtime.image else (runtime.stage.base if runtime else None)
    classification = decision.classification
    target = decision.target.image if decision.target else None
    # on a master, but the wrong one, or one it should not be on: the findings say why
    wrong = [f for f in findings if f.code in ("DM102", "DM105")] if decision.review_kind else []
    names = [s.name for s in used_by]
    if classification == "master":
        category = "master"
    elif decision.kept is not None:
        category = decision.kept.category
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
        "compose_files": sorted({_relative(s.compose, root) for s in used_by}),
        "non_root": _runs_non_root(facts),
        "compose": "dev" if used_by and all(s.dev for s in used_by) else ("production" if used_by else None),
        "findings": len(findings),
        "verify": None,
        "wave": None,
        "_file": path.resolve(),
        "_nodes": [(s.compose, s.name) for s in used_by],
        "_holds": holds(facts, findings),
        "_settles": settles(facts, numeric_users=config.is_enabled("DM525", "non-numeric-user")),
        "_port": _port(facts),
        "_context": _build_context(root, path, used_by),
    }


def _build_context(root: Path, path: Path, used_by: list[ComposeService]) -> str:
    """The folder ``verify`` builds in: the context compose builds the Dockerfile with
    (the first service's, when it lies in the plan's folder), else the Dockerfile's own."""
    from dockermig.limits import is_inside

    for service in used_by:
        if service.context is not None and is_inside(service.context, root.resolve(), resolved=True):
            return _relative(service.context, root.resolve())
    return path.parent.relative_to(root).as_posix() or "."


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
        "compose_files": [_relative(service.compose, root)],
        "non_root": None,
        "compose": "dev" if service.dev else "production",
        "findings": 0,
        "verify": None,
        "wave": None,
        "_file": None,
        "_nodes": [(service.compose, service.name)],
        "_holds": [],
        "_port": None,
        "_context": None,
    }


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _reason(facts: FileFacts, findings, classification: str) -> str:
    base = facts.decision.reason
    if classification == "master":
        return base
    notes = [f"{f.code} {f.message}" for f in findings if f.code.startswith("DM4") and f.code != "DM401"]
    return "; ".join([base, *notes]) if notes else base


def _port(facts: FileFacts) -> int | None:
    """The port the service listens on, for its `verify` command: its first EXPOSE, else
    the one the master's template sets."""
    from dockermig.syntax.values import exposed_ports

    runtime = facts.runtime
    if runtime is None:
        return None
    for instruction in runtime.stage.lineage_instructions():
        if instruction.keyword == "EXPOSE":
            numbers = [p.number for p in exposed_ports(instruction, runtime.stage.variables(instruction)) if p.number]
            if numbers:
                return numbers[0]
    target = facts.decision.target
    return target.port if target is not None else None


def _runs_non_root(facts: FileFacts) -> bool | None:
    runtime = facts.runtime
    if runtime is None:
        return None
    instruction, user = facts.final_user
    if instruction is not None:
        return None if user is None or not user.resolved else not user.is_root
    if runtime.master is not None:
        return None if runtime.master.user is None else runtime.master.user not in ("root", "0")
    if runtime.keep is not None and runtime.keep.user:
        return runtime.keep.user not in ("root", "0")
    return False


# -- categories and priorities -------------------------------------------------------------


@lru_cache(maxsize=1)
def _priorities_pack() -> dict[str, Any]:
    """rules/priorities.yaml, read once per process (it ships with dockermig)."""
    from dockermig.policy.loader import load_pack

    return load_pack("priorities.yaml")


def _rules(config: Config) -> dict[str, Any]:
    packed = _priorities_pack()
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
    """Each entry's ``priority`` and ``priority_reason``: the first rule that matches, with
    the evidence (the compose files that run it, the services that depend on it)."""
    import pathspec

    rules = _rules(config)["priorities"]
    specs = [pathspec.GitIgnoreSpec.from_lines(rule.get("paths", [])) if rule.get("paths") else None for rule in rules]
    for entry in entries:
        rule = next((r for r, spec in zip(rules, specs) if _matches(r, spec, entry)), {})
        entry["priority"] = rule.get("priority", "P2")
        entry["priority_reason"] = "; ".join(filter(None, [rule.get("reason"), _evidence(entry)]))


def _evidence(entry: dict[str, Any]) -> str:
    count, names = entry["dependents"], entry["_user_names"]
    if not count:
        return ""
    shown = ", ".join(names) + (f" and {count - len(names)} more" if count > len(names) else "")
    return f"{plural(count, 'service')} depend{'s' if count == 1 else ''} on it ({shown})"


def _matches(rule: dict[str, Any], spec, entry: dict[str, Any]) -> bool:
    checks = []
    if spec is not None:
        checks.append(entry["path"] is not None and spec.match_file(entry["path"]))
    if "classifications" in rule:
        checks.append(entry["classification"] in rule["classifications"])
    if "categories" in rule:
        checks.append(entry["category"] in rule["categories"])
    if "compose" in rule:  # production, dev, or none (no compose file runs it)
        checks.append((entry["compose"] or "none") == rule["compose"])
    if "min-dependents" in rule:
        checks.append(entry["dependents"] >= int(rule["min-dependents"]))
    return all(checks)


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
