"""The scripted model of the batch tests and benchmark (`tests/batch_models.py:answer`): a goal
"Write WORD to answer.txt" is planned as one step whose executor writes WORD with `write_file`,
then finishes. A goal that says "(gate)" waits, inside its executor, for a file `go` in
$AK_GATE_DIR after writing `ready-<pid>` there, so a test can kill that worker mid-run."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from agentkit import FunctionModel, ModelRequest, Plan, PlanStep, ToolCall

_WORD = re.compile(r"Write (\S+) to answer\.txt")
GATE_SECONDS = 120  # the longest a gated run waits for its `go`


def _word(request: ModelRequest) -> str:
    for message in request.messages:
        found = _WORD.search(str(message.get("content") or ""))
        if found:
            return found.group(1)
    raise AssertionError("the request names no 'Write WORD to answer.txt'")


def _tool_results(request: ModelRequest) -> list[str]:
    return [m["content"] for m in request.messages if m["role"] == "tool"]


def _gate(request: ModelRequest) -> None:
    folder = os.environ.get("AK_GATE_DIR")
    text = " ".join(str(m.get("content") or "") for m in request.messages)
    if not folder or "(gate)" not in text:
        return
    Path(folder, f"ready-{os.getpid()}").write_text("")
    deadline = time.monotonic() + GATE_SECONDS
    while not Path(folder, "go").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _answer(request: ModelRequest) -> object:
    word = _word(request)
    if request.role == "strategist":
        return Plan(strategy="Write the word, done.", steps=[PlanStep(
            id="s1", title="Write answer.txt", instructions=f"Write {word} to answer.txt.",
            success_criteria="answer.txt holds the word", difficulty="trivial")])
    if request.role == "finalizer":
        return f"answer.txt holds {word}"
    if not _tool_results(request):
        _gate(request)
        return ToolCall(name="write_file", arguments={"path": "answer.txt", "content": word})
    return ToolCall(name="finish", arguments={"result": f"wrote {word}"})


def answer() -> FunctionModel:
    return FunctionModel(_answer, name="ak-batch")
