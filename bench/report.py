"""Rendering of benchmark results: a console table (rich) and docs/benchmarks.md."""

from __future__ import annotations

import importlib
import math
import re
from typing import Any


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return "–" if value is None else str(value)


def tables(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The result's tables; a benchmark that only returns `rows` (dicts) gets one built."""
    if result.get("tables"):
        return result["tables"]
    rows = result.get("rows") or []
    if not rows or not isinstance(rows[0], dict):
        return []
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    return [{"title": "", "columns": columns,
             "rows": [[_cell(row.get(c)) for c in columns] for row in rows]}]


def notes(result: dict[str, Any]) -> list[str]:
    value = result.get("notes") or []
    return [value] if isinstance(value, str) else list(value)


def print_result(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    console.rule(f"{result.get('title', result['module'])}  ({result['seconds']:.0f} s)")
    if "error" in result:
        console.print(f"[red]failed: {result['error']}[/red]")
        return
    for spec in tables(result):
        table = Table(title=spec["title"] or None, show_lines=False)
        for column in spec["columns"]:
            table.add_column(str(column), overflow="fold")
        for row in spec["rows"]:
            table.add_row(*[str(c) for c in row])
        console.print(table)
    for target in result.get("targets") or []:
        mark = {True: "[green]met[/green]", False: "[red]MISSED[/red]"}.get(target["met"], "n/a")
        console.print(f"  target {target['what']}: {target['target']}, measured "
                      f"{target['measured']} — {mark}")
    for note in notes(result):
        console.print(f"  note: {note}")


def _md_table(spec: dict[str, Any]) -> list[str]:
    def esc(value: Any) -> str:
        return str(value).replace("|", "\\|")

    lines = [f"**{spec['title']}**", ""] if spec.get("title") else []
    lines.append("| " + " | ".join(esc(c) for c in spec["columns"]) + " |")
    lines.append("|" + "---|" * len(spec["columns"]))
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in spec["rows"]]
    return lines + [""]


def _about(module: str) -> str:
    doc = importlib.import_module(f"bench.{module}").__doc__ or ""
    return "\n\n".join(" ".join(part.split()) for part in doc.strip().split("\n\n"))


SECTION = re.compile(r"^## ", re.M)
KEPT = "*Not rerun by the last command: kept as the command named in it wrote it.*"
MODULE = re.compile(r"\*Module `bench/(\w+)\.py`")


def split_sections(text: str) -> list[tuple[str | None, str]]:
    """The `## ` sections of an earlier report as (module or None, text), in order, without
    the header and the targets table (those are rebuilt)."""
    starts = [m.start() for m in SECTION.finditer(text)]
    out = []
    for a, b in zip(starts, [*starts[1:], len(text)], strict=False):
        body = text[a:b].replace(KEPT + "\n", "").rstrip() + "\n"
        if body.startswith("## Targets"):
            continue
        found = MODULE.search(body)
        out.append((found.group(1) if found else None, body))
    return out


def earlier_targets(text: str) -> list[str]:
    """The rows of an earlier report's targets table."""
    if "## Targets" not in text:
        return []
    block = text.split("## Targets", 1)[1].split("\n## ", 1)[0]
    return [line for line in block.splitlines()
            if line.startswith("| ") and not line.startswith("| benchmark |")]


def section(r: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    lines = [f"## {r.get('title', r['module'])}", "",
             f"*Module `bench/{r['module']}.py`; measured {meta['date']} by `{meta['command']}` "
             f"(size `{meta['size']}`), {r['seconds']:.0f} s.* {_about(r['module'])}", ""]
    if "error" in r:
        return lines + [f"**This benchmark failed:** `{r['error']}`", ""]
    for spec in tables(r):
        lines += _md_table(spec)
    lines += [f"- {note}" for note in notes(r)]
    return lines + [""]


def _header(meta: dict[str, Any]) -> list[str]:
    m = meta["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    before, after = meta["load_before"], meta["load_after"]
    lines = [
        "# Benchmarks",
        "",
        "Written by the benchmark suite (`bench/`, `make bench`); do not edit by hand. Each "
        "section names the command and date that measured it; sections that command did not "
        "rerun are kept from the earlier run that wrote them.",
        "",
        f"- **Last command:** `{meta['command']}` (size `{meta['size']}`), from the repository "
        f"root; it ran {meta.get('done', '?')} of {meta.get('planned', '?')} benchmarks in "
        f"{meta['seconds'] / 60:.1f} min",
        f"- **Date:** {meta['date']}",
        f"- **Machine:** {m['cpu']}, {m['cores']} cores, {m['memory']} RAM, {m['os']}",
        f"- **Python:** {m['python']}; {versions}",
        f"- **Load average** (1/5/15 min) before: {'/'.join(f'{x:.1f}' for x in before)}, after: "
        f"{'/'.join(f'{x:.1f}' for x in after)}",
    ]
    if max(before[0], after[0]) >= 0.5:
        lines[-1] += (f": other processes shared the {m['cores']} cores during the run (a "
                      "1-minute load of 1.0 keeps one core busy)")
    return lines + [""]


def markdown(results: list[dict[str, Any]], meta: dict[str, Any], earlier: str = "") -> str:
    """The report: every section of `earlier` (the file as it was) in its order, replaced by
    this run's where this run measured it, else kept as it was (target rows too); sections of
    benchmarks `earlier` lacks come last."""
    lines = _header(meta) + ["## Targets", "",
                             "| benchmark | what | target | measured | met |",
                             "|---|---|---|---|---|"]
    for r in results:
        for t in r.get("targets") or []:
            met = {True: "yes", False: "**no**"}.get(t["met"], "n/a")
            cells = [r["module"], t["what"], t["target"], t["measured"], met]
            lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    lines.append("")
    fresh = {r["module"] for r in results if "error" not in r}
    lines[-1:-1] = [row for row in earlier_targets(earlier) if row.split("|")[1].strip()
                    not in fresh]
    # The earlier report's order, with this run's sections in their places; new ones last.
    by_module = {r["module"]: r for r in results}
    placed: set[str] = set()
    for module, body in split_sections(earlier):
        if module in fresh:
            if module not in placed:
                lines += section(by_module[module], meta)
                placed.add(module)
            continue
        heading, rest = body.split("\n", 1)
        lines += [heading, "", KEPT, "", rest.lstrip("\n")]
    for r in results:
        if r["module"] not in placed:
            lines += section(r, meta)
    return "\n".join(lines).rstrip() + "\n"
