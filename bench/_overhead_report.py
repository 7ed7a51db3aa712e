"""Tables, targets and notes of bench/overhead.py, each built from the numbers of the run."""

from __future__ import annotations

from typing import Any


def _f(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _range(s: dict[str, float], digits: int = 2) -> str:
    return f"{s['min']:.{digits}f}–{s['max']:.{digits}f}"


def tables(rows: list[dict[str, Any]], fits: list[dict[str, Any]], ratios: list[dict[str, Any]],
           prof: dict[str, Any], configs: dict[str, str]) -> list[dict[str, Any]]:
    repeats = max(r["repeats"] for r in rows)
    order = list(configs)
    per_step = {
        "title": f"CPU per round trip, ms (median of {repeats} interleaved repetitions, "
                 "min–max); the model client timed inside the run",
        "columns": ["N", "configuration", "CPU ms", "min–max", "model client ms",
                    "of it litellm.acompletion", "of it scripted reply", "client share of CPU",
                    "wall ms", "peak RSS MiB", "db MiB", "model calls", "tool calls recorded"],
        "rows": [[r["steps"], configs[r["config"]], _f(r["cpu_ms"]["median"]),
                  _range(r["cpu_ms"]), _f(r.get("client_ms")), _f(r.get("litellm_ms")),
                  _f(r.get("fake_ms")),
                  f"{r['client_share']:.0%}" if "client_share" in r else "–",
                  _f(r["wall_ms"]), _f(r["peak_rss_mib"], 0), _f(r.get("db_mib")),
                  r.get("model_calls", "–"), r.get("recorded_tool_calls", "–")]
                 for r in sorted(rows, key=lambda r: (r["steps"], order.index(r["config"])))],
    }
    slopes = {
        "title": "Run CPU = fixed + marginal × N, fitted per repetition over N (ms; median, "
                 "min–max)",
        "columns": ["configuration", "marginal ms per round trip", "min–max",
                    "fixed ms per run", "min–max"],
        "rows": [[configs[f["config"]], _f(f["slope_ms"]["median"]), _range(f["slope_ms"]),
                  _f(f["intercept_ms"]["median"], 0), _range(f["intercept_ms"], 0)]
                 for f in fits],
    }
    paired = {
        "title": "CPU ratio per N, paired by repetition (each pair ran back to back): above 1 "
                 "means agentkit is slower",
        "columns": ["N", "agentkit configuration", "÷ peer", "median ratio", "min–max", "pairs"],
        "rows": [[r["steps"], configs[r["subject"]], configs[r["baseline"]],
                  _f(r["ratio"]["median"]), _range(r["ratio"]), r["pairs"]] for r in ratios],
    }
    return [per_step, slopes, paired, *profile_tables(prof, configs)]


def profile_tables(prof: dict[str, Any], configs: dict[str, str]) -> list[dict[str, Any]]:
    what = f"{configs['agentkit-user']}, N = {prof['n']}, under cProfile"
    groups = {
        "title": f"Profile: own time by package ({what}; {prof['profiled_s']:.2f} s profiled)",
        "columns": ["package", "own s", "share"],
        "rows": [[g["package"], _f(g["own_s"], 3), f"{g['own_share']:.1%}"]
                 for g in prof["groups"][:12]],
    }
    top = {
        "title": f"Profile: top functions by own time ({what})",
        "columns": ["function", "calls", "own s", "share", "cumulative s"],
        "rows": [[t["function"], t["calls"], _f(t["own_s"], 3), f"{t['own_share']:.1%}",
                  _f(t["cumulative_s"], 3)] for t in prof["top"]],
    }
    return [groups, top]


def targets(ratios: list[dict[str, Any]], configs: dict[str, str]) -> list[dict[str, Any]]:
    """Issue 17 part 5: the user path's CPU per round trip at most LangGraph + SQLite's."""
    return [{
        "what": f"{configs[r['subject']]} ÷ {configs[r['baseline']]}, CPU per round trip, "
                f"N = {r['steps']}",
        "target": "≤ 1.00",
        "measured": f"{r['ratio']['median']:.2f} (min–max {_range(r['ratio'])}, "
                    f"{r['pairs']} pairs)",
        "met": r["ratio"]["median"] <= 1.0,
    } for r in ratios if (r["subject"], r["baseline"]) == ("agentkit-user", "langgraph-sqlite")]


def notes(rows: list[dict[str, Any]], fits: list[dict[str, Any]], ratios: list[dict[str, Any]],
          prof: dict[str, Any], configs: dict[str, str]) -> list[str]:
    out = []
    by_fit = {f["config"]: f for f in fits}
    for config in ("agentkit-user", "langgraph-sqlite", "agentkit"):
        if config in by_fit:
            f = by_fit[config]
            out.append(f"{configs[config]}: marginal {f['slope_ms']['median']:.2f} ms per round "
                       f"trip ({_range(f['slope_ms'])}), fixed {f['intercept_ms']['median']:.0f} "
                       f"ms per run ({_range(f['intercept_ms'], 0)}).")
    for r in rows:
        if "client_share" in r and r["steps"] == max(x["steps"] for x in rows):
            out.append(
                f"{configs[r['config']]}, N = {r['steps']}: the model client took "
                f"{r['client_share']:.0%} of the run's CPU ({r['client_ms']:.2f} ms per round "
                f"trip over {r['client_calls']} calls; of it litellm.acompletion "
                f"{r['litellm_ms']:.2f} ms and the scripted reply {r['fake_ms']:.2f} ms).")
    users = [r for r in rows if r["config"] == "agentkit-user"]
    if users:
        big = max(users, key=lambda r: r["steps"])
        out.append(
            f"The user-path runs made exactly the expected calls, checked in every run: at N = "
            f"{big['steps']}, {big['model_calls']} model calls over {big['subtasks']} subtasks "
            f"and {big['recorded_tool_calls']} recorded tool calls ({big['steps']} add, one "
            "finish per subtask).")
    groups = ", ".join(f"{g['package']} {g['own_share']:.0%}" for g in prof["groups"][:6])
    out.append(f"Own CPU time by package under cProfile ({configs['agentkit-user']}, N = "
               f"{prof['n']}): {groups}.")
    return out
