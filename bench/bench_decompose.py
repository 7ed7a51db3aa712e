"""Decomposer sizing under the default budget: estimates, merges and splits, measured.

Each row is one plan step, decomposed alone with the default `Budget` (`decomposer.decompose`,
no model): its difficulty, its content (title only, or 1, 4 or 12 instruction sentences, or a
planner's `expected_calls`), and the tool schemas sent with every executor call — only `finish`
(80 tokens), or every built-in pack loaded (files, shell, python, http, search). `estimate` is
the decomposer's estimate of the step as one subtask, `budget` its token budget (its level's
budget for the work plus the context its turns re-read), `work` its own work at its step limit
(what merging compares with `Budget.merge_below_tokens`), and `subtasks` how many it became.

The merge table decomposes a chain of four steps of one kind under the default budget and counts
the subtasks. The split table runs `decompose_with_model` on the 12-sentence medium step with a
scripted decomposer model: once answering four sub-steps, once answering a single step (unusable,
so the mechanical fallback splits it).
"""

from __future__ import annotations

import asyncio
from typing import Any

from agentkit import Budget, FunctionModel, Plan, PlanStep, load_tools
from agentkit.models import ModelClient
from agentkit.planning import decomposer
from agentkit.planning.decomposer import StepSplit, SubStep
from agentkit.tokens import count_tools

DIFFICULTIES = {"smoke": ("trivial", "medium"), "full": ("trivial", "easy", "medium", "hard")}
PACKS = ("files", "shell", "python", "http", "search")
CONTENT: dict[str, tuple[str, int | None]] = {
    "title only": ("", None),
    "1 sentence": ("Write hello.py printing the first 10 primes.", None),
    "4 sentences": ("Read data.csv. Compute the mean of each column. Plot the means. "
                    "Write report.md with the plot.", None),
    "12 sentences": (" ".join(f"Read module {i} and write down what it does." for i in range(12)),
                     None),
    "expected_calls 2": ("Fetch the page and save it.", 2),
    "expected_calls 12": ("Call work 12 times, then finish.", 12),
}


def _tools_tokens(packs: bool) -> int:
    if not packs:
        return decomposer.DEFAULT_TOOLS_TOKENS
    specs = [spec for name in PACKS for spec in load_tools(name).specs()]
    return decomposer.DEFAULT_TOOLS_TOKENS + count_tools(specs)


def _step(difficulty: str, content: str, step_id: str = "s1", after: str | None = None) -> PlanStep:
    text, calls = CONTENT[content]
    return PlanStep(id=step_id, title="Do the work", instructions=text, difficulty=difficulty,
                    expected_calls=calls, depends_on=[after] if after else [])


