"""`plan` and `status` output: a matrix a platform team can act on, and progress figures
(text, Markdown, JSON; Prometheus exposition text for a textfile collector)."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from dockermig.plan import PRIORITIES, status
from dockermig.report import plural, printable

COLUMNS = (("priority", "PRIO"), ("classification", "CLASSIFICATION"), ("category", "CATEGORY"),
           ("service", "SERVICE"), ("dependents", "DEPS"), ("path", "DOCKERFILE"), ("compose_files", "COMPOSE FILE"),
           ("image", "IMAGE"), ("target", "TARGET"))
MIN_REASON_WIDTH = 40  # narrower than this, the reason would wrap into a column of fragments


def _cell(entry: dict[str, Any], key: str) -> str:
    value = entry[key]
    if isinstance(value, list):
        return ",".join(value) or "-"
    return "-" if value is None else str(value)


def plan_text(entries: list[dict[str, Any]], waves: list | None = None, blockers: list | None = None,
              width: int = 80, matrix: bool = True) -> str:
    """The matrix, ``width`` columns wide at most: a table when every cell fits whole with
    room for the reason, otherwise one short block per entry, wrapped. Nothing is cut.
    Then wave 0 (the blockers) and the waves."""
    lines = _matrix_text(entries, width) if matrix else []
    if blockers:
        lines += ["", *_blockers_text(blockers, width)]
    if waves is not None:
        lines += ["", *_waves_text(waves, width)]
    return printable("\n".join(lines[1:] if lines[:1] == [""] else lines) + "\n")


def _matrix_text(entries: list[dict[str, Any]], width: int) -> list[str]:
    rows = [[_cell(e, key) for key, _ in COLUMNS] for e in entries]
    widths = [max([len(title)] + [len(r[i]) for r in rows]) for i, (_, title) in enumerate(COLUMNS)]
    indent = sum(widths) + 2 * len(widths)
    if indent + MIN_REASON_WIDTH <= width:
        lines = ["  ".join(title.ljust(w) for (_, title), w in zip(COLUMNS, widths)) + "  REASON"]
        for entry, row in zip(entries, rows):
            reason = textwrap.wrap(entry["reason"], width - indent) or [""]
            lines.append(("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + reason[0]).rstrip())
            lines += [" " * indent + more for more in reason[1:]]
    else:
        lines = []
        for entry in entries:
            lines += _block(entry, width)
    return lines


def _block(entry: dict[str, Any], width: int) -> list[str]:
    """Three short lines: who (priority, classification, service, category, compose files),
    what (Dockerfile, image, target), why (the reason)."""
    cells = {key: _cell(entry, key) for key, _ in COLUMNS}
    users = [plural(entry["dependents"], "dependent")] if entry["dependents"] else []
    about = "; ".join([entry["category"], *entry["compose_files"], *users])
    where = entry["path"] or "image-only service"
    moves = entry["target"] and entry["target"] != entry["image"]
    image = f"{cells['image']} -> {cells['target']}" if moves else cells["image"]
    return [*_wrapped(f"{cells['priority']}  {cells['classification']}  {cells['service']}  ({about})", width, "", "    "),
            *_wrapped(f"{where}  {image}", width, "    ", "      "),
            *_wrapped(entry["reason"], width, "    ", "    ")]


def _wrapped(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=True, break_on_hyphens=False) or [first.rstrip()]


def _held(blocker: dict[str, Any], quote=str) -> str:
    services = blocker["services"]
    listed = ", ".join(map(quote, services))
    if not blocker.get("blocks", True):
        return f"settles it for {plural(len(services), 'service')} (their migration does not wait): {listed}"
    return f"unblocks {blocker['unblocks']} of {plural(len(services), 'service')} it holds back: {listed}"


def _blockers_text(blockers: list, width: int) -> list[str]:
    held = len({path for b in blockers if b.get("blocks", True) for path in b["services"]})
    lines = [f"Wave 0: what holds {plural(held, 'service')} back, and the change that unblocks them "
             f"({plural(len(blockers), 'cause')}):"]
    for blocker in blockers:
        where = f" (in {blocker['master_dockerfile']})" if blocker["master_dockerfile"] else ""
        lines += _wrapped(f"{blocker['kind']}: {blocker['cause']}", width, "  ", "    ")
        lines += _wrapped(f"-> {blocker['proposal']}{where}", width, "    ", "       ")
        lines += _wrapped(_held(blocker), width, "    ", "      ")
    return lines


def _moves(entry: dict[str, Any]) -> str:
    """Where a service of a wave moves, and how risky the move is."""
    held = " (after wave 0)" if entry["_holds"] else ""
    return (f"{entry['target']}{held}  ({plural(entry['dependents'], 'dependent')}, "
            f"{plural(entry['findings'], 'finding')})")


def _waves_text(waves: list, width: int) -> list[str]:
    lines = []
    for number, wave in enumerate(waves, 1):
        lines.append(f"Wave {number} ({plural(len(wave), 'service')}):")
        for entry in wave:
            lines += _wrapped(f"{entry['priority']}  {entry['path']}  ->  {_moves(entry)}", width, "  ", "      ")
            lines.append(f"      {entry['verify']}")  # whole, to paste: a wrapped command would not run
    return lines or ["Nothing left to migrate."]


def plan_markdown(entries: list[dict[str, Any]], waves: list | None = None, blockers: list | None = None,
                  matrix: bool = True) -> str:
    """For a tracking issue: the status figures, wave 0 and the waves as checklists, the
    services that need a person, and the matrix by priority."""
    figures = status(entries)
    lines = ["## Migration plan", "", *(f"- {line}" for line in status_text(figures).splitlines() if line)]
    if blockers:
        lines += ["", "### Wave 0: blockers, and the change that unblocks them", ""]
        for b in blockers:
            where = f" (in `{b['master_dockerfile']}`)" if b["master_dockerfile"] else ""
            held = _held(b, lambda path: f"`{path}`")
            lines.append(f"- [ ] **{_md(b['proposal'])}**{where}. {_md(b['cause'])}. {held[0].upper()}{held[1:]}")
    for number, wave in enumerate(waves or [], 1):
        lines += ["", f"### Wave {number} ({plural(len(wave), 'service')})", ""]
        for entry in wave:
            lines.append(f"- [ ] `{entry['path']}` → {_md(_moves(entry))}, {entry['priority']}  ")
            lines.append(f"  `{entry['verify']}`")
    review = [e for e in entries if e["classification"] == "needs-review" and e["wave"] is None]
    if review:
        lines += ["", f"### Needs a person ({len(review)})", ""]
        lines += [f"- [ ] `{e['path'] or ','.join(e['service'])}`: {_md(e['reason'])}" for e in review]
    titles = [title.title() for _, title in COLUMNS] + ["Reason"]
    for priority in PRIORITIES if matrix else ():
        ranked = [e for e in entries if e["priority"] == priority]
        if not ranked:
            continue
        lines += ["", f"### {priority} ({plural(len(ranked), 'service')})", "",
                  "| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
        for entry in ranked:
            cells = [_cell(entry, key) for key, _ in COLUMNS] + [entry["reason"]]
            lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return printable("\n".join(lines) + "\n")


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def plan_json(entries: list[dict[str, Any]], waves: list | None = None, blockers: list | None = None) -> str:
    public = [{k: v for k, v in e.items() if k not in ("non_root", "compose") and not k.startswith("_")}
              for e in entries]
    return json.dumps({"entries": public, "waves": [[e["path"] for e in w] for w in waves or []],
                       "blockers": blockers or []}, indent=2) + "\n"


def status_text(figures: dict[str, Any]) -> str:
    lines = [
        f"{figures['migrated']} of {figures['migratable']} migratable Dockerfiles are on a master "
        f"({figures['migrated_percent']}%); {figures['non_root_percent']}% run as non-root.",
        "",
        "By classification: " + ", ".join(f"{k} {v}" for k, v in figures["classifications"].items()),
        "By category: " + ", ".join(f"{k} {v}" for k, v in figures["categories"].items()),
        "Still to do: " + ", ".join(f"{k} {v}" for k, v in figures["todo_by_priority"].items()),
    ]
    return printable("\n".join(lines) + "\n")


def status_json(figures: dict[str, Any]) -> str:
    return json.dumps(figures, indent=2) + "\n"


METRICS = {
    "dockermig_dockerfiles": "Dockerfiles found",
    "dockermig_services": "Dockerfiles and image-only compose services in the plan",
    "dockermig_services_by_classification": "Services by migration classification",
    "dockermig_services_by_category": "Services by category",
    "dockermig_migratable_dockerfiles": "Python and Node.js Dockerfiles that belong on a master",
    "dockermig_migrated_dockerfiles": "Migratable Dockerfiles already on a master",
    "dockermig_migrated_ratio": "Share of migratable Dockerfiles already on a master (0-1)",
    "dockermig_non_root_ratio": "Share of Dockerfiles whose image runs as a non-root user (0-1)",
    "dockermig_todo_by_priority": "Services still to migrate or review, by priority",
}


def status_prometheus(figures: dict[str, Any]) -> str:
    """Prometheus exposition text, e.g. for node_exporter's textfile collector."""

    def metric(name: str, samples: list[tuple[str, float]]) -> list[str]:
        return [f"# HELP {name} {METRICS[name]}", f"# TYPE {name} gauge", *(f"{name}{l} {v}" for l, v in samples)]

    def labelled(label: str, values: dict[str, int]) -> list[tuple[str, float]]:
        return [(f'{{{label}="{key}"}}', value) for key, value in values.items()]

    lines = []
    lines += metric("dockermig_dockerfiles", [("", figures["dockerfiles"])])
    lines += metric("dockermig_services", [("", figures["services"])])
    lines += metric("dockermig_services_by_classification", labelled("classification", figures["classifications"]))
    lines += metric("dockermig_services_by_category", labelled("category", figures["categories"]))
    lines += metric("dockermig_migratable_dockerfiles", [("", figures["migratable"])])
    lines += metric("dockermig_migrated_dockerfiles", [("", figures["migrated"])])
    lines += metric("dockermig_migrated_ratio", [("", round(figures["migrated_percent"] / 100, 4))])
    lines += metric("dockermig_non_root_ratio", [("", round(figures["non_root_percent"] / 100, 4))])
    lines += metric("dockermig_todo_by_priority", labelled("priority", figures["todo_by_priority"]))
    return "\n".join(lines) + "\n"
