"""Scripted models for the examples that act like competent models: every decision is taken from
the request in front of them (the goal, the subtask, the real tool results so far), never from a
known outcome. What a real model would know (how to fix a bug it has read, which lines of a
document answer a question) is written out as plain rules."""

from __future__ import annotations

import json
import re
from typing import Any

from agentkit import ModelRequest, Plan, PlanStep, ToolCall

# --- reading a request --------------------------------------------------------------------------


def subtask_text(request: ModelRequest) -> str:
    """The executor's subtask: its title, instructions and success criteria."""
    text = request.messages[1]["content"]
    return text[text.index("Your subtask ("):]


def history(request: ModelRequest) -> list[tuple[str, dict[str, Any], str]]:
    """(tool name, arguments, result) of each tool call made so far in this subtask.

    Results follow their calls in order (scripted replies reuse ids such as 'call_0')."""
    calls: list[tuple[str, dict[str, Any], str]] = []
    pending: list[tuple[str, dict[str, Any]]] = []
    for message in request.messages:
        for call in message.get("tool_calls") or []:
            pending.append((call["function"]["name"],
                            json.loads(call["function"]["arguments"] or "{}")))
        if message["role"] == "tool" and pending:
            calls.append((*pending.pop(0), message["content"]))
    return calls


def user_text(request: ModelRequest) -> str:
    return request.messages[1]["content"]


def finish(result: str) -> ToolCall:
    return ToolCall(name="finish", arguments={"result": result})


def step(id: str, title: str, instructions: str, criteria: str, difficulty: str,
         depends_on: tuple[str, ...] = (), calls: int | None = None) -> PlanStep:
    return PlanStep(id=id, title=title, instructions=instructions, success_criteria=criteria,
                    difficulty=difficulty, depends_on=list(depends_on),  # type: ignore[arg-type]
                    expected_calls=calls)


# --- the coding agent ---------------------------------------------------------------------------

TEST_COMMAND = "python -m pytest -q"
# What a competent model sees when it reads the buggy code, and the edit it makes.
KNOWN_FIXES = {
    "return sum(values) // len(values)": "return sum(values) / len(values)",
    're.findall(r"[a-z0-9]+", title)': 're.findall(r"[a-z0-9]+", title.lower())',
}


def coding_plan() -> Plan:
    """The first plan of a model that has not seen the code yet: one bug, an easy fix."""
    return Plan(
        strategy="Run the tests, fix the code they point at, confirm the suite is green.",
        steps=[
            step("s1", "Run the tests", f"Run `{TEST_COMMAND}` with run_shell and note which "
                 "tests fail.", "The failing tests are known.", "trivial"),
            step("s2", "Fix the failing code", "Read the module under test, fix it with "
                 f"edit_file and re-run `{TEST_COMMAND}`.", "The failing tests pass.", "easy",
                 ("s1",)),
            step("s3", "Confirm the suite passes", f"Run `{TEST_COMMAND}` once more.",
                 "Exit code 0.", "trivial", ("s2",)),
        ],
    )


def revised_coding_plan(request: ModelRequest) -> Plan:
    """After a failed fix: keep what is done, retry the fix with more room."""
    current = Plan.model_validate_json(
        re.search(r"Current plan:\n(.*?)\n\n", user_text(request), re.S).group(1)  # type: ignore[union-attr]
    )
    steps = {s.id: s for s in current.steps}
    retry = step("s2", "Fix every remaining failure", "Re-run the tests; for each failing test "
                 "read its module and fix it with edit_file, then re-run the tests, until no test "
                 "fails.", "`python -m pytest -q` exits with code 0.", "medium", ("s1",),
                 calls=8)
    return current.model_copy(update={"strategy": "More than one module is broken: fix them one "
                                      "by one, re-running the tests after each fix.",
                                      "steps": [steps["s1"], retry, steps["s3"]]})


def coding_model(request: ModelRequest) -> object:
    if request.role == "strategist":
        revising = "Current plan:" in user_text(request)
        return revised_coding_plan(request) if revising else coding_plan()
    if request.role == "finalizer":  # the last result in the ledger's "Done:" list
        done = user_text(request).split("Done:", 1)[1].split("\nFailed", 1)[0]
        results = re.findall(r"^- \[[\w-]+\] [^:]*: (.*)$", done, re.M)
        return results[-1] if results else "nothing was done"
    return coding_step(request)


def failing_tests(output: str) -> list[str]:
    return re.findall(r"^FAILED (\S+?)::(\S+)", output, re.M)  # type: ignore[return-value]


