"""Framework overhead: CPU per round trip (one model call + one tool call) at several run lengths.

Every framework runs N round trips with a zero-latency fake model of its own kind (the same
script: N calls of a trivial `add` tool, then stop). Each configuration runs in a fresh
interpreter per repetition (all sizes there, after a 3-step warm-up run), and the configurations
are interleaved: repetition 1 runs them in order A, B, C …, repetition 2 in reverse, and so on
(A B B A), with the sizes alternating in order too, so slow spells of the shared machine fall on
every configuration alike. The agentkit rows and LangGraph + SQLite run 5 repetitions at full
size, the other peers 3. CPU is `time.process_time()` of the run.

Per configuration and repetition, the total CPU of the run is fitted as intercept + slope × N
over the sizes (least squares): the slope is the marginal cost of one more round trip, the
intercept the fixed cost of a run. Tables give the median over repetitions and the spread
(min–max).

The agentkit rows: **user path** is the default `Agent` — default calibration (a step's
`expected_calls` sets its turn limit), per-subtask budgets and compaction — with the work split
into steps of at most 10 calls, planned 12 steps at a time and extended, as a strategist writes
for a long task; only the run-wide limits are lifted (the defaults stop a run at 200 model
calls). **Instrumented** is one subtask of N steps with calibration's step cap raised in-process
and budgets so large that compaction never runs. In both, the model client's CPU is timed inside
the real run, around each call of agentkit's `acompletion` (its LiteLLM wrapper, LiteLLM, the
scripted provider), of `litellm.acompletion` within it, and of the scripted reply function.
Every full-size run raises unless it made exactly the expected model and tool calls.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench import _frameworks as fw
from bench import _overhead_report
from bench._util import median, run_worker

CONFIGS: dict[str, str] = {
    "agentkit-user": "agentkit user path: default Agent, steps of ≤ 10 calls",
    "langgraph-sqlite": "LangGraph prebuilt ReAct + AsyncSqliteSaver",
    "agentkit": "agentkit instrumented: 1 subtask of N steps, step cap raised, no compaction",
    "langgraph": "LangGraph prebuilt ReAct, no checkpointer",
    "pydantic-ai": "pydantic-ai, async FunctionModel, no persistence",
    "smolagents": "smolagents ToolCallingAgent, no persistence",
}
PEERS = ("pydantic-ai", "smolagents")
# The comparison the performance target is about (issue 17 part 5).
SUBJECT, BASELINE = "agentkit-user", "langgraph-sqlite"
SIZES: dict[str, dict[str, Any]] = {
    "smoke": {"steps": [4, 8], "repeats": 1, "profile_n": 8},
    "full": {"steps": [50, 200, 500], "repeats": 5, "profile_n": 200},
}
# Peers outside the performance target run fewer repetitions (the machine is shared and slow).
PEER_REPEATS = {"smoke": 1, "full": 3}


def schedule(configs: list[str], repeats: int,
             sizes: list[int]) -> list[tuple[int, str, list[int]]]:
    """(repetition, configuration, sizes in run order): A B … then … B A, sizes alternating."""
    out = []
    for rep in range(repeats):
        order = configs if rep % 2 == 0 else configs[::-1]
        for config in order:  # each configuration's sizes alternate from one repetition on
            forward = (rep + configs.index(config)) % 2 == 0
            out.append((rep, config, sizes if forward else sizes[::-1]))
    return out


def fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares (intercept, slope) of y over x."""
    xs, ys = [float(x) for x, _ in points], [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return my - slope * mx, slope


def spread(values: list[float]) -> dict[str, float]:
    return {"median": median(values), "min": min(values), "max": max(values)}


def measure(size: str) -> tuple[dict[str, dict[int, list[dict[str, Any]]]], list[str]]:
    """Runs per configuration and size (in repetition order); notes on skipped configurations."""
    spec = SIZES[size]
    notes, configs = [], []
    for config in CONFIGS:
        if config in PEERS and not fw.peer_available(config):
            notes.append(f"{config} is not installed: skipped (pip install -e '.[bench]').")
        else:
            configs.append(config)
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {c: {n: [] for n in spec["steps"]}
                                                          for c in configs}
    for rep, config, sizes in schedule(configs, spec["repeats"], spec["steps"]):
        if config not in (SUBJECT, BASELINE, "agentkit") and rep >= PEER_REPEATS[size]:
            continue
        out = run_worker({"task": "overhead", "framework": config, "sizes": sizes,
                          "warmup": size != "smoke"}, timeout=1800)
        for n in sizes:
            runs[config][n].append(out[str(n)]["runs"][0])
    return runs, notes


def _row(config: str, n: int, rs: list[dict[str, Any]]) -> dict[str, Any]:
    per = 1000 / n
    cpu = [r["cpu_s"] * per for r in rs]
    row: dict[str, Any] = {
        "config": config, "steps": n, "repeats": len(rs), "cpu_ms": spread(cpu),
        "wall_ms": median([r["wall_s"] * per for r in rs]),
        "tool_body_calls": rs[0]["tool_calls"],
        "peak_rss_mib": median([r["peak_rss_mib"] for r in rs]),
    }
    if "client_cpu_s" in rs[0]:
        row["client_ms"] = median([r["client_cpu_s"] * per for r in rs])
        row["litellm_ms"] = median([r["litellm_cpu_s"] * per for r in rs])
        row["fake_ms"] = median([r["fake_cpu_s"] * per for r in rs])
        row["client_share"] = median([r["client_cpu_s"] / r["cpu_s"] for r in rs])
        row["model_calls"], row["client_calls"] = rs[0]["model_calls"], rs[0]["client_calls"]
        row["recorded_tool_calls"] = rs[0]["recorded_tool_calls"]
        row["subtasks"] = rs[0]["subtasks"]
    if "bytes" in rs[0]:
        row["db_mib"] = median([r["bytes"] for r in rs]) / 2**20
    return row


def _fits(config: str, by_n: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    sizes = sorted(by_n)
    reps = min(len(by_n[n]) for n in sizes)
    fitted = [fit([(n, by_n[n][r]["cpu_s"] * 1000) for n in sizes]) for r in range(reps)]
    return {"config": config, "intercept_ms": spread([a for a, _ in fitted]),
            "slope_ms": spread([b for _, b in fitted])}


def _ratios(runs: dict[str, dict[int, list[dict[str, Any]]]], subject: str,
            baseline: str) -> list[dict[str, Any]]:
    """Per size, CPU of `subject` ÷ `baseline`, paired by repetition (adjacent in time)."""
    out = []
    for n in sorted(runs[subject]):
        pairs = list(zip(runs[subject][n], runs[baseline][n], strict=False))
        ratios = [a["cpu_s"] / b["cpu_s"] for a, b in pairs]
        out.append({"subject": subject, "baseline": baseline, "steps": n,
                    "ratio": spread(ratios), "pairs": len(ratios)})
    return out


def profile(size: str) -> dict[str, Any]:
    n = SIZES[size]["profile_n"]
    out = run_worker({"task": "profile", "framework": SUBJECT, "n": n, "top": 12}, timeout=1800)
    return {**out, "n": n}


def run(size: str = "full") -> dict[str, Any]:
    runs, notes = measure(size)
    rows = [_row(c, n, rs) for c, by_n in runs.items() for n, rs in by_n.items()]
    fits = [_fits(c, by_n) for c, by_n in runs.items()]
    ratios = [r for s in (SUBJECT, "agentkit") for b in (BASELINE, "langgraph")
              if s in runs and b in runs for r in _ratios(runs, s, b)]
    prof = profile(size)
    return {
        "name": "overhead",
        "title": "Framework overhead per round trip (model call + tool call), N = "
                 + ", ".join(str(n) for n in SIZES[size]["steps"]),
        "rows": rows, "fits": fits, "ratios": ratios, "profile": prof,
        "tables": _overhead_report.tables(rows, fits, ratios, prof, CONFIGS),
        "targets": _overhead_report.targets(ratios, CONFIGS),
        "notes": notes + _overhead_report.notes(rows, fits, ratios, prof, CONFIGS),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=1, default=str))
