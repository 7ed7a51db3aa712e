"""Context management on a long run with a lossy summarizer: retention, stale values, tokens.

A scripted executor makes 300 (smoke: 60) sequential `inspect` calls, one per model turn, over
two plan steps; each output is about 500 tokens of log prose around one sentence that sets a value,
"unit F188 pressure is now 4512 kPa" (key `unit F188 pressure`). 40 units × 2 attributes: the
first 80 outputs introduce every key, later ones update random keys, so most keys change
several times and only the latest value is right.

The summarizer is a scripted model (a `FunctionModel`, so its calls go through LiteLLM's
scripted provider like any model's) that behaves like a lossy real one: in every summarizer call
it drops each fact it reads with probability d and garbles it (one digit changed) with
probability g, from a seeded generator. It is the only model that extracts facts, for agentkit
and for the extraction baseline alike; nothing reads the values with the benchmark's own regex
except the grader (and the reader of `recall` answers, standing in for the executor).

Strategies, at the same prompt cap: agentkit (`Agent` with defaults except the budgets and
`max_prompt_tokens`), truncation (the newest calls that fit), truncation plus fact extraction
(each output leaving the window goes once through the same lossy extractor; the latest value per
key is kept in a block in the prompt), and observation masking (the last 2 outputs kept, older
ones stubbed; no store). Retention: latest values presented as current in the final executor
prompt; 'reachable' adds, for keys the prompt lacks or marks as out of date, one
`recall("unit F188")` (agentkit only: the baselines have no store).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit import Agent, Budget, FunctionModel, ModelRequest, Plan, PlanStep, ToolCall, tool
from agentkit.context import Fact, Summary, prompt_cache, recall_text
from agentkit.store import ModelCallRow, Store
from agentkit.tokens import count_messages, count_text

SIZES = {"smoke": (60, 8), "full": (300, 40)}  # steps, units (2 keys each)
SETTINGS = [(0.1, 0.0), (0.2, 0.05)]  # (drop d, garble g)
CAP = 8000  # max_prompt_tokens
TRIGGER = 0.8  # the context manager's default
ATTRIBUTES = {"pressure": "kPa", "firmware": "build"}
FILLER = ("The {a} crate on shelf {s} was logged by the {b} crew near bay {m}, and the count of "
          "{c} matched the ledger. ")
WORDS = ["amber", "basalt", "cobalt", "dune", "ember", "fjord", "garnet", "harbor", "indigo"]
SENTENCE = re.compile(r"unit (F\d+) (pressure|firmware) is now ([\w.]+ (?:kPa|build))")
TMP_ROOT = "/dev/shm" if Path("/dev/shm").is_dir() else None
Message = dict[str, Any]


@dataclass(kw_only=True)
class World:
    outputs: list[str]
    history: dict[str, list[str]]  # every value of each key, in order

    @property
    def truth(self) -> dict[str, str]:
        return {k: v[-1] for k, v in self.history.items()}


def world(steps: int, units: int, seed: int = 11) -> World:
    rng = random.Random(seed)
    names = [f"F{n}" for n in rng.sample(range(100, 999), units)]
    keys = [(u, a) for u in names for a in ATTRIBUTES]
    rng.shuffle(keys)
    outputs, history = [], {}
    for i in range(steps):
        unit, attr = keys[i] if i < len(keys) else rng.choice(keys)
        value = f"{rng.randint(1000, 9999)} kPa" if attr == "pressure" else \
            f"{rng.randint(1, 9)}.{rng.randint(10, 99)}.{rng.randint(100, 999)} build"
        history.setdefault(f"unit {unit} {attr}", []).append(value)
        filler = [FILLER.format(a=rng.choice(WORDS), b=rng.choice(WORDS), c=rng.randint(10, 999),
                                s=rng.randint(1, 99), m=rng.randint(1, 40)) for _ in range(18)]
        filler.insert(rng.randrange(len(filler)), f"Inspection note: unit {unit} {attr} is now "
                                                  f"{value}. ")
        outputs.append(f"Inspection log {i + 1}. " + "".join(filler))
    return World(outputs=outputs, history=history)


@dataclass(kw_only=True)
class Lossy:
    """The lossy extractor: drops each fact with probability d, garbles it with probability g."""

    d: float
    g: float
    seed: int = 3
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def extract(self, text: str) -> dict[str, str]:
        latest = {f"unit {u} {a}": v for u, a, v in SENTENCE.findall(text)}
        kept = {}
        for key, value in latest.items():
            roll = self.rng.random()
            if roll < self.d:
                continue
            kept[key] = _garble(value, self.rng) if roll < self.d + self.g else value
        return kept

    def summarizer(self, request: ModelRequest) -> Summary:
        text = request.messages[-1]["content"]
        if "Summaries, oldest first" in text:  # a merge: prose only, and the facts it drops
            return Summary(goal="inspect the units", plan_status="merging",
                           done=["read inspection logs"],
                           facts=[Fact(key=k, value=v) for k, v in self.extract(text).items()])
        turns = text.split("of its conversation:", 1)[-1]
        return Summary(goal="inspect the units", plan_status="reading inspection logs",
                       done=["read inspection logs"],
                       facts=[Fact(key=k, value=v) for k, v in self.extract(turns).items()])


def _garble(value: str, rng: random.Random) -> str:
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    i = rng.choice(digits)
    return value[:i] + str((int(value[i]) + rng.randint(1, 9)) % 10) + value[i + 1:]


# grading ------------------------------------------------------------------------------------

_BLOCK_LINE = re.compile(r"^- (unit F\d+ (?:pressure|firmware)) = (.+)$", re.MULTILINE)
_DOUBTED_LINE = re.compile(r"^- (unit F\d+ (?:pressure|firmware)): was ", re.MULTILINE)


def presented(messages: list[Message]) -> dict[str, str]:
    """The value of each key the prompt presents as current: the last one shown, from a tool
    output's sentence or a fact line (a line marked as possibly out of date is not current)."""
    found: dict[str, str] = {}
    for message in messages:
        text = str(message.get("content") or "")
        if text.startswith("[output masked"):  # only the lines a stub keeps verbatim
            text = "\n".join(line for line in text.splitlines() if line.startswith("  kept: "))
        spots: list[tuple[int, str, str | None]] = [
            (m.start(), f"unit {m[1]} {m[2]}", m[3]) for m in SENTENCE.finditer(text)]
        spots += [(m.start(), m[1], None if " [unconfirmed" in m[2] else m[2])
                  for m in _BLOCK_LINE.finditer(text)]
        spots += [(m.start(), m[1], None) for m in _DOUBTED_LINE.finditer(text)]
        for _, key, value in sorted(spots):
            found[key] = value  # a later "may be out of date" line withdraws an earlier value
    return {k: v for k, v in found.items() if v is not None}