def sizes(tools_tokens: dict[str, int], difficulties: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for difficulty in difficulties:
        for content in CONTENT:
            for tools, tokens in tools_tokens.items():
                plan = Plan(strategy="s", steps=[_step(difficulty, content)])
                made = decomposer.decompose(plan, 1, budget=Budget(), existing=[],
                                            tools_tokens=tokens, goal="Do the work")
                whole = decomposer.decompose(
                    plan, 1, budget=Budget(max_split_depth=0), existing=[],
                    tools_tokens=tokens, goal="Do the work")[0]
                rows.append({
                    "difficulty": difficulty, "content": content, "tools": tools,
                    "estimate": whole.estimated_tokens, "budget": whole.effort.budget_tokens,
                    "work": decomposer.work_tokens(whole), "step_limit": whole.effort.max_steps,
                    "subtasks": len(made),
                })
    return rows


def merges() -> list[dict[str, Any]]:
    rows = []
    for difficulty, content in (("trivial", "1 sentence"), ("trivial", "expected_calls 2"),
                                ("trivial", "4 sentences"), ("easy", "1 sentence")):
        steps = [_step(difficulty, content, f"s{i}", f"s{i - 1}" if i > 1 else None)
                 for i in range(1, 5)]
        made = decomposer.decompose(Plan(strategy="s", steps=steps), 1, budget=Budget(),
                                    existing=[], goal="Do the work")
        rows.append({"chain": f"4 × {difficulty}, {content}", "subtasks": len(made),
                     "steps_per_subtask": "/".join(str(len(s.steps)) for s in made)})
    return rows


SPLIT = StepSplit(steps=[
    SubStep(id="a", title="Read modules 0-3", expected_calls=4),
    SubStep(id="b", title="Read modules 4-7", expected_calls=4),
    SubStep(id="c", title="Read modules 8-11", expected_calls=4),
    SubStep(id="d", title="Write the summary", depends_on=["a", "b", "c"], expected_calls=1),
])


async def _split(answer: StepSplit) -> dict[str, Any]:
    model = FunctionModel(lambda request: answer)
    client = ModelClient(default=model.model_name)
    plan = Plan(strategy="s", steps=[_step("medium", "12 sentences")])
    made, splits = await decomposer.decompose_with_model(
        client, plan, 1, budget=Budget(), existing=[], goal="Do the work")
    return {"decomposer answer": f"{len(answer.steps)} sub-step(s)",
            "source": splits[0].source if splits else "none", "subtasks": len(made),
            "step_limits": "/".join(str(s.effort.max_steps) for s in made),
            "max_estimate_over_budget": round(max(
                s.estimated_tokens / s.effort.budget_tokens for s in made), 2)}


async def _splits() -> list[dict[str, Any]]:
    single = StepSplit(steps=[SubStep(id="a", title="Do it all")])
    return [await _split(SPLIT), await _split(single)]


def _table(title: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    columns = list(rows[0])
    return {"title": title, "columns": columns,
            "rows": [[str(row[c]) for c in columns] for row in rows]}


def run(size: str = "full") -> dict[str, Any]:
    tools_tokens = {"finish only": _tools_tokens(False), "all packs": _tools_tokens(True)}
    rows = sizes(tools_tokens, DIFFICULTIES[size])
    by_tools = {(r["difficulty"], r["content"]): r["subtasks"] for r in rows
                if r["tools"] == "finish only"}
    same = all(by_tools[(r["difficulty"], r["content"])] == r["subtasks"] for r in rows)
    merged = merges()
    trivial_work = [r["work"] for r in rows if r["difficulty"] == "trivial"
                    and r["content"] in ("title only", "1 sentence")]
    easy_work = [r["work"] for r in rows if r["difficulty"] != "trivial"]
    return {
        "name": "bench_decompose",
        "title": "Decomposer sizing: estimates, merges and splits under the default budget",
        "rows": rows,
        "tables": [
            _table("One step as one subtask, default budget", rows),
            _table("Chains of four steps, default budget", merged),
            _table("The 12-sentence medium step split by the decomposer model",
                   asyncio.run(_splits())),
        ],
        "targets": [
            {"what": "whether a step splits does not depend on the tool packs loaded",
             "target": "same split with and without packs",
             "measured": "same" if same else "differs", "met": same},
            {"what": "a chain of 4 trivial one-sentence steps merges with the default budget",
             "target": "< 4 subtasks", "measured": f"{merged[0]['subtasks']} subtasks",
             "met": merged[0]["subtasks"] < 4},
        ],
        "notes": [
            f"tool schema tokens: {tools_tokens['finish only']} (finish only), "
            f"{tools_tokens['all packs']} (every built-in pack)",
            f"work at the step limit: trivial one-call steps {min(trivial_work)}-"
            f"{max(trivial_work)} tokens; easy and harder steps {min(easy_work)} and more; "
            f"default merge_below_tokens {Budget().merge_below_tokens}. A merged pair must "
            "also fit its level's budget as one subtask, so pairs of trivial one-call steps "
            "merge and two-call ones do not",
        ],
    }


if __name__ == "__main__":
    from bench.__main__ import main

    main(["--only", "bench_decompose", "--no-write"])
