"""OpenTelemetry: the span tree of a scripted run, through the SDK's in-memory exporter."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentkit import Store, tracing
from tests.scripts import HELLO_GOAL, hello_agent

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_tracer_provider(provider)
    try:
        yield exporter
    finally:
        tracing.use_tracer_provider(None)


def _parent(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> ReadableSpan | None:
    return by_id.get(span.parent.span_id) if span.parent is not None else None


def test_a_run_is_one_trace_of_nodes_model_calls_and_tool_calls(
    db: str, workspace: Path, spans: InMemorySpanExporter
) -> None:
    result = hello_agent(db, workspace).run_sync(HELLO_GOAL)
    assert result.status == "completed", result.error
    found = list(spans.get_finished_spans())
    by_id = {s.context.span_id: s for s in found}
    assert len({s.context.trace_id for s in found}) == 1  # one trace for the run

    (root,) = [s for s in found if s.parent is None]
    assert root.name == "invoke_agent agentkit"
    assert root.attributes is not None and root.attributes["agentkit.run_id"] == result.run_id

    nodes = [s for s in found if s.name.startswith("agentkit.node ")]
    executors = [n for n in nodes if n.name == "agentkit.node executor"]
    # An executor is a task of the dispatch node; every node is the run's child.
    assert all(_parent(n, by_id) is root for n in nodes if n not in executors)
    assert {n.name.split()[-1] for n in nodes} == {
        "calibrate", "strategist", "decomposer", "monitor", "dispatch", "executor", "finalizer"}
    assert {_parent(n, by_id).name for n in executors} == {"agentkit.node dispatch"}
    assert sorted(str((n.attributes or {})["agentkit.subtask_id"]) for n in executors) == [
        "t1", "t2"]

    chats = [s for s in found if s.name.startswith("chat ")]
    recorded = Store(db).get_model_calls(result.run_id)
    assert len(chats) == len(recorded) == 6
    for chat in chats:
        attrs = chat.attributes or {}
        assert attrs["gen_ai.operation.name"] == "chat"
        assert attrs["gen_ai.request.model"] == recorded[0].model
        parent = _parent(chat, by_id)
        assert parent is not None and parent.name == f"agentkit.node {attrs['agentkit.role']}"
    assert sum(int((c.attributes or {})["gen_ai.usage.input_tokens"]) for c in chats) == sum(
        r.prompt_tokens for r in recorded)

    tools = [s for s in found if s.name.startswith("execute_tool ")]
    assert [s.name for s in sorted(tools, key=lambda s: s.start_time or 0)] == [
        "execute_tool write_file", "execute_tool finish", "execute_tool run_shell",
        "execute_tool finish"]
    for span in tools:
        parent = _parent(span, by_id)
        assert parent is not None and parent.name == "agentkit.node executor"
        attrs = span.attributes or {}
        assert attrs["agentkit.tool.status"] == "ok"
        assert attrs["agentkit.subtask_id"] == (parent.attributes or {})["agentkit.subtask_id"]


def test_no_spans_without_a_tracer_provider(db: str, workspace: Path) -> None:
    assert not tracing.enabled()
    with tracing.span("anything") as span:
        assert span is None


def test_the_cli_sends_spans_where_the_otel_variables_say(tmp_path: Path) -> None:
    program = _traced_run(tmp_path)
    env = {**os.environ, "OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "my-agent",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", program], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    printed = [json.loads(block) for block in _json_blocks(done.stdout)]
    names = {span["name"] for span in printed}
    assert {"invoke_agent agentkit", "agentkit.node executor", "execute_tool write_file"} <= names
    assert {span["resource"]["attributes"]["service.name"] for span in printed} == {"my-agent"}

    env["OTEL_TRACES_EXPORTER"] = "zipkin"
    refused = subprocess.run([sys.executable, "-c", program], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    assert "OTEL_TRACES_EXPORTER='zipkin' is not supported" in refused.stderr


def test_spans_reach_an_otlp_collector(tmp_path: Path) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    received: list[bytes] = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            assert self.path == "/v1/traces"
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    program = _traced_run(tmp_path)
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "PYTHONPATH": str(ROOT)}
    env.pop("OTEL_TRACES_EXPORTER", None)
    try:
        done = subprocess.run([sys.executable, "-c", program], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    names = set()
    for body in received:
        request = ExportTraceServiceRequest.FromString(body)
        names |= {span.name for rs in request.resource_spans for ss in rs.scope_spans
                  for span in ss.spans}
    assert "invoke_agent agentkit" in names
    assert "execute_tool run_shell" in names and "agentkit.node finalizer" in names


def _traced_run(tmp_path: Path) -> str:
    """A program that runs the hello agent with tracing set up from the OTEL_* variables."""
    return (
        "from agentkit import tracing\n"
        "from tests.scripts import HELLO_GOAL, hello_agent\n"
        "from pathlib import Path\n"
        "shutdown = tracing.configure_from_env()\n"
        f"ws = Path({str(tmp_path / 'ws')!r}); ws.mkdir()\n"
        f"hello_agent({str(tmp_path / 'runs.db')!r}, ws).run_sync(HELLO_GOAL)\n"
        "shutdown()\n"
    )


def _json_blocks(text: str) -> list[str]:
    """The console exporter prints each span as an indented JSON object."""
    blocks, current = [], []
    for line in text.splitlines():
        current.append(line)
        if line == "}":
            blocks.append("\n".join(current))
            current = []
    return blocks
