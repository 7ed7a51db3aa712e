"""Rendering of benchmark results: a console table (rich) and docs/benchmarks.md."""

from __future__ import annotations

import importlib
import math
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


def markdown(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    m = meta["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    lines = [
        "# Benchmarks",
        "",
        "Measured numbers, written by the benchmark suite (`bench/`); do not edit by hand.",
        "Rerun with `make bench` (or the command below). Timing targets live here, never in "
        "tests; `tests/test_bench.py` runs every benchmark at a tiny size so none can rot.",
        "",
        f"- **Command:** `{meta['command']}` (size `{meta['size']}`), from the repository root",
        f"- **Date:** {meta['date']}; the whole suite took {meta['seconds'] / 60:.1f} min",
        f"- **Machine:** {m['cpu']}, {m['cores']} cores, {m['memory']} RAM, {m['os']}",
        f"- **Python:** {m['python']}; {versions}",
        f"- **Load average** (1/5/15 min) before: "
        f"{'/'.join(f'{x:.1f}' for x in meta['load_before'])}, after: "
        f"{'/'.join(f'{x:.1f}' for x in meta['load_after'])}. CPU-time numbers are less "
        "affected by other work on the machine than wall times.",
        "",
        "## Targets",
        "",
        "| benchmark | what | target | measured | met |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        for t in r.get("targets") or []:
            met = {True: "yes", False: "**no**"}.get(t["met"], "n/a")
            lines.append(f"| {r['module']} | {t['what']} | {t['target']} | {t['measured']} | "
                         f"{met} |")
    lines.append("")
    for r in results:
        lines += [f"## {r.get('title', r['module'])}", "",
                  f"*Module `bench/{r['module']}.py`, {r['seconds']:.0f} s.* {_about(r['module'])}",
                  ""]
        if "error" in r:
            lines += [f"**This benchmark failed:** `{r['error']}`", ""]
            continue
        for spec in tables(r):
            lines += _md_table(spec)
        for note in notes(r):
            lines.append(f"- {note}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
