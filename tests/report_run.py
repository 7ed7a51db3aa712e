"""A scripted run with parallel subtasks, a failure that revises the plan, and a compaction:
the material of the HTML report's test (tests/test_report.py)."""

from __future__ import annotations

import re
from pathlib import Path

from agentkit import Agent, FunctionModel, ModelRequest, Plan, PlanStep, ToolCall, tool
from tests.scripts import subtask_title, tool_results
from tests.test_context import FILLER, extract_summary

PLAN = Plan(strategy="Read the records and check the index side by side, then report.", steps=[
    PlanStep(id="s1", title="Read the records", instructions="Read records 1 to 4.",
             success_criteria="every record read", difficulty="easy"),
    PlanStep(id="s2", title="Check the index", instructions="Check the index file.",
             success_criteria="the index is consistent", difficulty="easy"),
    PlanStep(id="s3", title="Report [draft]", instructions="Report <b>what</b> was found.",
             success_criteria="a report", depends_on=["s1", "s2"], difficulty="easy"),
])
REVISED = Plan(strategy="The index check failed; rebuild the index, then report.", steps=[
    PlanStep(id="s1", title="Read the records", instructions="Read records 1 to 4.",
             success_criteria="every record read", difficulty="easy"),
    PlanStep(id="s2b", title="Rebuild the index", instructions="Rebuild the index.",
             success_criteria="the index is rebuilt", difficulty="easy"),
    PlanStep(id="s3", title="Report [draft]", instructions="Report <b>what</b> was found.",
             success_criteria="a report", depends_on=["s1", "s2b"], difficulty="easy"),
])


@tool
def read_record(n: int) -> str:
    """Read record n of the audit."""
    return f"{FILLER}\nkey_{n} = value-{n}"


@tool
def check_index() -> str:
    """Check the index file."""
    return "index: 3 entries point at missing records"


def auditor(request: ModelRequest) -> object:
    if request.role == "summarizer":
        return extract_summary(request)
    if request.role == "strategist":
        return REVISED if "failed" in request.last_user_text.lower() else PLAN
    if request.role == "finalizer":
        return "Audit done: 4 records read, index rebuilt."
    title, results = subtask_title(request), tool_results(request)
    if title == "Read the records":  # the newest result is never compacted away: go on from it
        last = re.search(r"key_(\d+) = ", results[-1]) if results else None
        n = int(last.group(1)) if last else 0
        if n < 4:
            return ToolCall(name="read_record", arguments={"n": n + 1})
        return ToolCall(name="finish", arguments={"result": "read 4 records"})
    if title == "Check the index":
        if not results:
            return ToolCall(name="check_index", arguments={})
        return ToolCall(name="fail", arguments={"reason": results[-1]})
    if title == "Rebuild the index":
        return ToolCall(name="finish", arguments={"result": "index rebuilt"})
    return ToolCall(name="finish", arguments={"result": "report <script>alert(1)</script>"})


def audit_agent(db: str, workspace: Path) -> Agent:
    return Agent(FunctionModel(auditor), tools=[read_record, check_index], db=db,
                 workspace=workspace, max_prompt_tokens=1300)
