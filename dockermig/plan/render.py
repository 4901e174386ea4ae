"""`plan` and `status` output: a matrix a platform team can act on, and progress figures
(text, Markdown, JSON; Prometheus exposition text for a textfile collector)."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from dockermig.report import plural, printable

COLUMNS = (("priority", "PRIO"), ("classification", "CLASSIFICATION"), ("category", "CATEGORY"),
           ("service", "SERVICE"), ("path", "DOCKERFILE"), ("compose_files", "COMPOSE FILE"), ("image", "IMAGE"),
           ("target", "TARGET"))
MIN_REASON_WIDTH = 40  # narrower than this, the reason would wrap into a column of fragments


def _cell(entry: dict[str, Any], key: str) -> str:
    value = entry[key]
    if isinstance(value, list):
        return ",".join(value) or "-"
    return "-" if value is None else str(value)


def plan_text(entries: list[dict[str, Any]], waves: list | None = None, width: int = 80) -> str:
    """The matrix, ``width`` columns wide at most: a table when every cell fits whole with
    room for the reason, otherwise one short block per entry, wrapped. Nothing is cut."""
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
    if waves is not None:
        lines += ["", *_waves_text(waves)]
    return printable("\n".join(lines) + "\n")


def _block(entry: dict[str, Any], width: int) -> list[str]:
    """Three short lines: who (priority, classification, service, category, compose files),
    what (Dockerfile, image, target), why (the reason)."""
    cells = {key: _cell(entry, key) for key, _ in COLUMNS}
    about = "; ".join([entry["category"], *entry["compose_files"]])
    where = entry["path"] or "image-only service"
    moves = entry["target"] and entry["target"] != entry["image"]
    image = f"{cells['image']} -> {cells['target']}" if moves else cells["image"]
    return [*_wrapped(f"{cells['priority']}  {cells['classification']}  {cells['service']}  ({about})", width, "", "    "),
            *_wrapped(f"{where}  {image}", width, "    ", "      "),
            *_wrapped(entry["reason"], width, "    ", "    ")]


def _wrapped(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=True, break_on_hyphens=False) or [first.rstrip()]


def _waves_text(waves: list) -> list[str]:
    lines = []
    for number, wave in enumerate(waves, 1):
        lines.append(f"Wave {number} ({plural(len(wave), 'service')}):")
        lines += [f"  {e['priority']}  {e['path']}  ->  {e['target']}" for e in wave]
    return lines or ["Nothing left to migrate."]


def plan_markdown(entries: list[dict[str, Any]], waves: list | None = None) -> str:
    titles = [title.title() for _, title in COLUMNS] + ["Reason"]
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    for entry in entries:
        cells = [_cell(entry, key) for key, _ in COLUMNS] + [entry["reason"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    if waves is not None:
        lines += ["", *("- " + line.strip() if line.startswith("  ") else f"\n**{line}**" for line in _waves_text(waves))]
    return printable("\n".join(lines) + "\n")


def plan_json(entries: list[dict[str, Any]], waves: list | None = None) -> str:
    public = [{k: v for k, v in e.items() if k not in ("non_root", "compose")} for e in entries]
    if waves is None:
        return json.dumps(public, indent=2) + "\n"
    return json.dumps({"entries": public, "waves": [[e["path"] for e in w] for w in waves]}, indent=2) + "\n"


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
