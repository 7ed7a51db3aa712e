"""The one home of LiteLLM: imported lazily, at the first model call.

Registers the offline providers (`scripted/...`, `local/...`) as LiteLLM custom providers so every
model, hosted or not, goes through `litellm.acompletion`, and turns LiteLLM's exceptions into
agentkit's clear errors.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from typing import Any

import agentkit.models.guard as guard
import agentkit.models.local as local
import agentkit.models.scripted as scripted
from agentkit.errors import ModelConfigError, ModelError, ProviderUnavailable
from agentkit.models.base import ModelRequest, ModelResponse, ToolCall

# A hosted model's transient faults are tried this many more times, waiting BACKOFF * 2**n
# seconds (or the provider's Retry-After) up to MAX_BACKOFF; one try waits at most CALL_TIMEOUT.
RETRIES = 3
BACKOFF = 0.5
MAX_BACKOFF = 30.0
CALL_TIMEOUT = 600.0

# Where a response carries its price. LiteLLM stamps it on every response it prices, and keeps a
# price already stamped: an offline provider stamps its own (a scripted `Reply.cost_usd`, zero for
# the embedded model), which spares LiteLLM a failing price lookup per call, and `_normalize` reads
# the stamp instead of pricing the response a second time.
_COST = "response_cost"


@functools.cache
def litellm() -> Any:
    """Import and configure LiteLLM once (it takes seconds: never at `import agentkit`)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # LiteLLM copies every request's whole history for its own logging payload (to truncate
    # base64 images), which made each call cost O(history). agentkit records calls itself and
    # registers no LiteLLM logging callback; 0 turns that copy off. A user may set it back.
    os.environ.setdefault("MAX_BASE64_LENGTH_FOR_LOGGING", "0")
    import litellm as _litellm

    _litellm.suppress_debug_info = True
    _litellm.telemetry = False
    handlers = _handler_classes(_litellm)
    _litellm.custom_provider_map = [
        item
        for item in _litellm.custom_provider_map
        if item["provider"] not in ("scripted", "local")
    ] + [
        {"provider": "scripted", "custom_handler": handlers["scripted"]()},
        {"provider": "local", "custom_handler": handlers["local"]()},
    ]
    # custom_provider_map is read when routes are set up; refresh it.
    from litellm.utils import custom_llm_setup

    custom_llm_setup()
    return _litellm


def _handler_classes(lib: Any) -> dict[str, type]:
    from litellm import CustomLLM

    class ScriptedHandler(CustomLLM):
        async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            request = _request_from(model, messages, kwargs)
            reply = await scripted.lookup(model).respond(request)
            return _fill(
                lib,
                kwargs["model_response"],
                text=reply.text,
                tool_calls=[
                    {"id": c.id, "name": c.name, "arguments": c.arguments_json()}
                    for c in reply.tool_calls
                ],
                prompt_tokens=reply.prompt_tokens or 0,
                completion_tokens=reply.completion_tokens or 0,
                cost_usd=reply.cost_usd,
                finish_reason=reply.finish_reason,
            )

    class LocalHandler(CustomLLM):
        async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            request = _request_from(model, messages, kwargs)
            out = await local.complete(
                model,
                messages,
                tools=request.tools,
                output_schema=request.output_schema,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
            )
            calls = [dict(c, id=f"call_{i}") for i, c in enumerate(out["tool_calls"])]
            return _fill(
                lib,
                kwargs["model_response"],
                text=out["text"],
                tool_calls=calls,
                prompt_tokens=out["prompt_tokens"],
                completion_tokens=out["completion_tokens"],
                finish_reason=out["finish_reason"],
            )

    return {"scripted": ScriptedHandler, "local": LocalHandler}


def _request_from(model: str, messages: list, kwargs: dict[str, Any]) -> ModelRequest:
    params = kwargs.get("optional_params") or {}
    metadata = (kwargs.get("litellm_params") or {}).get("metadata") or {}
    fmt = params.get("response_format") or {}
    schema_block = fmt.get("json_schema") or {}
    return ModelRequest(
        role=metadata.get("agentkit_role", "executor"),
        messages=messages,
        tools=params.get("tools"),
        output_schema=schema_block.get("schema"),
        output_name=schema_block.get("name"),
        temperature=params.get("temperature"),
        max_tokens=params.get("max_tokens") or params.get("max_completion_tokens"),
        reasoning_effort=params.get("reasoning_effort"),
        subtask_id=metadata.get("agentkit_subtask"),
    )


def _fill(
    lib: Any,
    response: Any,
    *,
    text: str | None,
    tool_calls: list[dict[str, Any]],
    prompt_tokens: int,
    completion_tokens: int,
    finish_reason: str | None = None,
    cost_usd: float = 0.0,
) -> Any:
    from litellm.types.utils import ChatCompletionMessageToolCall, Function

    message = response.choices[0].message
    message.content = text
    if tool_calls:
        message.tool_calls = [
            ChatCompletionMessageToolCall(
                id=c["id"],
                type="function",
                function=Function(name=c["name"], arguments=c["arguments"]),
            )
            for c in tool_calls
        ]
    response.choices[0].finish_reason = finish_reason or ("tool_calls" if tool_calls else "stop")
    response.usage = lib.Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
    )
    response._hidden_params[_COST] = cost_usd  # LiteLLM knows no offline model's price
    return response


