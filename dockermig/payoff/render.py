"""The report as markdown (for a tracking issue or a terminal), and as one self-contained
HTML page: inline CSS and SVG charts, no script, no external asset. Every number shown is one
of the JSON report's; one not measured is shown as "not measured", never as 0."""

from __future__ import annotations

import html
from typing import Any

NOT_MEASURED = "not measured"


def size(value: int | None) -> str:
    if value is None:
        return NOT_MEASURED
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value} B"


def seconds(value: float | None) -> str:
    return NOT_MEASURED if value is None else f"{value:.1f} s"


def percent(value: float | None) -> str:
    return NOT_MEASURED if value is None else f"{value * 100:.0f}%"


def change(value: float | None) -> str:
    """A reduction as a change: 0.42 -> "-42%"; None -> "not measured"."""
    return NOT_MEASURED if value is None else f"{-value * 100:+.0f}%"


def share(entry: dict[str, Any]) -> str:
    if not entry["of"]:
        return "none to count"
    return f"{entry['count']} of {entry['of']} ({percent(entry['share'])})"


def _rows(report: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(key, label, before, after, change) of the fleet table."""
    c = report["comparison"]
    b, a = report["before"]["fleet"], report["after"]["fleet"]
    return [
        ("stored_bytes", "bytes stored (each layer once)", size(c["stored_bytes"]["before"]),
         size(c["stored_bytes"]["after"]), change(c["stored_bytes"]["reduction"])),
        ("image_bytes", "sum of image sizes", size(c["image_bytes"]["before"]), size(c["image_bytes"]["after"]),
         change(c["image_bytes"]["reduction"])),
        ("build_seconds", "cold build time, all services", seconds(c["build_seconds"]["before"]),
         seconds(c["build_seconds"]["after"]), change(c["build_seconds"]["reduction"])),
        ("rebuild_seconds", "rebuild after a source change", seconds(c["rebuild_seconds"]["before"]),
         seconds(c["rebuild_seconds"]["after"]), change(c["rebuild_seconds"]["reduction"])),
        ("built", "services built", f"{b['built']} of {b['services']}", f"{a['built']} of {a['services']}", ""),
        ("on_masters", "on a master (kept infrastructure aside)", share(b["on_masters"]), share(a["on_masters"]), ""),
        ("non_root", "non-root", share(b["non_root"]), share(a["non_root"]), ""),
        ("healthy", "health check passes", share(b["healthy"]), share(a["healthy"]), ""),
    ]


def _target_line(t: dict[str, Any]) -> tuple[str, str, str, str]:
    verdict = {True: "met", False: "missed", None: "not measured (missed)"}[t["met"]]
    return t["name"], f">= {percent(t['target'])}", percent(t["actual"]), verdict


def _uid(service: dict[str, Any]) -> str:
    return NOT_MEASURED if service["uid"] is None else str(service["uid"])


def _not_built(report: dict[str, Any]) -> list[str]:
    before = {s["id"]: s for s in report["before"]["services"]}
    lines = []
    for service in report["after"]["services"]:
        old = before.get(service["id"])
        was = "built before" if old and old["built"] else "did not build before either"
        if not service["built"]:
            lines.append(f"`{service['id']}` after: did not build{' (timed out)' if service['timed_out'] else ''}: "
                         f"{service['error']} ({was})")
    after_ids = {s["id"] for s in report["after"]["services"]}
    for service in report["before"]["services"]:
        if not service["built"] and service["id"] not in after_ids:
            lines.append(f"`{service['id']}` before: did not build: {service['error']}")
    return lines


def markdown(report: dict[str, Any]) -> str:
    c = report["comparison"]
    out = [f"## Migration payoff: {report['trees']['before']}", "",
           f"Before: the tree as it is. After: {report['trees']['after']}. Measured on Docker "
           f"{report['engine']['version']} ({report['tool']}, run {report['run_id']}, {report['created']}).", ""]
    out += [f"Sizes and build times compare the {len(c['paired'])} services that built on both sides.", "",
            "| | before | after | change |", "|---|---:|---:|---:|"]
    out += [f"| {label} | {b} | {a} | {d} |" for _, label, b, a, d in _rows(report)]
    if report["targets"]:
        out += ["", "### Targets", "", "| target | wanted | actual | |", "|---|---:|---:|---|"]
        out += [f"| {n} | {w} | {v} | {m} |" for n, w, v, m in map(_target_line, report["targets"])]
    for side in ("before", "after"):
        masters = report[side]["masters"]
        if masters:
            out += ["", f"Masters built {side}: " + "; ".join(
                f"`{m['image']}` " + (f"{seconds(m['build_seconds'])} ({'cold' if m['cold'] else 'cache allowed'})"
                                      if m["built"] else f"did not build: {m['error']}") for m in masters)]
    out += ["", "### Services", "",
            "| service | side | image size | unique | shared | cold build | rebuild | uid | health | master |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for side in ("before", "after"):
        for s in report[side]["services"]:
            if not s["built"]:
                out.append(f"| `{s['id']}` | {side} | did not build | | | | | | | |")
                continue
            out.append(f"| `{s['id']}` | {side} | {size(s['size'])} | {size(s['unique_bytes'])} | "
                       f"{size(s['shared_bytes'])} | {seconds(s['build_seconds'])} | {seconds(s['rebuild_seconds'])} | "
                       f"{_uid(s)} | {s['health'] or NOT_MEASURED} | {s['master'] or '-'} |")
    problems = _not_built(report)
    if problems:
        out += ["", "### Did not build", ""] + [f"- {line}" for line in problems]
    if c["regressions"]:
        out += ["", "Built before, not after: " + ", ".join(f"`{i}`" for i in c["regressions"])]
    out += ["", f"Exit code {report['exit_code']}: " + ("every target met, nothing broke" if report["exit_code"] == 0
                                                       else "a target missed or a service that built no longer does")]
    return "\n".join(out) + "\n"


# -- HTML -------------------------------------------------------------------------------------

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em}
td.n{text-align:right;font-variant-numeric:tabular-nums}.met{color:#176317}.missed{color:#a01010}
.before{fill:#9aa5b1}.after{fill:#2f6fb5}.unique{fill:#d9822b}.shared{fill:#5b9e5b}
svg text{font:12px system-ui,sans-serif;fill:#222}.legend span{display:inline-block;width:1em;height:1em;
margin:0 .3em 0 1em;vertical-align:middle}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _cell(text: str, value: Any = None, key: str | None = None) -> str:
    data = "" if key is None else f' data-key="{_e(key)}" data-value="{_e("" if value is None else value)}"'
    return f'<td class="n"{data}>{_e(text)}</td>'


def _bars(title: str, rows: list[tuple[str, list[tuple[str, float | None, str]]]], unit) -> str:
    """A horizontal bar chart: rows of (label, [(css class, value, shown text), ...]); each
    row's bars stacked when ``stack`` classes say so, else one bar per series below another.
    A value that was not measured draws no bar and says so."""
    values = [v for _, series in rows for _, v, _ in series if v is not None]
    top = max(values) if values else 1
    top = top or 1
    label_w, bar_w, bar_h = 220, 560, 14
    y = 10
    parts = []
    for label, series in rows:
        parts.append(f'<text x="0" y="{y + bar_h}">{_e(label)}</text>')
        for css, value, shown in series:
            width = 0 if value is None else max(1.0, bar_w * value / top) if value else 0
            if value is not None:
                parts.append(f'<rect class="{css}" x="{label_w}" y="{y}" width="{width:.1f}" height="{bar_h}">'
                             f'<title>{_e(shown)}</title></rect>')
            parts.append(f'<text x="{label_w + width + 4:.1f}" y="{y + bar_h - 3}">{_e(shown)}</text>')
            y += bar_h + 2
        y += 8
    height = y + 4
    return (f'<figure><figcaption>{_e(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" '
            f'width="{label_w + bar_w + 120}" height="{height}" role="img" aria-label="{_e(title)}">'
            + "".join(parts) + "</svg></figure>")


def _stacked(title: str, rows: list[tuple[str, dict[str, Any]]]) -> str:
    """Unique and shared bytes of each image, stacked."""
    totals = [(s["unique_bytes"] or 0) + (s["shared_bytes"] or 0) for _, s in rows]
    top = max(totals) if totals and max(totals) else 1
    label_w, bar_w, bar_h = 220, 560, 16
    y, parts = 10, []
    for label, s in rows:
        parts.append(f'<text x="0" y="{y + bar_h - 3}">{_e(label)}</text>')
        if s["unique_bytes"] is None or s["shared_bytes"] is None:
            parts.append(f'<text x="{label_w}" y="{y + bar_h - 3}">{NOT_MEASURED}</text>')
        else:
            shared_w = bar_w * s["shared_bytes"] / top
            unique_w = bar_w * s["unique_bytes"] / top
            parts.append(f'<rect class="shared" x="{label_w}" y="{y}" width="{shared_w:.1f}" height="{bar_h}">'
                         f'<title>shared {size(s["shared_bytes"])}</title></rect>')
            parts.append(f'<rect class="unique" x="{label_w + shared_w:.1f}" y="{y}" width="{unique_w:.1f}" '
                         f'height="{bar_h}"><title>unique {size(s["unique_bytes"])}</title></rect>')
            parts.append(f'<text x="{label_w + shared_w + unique_w + 4:.1f}" y="{y + bar_h - 3}">'
                         f'{_e(size(s["unique_bytes"]))} unique, {_e(size(s["shared_bytes"]))} shared</text>')
        y += bar_h + 6
    return (f'<figure><figcaption>{_e(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" '
            f'width="{label_w + bar_w + 260}" height="{y + 4}" role="img" aria-label="{_e(title)}">'
            + "".join(parts) + "</svg></figure>")


def page(report: dict[str, Any]) -> str:
    c = report["comparison"]
    values = {"stored_bytes": c["stored_bytes"], "image_bytes": c["image_bytes"],
              "build_seconds": c["build_seconds"], "rebuild_seconds": c["rebuild_seconds"]}
    body = [f"<h1>Migration payoff</h1><p>Before: {_e(report['trees']['before'])}. After: "
            f"{_e(report['trees']['after'])}. Docker {_e(report['engine']['version'])}, {_e(report['tool'])}, "
            f"run {_e(report['run_id'])}, {_e(report['created'])}.</p>",
            f"<p>Sizes and build times compare the {len(c['paired'])} services that built on both sides.</p>",
            '<table id="fleet"><tr><th></th><th>before</th><th>after</th><th>change</th></tr>']
    for key, label, b, a, d in _rows(report):
        if key in values:
            entry = values[key]
            body.append(f"<tr><th>{_e(label)}</th>{_cell(b, entry['before'], f'comparison.{key}.before')}"
                        f"{_cell(a, entry['after'], f'comparison.{key}.after')}"
                        f"{_cell(d, entry['reduction'], f'comparison.{key}.reduction')}</tr>")
        else:
            body.append(f"<tr><th>{_e(label)}</th>{_cell(b)}{_cell(a)}{_cell(d)}</tr>")
    body.append("</table>")
    if report["targets"]:
        body.append('<h2>Targets</h2><table id="targets"><tr><th>target</th><th>wanted</th><th>actual</th><th></th></tr>')
        for t in report["targets"]:
            name, wanted, actual, verdict = _target_line(t)
            css = "met" if t["met"] else "missed"
            body.append(f'<tr><th>{_e(name)}</th>{_cell(wanted, t["target"], f"targets.{name}.target")}'
                        f'{_cell(actual, t["actual"], f"targets.{name}.actual")}<td class="{css}">{_e(verdict)}</td></tr>')
        body.append("</table>")
    before = {s["id"]: s for s in report["before"]["services"]}
    after = {s["id"]: s for s in report["after"]["services"]}
    ids = sorted(before.keys() | after.keys())

    def pair(key, fmt):
        rows = []
        for ident in ids:
            series = []
            for side, found in (("before", before), ("after", after)):
                s = found.get(ident)
                value = s[key] if s and s["built"] else None
                shown = f"{side}: {fmt(value)}" if s and s["built"] else f"{side}: did not build"
                series.append((side, value, shown))
            rows.append((ident, series))
        return rows

    body.append('<p class="legend"><span class="before" style="background:#9aa5b1"></span>before'
                '<span style="background:#2f6fb5"></span>after<span style="background:#5b9e5b"></span>shared'
                '<span style="background:#d9822b"></span>unique</p>')
    body.append(_bars("Image size per service, before and after", pair("size", size), size))
    body.append(_bars("Cold build time per service, before and after", pair("build_seconds", seconds), seconds))
    body.append(_bars("Rebuild after a source change, before and after", pair("rebuild_seconds", seconds), seconds))
    for side, found in (("before", before), ("after", after)):
        built = [(i, found[i]) for i in ids if i in found and found[i]["built"]]
        if built:
            body.append(_stacked(f"Bytes unique to each image and shared with the fleet, {side}", built))
    body.append('<h2>Services</h2><table id="services"><tr><th>service</th><th>side</th><th>image size</th>'
                "<th>unique</th><th>shared</th><th>cold build</th><th>rebuild</th><th>uid</th><th>health</th>"
                "<th>master</th></tr>")
    for side, found in (("before", before), ("after", after)):
        for ident in ids:
            s = found.get(ident)
            if s is None:
                continue
            key = f"{side}.{ident}"
            if not s["built"]:
                body.append(f'<tr data-service="{_e(key)}"><th>{_e(ident)}</th><td>{side}</td>'
                            f'<td colspan="8">did not build{" (timed out)" if s["timed_out"] else ""}: '
                            f'{_e(s["error"])}</td></tr>')
                continue
            body.append(f'<tr data-service="{_e(key)}"><th>{_e(ident)}</th><td>{side}</td>'
                        f'{_cell(size(s["size"]), s["size"], "size")}'
                        f'{_cell(size(s["unique_bytes"]), s["unique_bytes"], "unique_bytes")}'
                        f'{_cell(size(s["shared_bytes"]), s["shared_bytes"], "shared_bytes")}'
                        f'{_cell(seconds(s["build_seconds"]), s["build_seconds"], "build_seconds")}'
                        f'{_cell(seconds(s["rebuild_seconds"]), s["rebuild_seconds"], "rebuild_seconds")}'
                        f'{_cell(_uid(s), s["uid"], "uid")}<td>{_e(s["health"] or NOT_MEASURED)}</td>'
                        f'<td>{_e(s["master"] or "-")}</td></tr>')
    body.append("</table>")
    problems = _not_built(report)
    if problems:
        body.append("<h2>Did not build</h2><ul>" + "".join(f"<li>{_e(p)}</li>" for p in problems) + "</ul>")
    body.append(f'<p id="exit" data-value="{report["exit_code"]}">Exit code {report["exit_code"]}</p>')
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
            f"<title>dockermig report</title><style>{CSS}</style></head><body>" + "\n".join(body) + "</body></html>\n")
