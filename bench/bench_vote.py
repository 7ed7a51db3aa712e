"""Majority-vote accuracy vs n: scripted answerers right with probability p, next to theory.

Each trial is one `think_parallel(n, method="vote")` call through the real model client (and
LiteLLM), with a scripted thinker whose samples are right with probability p and otherwise give
one fixed wrong answer — the binary case, whose closed form for independent samples is

    P(vote right) = Σ_{k > n/2} C(n,k) p^k (1-p)^(n-k)  (+ ½ C(n,n/2) (p(1-p))^(n/2) for even n,
    as a tie goes to the answer sampled first, which is right half of the time).

Correlated errors: with probability ρ a trial's question is one where all n samples agree (one
draw, right with probability p, shared by every sample), else its samples are independent. Each
sample is still right with probability p, but the vote is right with probability
ρ·p + (1-ρ)·P(vote right), so more samples help less. A third column scatters wrong answers over
several distractors (plurality vote, no closed form given). The draws of a trial are seeded by
the trial, shared across n and across the three columns (common random numbers): sample 0 is
the same everywhere, so the n = 1 rows agree exactly. Each row is checked against its closed
form: within 3 standard errors (binomial, at that many trials).
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
    "smoke": {"p": [0.7], "n": [1, 5], "trials": 60, "rho": 1.0},
    "full": {"p": [0.6, 0.7], "n": [1, 3, 5, 9], "trials": 200, "rho": 0.5},
}
RIGHT = "42"
DISTRACTORS = 4
MAX_Z = 3.0


def majority_accuracy(n: int, p: float) -> float:
    """Closed-form probability that a majority of n answers (binary right/wrong) is right."""
    total = sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n // 2 + 1, n + 1))
    if n % 2 == 0:
        total += 0.5 * math.comb(n, n // 2) * (p * (1 - p)) ** (n // 2)
    return total


def correlated_accuracy(n: int, p: float, rho: float) -> float:
    """The vote's accuracy when a share `rho` of questions make all samples agree."""
    return rho * p + (1 - rho) * majority_accuracy(n, p)


class Answerer:
    """Scripted thinker samples for one (p, ρ, distractors) setting. `start` begins a trial;
    samples are numbered in the order they are asked for (the scripted provider does not see
    `ModelRequest.sample`)."""

    def __init__(self, p: float, rho: float, distractors: int, seed: int) -> None:
        self.p, self.rho, self.distractors, self.seed = p, rho, distractors, seed
        self.trial = self.sample = 0
        self.model = FunctionModel(self.reply)

    def start(self, trial: int) -> None:
        self.trial, self.sample = trial, 0

    def reply(self, request: ModelRequest) -> str:
        t, j = self.trial, self.sample
        self.sample += 1
        shared = random.Random(f"shared-{self.seed}-{t}").random() < self.rho
        draw = 0 if shared else j
        if random.Random(f"right-{self.seed}-{t}-{draw}").random() < self.p:
            return f"Reasoning...\nAnswer: {RIGHT}"
        wrong = random.Random(f"wrong-{self.seed}-{t}-{draw}").randrange(self.distractors)
        return f"Reasoning...\nAnswer: {100 + wrong}"


async def accuracy(p: float, n: int, trials: int, *, rho: float = 0.0, distractors: int = 1,
                   seed: int = 0) -> float:
    """Share of `trials` think_parallel(n, 'vote') calls whose answer is right."""
    answerer = Answerer(p, rho, distractors, seed)
    client = ModelClient(default=answerer.model.model_name)
    right = 0
    for t in range(trials):
        answerer.start(t)
        thought = await think_parallel(client, "What is 6 x 7?", n=n, method="vote")
        right += normalize(thought.answer) == RIGHT
    return right / trials


def _z(measured: float, theory: float, trials: int) -> float:
    stderr = math.sqrt(theory * (1 - theory) / trials)
    return 0.0 if stderr == 0 else (measured - theory) / stderr


async def _run(size: str) -> list[dict[str, Any]]:
    spec = SIZES[size]
    rows = []
    trials, rho = spec["trials"], spec["rho"]
    for p in spec["p"]:
        for n in spec["n"]:
            seed = round(p * 1000)
            independent = await accuracy(p, n, trials, seed=seed)
            correlated = await accuracy(p, n, trials, rho=rho, seed=seed)
            scattered = await accuracy(p, n, trials, distractors=DISTRACTORS, seed=seed)
            theory, theory_rho = majority_accuracy(n, p), correlated_accuracy(n, p, rho)
            rows.append({
                "p": p, "n": n, "trials": trials, "independent": independent,
                "closed_form": theory, "z": _z(independent, theory, trials),
                "rho": rho, "correlated": correlated, "closed_form_correlated": theory_rho,
                "z_correlated": _z(correlated, theory_rho, trials),
                f"plurality_{DISTRACTORS}_distractors": scattered,
            })
    return rows


def _gain_notes(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    plural = f"plurality_{DISTRACTORS}_distractors"
    for p in sorted({r["p"] for r in rows}):
        mine = [r for r in rows if r["p"] == p]
        lo, hi = min(mine, key=lambda r: r["n"]), max(mine, key=lambda r: r["n"])

        def gain(key: str, lo: dict[str, Any] = lo, hi: dict[str, Any] = hi) -> str:
            return f"{hi[key] - lo[key]:+.3f}"

        out.append(
            f"p = {p}: from n = {lo['n']} to n = {hi['n']} the vote gained "
            f"{gain('independent')} with independent samples (theory {gain('closed_form')}), "
            f"{gain('correlated')} with correlated errors at ρ = {hi['rho']} (theory "
            f"{gain('closed_form_correlated')}), and {gain(plural)} with wrong answers over "
            f"{DISTRACTORS} distractors.")
    return out


def run(size: str = "full") -> dict[str, Any]:
    if size not in SIZES:
        raise ValueError(f"size {size!r} is unknown; use one of {', '.join(SIZES)}")
    rows = asyncio.run(_run(size))
    worst = max(max(abs(r["z"]), abs(r["z_correlated"])) for r in rows)
    table = {
        "title": "Vote accuracy, measured and closed form (z = (measured − theory) / stderr)",
        "columns": ["p", "n", "trials", "independent", "closed form", "z", "ρ", "correlated",
                    "closed form (correlated)", "z (correlated)",
                    f"plurality, {DISTRACTORS} distractors"],
        "rows": [[r["p"], r["n"], r["trials"], f"{r['independent']:.3f}",
                  f"{r['closed_form']:.3f}", f"{r['z']:+.1f}", r["rho"], f"{r['correlated']:.3f}",
                  f"{r['closed_form_correlated']:.3f}", f"{r['z_correlated']:+.1f}",
                  f"{r[f'plurality_{DISTRACTORS}_distractors']:.3f}"] for r in rows],
    }
    targets = [{"what": f"vote accuracy within {MAX_Z:g} standard errors of the closed form, "
                        f"{len(rows)} rows × 2 (independent, correlated)",
                "target": f"|z| ≤ {MAX_Z:g}", "measured": f"largest |z| {worst:.1f}",
                "met": worst <= MAX_Z}]
    return {"name": "bench_vote", "title": "think_parallel vote accuracy vs n, independent and "
            "correlated errors", "rows": rows, "tables": [table], "targets": targets,
            "notes": _gain_notes(rows)}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=1))
