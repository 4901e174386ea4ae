"""One row per service. A service is its build (a Dockerfile) or the image it runs: the
compose files that run it, the names they give it and the services that depend on it are
merged into its row, however many compose files name it.

- The same Dockerfile at several paths (the same text, in folders of the same name:
  ``docker/jarvis-ai/`` and ``services/jarvis-ai/``) is one service; the other paths are
  its ``copies``.
- A compose service that runs an image the repository builds (``image:
  sutazai-postgres-secure:latest``, built elsewhere from ``docker/postgres-secure``) is that
  build's row: known from a compose service that builds and tags it, else from a
  Dockerfile whose folder carries the image's name (with or without an organisation
  prefix, as a master's file is known by its name).
- An image-only service is one row per image repository and name: ``postgres`` on
  ``postgres:16.4-alpine`` in four compose files is one row.

Categories come from evidence before names: the keep-as-is category of what the image is
or runs (``FROM ubuntu`` + ``ollama``, a master rebuilt with ``redis-server``), then that of
an image the repository builds and the service is built FROM (a backup job FROM the
organisation's postgres is a database tool), and only then the words of its names and
folders (rules/priorities.yaml).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from dockermig.config import Config, Settings
from dockermig.plan.compose import ComposeService
from dockermig.plan.inventory import FileSummary, Inventory
from dockermig.plan.rank import words_category
from dockermig.report import display_path
from dockermig.syntax.query import parse_image_ref

Row = dict[str, Any]


def service_rows(inventory: Inventory, root: Path, settings: Settings) -> tuple[list[Row], list[str]]:
    """The rows of the plan, unranked, and the warnings of compose services whose build
    is not in the plan."""
    from dockermig.copies import copy_folder
    from dockermig.limits import is_inside, repository_root

    config = settings.config_for(root)
    top = root.resolve()
    live_services = [s for s in inventory.services if not s.copy] + [s for s in inventory.services if s.copy]
    building: dict[Path, list[ComposeService]] = {}
    for service in live_services:
        if service.dockerfile is not None:
            building.setdefault(service.dockerfile, []).append(service)
    rows: list[Row] = []
    for group in _same_dockerfile(inventory.files, building):
        used_by = [s for summary in group for s in building.pop(summary.file, [])]
        rows.append(_file_row(root, group, used_by, settings))
    warnings = []
    tree = repository_root(root, root)
    for path, orphans in building.items():
        copy = copy_folder(path, top)
        why = ("does not exist" if not path.exists() else f"is outside {display_path(tree)}" if not is_inside(path, tree)
               else f"is in a copy ({copy.as_posix()}/: --include-copies plans it)" if copy is not None
               else "is excluded or not named like a Dockerfile")
        for service in orphans:
            warnings.append(f"{display_path(service.compose)}: service {service.name} builds {display_path(path)}, "
                            f"which {why}: left out of the plan")
    built = _built_here([r for r in rows], live_services, config)
    images: dict[tuple[str, str], list[ComposeService]] = {}
    for service in live_services:
        if service.dockerfile is not None or not service.image:
            continue
        ref = parse_image_ref(service.image)
        row = built.get(ref.short)
        if row is not None:  # it runs what the repository builds: that build's row
            row["_services"].append(service)
        else:
            images.setdefault((ref.short, service.name.lower()), []).append(service)
    rows += [_image_row(root, services, config) for services in images.values()]
    for row in rows:
        _compose_fields(row, root)
    for row in rows:
        row["category"] = _category(row, built, config, set())
    return rows, warnings


# -- Dockerfiles ------------------------------------------------------------------------


def _same_dockerfile(files: list[FileSummary], building: dict[Path, list[ComposeService]]) -> list[list[FileSummary]]:
    """The Dockerfiles grouped by service: the same text in folders of the same name (and
    under the same file name). The first of a group is the one to migrate: the live one a
    live compose file builds, else the live one, else the shortest path."""
    groups: dict[tuple[str, str, str], list[FileSummary]] = {}
    for summary in files:
        groups.setdefault((summary.digest, summary.file.parent.name, summary.file.name), []).append(summary)

    def first(summary: FileSummary) -> tuple:
        live_build = any(not s.copy for s in building.get(summary.file, ()))
        return summary.copy, not live_build, len(summary.path.parts), summary.path.as_posix()

    return [sorted(group, key=first) for group in groups.values()]


def _file_row(root: Path, group: list[FileSummary], used_by: list[ComposeService], settings: Settings) -> Row:
    main = group[0]
    policy = settings.config_for(main.path).policy
    masters = {m.image: m for m in policy.masters}

    def with_master(found) -> list:
        return [hold._replace(master=masters[hold.master]) for hold in found if hold.master in masters]

    return {
        "path": _relative(main.path, root),
        "copies": [_relative(s.path, root) for s in group[1:]],
        "_live_copies": [_relative(s.path, root) for s in group[1:] if not s.copy],
        "service": [],
        "image": main.image,
        "classification": main.classification,
        "category": None,
        "priority": None,
        "target": main.target,
        "reason": main.reason,
        "compose_files": [],
        "non_root": main.non_root,
        "compose": None,
        "findings": main.findings,
        "fix": None,
        "verify": None,
        "wave": None,
        "_file": main.file,
        "_copy": main.copy,
        "_summary": main,
        "_services": used_by,
        "_holds": with_master(main.holds),
        "_settles": with_master(main.settles),
        "_port": main.port,
        "_fix": main.fix,
        "_context": _build_context(root, main.path, used_by),
        "broken": list(main.broken),
    }


def _build_context(root: Path, path: Path, used_by: list[ComposeService]) -> str:
    """The folder ``verify`` builds in: the context compose builds the Dockerfile with
    (the first live service's, when it lies in the plan's folder), else the Dockerfile's
    own."""
    from dockermig.limits import is_inside

    for service in used_by:
        if service.dockerfile == path.resolve() and service.context is not None and \
                is_inside(service.context, root.resolve(), resolved=True):
            return _relative(service.context, root.resolve())
    return path.parent.relative_to(root).as_posix() or "."


def _built_here(rows: list[Row], services: list[ComposeService], config: Config) -> dict[str, Row]:
    """The image repositories the repository builds (ImageRef.short), each with its row:
    tagged by a compose service that builds it, or named by a Dockerfile's folder (an
    image nobody pulls from a catalogue: not a master, not kept, not a language's)."""
    by_file = {row["_file"]: row for row in rows}
    built: dict[str, Row] = {}
    for service in services:  # live compose files first
        if service.dockerfile is not None and service.image and service.dockerfile in by_file:
            built.setdefault(parse_image_ref(service.image).short, by_file[service.dockerfile])
    policy = config.policy
    named: dict[str, list[Row]] = {}
    for row in rows:
        if not row["_copy"]:
            named.setdefault(_build_name(row["_file"]), []).append(row)
    for service in services:
        if service.dockerfile is not None or not service.image:
            continue
        ref = parse_image_ref(service.image)
        if ref.short in built or policy.master_of(ref) or policy.keep_entry(ref) or policy.language_of_image(ref):
            continue
        name = ref.name.lower()
        candidates = named.get(name, []) + named.get(name.partition("-")[2], []) if "-" in name else named.get(name, [])
        if len(candidates) == 1:  # two folders of that name: no evidence which one builds it
            built[ref.short] = candidates[0]
    return built