def recalled(answer: str, key: str) -> str | None:
    """What a reader takes from a `recall` answer for `key`: the fact if it is given as current,
    else the value in the newest (highest-numbered) output or summary that states one."""
    for line in answer.splitlines():
        if line.startswith(f"fact: {key} = "):
            return line.split(" = ", 1)[1]
    best: tuple[int, str] | None = None
    number = 0
    for line in answer.splitlines():
        if (head := re.match(r"^(?:output #m|summary #)(\d+)", line)) is not None:
            number = int(head[1])
        for u, a, v in SENTENCE.findall(line):
            if f"unit {u} {a}" == key and (best is None or number > best[0]):
                best = (number, v)
    return None if best is None else best[1]


def grade(shown: dict[str, str], w: World) -> dict[str, float]:
    truth = w.truth
    right = sum(shown.get(k) == v for k, v in truth.items())
    stale = sum(k in shown and shown[k] != v and shown[k] in w.history[k][:-1]
                for k, v in truth.items())
    wrong = sum(k in shown and shown[k] not in w.history[k] for k in truth)
    return {"in_prompt": right / len(truth), "stale_shown": stale, "garbled_shown": wrong}


# agentkit -----------------------------------------------------------------------------------


def script(outputs: list[str], lossy: Lossy) -> FunctionModel:
    """The scripted run: two plan steps of inspect calls, one per turn; the lossy summarizer."""
    half = len(outputs) // 2

    def reply(request: ModelRequest) -> object:
        if request.role == "strategist":
            return Plan(strategy="read every log in order", steps=[PlanStep(
                id=f"s{n}", title=f"Read inspection logs {lo} to {hi}", expected_calls=half,
                depends_on=[f"s{n - 1}"] if n > 1 else [],
                instructions=f"Call inspect for n = {lo} … {hi}, then finish with the latest "
                             "value of every unit's pressure and firmware.")
                for n, lo, hi in ((1, 1, half), (2, half + 1, len(outputs)))])
        if request.role == "summarizer":
            return lossy.summarizer(request)
        if request.role == "finalizer":
            return "done"
        lo, hi = map(int, re.findall(r"n = (\d+) … (\d+)", request.messages[1]["content"])[0])
        # The newest call's argument says how far it got (the newest turns stay verbatim).
        calls = [json.loads(c["function"]["arguments"])["n"] for m in request.messages
                 for c in m.get("tool_calls") or [] if c["function"]["name"] == "inspect"]
        last = max(calls, default=lo - 1)
        if last >= hi:
            return ToolCall(name="finish", arguments={"result": f"logs {lo} to {hi} read"})
        return ToolCall(name="inspect", arguments={"n": last + 1})

    return FunctionModel(reply)


