"""Small-model mode of the executor: the same loop, with what a 0.1–8B model needs.

A model is small when `ModelClient.is_small` says so (the embedded `local/...` models, and any
model marked `small: true` in the agent file). For such a model the executor

- opens with a compact prompt: the goal, the subtask, one short worked example — no plan dump;
- adds the worked example of the best-matching tool (`example`);
- offers only the tools the subtask needs when the list is long (`select_tools`: the user tools
  whose name and description share the most words with the subtask, by inverse document
  frequency, plus `finish`); the grammar of the local model then makes the tool name an enum of
  exactly these, and the arguments follow the chosen tool's schema (`agentkit.models.local`);
  `finish` is offered only once a work call succeeded (`offered`);
- ends the subtask when the model repeats a successful call word for word (`repeated`):
  a small model that did the work tends to do it again instead of calling `finish`;
- gives the answer the output of the work (`with_evidence`): the last tool output is kept with
  the model's `finish` text, which a small model often words without the value.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from agentkit.models import ToolCall
from agentkit.schema import Subtask
from agentkit.tools import Tool, ToolResult, Toolset

# Offer every tool up to this many; above it, only the best-matching `KEEP_TOOLS`.
MAX_TOOLS = 4
KEEP_TOOLS = 3
# The control tool a small model is offered; `fail` and the thinking tools only confuse it.
KEPT_CONTROL = ("finish",)
EVIDENCE_CHARS = 600

SYSTEM = """You do one task with tools. Each reply is one tool call as JSON.
Copy file names and texts exactly as the task gives them; paths are relative, like notes.txt.
When the task is done, call finish with the result; put any value the task asks for in it."""

# One worked example per common tool: (task, arguments, tool result, finish result). The
# example shown is the one of the best-matching tool offered, so it shows the call to make.
EXAMPLES: dict[str, tuple[str, dict[str, str], str, str]] = {
    "write_file": ("Write the text 'good morning' into a file named greet.txt.",
                   {"path": "greet.txt", "content": "good morning"},
                   "wrote 12 characters to greet.txt", "greet.txt contains: good morning"),
    "read_file": ("Read the file notes.txt and report its last line.", {"path": "notes.txt"},
                  "buy milk\ncall bob", "The last line of notes.txt is: call bob"),
    "edit_file": ("In config.txt, change debug=no to debug=yes.",
                  {"path": "config.txt", "old": "debug=no", "new": "debug=yes"},
                  "edited config.txt", "config.txt now says debug=yes"),
    "append_file": ("Add the line 'eggs' at the end of shop.txt.",
                    {"path": "shop.txt", "text": "eggs"}, "appended 4 characters to shop.txt",
                    "added the line eggs to shop.txt"),
    "copy_file": ("Make a copy of plan.md named plan-old.md.",
                  {"source": "plan.md", "target": "plan-old.md"},
                  "copied plan.md to plan-old.md", "plan-old.md is a copy of plan.md"),
    "move_file": ("Move draft.txt to final.txt.", {"source": "draft.txt", "target": "final.txt"},
                  "moved draft.txt to final.txt", "draft.txt is now final.txt"),
    "make_dir": ("Create a folder named logs.", {"path": "logs"}, "created folder logs",
                 "created the folder logs"),
    "run_shell": ("Report the size of data.csv in bytes.", {"command": "wc -c data.csv"},
                  "exit code 0\n120 data.csv", "data.csv has 120 bytes"),
    "run_python": ("Compute 2 to the power 10.", {"code": "2 ** 10"}, "exit code 0\n1024",
                   "2 ** 10 is 1024"),
    "list_dir": ("List the files in the folder docs.", {"path": "docs"},
                 "['intro.md', 'usage.md']", "docs holds intro.md and usage.md"),
    "glob": ("Find the files whose names end with .csv.", {"pattern": "*.csv"},
             "['jan.csv', 'feb.csv']", "The .csv files are jan.csv and feb.csv"),
}

_FILE_NAME = re.compile(r"[\w-]+\.\w+")
_FAILED_COMMAND = re.compile(r"exit code [1-9]")
_STOP = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "e", "g", "for", "from", "in", "into", "is",
    "it", "its", "of", "on", "or", "such", "that", "the", "this", "to", "with", "your", "you",
    "one",
})


def example(tools: Toolset) -> str:
    """The worked example of the first offered tool that has one ('' when none has)."""
    for tool in tools:
        if tool.name in EXAMPLES:
            task, arguments, result, answer = EXAMPLES[tool.name]
            return "\n".join([
                "", "Example task: " + task,
                json.dumps({"tool": tool.name, "arguments": arguments}),
                "Tool result: " + result,
                json.dumps({"tool": "finish", "arguments": {"result": answer}})])
    return ""


def prompt(
    subtask: Subtask, goal: str, checks: Iterable[str] = (), ledger_text: str = ""
) -> list[dict[str, str]]:
    """The compact opening messages: the goal and, when it differs, the subtask; the ledger
    only when earlier work failed (the worked example joins the system message once the tools
    are chosen: `with_example`)."""
    task = subtask.instructions or subtask.title
    lines = [f"Task: {task}"]
    if " ".join(goal.split()) != " ".join(task.split()):
        lines.insert(0, f"Goal of the run: {goal}")
    if "Failed" in ledger_text:
        lines.insert(0, ledger_text)
    lines += [f"finish is accepted only once this check exits 0: {c}" for c in checks]
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def words(text: str) -> list[str]:
    """Lowercase words of `text`, a plural `s` taken off, stop words left out."""
    found = [w.removesuffix("s") if len(w) > 3 else w for w in re.findall(r"[a-z]+", text.lower())]
    return [w for w in found if w not in _STOP]


def _document(tool: Tool) -> set[str]:
    properties = (tool.parameters or {}).get("properties", {})
    described = " ".join(str(p.get("description", "")) for p in properties.values())
    return set(words(f"{tool.name.replace('_', ' ')} {tool.description} {described}"))


def with_example(messages: list[dict[str, Any]], tools: Toolset) -> None:
    """Add the worked example of `tools` to the compact system message of `messages`."""
    if messages and messages[0].get("content") == SYSTEM:
        messages[0] = {**messages[0], "content": SYSTEM + example(tools)}


def prepare(tools: Toolset, subtask: Subtask, messages: list[dict[str, Any]]) -> Toolset:
    """The tools of a small model's subtask (`select_tools`), its example in `messages`."""
    chosen = select_tools(tools, f"{subtask.title} {subtask.instructions}")
    with_example(messages, chosen)
    return chosen


