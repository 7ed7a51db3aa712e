"""An OpenAI-compatible chat server on loopback that misbehaves on cue, for provider-fault tests.

Each request takes the next fault of its script (an HTTP status, "empty" for a completion
without choices, "html" for an error page instead of JSON, "hang" for no answer at all) and,
when the script is spent, a good answer: a plan for the strategist, plain text for the executor
and the finalizer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PLAN = {"strategy": "Say hello.", "steps": [{"id": "s1", "title": "Say hello"}]}


class FakeProvider:
    def __init__(self, faults: list[int | str]) -> None:
        self.faults = list(faults)
        self.requests = 0
        self.lock = threading.Lock()

    def next_fault(self) -> int | str | None:
        with self.lock:
            self.requests += 1
            return self.faults.pop(0) if self.faults else None


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    system = body["messages"][0]["content"]
    message: dict[str, Any] = {"role": "assistant", "content": "hello"}
    if "strategist" in system:
        message["content"] = json.dumps(PLAN)
    elif "executor" in system:  # a subtask ends only through finish(result)
        message = {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "finish", "arguments": json.dumps({"result": "hello"})}}]}
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}}


def _handler(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            fault = fake.next_fault()
            if fault == "hang":
                time.sleep(30)
                return
            if isinstance(fault, int):
                self._send(fault, {"error": {"message": "the provider is busy", "type": "x"}})
            elif fault == "html":  # a proxy's error page where JSON was expected
                raw = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            elif fault == "empty":
                self._send(200, {**_answer(body), "choices": []})
            else:
                self._send(200, _answer(body))

        def _send(self, status: int, data: dict[str, Any]) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("retry-after", "0")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler


@contextmanager
def serving(fake: FakeProvider) -> Iterator[str]:
    """Serve `fake` on a free loopback port; yields its OpenAI base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()
        server.server_close()