def check_model(model: str) -> None:
    """Fail fast, before a run starts, on a model string that cannot work."""
    if not model or "/" not in model:
        raise ModelConfigError(
            f"model {model!r} is not a LiteLLM 'provider/model' string; for example "
            "'openai/gpt-4.1-mini', 'anthropic/claude-sonnet-4-5', 'ollama/llama3.1', "
            "or 'local/smollm2' for the embedded offline model"
        )
    provider, name = model.split("/", 1)
    if provider == "scripted":
        scripted.lookup(name)
        return
    if provider == "local":
        local.weights_path(name)
        return
    lib = litellm()
    try:
        lib.get_llm_provider(model)
    except Exception as e:  # LiteLLM raises BadRequestError for an unknown provider
        raise ModelConfigError(
            f"unknown provider {provider!r} in model {model!r}; use a LiteLLM provider such as "
            "openai, anthropic, gemini, ollama, openrouter, or 'local/smollm2'"
        ) from e
    env = lib.validate_environment(model=model)
    if not env.get("keys_in_environment", True) and env.get("missing_keys"):
        missing = ", ".join(env["missing_keys"])
        raise ModelConfigError(
            f"model {model!r} needs {missing} set in the environment; set it, or run offline "
            "with --model local/smollm2"
        )
    guard.check_allowed(model)


def supports_reasoning(model: str) -> bool:
    """Whether `model` takes reasoning controls (`reasoning_effort`), as LiteLLM knows it.

    The offline providers have none, and are answered without importing LiteLLM.
    """
    if model.split("/", 1)[0] in guard.OFFLINE_PROVIDERS:
        return False
    try:
        return bool(litellm().supports_reasoning(model=model))
    except Exception:  # a model LiteLLM cannot place has no known reasoning controls
        return False


def takes_reasoning_effort(model: str) -> bool:
    """Whether a call to `model` is sent `reasoning_effort`: when LiteLLM knows the model takes
    reasoning controls (`supports_reasoning`), and for scripted models, which stand in for any
    model in tests and receive every control a call carries. The embedded model has none."""
    provider = model.split("/", 1)[0]
    return provider == "scripted" or (provider != "local" and supports_reasoning(model))


@functools.cache
def context_window(model: str) -> int | None:
    """The most input tokens `model` takes, or None when unknown (scripted models, or a model
    LiteLLM has no entry for). The offline providers are answered without importing LiteLLM."""
    if model.split("/", 1)[0] == "local":
        return local.CONTEXT_WINDOW
    info = _model_info(model)
    window = info.get("max_input_tokens") or info.get("max_tokens")
    return int(window) if window else None


@functools.cache
def max_output_tokens(model: str) -> int | None:
    """The most tokens `model` writes in one answer, or None when unknown (scripted models, or a
    model LiteLLM has no entry for). The offline providers are answered without LiteLLM."""
    if model.split("/", 1)[0] == "local":
        return local.CONTEXT_WINDOW
    found = _model_info(model).get("max_output_tokens")
    return int(found) if found else None


@functools.cache
def _model_info(model: str) -> dict[str, Any]:
    """LiteLLM's entry for `model`; empty for scripted models and models it cannot place."""
    if model.split("/", 1)[0] == "scripted":
        return {}
    try:
        return dict(litellm().get_model_info(model))
    except Exception:  # LiteLLM raises for a model it cannot place: its limits are unknown
        return {}


async def acompletion(
    model: str, request: ModelRequest, *, timeout: float | None = None
) -> ModelResponse:
    """Call `model` through `litellm.acompletion` and normalize the answer.

    A hosted model's transient faults (429, 5xx, connection errors, timeouts) are retried
    `RETRIES` times with backoff, honouring `Retry-After`; then `ProviderUnavailable`. Each try
    waits at most `CALL_TIMEOUT` seconds, or `timeout` when the run has less time left.
    """
    guard.check_allowed(model)
    lib = litellm()
    kwargs = _arguments(model, request)
    hosted = model.split("/", 1)[0] not in guard.OFFLINE_PROVIDERS
    if not hosted:
        _register_offline(model)
    if hosted:
        kwargs["timeout"] = CALL_TIMEOUT if timeout is None else min(CALL_TIMEOUT, timeout)
    started = time.perf_counter()
    for attempt in range(RETRIES + 1 if hosted else 1):
        try:
            raw = await lib.acompletion(**kwargs)
            break
        except (ModelError, ModelConfigError):
            raise
        except Exception as e:
            transient = hosted and _transient(lib, e)
            if not transient or attempt == RETRIES:
                raise _translate(model, e, attempts=attempt + 1, transient=transient) from e
            await asyncio.sleep(_backoff(e, attempt))
    return _normalize(lib, model, raw, time.perf_counter() - started)


