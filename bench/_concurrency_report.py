"""The table, targets and notes of bench/concurrency.py, from the numbers of the run."""

from __future__ import annotations

from typing import Any


def render(rows: list[dict[str, Any]], spec: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    table = {
        "title": f"Concurrent runs ({spec['latency_s'] * 1000:g} ms simulated model latency, "
                 f"2 subtasks × {spec['steps']} tool calls per run)",
        "columns": ["database", "runs", "processes", "wall s", "runs/minute",
                    "one run alone, runs/minute", "CPU s", "RSS growth MiB per run",
                    "completed", "database is locked", "tables checked", "tables off"],
        "rows": [[r["database"], r["runs"], r["processes"], f"{r['wall_s']:.2f}",
                  f"{r['runs_per_minute']:.0f}", f"{r['solo_runs_per_minute']:.0f}",
                  f"{r['cpu_s']:.2f}", f"{r['rss_per_run_mib']:.2f}",
                  f"{r['completed']}/{r['runs']}", r["locked_errors"], r["tables"],
                  "; ".join(f"{t}: {got} rows, expected {want}"
                            for t, (got, want) in r["tables_off"].items()) or "none"]
                 for r in rows],
    }
    targets = [{
        "what": f"{r['runs']} concurrent runs in {r['processes']} process(es) on "
                f"{r['database']}: every table's rows as expected, all completed, no "
                "'database is locked'",
        "target": "0 lost, 0 errors",
        "measured": f"{len(r['tables_off'])} tables off, {r['runs'] - r['completed']} not "
                    f"completed, {r['locked_errors']} locked",
        "met": not r["tables_off"] and r["completed"] == r["runs"] and not r["locked_errors"],
    } for r in rows]
    out = list(notes)
    if rows:
        per_run = rows[0]["per_run"]
        out.append("Rows one run adds, per table (from the reference run): " + ", ".join(
            f"{t} {n}" for t, n in sorted(per_run.items()) if n) + ".")
    for r in rows:
        if r["errors"]:
            out.append(f"{r['database']}, {r['processes']} process(es): first errors: "
                       + " | ".join(e[-200:] for e in r["errors"]))  # the cause is last
    return {"name": "concurrency", "title": "Many runs at once", "rows": rows,
            "tables": [table], "targets": targets, "notes": out}
