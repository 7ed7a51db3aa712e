"""Structured answers are never cut by agentkit's own limits: the limit is sized from the
schema, a cut answer is asked again once with a higher limit, and then reported as cut."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentkit import Agent, FunctionModel, ModelRequest, Plan, PlanStep, Reply, ScriptedModel
from agentkit.errors import TruncatedOutput
from agentkit.models import ModelClient
from agentkit.models.sizing import output_tokens
from agentkit.planning.strategist import PlanDraft
from agentkit.schema import MAX_PLAN_STEPS
from agentkit.tokens import count_text

PLAN = Plan(strategy="one step", steps=[PlanStep(id="s1", title="Do it")])
CUT = Reply(text='{"strategy": "a long strat', finish_reason="length", completion_tokens=384)


def _request() -> ModelRequest:
    return ModelRequest(role="strategist", messages=[{"role": "user", "content": "plan"}])


def test_the_limit_fits_the_largest_plan_the_schema_allows() -> None:
    words = "plan the work and check each result against its criteria "
    text = words * 20
    step = {"id": "s" * 24, "title": text[:100], "instructions": text[:600],
            "success_criteria": text[:300], "depends_on": ["d" * 24] * 6,
            "difficulty": "trivial", "expected_calls": 200}
    largest = {"strategy": text[:600], "continues": False,
               "steps": [{**step, "id": f"s{i}"} for i in range(MAX_PLAN_STEPS)],
               "assumptions": [text[:200]] * 6, "risks": [text[:200]] * 6,
               "failed_approaches": [text[:400]] * 20}
    limit = output_tokens(PlanDraft.model_json_schema())
    assert count_text(json.dumps(largest)) <= limit
    assert limit > 384  # the embedded model's old default, which cut plans off


async def test_a_cut_answer_is_asked_again_with_twice_the_limit() -> None:
    model = ScriptedModel([CUT, PLAN])
    plan = await ModelClient(default=model.model_name).structured(_request(), PlanDraft)

    assert plan.steps[0].title == "Do it"
    first, second = model.requests
    assert first.max_tokens == output_tokens(PlanDraft.model_json_schema())
    assert second.max_tokens == 2 * first.max_tokens
    assert second.messages == first.messages  # the same question, not "that answer is invalid"


async def test_an_answer_cut_twice_is_reported_as_cut_never_parsed() -> None:
    model = ScriptedModel([CUT, CUT])
    with pytest.raises(TruncatedOutput, match=r"cut off at 384 tokens \(finish_reason=length"):
        await ModelClient(default=model.model_name).structured(_request(), PlanDraft)
    assert len(model.requests) == 2


async def test_a_run_whose_plan_is_cut_fails_saying_so(db: str, workspace: Path) -> None:
    def reply(request: ModelRequest) -> object:
        return CUT if request.role == "strategist" else "unused"

    model = FunctionModel(reply)
    result = await Agent(model, db=db, workspace=workspace).run("Plan something")

    assert result.status == "failed"
    assert "the strategist's plan is unusable" in (result.error or "")
    assert "cut off at 384 tokens (finish_reason=length" in (result.error or "")
    # Asked twice (the second time with a higher limit), and no validation retry of garbage.
    assert [r.role for r in model.requests] == ["strategist", "strategist"]