def select_tools(tools: Toolset, text: str) -> Toolset:
    """The tools a small model is offered for `text`, best match first: every user tool when
    there are at most `MAX_TOOLS`, else the `KEEP_TOOLS` that share the most (rare) words with
    it; then `finish`."""
    user = [t for t in tools if t.ends_subtask is None and t.source != "agentkit"
            and t.name != "recall"]
    control = [t for name in KEPT_CONTROL if (t := tools.get(name)) is not None]
    docs = [_document(t) for t in user]
    df = Counter(w for doc in docs for w in doc)
    wanted = set(words(_FILE_NAME.sub(" ", text)))  # `old.txt` says nothing of the tool

    def score(index: int) -> float:
        return sum(math.log(len(docs) / df[w]) + 0.1 for w in wanted & docs[index])

    ranked = sorted(range(len(user)), key=lambda i: (-score(i), i))
    kept = ranked if len(user) <= MAX_TOOLS else ranked[:KEEP_TOOLS]
    return Toolset([*(user[i] for i in kept), *control])


def succeeded(result: ToolResult) -> bool:
    """Whether a work call's result counts as work done: an 'ok' result, and for a command
    (the shell and python packs report `exit code N` first) exit code 0."""
    return result.status == "ok" and _FAILED_COMMAND.match(result.content) is None


def offered(tools: Toolset, *, worked: bool) -> list[dict[str, Any]]:
    """The tool specs of one call: `finish` only once a work call succeeded (a small model
    otherwise finishes before doing anything), unless there is nothing else to call."""
    specs = tools.specs()
    if worked:
        return specs
    work = [s for s in specs if s["function"]["name"] not in KEPT_CONTROL]
    return work or specs


def repeated(call: ToolCall, last_ok: tuple[ToolCall, str] | None) -> str | None:
    """The output of the last successful work call when `call` is that call again (name and
    arguments alike, a check of its own deciding nothing): the subtask's result; else None."""
    if last_ok is None or call.name != last_ok[0].name:
        return None
    return last_ok[1] if call.arguments_json() == last_ok[0].arguments_json() else None


def with_evidence(result: str, last_ok: tuple[ToolCall, str] | None) -> str:
    """The subtask's result: the model's words, then the last work call's output unless it is
    in them."""
    shown = (last_ok[1] if last_ok else "").strip()
    if not shown or shown in result:
        return result
    return f"{result.strip()}\n(tool output: {shown[:EVIDENCE_CHARS]})"