def _build_name(path: Path) -> str:
    """What a Dockerfile's path calls what it builds: ``docker/postgres-secure/Dockerfile``
    and ``Dockerfile.postgres-secure`` both build postgres-secure."""
    low = path.name.lower()
    for stem in ("dockerfile", "containerfile"):
        if low == stem:
            return path.parent.name.lower()
        if low.startswith((stem + ".", stem + "-")):
            return low[len(stem) + 1:]
        if low.endswith("." + stem):
            return low[: -len(stem) - 1]
    return low


# -- images -----------------------------------------------------------------------------


def _image_row(root: Path, services: list[ComposeService], config: Config) -> Row:
    policy = config.policy
    refs = Counter(parse_image_ref(s.image).display for s in services)
    ref = parse_image_ref(refs.most_common(1)[0][0])
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
    if len(refs) > 1:  # the compose files disagree on the tag: one service, said once
        reason += "; also run as " + ", ".join(image for image, _ in refs.most_common()[1:])
    return {
        "path": None,
        "copies": [],
        "_live_copies": [],
        "service": [],
        "image": ref.display,
        "classification": classification,
        "category": keep.category if keep else None,
        "priority": None,
        "target": target,
        "reason": reason,
        "compose_files": [],
        "non_root": None,
        "compose": None,
        "findings": 0,
        "fix": None,
        "verify": None,
        "wave": None,
        "_file": None,
        "_copy": all(s.copy for s in services),
        "_summary": None,
        "_services": services,
        "_holds": [],
        "_settles": [],
        "_port": None,
        "_fix": None,
        "_context": None,
        "broken": [],
    }


# -- what the compose files say ----------------------------------------------------------


def _compose_fields(row: Row, root: Path) -> None:
    """``service`` (every name the compose files give it, once), ``compose_files``,
    ``compose`` (production when a live file runs it outside a dev/test file or profile,
    dev when only those do; a copy's compose file runs nothing) and ``_nodes``."""
    services = row["_services"]
    row["service"] = list(dict.fromkeys(s.name for s in services))
    row["compose_files"] = sorted({_relative(s.compose, root) for s in services})
    live = [s for s in services if not s.copy]
    row["compose"] = "dev" if live and all(s.dev for s in live) else ("production" if live else None)
    row["_nodes"] = [(s.compose, s.name) for s in services]


def _category(row: Row, built: dict[str, Row], config: Config, seen: set[int]) -> str:
    if row["category"] is not None:
        return row["category"]
    summary: FileSummary | None = row["_summary"]
    category = None
    if summary is not None:
        if summary.classification == "master":
            category = "master"
        else:
            category = summary.kept or summary.runs
        base = built.get(summary.base) if summary.base else None
        if category is None and base is not None and base is not row and id(row) not in seen:
            seen.add(id(row))  # FROM an image built here, built FROM ... : never round a loop
            category = _category(base, built, config, seen)
            if category != "utility":
                row["reason"] += f"; built FROM {summary.image}, which {base['path']} builds ({category})"
    if category is None:
        path = Path(row["path"]) if row["path"] else None
        category = words_category(config, row["service"], path)
    row["category"] = category
    return category


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        try:
            return path.relative_to(root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()