async def agentkit_run(w: World, lossy: Lossy, folder: Path) -> dict[str, Any]:
    outputs = w.outputs

    @tool
    def inspect(n: int) -> str:
        """Read inspection log `n`."""
        return outputs[n - 1]

    db = folder / f"context-{lossy.d}-{lossy.g}.db"
    big = 100_000_000
    budget = Budget(max_model_calls=3 * len(outputs) + 50, max_tokens=None, max_tool_calls=None,
                    subtask_tokens=big, max_subtask_tokens=big, min_subtask_tokens=big)
    agent = Agent(script(outputs, lossy), tools=[inspect], db=db, workspace=folder, budget=budget,
                  max_prompt_tokens=CAP)
    result = await agent.run("Report the latest pressure and firmware of every unit")
    store = Store(str(db))
    calls = store.get_model_calls(result.run_id)
    executor = [c for c in calls if c.role == "executor"]
    final = executor[-1].request["messages"]
    shown = presented(final)
    reach = dict(shown)
    for key in w.truth:
        if shown.get(key) is None:
            subject = key.rsplit(" ", 1)[0]  # "unit F188"
            value = recalled(recall_text(store, result.run_id, subject, limit=8), key)
            if value is not None:
                reach[key] = value
    cache = prompt_cache(calls)
    summarizer = [c for c in calls if c.role == "summarizer"]
    return {
        "status": result.status, "executor_calls": len(executor),
        **_scores(shown, reach, w),
        # keys the final prompt marks as possibly out of date (quoting their newer mention)
        "doubted_in_prompt": len(_DOUBTED_LINE.findall(
            "\n".join(str(m.get("content") or "") for m in final))),
        "prompt_tokens": cache.prompt_tokens,
        "compaction_calls": cache.compaction_calls,
        "compaction_share": round(cache.compaction_share, 4),
        "max_executor_prompt": max(_tokens(c) for c in executor),
        "max_summarizer_prompt": max((_tokens(c) for c in summarizer), default=0),
        "cache_share": round(cache.cache_share, 4),
        "executor_cache_share": round(prompt_cache(executor).cache_share, 4),
        "compactions": sum(e.kind == "context_compacted" for e in store.get_events(result.run_id)),
        "newest_result_masked": sum(_newest_masked(c) for c in executor),
    }


def _tokens(call: ModelCallRow) -> int:
    return count_messages(call.request["messages"], call.request.get("tools"))


def _newest_masked(call: ModelCallRow) -> bool:
    tools = [m for m in call.request["messages"] if m["role"] == "tool"]
    return bool(tools) and str(tools[-1]["content"]).startswith("[output masked")


def _scores(shown: dict[str, str], reach: dict[str, str], w: World) -> dict[str, Any]:
    graded = grade(shown, w)
    return {"retention_in_prompt": round(graded["in_prompt"], 3),
            "retention_reachable": round(grade(reach, w)["in_prompt"], 3),
            "stale_shown_as_current": graded["stale_shown"],
            "garbled_shown_as_current": graded["garbled_shown"]}


# baselines ----------------------------------------------------------------------------------

PINNED: list[Message] = [
    {"role": "system", "content": "You are an executor. Carry out one subtask with the tools."},
    {"role": "user", "content": "Goal: report the latest pressure and firmware of every unit."},
]
EXTRACT_SYSTEM = "Extract every fact (key -> latest value, verbatim) from these tool outputs."


