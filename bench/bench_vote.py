"""Majority-vote accuracy vs n: scripted answerers right with probability p, next to theory.

Each trial is one `think_parallel(n, method="vote")` call through the real model client (and
LiteLLM), with a scripted thinker that answers right with probability p and otherwise gives one
fixed wrong answer — the binary case, whose closed form is

    P(vote right) = Σ_{k > n/2} C(n,k) p^k (1-p)^(n-k)  (+ ½ C(n,n/2) (p(1-p))^(n/2) for even n,
    as a tie goes to the answer sampled first, which is right half of the time).

A second column scatters wrong answers over several distractors, where a plurality vote does
better than the binary curve.
"""

from __future__ import annotations

import asyncio
import math
import random
from typing import Any

from agentkit import FunctionModel, ModelRequest
from agentkit.execution.thinking import normalize, think_parallel
from agentkit.models import ModelClient

SIZES: dict[str, dict[str, Any]] = {
    "smoke": {"p": [0.6], "n": [1, 3, 5], "trials": 40},
    "full": {"p": [0.6, 0.7], "n": [1, 3, 5, 7, 9], "trials": 200},
}
RIGHT = "42"
DISTRACTORS = 4


def majority_accuracy(n: int, p: float) -> float:
    """Closed-form probability that a majority of n answers (binary right/wrong) is right."""
    total = sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n // 2 + 1, n + 1))
    if n % 2 == 0:
        total += 0.5 * math.comb(n, n // 2) * (p * (1 - p)) ** (n // 2)
    return total


def _answerer(p: float, rng: random.Random, distractors: int) -> FunctionModel:
    def reply(request: ModelRequest) -> str:
        if rng.random() < p:
            return f"Reasoning...\nAnswer: {RIGHT}"
        return f"Reasoning...\nAnswer: {100 + rng.randrange(distractors)}"

    return FunctionModel(reply)


async def _accuracy(p: float, n: int, trials: int, distractors: int, seed: int) -> float:
    model = _answerer(p, random.Random(seed), distractors)
    client = ModelClient(default=model.model_name)
    right = 0
    for _ in range(trials):
        thought = await think_parallel(client, "What is 6 x 7?", n=n, method="vote")
        right += normalize(thought.answer) == RIGHT
    return right / trials


async def _run(size: str) -> list[dict[str, Any]]:
    spec = SIZES[size]
    rows = []
    for p in spec["p"]:
        for n in spec["n"]:
            trials = spec["trials"]
            binary = await _accuracy(p, n, trials, 1, seed=n)
            scattered = await _accuracy(p, n, trials, DISTRACTORS, seed=1000 + n)
            theory = majority_accuracy(n, p)
            rows.append({
                "p": p, "n": n, "trials": trials, "vote_accuracy": binary,
                "closed_form": theory, "stderr": math.sqrt(theory * (1 - theory) / trials),
                f"vote_accuracy_{DISTRACTORS}_distractors": scattered,
            })
    return rows


def run(size: str = "full") -> dict[str, Any]:
    if size not in SIZES:
        raise ValueError(f"size {size!r} is unknown; use one of {', '.join(SIZES)}")
    rows = asyncio.run(_run(size))
    worst = max(abs(r["vote_accuracy"] - r["closed_form"]) / max(r["stderr"], 1e-9) for r in rows)
    notes = (
        "Scripted thinkers right with probability p; each trial is one think_parallel(n, 'vote') "
        "through ModelClient and LiteLLM. closed_form is the binary majority-vote curve; stderr "
        f"is its binomial standard error at this many trials (largest gap: {worst:.1f} stderr). "
        f"With wrong answers scattered over {DISTRACTORS} distractors the plurality vote beats "
        "the binary curve."
    )
    return {"name": "vote", "title": "think_parallel vote accuracy vs n (p = P(one sample right))",
            "rows": rows, "notes": notes}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=1))