def coding_step(request: ModelRequest) -> ToolCall:
    """Run the tests; while they fail (and the subtask is to fix them) read and edit the code."""
    fixing = re.search(r"\bfix", subtask_text(request), re.I) is not None
    calls = history(request)
    if not calls or calls[-1][0] == "edit_file":
        return ToolCall(name="run_shell", arguments={"command": TEST_COMMAND})
    name, arguments, result = calls[-1]
    if name == "run_shell":
        summary = result.strip().splitlines()[-1]
        if result.startswith("exit code 0"):
            return finish(f"all tests pass: {summary}")
        failed = failing_tests(result)
        if not fixing or not failed:
            return finish(f"tests fail: {', '.join(f'{f}::{t}' for f, t in failed)} ({summary})")
        module = re.sub(r"(^|/)test_", r"\1", failed[0][0])  # test_calc.py tests calc.py
        return ToolCall(name="read_file", arguments={"path": module})
    if name == "read_file":
        for old, new in KNOWN_FIXES.items():
            if old in result:
                return ToolCall(name="edit_file",
                                arguments={"path": arguments["path"], "old": old, "new": new})
    return ToolCall(name="run_shell", arguments={"command": TEST_COMMAND})


# --- the research agent -------------------------------------------------------------------------

_STOP = frozenset({"a", "an", "and", "are", "as", "at", "be", "by", "did", "do", "does", "each",
    "for", "from", "has", "how", "in", "is", "it", "its", "of", "on", "or", "the", "this", "to",
    "was", "what", "when", "where", "which", "who", "why", "with"})


def _stems(text: str) -> set[str]:
    return {w[:4] for w in re.findall(r"[a-z0-9]+", text.lower())
            if w not in _STOP and not w.isdigit()}


QUESTIONS_PATTERN = re.compile(r"^\d+\. (.+\?)$", re.M)


def research_plan(request: ModelRequest) -> Plan:
    """One step per question found in the goal, then the report."""
    questions = QUESTIONS_PATTERN.findall(user_text(request))
    steps = [
        step(f"q{n}", f"Answer question {n}", f"Question: {q}\nSearch the corpus/ folder with "
             f"search_docs, read the most relevant document and record the facts that answer "
             f"the question in notes/q{n}.md, one per line as '- fact (file:line)'.",
             f"notes/q{n}.md lists facts with their file and line.", "easy")
        for n, q in enumerate(questions, start=1)
    ]
    ids = tuple(s.id for s in steps)
    steps.append(step("report", "Write the report", "Read all the notes at once with grep "
                      "(pattern '.', path 'notes') and write report.md: one section per "
                      "question, each fact with its citation.",
                      "report.md answers every question with cited facts.", "easy", ids))
    return Plan(strategy="Search the documents question by question, keep every fact with its "
                "source, then write the report from the notes.", steps=steps)


def research_model(request: ModelRequest) -> object:
    if request.role == "strategist":
        return research_plan(request)
    if request.role == "finalizer":
        done = re.findall(r"^- \[report\] [^:]*: (.*)$", user_text(request), re.M)
        return done[0] if done else "the report was not written"
    task = subtask_text(request)
    if (question := re.search(r"^Question: (.+)$", task, re.M)) is not None:
        notes = re.search(r"notes/\S+\.md", task).group(0)  # type: ignore[union-attr]
        return research_question(request, question.group(1), notes)
    return write_report(request)


def research_question(request: ModelRequest, question: str, notes: str) -> ToolCall:
    """Search, read the best document, record its facts that bear numbers, with file:line."""
    calls = history(request)
    if not calls:
        return ToolCall(name="search_docs",
                        arguments={"query": question, "path": "corpus", "limit": 5})
    name, arguments, result = calls[-1]
    if name == "search_docs":
        best = re.match(r'\["([^:"]+):\d+', result)
        if best is None:
            return finish(f"no document answers {question!r}")
        return ToolCall(name="read_file", arguments={"path": best.group(1)})
    if name == "read_file":
        wanted = _stems(question)
        facts = [
            (len(wanted & _stems(line)), number, line.strip())
            for number, line in enumerate(result.splitlines(), start=1)
            if re.search(r"\d", line) and not line.startswith("#")
        ]
        facts.sort(key=lambda fact: -fact[0])  # most relevant first, then in document order
        lines = [f"- {text} ({arguments['path']}:{number})" for _, number, text in facts[:5]]
        content = f"## {question}\n\n" + "\n".join(lines) + "\n"
        return ToolCall(name="write_file", arguments={"path": notes, "content": content})
    recorded = arguments.get("content", "").count("\n- ")
    return finish(f"{recorded} facts with their sources recorded in {notes}")