def _pair(i: int, output: str) -> list[Message]:
    call = {"id": f"c{i}", "type": "function",
            "function": {"name": "inspect", "arguments": json.dumps({"n": i + 1})}}
    return [{"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"c{i}", "content": output}]


def baseline(name: str, w: World, lossy: Lossy) -> dict[str, Any]:
    """Truncation, truncation plus fact extraction, or masking, simulated step by step."""
    limit = int(CAP * TRIGGER)
    body: list[Message] = []
    extracted: dict[str, str] = {}
    total = extraction = peak = 0
    prompt: list[Message] = PINNED
    for i, output in enumerate([*w.outputs, None]):
        block = ([{"role": "user", "content": "Facts extracted:\n" + "\n".join(
            f"- {k} = {v}" for k, v in extracted.items())}] if extracted else [])
        if name == "masking":
            tools = [j for j, m in enumerate(body) if m["role"] == "tool"]
            old = set(tools[:-2])
            prompt = PINNED + [{**m, "content": "[output masked]"} if j in old else m
                               for j, m in enumerate(body)]
        else:
            while body and count_messages(PINNED + block + body) > limit:
                left, body = body[:2], body[2:]
                if name == "truncation + extraction":
                    text = str(left[1]["content"])
                    extraction += count_text(EXTRACT_SYSTEM + text) + 20
                    extracted |= lossy.extract(text)
                    block = [{"role": "user", "content": "Facts extracted:\n" + "\n".join(
                        f"- {k} = {v}" for k, v in extracted.items())}]
            prompt = PINNED + block + body
        size = count_messages(prompt)
        total, peak = total + size, max(peak, size)
        if output is not None:
            body = body + _pair(i, output)
    shown = presented(prompt)
    return {"status": "simulated", "executor_calls": len(w.outputs) + 1, **_scores(shown, shown, w),
            "doubted_in_prompt": 0, "prompt_tokens": total + extraction, "compaction_calls": 0,
            "compaction_share": round(extraction / (total + extraction), 4),
            "max_executor_prompt": peak, "max_summarizer_prompt": 0, "cache_share": None,
            "executor_cache_share": None,
            "compactions": None, "newest_result_masked": 0}


async def _run(size: str) -> dict[str, Any]:
    steps, units = SIZES[size]
    w = world(steps, units)
    rows = []
    with tempfile.TemporaryDirectory(dir=TMP_ROOT) as tmp:
        for d, g in SETTINGS:
            found = await agentkit_run(w, Lossy(d=d, g=g), Path(tmp))
            rows.append({"strategy": "agentkit", "d": d, "g": g, **found})
            for name in ("truncation", "truncation + extraction", "masking"):
                found = baseline(name, w, Lossy(d=d, g=g))
                rows.append({"strategy": name, "d": d, "g": g, **found})
    main = rows[0]
    threshold = int(CAP * TRIGGER)
    return {
        "name": "context",
        "title": f"Context management with a lossy summarizer: {steps} tool steps, "
                 f"{len(w.truth)} keys, max_prompt_tokens {CAP}",
        "rows": rows,
        "targets": _targets(main, rows[4], threshold),
        "notes": [
            "retention = latest values presented as current in the final executor prompt (the "
            "last value shown wins; a fact marked as possibly out of date is not current); "
            "reachable adds one recall of the key's unit for keys the prompt lacks or doubts "
            "(agentkit only); stale/garbled = keys shown as current with an older true value / "
            "a value that was never true.",
            "prompt_tokens counts every prompt with tiktoken (cl100k_base): agentkit's recorded "
            "calls (executor, summarizer, strategist, finalizer), the baselines' simulated "
            "prompts plus their extraction prompts; compaction share = summarizer tokens over "
            "all recorded tokens (baselines: extraction prompts over all).",
            f"caps: executor prompts are compacted at {threshold} tokens ({TRIGGER:.0%} of "
            f"{CAP}); the summarizer's prompt cap defaults to the same {threshold}.",
        ],
    }


def _targets(main: dict[str, Any], second: dict[str, Any], threshold: int) -> list[dict]:
    return [
        {"what": "latest values reachable (prompt or one recall), d=0.1", "target": "≥ 95%",
         "measured": f"{main['retention_reachable']:.1%}",
         "met": main["retention_reachable"] >= 0.95},
        {"what": "latest values in the final prompt, d=0.1", "target": "≥ 90%",
         "measured": f"{main['retention_in_prompt']:.1%}",
         "met": main["retention_in_prompt"] >= 0.90},
        {"what": "stale values shown as current (both settings)", "target": "0",
         "measured": str(main["stale_shown_as_current"] + second["stale_shown_as_current"]),
         "met": main["stale_shown_as_current"] + second["stale_shown_as_current"] == 0},
        {"what": "compaction share of tokens, d=0.1", "target": "≤ 15%",
         "measured": f"{main['compaction_share']:.1%}", "met": main["compaction_share"] <= 0.15},
        {"what": "max executor / summarizer prompt vs cap", "target": f"≤ {threshold}",
         "measured": f"{main['max_executor_prompt']} / {main['max_summarizer_prompt']}",
         "met": max(main["max_executor_prompt"], main["max_summarizer_prompt"]) <= threshold},
        {"what": "cache-eligible share, d=0.1", "target": "≥ 85%",
         "measured": f"{main['cache_share']:.1%}", "met": main["cache_share"] >= 0.85},
        {"what": "executor calls that saw their newest tool result masked", "target": "0",
         "measured": str(main["newest_result_masked"]), "met": main["newest_result_masked"] == 0},
    ]


def run(size: str = "full") -> dict[str, Any]:
    """Run the benchmark at `size` ("smoke" or "full")."""
    if size not in SIZES:
        raise ValueError(f"size {size!r} is not one of {sorted(SIZES)}")
    return asyncio.run(_run(size))


if __name__ == "__main__":
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=1))
