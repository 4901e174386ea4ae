"""`plan` and `status` output: a summary that says how big the migration is, then a matrix
a platform team can act on, wave 0 and the waves; progress figures (text, Markdown, JSON;
Prometheus exposition text for a textfile collector).

Text fits the terminal and never splits a path: a path too long for its line keeps its
first folder and its end, with "..." between; Markdown and JSON keep every path whole.
The commands of the waves are printed whole, to be pasted.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from typing import Any

from dockermig.plan import CLASSIFICATIONS, PRIORITIES, status
from dockermig.plan.order import run_first
from dockermig.report import plural, printable

COLUMNS = (("priority", "PRIO"), ("classification", "CLASSIFICATION"), ("category", "CATEGORY"),
           ("service", "SERVICE"), ("dependents", "DEPS"), ("path", "DOCKERFILE"), ("compose_files", "COMPOSE FILE"),
           ("image", "IMAGE"), ("target", "TARGET"))
MIN_REASON_WIDTH = 40  # narrower than this, the reason would wrap into a column of fragments
# the summary's columns: the classifications, as short as a narrow terminal needs them
SHORT = {"migrate-python": "to-python", "migrate-node": "to-node", "needs-review": "review", "migrated": "migrated",
         "keep-as-is": "kept", "master": "master"}  # in this order: the work first
ELLIPSIS = "..."


# -- the summary -----------------------------------------------------------------------------


def summary(entries: list[dict[str, Any]], waves: list | None, blockers: list | None,
            left_out: dict[str, Any] | None = None, compose_files: int | None = None,
            wave_size: int | None = None) -> dict[str, Any]:
    """How big the migration is: services by priority and classification, by category,
    by target, the blockers, the waves (``wave_size``: the --waves given, None for about a
    day's work), and the copies left out."""
    by_priority = {p: {"services": 0, **{c: 0 for c in CLASSIFICATIONS}} for p in PRIORITIES}
    for entry in entries:
        row = by_priority.setdefault(entry["priority"], {"services": 0, **{c: 0 for c in CLASSIFICATIONS}})
        row["services"] += 1
        row[entry["classification"]] += 1
    moving = [e for e in entries if e["target"] and e["classification"] in ("migrate-python", "migrate-node", "needs-review")]
    blocking = [b for b in blockers or [] if b.get("blocks", True)]
    return {
        "services": len(entries),
        "dockerfiles": sum(1 + len(e["copies"]) for e in entries if e["path"]),
        "images": sum(1 for e in entries if e["path"] is None),
        "compose_files": compose_files,
        "by_priority": by_priority,
        "categories": dict(sorted(Counter(e["category"] for e in entries).items())),
        "targets": dict(Counter(e["target"] for e in moving).most_common()),
        "blockers": {"causes": len(blocking), "services": len({p for b in blocking for p in b["services"]}),
                     "by_kind": dict(Counter(b["kind"] for b in blocking)),
                     "settles": len(blockers or []) - len(blocking)},
        "broken": _broken(entries),
        "waves": [len(w) for w in waves or []],
        "wave_size": wave_size,
        "watched": sum(1 for e in entries if e["priority"] == "P0"),
        "left_out": left_out or {"folders": [], "dockerfiles": 0, "compose_files": 0},
    }


def _broken(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The services that do not build as they are (broken before any fix), by rule."""
    broken = [e for e in entries if e.get("broken")]
    codes = Counter(note.partition(" ")[0] for e in broken for note in e["broken"])
    return {"services": len(broken), "by_code": dict(sorted(codes.items()))}


def _broken_text(broken: dict[str, Any]) -> str:
    codes = ", ".join(f"{code} {count}" for code, count in broken["by_code"].items())
    one = broken["services"] == 1
    return (f"Broken before: {plural(broken['services'], 'service')} do{'es' if one else ''} not build as "
            f"{'it is' if one else 'they are'}, before any fix ({codes})")


def _summary_text(figures: dict[str, Any], width: int) -> list[str]:
    images = figures["images"]
    read = f"{plural(figures['dockerfiles'], 'Dockerfile')}" + (f", {plural(images, 'image')}" if images else "")
    if figures["compose_files"] is not None:
        read += f"; {plural(figures['compose_files'], 'compose file')}"
    lines = _wrapped(f"Migration plan: {plural(figures['services'], 'service')} ({read})", width, "", "  ")
    lines += _left_out_text(figures["left_out"], width)
    lines.append("")
    lines += _counts_table(figures["by_priority"], width)
    lines.append("")
    if figures["watched"]:
        lines += _wrapped(f"P0 is watched, not migrated: in no wave ({plural(figures['watched'], 'service')}).",
                          width, "", "  ")
    lines += _wrapped("Categories: " + ", ".join(f"{k} {v}" for k, v in figures["categories"].items()), width, "", "  ")
    if figures["targets"]:
        lines += _wrapped("Targets: " + ", ".join(f"{k} {plural(v, 'service')}" for k, v in figures["targets"].items()),
                          width, "", "  ")
    blockers = figures["blockers"]
    if blockers["causes"] or blockers["settles"]:
        kinds = ", ".join(f"{kind} {count}" for kind, count in blockers["by_kind"].items())
        text = (f"Blockers (wave 0): {plural(blockers['causes'], 'cause')} hold{'s' if blockers['causes'] == 1 else ''} "
                f"{plural(blockers['services'], 'service')} back" + (f" ({kinds})" if kinds else ""))
        if blockers["settles"]:
            text += f"; {plural(blockers['settles'], 'master change')} that settle{'s' if blockers['settles'] == 1 else ''} a rule"
        lines += _wrapped(text, width, "", "  ")
    if figures["broken"]["services"]:
        lines += _wrapped(_broken_text(figures["broken"]), width, "", "  ")
    sizes = figures["waves"]
    if sizes:
        lines += _wrapped(f"Waves: {_waves_line(figures)}", width, "", "  ")
    else:
        lines.append("Waves: none, nothing left to migrate")
    return lines


def _counts_table(by_priority: dict[str, dict[str, int]], width: int) -> list[str]:
    """Services by priority and classification: a table, or where it does not fit, a line
    per priority."""
    columns = [("services", "services"), *SHORT.items()]
    rows = [[p, *(str(by_priority[p][key]) for key, _ in columns)] for p in by_priority]
    totals = ["all", *(str(sum(counts[key] for counts in by_priority.values())) for key, _ in columns)]
    table = [["", *(title for _, title in columns)], *rows, totals]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    if sum(widths) + 2 * (len(widths) - 1) <= width:
        return ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths))).rstrip()
                for r in table]
    lines = []
    for priority, counts in by_priority.items():
        kinds = ", ".join(f"{counts[key]} {title}" for key, title in SHORT.items() if counts[key])
        lines += _wrapped(f"{priority}: {plural(counts['services'], 'service')}" + (f" ({kinds})" if kinds else ""),
                          width, "", "  ")
    return lines


def _waves_line(figures: dict[str, Any]) -> str:
    sizes, size = figures["waves"], figures["wave_size"]
    listed = ", ".join(map(str, sizes))
    if size:
        return f"{len(sizes)} of at most {plural(size, 'service')} ({listed})"
    return f"{len(sizes)}, about a day's work{' each' if len(sizes) > 1 else ''} ({listed} services)"


def _left_out_text(left_out: dict[str, Any], width: int, quote=str) -> list[str]:
    files = [plural(left_out[key], noun) for key, noun in (("dockerfiles", "Dockerfile"), ("compose_files", "compose file"))
             if left_out[key]]
    if not files:
        return []
    folders = ", ".join(map(quote, left_out["folders"]))
    return _wrapped(f"Left out: {' and '.join(files)} in copies ({folders}); --include-copies plans them", width, "", "  ")


# -- text ------------------------------------------------------------------------------------


def _cell(entry: dict[str, Any], key: str) -> str:
    value = entry[key]
    if isinstance(value, list):
        return ",".join(value) or "-"
    return "-" if value is None else str(value)


def plan_text(entries: list[dict[str, Any]], waves: list | None = None, blockers: list | None = None,
              width: int = 80, matrix: bool = True, left_out: dict[str, Any] | None = None,
              masters: list | None = None, compose_files: int | None = None, wave_size: int | None = None) -> str:
    """The summary, then the matrix, ``width`` columns wide at most: a table when every
    cell fits whole with room for the reason, otherwise one short block per service.
    Then wave 0 (the blockers), the masters to build and the waves. Matrix off
    (``--waves-only``): the waves alone."""
    lines = []
    if matrix:
        lines += _summary_text(summary(entries, waves, blockers, left_out, compose_files, wave_size), width)
        lines += _matrix_text(entries, width)
    if blockers:
        lines += ["", *_blockers_text(blockers, width)]
    if waves is not None:
        lines += ["", *_waves_text(waves, masters or [], width)]
    return printable("\n".join(lines[1:] if lines[:1] == [""] else lines) + "\n")


def _matrix_text(entries: list[dict[str, Any]], width: int) -> list[str]:
    rows = [[_cell(e, key) for key, _ in COLUMNS] for e in entries]
    widths = [max([len(title)] + [len(r[i]) for r in rows]) for i, (_, title) in enumerate(COLUMNS)]
    indent = sum(widths) + 2 * len(widths)
    if indent + MIN_REASON_WIDTH <= width:
        lines = ["", "  ".join(title.ljust(w) for (_, title), w in zip(COLUMNS, widths)) + "  REASON"]
        for entry, row in zip(entries, rows):
            reason = textwrap.wrap(entry["reason"], width - indent, break_long_words=False) or [""]
            lines.append(("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + reason[0]).rstrip())
            lines += [" " * indent + more for more in reason[1:]]
            if entry["copies"]:
                lines += _wrapped("same Dockerfile at " + ", ".join(entry["copies"]), width, " " * indent, " " * indent)
        return lines
    lines = []
    for priority in PRIORITIES:
        ranked = [e for e in entries if e["priority"] == priority]
        if ranked:
            watched = ": watched, not migrated" if priority == "P0" else ""
            lines += ["", f"{priority} ({plural(len(ranked), 'service')}){watched}"]
            for entry in ranked:
                lines += _block(entry, width)
    return lines


def _block(entry: dict[str, Any], width: int) -> list[str]:
    """Three short lines: who (priority, classification, service, category, compose files,
    dependents), what (Dockerfile and its copies, image, target), why (the reason)."""
    cells = {key: _cell(entry, key) for key, _ in COLUMNS}
    users = [plural(entry["dependents"], "dependent")] if entry["dependents"] else []
    about = "; ".join([entry["category"], *([", ".join(entry["compose_files"])] if entry["compose_files"] else []), *users])
    where = entry["path"] or "image-only service"
    moves = entry["target"] and entry["target"] != entry["image"]
    image = f"{cells['image']} -> {cells['target']}" if moves else cells["image"]
    lines = [*_wrapped(f"{cells['priority']}  {cells['classification']}  {cells['service']}  ({about})", width, "", "    "),
             *_wrapped(f"{where}  {image}", width, "    ", "      ")]
    if entry["copies"]:
        lines += _wrapped("same Dockerfile at " + ", ".join(entry["copies"]), width, "    ", "      ")
    return lines + _wrapped(entry["reason"], width, "    ", "    ")


def shorten(path: str, room: int) -> str:
    """``path`` in at most ``room`` characters: whole when it fits, else its first folder
    and as many of its last parts as fit, with "..." between
    (``backups/.../jarvis-ai/Dockerfile``), or "..." and more of its last parts when the
    first folder costs one (``.../postgres-secure/Dockerfile``); a last part too long on
    its own is cut in its middle. Never split across lines."""
    if len(path) <= room:
        return path
    parts = path.split("/")

    def tail(head: list[str]) -> list[str]:
        kept: list[str] = []
        for part in reversed(parts[len(head):]):
            if len("/".join([*head, ELLIPSIS, part, *kept])) > room:
                break
            kept.insert(0, part)
        return kept

    if len(parts) > 1:
        first, bare = tail(parts[:1]), tail([])
        if first and len(first) >= len(bare):
            return "/".join([parts[0], ELLIPSIS, *first])
        if bare:
            return "/".join([ELLIPSIS, *bare])
    keep = max(room - len(ELLIPSIS), 2)
    return path[: keep // 2] + ELLIPSIS + path[len(path) - (keep - keep // 2):]


def _wrapped(text: str, width: int, first: str, rest: str) -> list[str]:
    """``text`` wrapped at spaces, never inside a word; a word longer than a line (a
    path) is shortened in its middle to fit."""
    room = max(width - max(len(first), len(rest)), 20)
    words = [shorten(word, room) if len(word) > room else word for word in text.split(" ")]
    return textwrap.wrap(" ".join(words), width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False) or [first.rstrip()]


def _held(blocker: dict[str, Any], quote=str) -> str:
    services = blocker["services"]
    listed = ", ".join(map(quote, services))
    if not blocker.get("blocks", True):
        return f"settles it for {plural(len(services), 'service')} (their migration does not wait): {listed}"
    return f"unblocks {blocker['unblocks']} of {plural(len(services), 'service')} it holds back: {listed}"


def _blockers_text(blockers: list, width: int) -> list[str]:
    held = len({path for b in blockers if b.get("blocks", True) for path in b["services"]})
    lines = _wrapped(f"Wave 0: what holds {plural(held, 'service')} back, and the change that unblocks them "
                     f"({plural(len(blockers), 'cause')}):", width, "", "  ")
    for blocker in blockers:
        where = f" (in {blocker['master_dockerfile']})" if blocker["master_dockerfile"] else ""
        lines += _wrapped(f"{blocker['kind']}: {blocker['cause']}", width, "  ", "    ")
        lines += _wrapped(f"-> {blocker['proposal']}{where}", width, "    ", "       ")
        lines += _wrapped(_held(blocker), width, "    ", "      ")
    return lines


def _moves(entry: dict[str, Any]) -> str:
    """Where a service of a wave moves, and how risky the move is."""
    held = " (after wave 0)" if entry["_holds"] else ""
    broken = ", broken before" if entry.get("broken") else ""
    return (f"{entry['target']}{held}  ({plural(entry['dependents'], 'dependent')}, "
            f"{plural(entry['findings'], 'finding')}{broken})")


def commands(entry: dict[str, Any]) -> str:
    """The service's commands, as they run at its point of the migration: what must come
    first, the fix that keeps the original as .backup, the verify that builds both."""
    first = run_first(entry)
    if entry["_fix"] is None and not entry["_holds"]:
        return first if entry.get("broken") else f"{first}; then {entry['verify']}"
    return f"{first + ': ' if first else ''}{entry['fix']} && {entry['verify']}"


def _waves_text(waves: list, masters: list, width: int) -> list[str]:
    if not waves:
        return ["Nothing left to migrate."]
    lines = []
    if masters:
        lines += _wrapped("Before wave 1, give the engine the masters the waves move services onto (`verify` builds "
                          "FROM them and never pulls):", width, "", "  ")
        lines += [f"  {m['command']}" for m in masters]  # whole, to paste
    for number, wave in enumerate(waves, 1):
        priorities = "/".join(sorted({e["priority"] for e in wave}))
        lines += _wrapped(f"Wave {number} ({plural(len(wave), 'service')}, {priorities}):", width, "", "  ")
        for entry in wave:
            lines += _wrapped(f"{entry['priority']}  {entry['path']}  ->  {_moves(entry)}", width, "  ", "      ")
            lines.append(f"      {commands(entry)}")  # whole, to paste: a wrapped command would not run
    return lines


# -- markdown --------------------------------------------------------------------------------


def plan_markdown(entries: list[dict[str, Any]], waves: list | None = None, blockers: list | None = None,
                  matrix: bool = True, left_out: dict[str, Any] | None = None, masters: list | None = None,
                  compose_files: int | None = None, wave_size: int | None = None) -> str:
    """For a tracking issue: the summary table and the status figures, wave 0 and the
    waves as checklists, the services that need a person, and the matrix by priority."""
    figures = summary(entries, waves, blockers, left_out, compose_files, wave_size)
    lines = ["## Migration plan", ""]
    if matrix:
        columns = ["services", *CLASSIFICATIONS]
        lines += ["| priority | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
        for priority, counts in figures["by_priority"].items():
            watched = " (watched)" if priority == "P0" else ""
            lines.append(f"| {priority}{watched} | " + " | ".join(str(counts[c]) for c in columns) + " |")
        lines.append("")
    lines += [f"- {line}" for line in status_text(status(entries)).splitlines() if line]
    lines += [f"- {line}" for line in _left_out_text(figures["left_out"], 10_000, lambda f: f"`{f}`")]
    if figures["broken"]["services"]:
        lines.append(f"- {_broken_text(figures['broken'])}")
    if figures["waves"]:
        lines.append(f"- Waves: {_waves_line(figures)}")
    if blockers:
        lines += ["", "### Wave 0: blockers, and the change that unblocks them", ""]
        for b in blockers:
            where = f" (in `{b['master_dockerfile']}`)" if b["master_dockerfile"] else ""
            held = _held(b, lambda path: f"`{path}`")
            lines.append(f"- [ ] **{_md(b['proposal'])}**{where}. {_md(b['cause'])}. {held[0].upper()}{held[1:]}")
    if waves and masters:
        lines += ["", "### Before wave 1: the masters", ""]
        lines += [f"- [ ] `{m['command']}`" for m in masters]
    for number, wave in enumerate(waves or [], 1):
        priorities = "/".join(sorted({e["priority"] for e in wave}))
        lines += ["", f"### Wave {number} ({plural(len(wave), 'service')}, {priorities})", ""]
        for entry in wave:
            lines.append(f"- [ ] `{entry['path']}` → {_md(_moves(entry))}, {entry['priority']}  ")
            first = run_first(entry)
            if entry["_fix"] is None and not entry["_holds"]:
                lines.append(f"  {_md(first)}" + ("" if entry.get("broken") else f"; then `{entry['verify']}`"))
            else:
                lines.append(f"  {first + ': ' if first else ''}`{entry['fix']} && {entry['verify']}`")
    review = [e for e in entries if e["classification"] == "needs-review" and e["wave"] is None]
    if review:
        lines += ["", f"### Needs a person ({len(review)})", ""]
        lines += [f"- [ ] `{e['path'] or ','.join(e['service'])}`: {_md(e['reason'])}" for e in review]
    titles = [title.title() for _, title in COLUMNS] + ["Copies", "Reason"]
    for priority in PRIORITIES if matrix else ():
        ranked = [e for e in entries if e["priority"] == priority]
        if not ranked:
            continue
        watched = ": watched, not migrated" if priority == "P0" else ""
        lines += ["", f"### {priority} ({plural(len(ranked), 'service')}){watched}", "",
                  "| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
        for entry in ranked:
            cells = [_cell(entry, key) for key, _ in COLUMNS] + [_cell(entry, "copies"), entry["reason"]]
            lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return printable("\n".join(lines) + "\n")


def _md(text: str) -> str:
    return text.replace("|", "\\|")


# -- json ------------------------------------------------------------------------------------


def plan_json(entries: list[dict[str, Any]], waves: list | None = None, blockers: list | None = None,
              left_out: dict[str, Any] | None = None, masters: list | None = None,
              compose_files: int | None = None, wave_size: int | None = None) -> str:
    public = [{k: v for k, v in e.items() if k not in ("non_root", "compose") and not k.startswith("_")}
              for e in entries]
    return json.dumps({"summary": summary(entries, waves, blockers, left_out, compose_files, wave_size), "entries": public,
                       "waves": [[e["path"] for e in w] for w in waves or []], "blockers": blockers or [],
                       "masters": masters or []}, indent=2) + "\n"


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


def prometheus_label_value(value: str) -> str:
    """A label value as the exposition format writes one: a backslash, a double quote and a
    line feed each escaped with a backslash, so no value can end its sample or start another."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def status_prometheus(figures: dict[str, Any]) -> str:
    """Prometheus exposition text, e.g. for node_exporter's textfile collector."""

    def metric(name: str, samples: list[tuple[str, float]]) -> list[str]:
        return [f"# HELP {name} {METRICS[name]}", f"# TYPE {name} gauge", *(f"{name}{l} {v}" for l, v in samples)]

    def labelled(label: str, values: dict[str, int]) -> list[tuple[str, float]]:
        return [(f'{{{label}="{prometheus_label_value(str(key))}"}}', value) for key, value in values.items()]

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