def _arguments(model: str, request: ModelRequest) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": request.messages,
        "metadata": {"agentkit_role": request.role, "agentkit_subtask": request.subtask_id},
    }
    if request.tools:
        kwargs["tools"] = request.tools
    if request.output_schema is not None:
        kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": request.output_name or "answer",
                "schema": request.output_schema,
            },
        }
    for key in ("temperature", "max_tokens", "reasoning_effort"):
        if (value := getattr(request, key)) is not None:
            kwargs[key] = value
    if model.split("/", 1)[0] in guard.OFFLINE_PROVIDERS:
        if request.reasoning_effort is not None:
            kwargs["allowed_openai_params"] = ["reasoning_effort"]
    else:
        kwargs["num_retries"] = 0  # agentkit retries itself (`acompletion`), once per fault
        kwargs["drop_params"] = True
    return kwargs


def _transient(lib: Any, error: Exception) -> bool:
    """A fault worth retrying: rate limits, server errors, connection errors and timeouts."""
    kinds = (lib.RateLimitError, lib.InternalServerError, lib.ServiceUnavailableError,
             lib.APIConnectionError, lib.Timeout, lib.BadGatewayError)
    return isinstance(error, kinds)


def _backoff(error: Exception, attempt: int) -> float:
    """Seconds before the next try: the provider's `Retry-After`, else 0.5, 1, 2, … (capped)."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        asked = float(headers.get("retry-after", ""))
    except (TypeError, ValueError):
        asked = None
    wait = BACKOFF * 2**attempt if asked is None else asked
    return min(max(wait, 0.0), MAX_BACKOFF)


def _translate(
    model: str, error: Exception, *, attempts: int = 1, transient: bool = False
) -> Exception:
    cause = error.__cause__ or error.__context__
    if isinstance(cause, ModelError | ModelConfigError):
        return cause
    lib = litellm()
    if isinstance(error, lib.AuthenticationError):
        env = lib.validate_environment(model=model)
        keys = ", ".join(env.get("missing_keys") or []) or "the provider's API key"
        return ModelConfigError(
            f"model {model!r} was refused for lack of valid credentials; set {keys}, "
            "or run offline with --model local/smollm2"
        )
    if isinstance(error, lib.NotFoundError):
        return ModelConfigError(f"model {model!r} was not found by its provider; check the name")
    if transient:  # a hosted provider's fault; an offline model's error is the model's own
        return ProviderUnavailable(
            f"model {model!r} stayed unavailable after {attempts} tries "
            f"({type(error).__name__}: {str(error)[:300]}); the run is interrupted: "
            "`agentkit resume RUN` continues it when the provider is back"
        )
    return ModelError(f"model {model!r} failed: {type(error).__name__}: {str(error)[:500]}")


def _normalize(lib: Any, model: str, raw: Any, latency: float) -> ModelResponse:
    choices = getattr(raw, "choices", None)
    if not choices or getattr(choices[0], "message", None) is None:
        raise ModelError(
            f"model {model!r} returned a response with no answer (no choices, or a choice "
            "without a message); the provider sent something that is not a chat completion"
        )
    choice = choices[0]
    calls = []
    for call in choice.message.tool_calls or []:
        function = call["function"] if isinstance(call, dict) else call.function
        name = function["name"] if isinstance(function, dict) else function.name
        args = function["arguments"] if isinstance(function, dict) else function.arguments
        call_id = call["id"] if isinstance(call, dict) else call.id
        calls.append(ToolCall(name=name, arguments=args or "{}", id=call_id or ""))
    usage = getattr(raw, "usage", None)
    return ModelResponse(
        model=model,
        text=choice.message.content,
        tool_calls=calls,
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        cost_usd=_cost(lib, raw),
        latency_s=latency,
        finish_reason=choice.finish_reason,
    )


@functools.cache
def _register_offline(model: str) -> None:
    """Enter an offline model in LiteLLM's price list, at zero, once per model.

    LiteLLM prices every response it returns and, for a zero price, looks up why; for a model
    missing from its list each lookup searches the whole list, several times per call.
    """
    provider = model.split("/", 1)[0]
    litellm().register_model(
        {model: {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
                 "cache_creation_input_token_cost": 0.0, "cache_read_input_token_cost": 0.0,
                 "litellm_provider": provider, "mode": "chat"}},
        custom_llm_provider=provider,
    )


def _cost(lib: Any, raw: Any) -> float:
    """The response's price in USD: LiteLLM's stamp, else its calculator, else zero (unknown)."""
    stamped = (getattr(raw, "_hidden_params", None) or {}).get(_COST)
    if stamped is not None:
        return float(stamped)
    try:
        return float(lib.completion_cost(completion_response=raw) or 0.0)
    except Exception:  # no price known for this model: record zero, not a crash
        return 0.0