def write_report(request: ModelRequest) -> ToolCall:
    """Read all the notes with one grep, write report.md from them."""
    calls = history(request)
    if not calls:
        return ToolCall(name="grep", arguments={"pattern": ".", "path": "notes"})
    if calls[-1][0] == "grep":
        sections: dict[str, list[str]] = {}
        for hit in json.loads(calls[-1][2]):  # 'notes/q1.md:3: - fact (corpus/x.md:7)'
            file, _, text = hit.split(":", 2)
            sections.setdefault(file, []).append(text.strip())
        body = "\n\n".join("\n".join(lines) for lines in sections.values())
        sources = sorted(set(re.findall(r"\((corpus/[^:]+):\d+\)", body)))
        report = ("# The Larkspur Bay water system\n\n" + body
                  + "\n\n## Sources\n\n" + "\n".join(f"- {s}" for s in sources) + "\n")
        return ToolCall(name="write_file", arguments={"path": "report.md", "content": report})
    cited = len(re.findall(r"\(corpus/[^:]+:\d+\)", calls[-1][1].get("content", "")))
    notes = len({hit.split(":", 1)[0] for hit in json.loads(calls[0][2])})
    return finish(f"report.md written: {cited} cited facts from {notes} notes files")


# --- one tool step (MCP, custom tools) ----------------------------------------------------------


def tool_use_plan(request: ModelRequest) -> Plan:
    return Plan(strategy="Answer the question with the tools, one call per fact needed.",
                steps=[step("s1", "Answer with the tools", "Call the tools that give each fact "
                            "the goal asks for, then report them.", "Every fact comes from a "
                            "tool result.", "easy")])


def goal_of(request: ModelRequest) -> str:
    return re.search(r"Goal of the run: (.*)", user_text(request)).group(1)  # type: ignore[union-attr]


def time_calls(goal: str) -> list[ToolCall]:
    """What a model calls for 'HH:MM UTC ... in X (Zone/Name) ...': one convert_time per zone."""
    time = re.search(r"(\d\d:\d\d) UTC", goal).group(1)  # type: ignore[union-attr]
    return [ToolCall(name="convert_time", arguments={"source_timezone": "UTC", "time": time,
                                                     "target_timezone": zone})
            for zone in re.findall(r"\(([A-Za-z_]+/[A-Za-z_]+)\)", goal)]


def time_answer(results: list[str]) -> str:
    parts = []
    for result in results:
        found = json.loads(result)
        source, target = found["source"], found["target"]
        parts.append(f"{source['datetime'][11:16]} {source['timezone']} is "
                     f"{target['datetime'][11:16]} in {target['timezone']}")
    return "; ".join(parts)


def custom_calls(goal: str) -> list[ToolCall]:
    """The calls for 'words are in FILE, how long is N km in miles, ... from DATE to DATE'."""
    path = re.search(r"words are in (\S+?),", goal).group(1)  # type: ignore[union-attr]
    km = float(re.search(r"(\d+(?:\.\d+)?) km in miles", goal).group(1))  # type: ignore[union-attr]
    start, end = re.findall(r"\d{4}-\d\d-\d\d", goal)
    return [ToolCall(name="text_stats", arguments={"path": path}),
            ToolCall(name="convert_length", arguments={"value": km, "from_unit": "km",
                                                       "to_unit": "mi"}),
            ToolCall(name="days_between", arguments={"start": start, "end": end})]


def custom_answer(results: list[str]) -> str:
    stats, miles, days = json.loads(results[0]), results[1], results[2]
    return f"{stats['words']} words; {miles} miles; {days} days"


def tool_use_model(calls_for: Any, answer_from: Any) -> Any:
    """A model that plans one step, makes the calls the goal needs one by one, and answers from
    the results (the same function writes the executor's result and the final answer)."""

    def model(request: ModelRequest) -> object:
        if request.role == "strategist":
            return tool_use_plan(request)
        if request.role == "finalizer":
            return re.search(r"^- \[s1\] [^:]*: (.*)$", user_text(request), re.M).group(1)  # type: ignore[union-attr]
        made = history(request)
        planned = [c for c in calls_for(goal_of(request)) if c.name in request.tool_names]
        if len(made) < len(planned):
            return planned[len(made)]
        return finish(answer_from([result for _, _, result in made]))

    return model
