"""OpenTelemetry spans for a run, its graph nodes, model calls and tool calls (the `otel` extra).

Off by default and free when off: no span is made unless a tracer provider is set, by your
application (`opentelemetry.trace.set_tracer_provider`, or `use_tracer_provider` here), or by the
`agentkit` command when the standard `OTEL_*` variables ask for an exporter
(`configure_from_env`). The span tree of a run:

    invoke_agent agentkit            agentkit.run_id, agentkit.goal
      agentkit.node strategist       agentkit.node (one span per graph node run)
        chat openai/gpt-4.1-mini     gen_ai.* (operation, provider, models, token usage),
                                     agentkit.role, agentkit.subtask_id
      agentkit.node executor         agentkit.subtask_id, agentkit.plan_version
        chat ...
        execute_tool write_file      gen_ai.tool.name, gen_ai.tool.call.id, agentkit.tool.status

Attribute names follow the OpenTelemetry GenAI semantic conventions. This is the only module
that imports `opentelemetry`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

from agentkit.errors import UserError

try:
    from opentelemetry import trace
except ImportError:  # pragma: no cover - the otel extra (or litellm's own dependency) is missing
    trace = None  # type: ignore[assignment]

__all__ = [
    "async_span", "configure_from_env", "enabled", "set_attributes", "span", "traced_node",
    "use_tracer_provider",
]

F = TypeVar("F", bound=Callable[..., Any])
_provider: Any = None  # set by use_tracer_provider; else the global provider is used
_EXPORTER_VARIABLES = ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
                       "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def use_tracer_provider(provider: Any) -> None:
    """Send agentkit's spans to `provider` (a `TracerProvider`), or back to the global one."""
    global _provider
    _provider = provider


def enabled() -> bool:
    """Whether spans are made: a tracer provider other than OpenTelemetry's default is set."""
    if _provider is not None:
        return True
    if trace is None:
        return False
    current = trace.get_tracer_provider()
    return not isinstance(current, trace.ProxyTracerProvider | trace.NoOpTracerProvider)


@contextlib.contextmanager
def span(name: str, attributes: dict[str, Any] | None = None) -> Iterator[Any]:
    """A span named `name` around the block (None when tracing is off); errors are recorded."""
    if not enabled():
        yield None
        return
    tracer = (_provider or trace.get_tracer_provider()).get_tracer("agentkit")
    with tracer.start_as_current_span(name, attributes=_clean(attributes or {})) as current:
        yield current


@contextlib.asynccontextmanager
async def async_span(name: str, attributes: dict[str, Any] | None = None) -> AsyncIterator[Any]:
    """`span` for `async with` (beside other asynchronous context managers)."""
    with span(name, attributes) as current:
        yield current


def set_attributes(current: Any, attributes: dict[str, Any]) -> None:
    """Add `attributes` to a span from `span` (nothing when tracing is off)."""
    if current is not None:
        current.set_attributes(_clean(attributes))


def traced_node(name: str, node: F) -> F:
    """A LangGraph node function wrapped in an `agentkit.node NAME` span (its signature kept)."""

    def attributes(state: Any) -> dict[str, Any]:
        found: dict[str, Any] = {"agentkit.node": name}
        if isinstance(state, dict):
            found["agentkit.run_id"] = state.get("run_id")
            found["agentkit.subtask_id"] = state.get("subtask_id")
            found["agentkit.plan_version"] = state.get("plan_version")
        return found

    if inspect.iscoroutinefunction(node):
        @functools.wraps(node)
        async def run_async(state: Any, *args: Any, **kwargs: Any) -> Any:
            with span(f"agentkit.node {name}", attributes(state)):
                return await node(state, *args, **kwargs)
        return run_async  # type: ignore[return-value]

    @functools.wraps(node)
    def run(state: Any, *args: Any, **kwargs: Any) -> Any:
        with span(f"agentkit.node {name}", attributes(state)):
            return node(state, *args, **kwargs)
    return run  # type: ignore[return-value]


def model_attributes(role: str, model: str, subtask_id: str | None) -> dict[str, Any]:
    """The start attributes of a model call's span."""
    return {"gen_ai.operation.name": "chat", "gen_ai.provider.name": model.split("/", 1)[0],
            "gen_ai.request.model": model, "agentkit.role": role,
            "agentkit.subtask_id": subtask_id}


def configure_from_env() -> Callable[[], None] | None:
    """Install a tracer provider from the standard `OTEL_*` variables, if they ask for one.

    `OTEL_TRACES_EXPORTER=console` prints spans; `otlp` (the default once an
    `OTEL_EXPORTER_OTLP_*ENDPOINT` is set) sends them over OTLP/HTTP to that endpoint. Returns
    the function that flushes and shuts the provider down, or None when nothing was asked.
    """
    exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    if not any(os.environ.get(v) for v in _EXPORTER_VARIABLES) or exporter_name == "none":
        return None
    provider = _provider_for(exporter_name)
    trace.set_tracer_provider(provider)
    return provider.shutdown


def _provider_for(exporter_name: str) -> Any:
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError as e:
        raise UserError("the OTEL_* variables ask for traces, which need the 'otel' extra: "
                        "pip install 'agentkit[otel]' (or unset OTEL_TRACES_EXPORTER)") from e
    if exporter_name == "console":
        exporter: Any = ConsoleSpanExporter()
    elif exporter_name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # endpoint, headers and timeout from OTEL_EXPORTER_OTLP_*
    else:
        raise UserError(f"OTEL_TRACES_EXPORTER={exporter_name!r} is not supported by agentkit; "
                        "use otlp (with OTEL_EXPORTER_OTLP_ENDPOINT), console or none")
    service = os.environ.get("OTEL_SERVICE_NAME", "agentkit")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _clean(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes without None values (OpenTelemetry refuses them)."""
    return {k: v for k, v in attributes.items() if v is not None}
