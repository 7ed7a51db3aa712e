"""Thinking tools: majority vote, judge, reasoning controls and budget forcing."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from agentkit import FunctionModel, ModelRequest, Reply, UserError
from agentkit.execution import thinking
from agentkit.execution.thinking import JudgeScores, SampleScore, think_longer, think_parallel
from agentkit.models import ModelClient, ModelResponse, NoHooks, supports_reasoning
from agentkit.tokens import count_text

Calls = list[tuple[ModelRequest, ModelResponse | None]]


def client_for(model: FunctionModel, calls: Calls) -> ModelClient:
    class Noting(NoHooks):
        def record(self, request: ModelRequest, model: str, response: ModelResponse | None,
                   error: str | None) -> None:
            calls.append((request, response))

    return ModelClient(default=model.model_name, hooks=Noting())


def answering(texts: list[str]) -> FunctionModel:
    """A thinker that gives `texts` in turn."""
    turn = itertools.cycle(texts)
    return FunctionModel(lambda request: next(turn))


async def test_vote_returns_the_majority_of_normalized_answers() -> None:
    model = answering(["Answer: 17", "2+40 is...\nAnswer: **42**", "Answer: 42.0",
                       "answer: 17.", "Answer: 42"])
    calls: list[Any] = []

    thought = await think_parallel(client_for(model, calls), "6 x 7?", n=5, method="vote",
                                   subtask_id="t1")

    assert thought.method == "vote"
    assert thinking.normalize(thought.answer) == "42"
    assert thought.agreement == pytest.approx(3 / 5)
    assert len(thought.samples) == 5
    assert [r.role for r in model.requests] == ["thinker"] * 5
    assert all(r.temperature is not None and r.temperature > 0 for r in model.requests)
    assert all(r.subtask_id == "t1" for r in model.requests)
    # Every sample is a recorded call, and the tool's tokens are exactly theirs.
    assert len(calls) == 5
    assert thought.tokens == sum(r.prompt_tokens + r.completion_tokens for _, r in calls)
    assert "agreement 60% of 5 samples" in thought.render()


async def test_vote_tie_goes_to_the_answer_sampled_first() -> None:
    model = answering(["Answer: blue", "Answer: red", "Answer: Red", "Answer: BLUE."])
    thought = await think_parallel(client_for(model, []), "colour?", n=4)
    assert thought.answer == "blue"
    assert thought.agreement == pytest.approx(0.5)


def test_normalize_makes_equal_answers_equal() -> None:
    assert thinking.normalize(" **Paris.** ") == thinking.normalize("paris")
    assert thinking.normalize("1,000") == thinking.normalize("1000.0") == "1000"
    assert thinking.normalize("Paris") != thinking.normalize("Lyon")
    assert thinking.extract_answer("first\nAnswer: 1\nno wait\nFinal answer: 2") == "2"


async def test_judge_returns_the_highest_scored_sample_not_the_majority() -> None:
    samples = itertools.cycle(["Answer: A", "Answer: A", "Answer: B"])

    def reply(request: ModelRequest) -> object:
        if request.role == "judge":
            assert "Candidate 3:\nB" in request.messages[-1]["content"]
            return JudgeScores(scores=[SampleScore(candidate=1, score=3),
                                       SampleScore(candidate=2, score=4),
                                       SampleScore(candidate=3, score=9)])
        return next(samples)

    model = FunctionModel(reply)
    calls: list[Any] = []
    thought = await think_parallel(client_for(model, calls), "which?", n=3, method="judge")

    assert thought.method == "judge"
    assert thought.answer == "B"
    assert thought.confidence == pytest.approx(0.9)
    assert thought.agreement is None
    judge = [r for r in model.requests if r.role == "judge"]
    assert len(judge) == 1 and judge[0].output_schema is not None
    assert judge[0].output_schema["title"] == "JudgeScores"
    # The judge's call counts too.
    assert len(calls) == 4
    assert thought.tokens == sum(r.prompt_tokens + r.completion_tokens for _, r in calls)


async def test_failed_samples_are_dropped_and_all_failing_is_a_model_error() -> None:
    turn = itertools.count()

    def flaky(request: ModelRequest) -> str:
        if next(turn) % 2:
            raise RuntimeError("sampler down")
        return "Answer: 7"

    flaky_model = FunctionModel(flaky)  # held here: the client knows it by name only
    thought = await think_parallel(client_for(flaky_model, []), "q", n=4)
    assert thought.answer == "7" and len(thought.samples) == 2 and thought.agreement == 1.0

    def down(request: ModelRequest) -> str:
        raise RuntimeError("sampler down")

    from agentkit import ModelError

    down_model = FunctionModel(down)
    with pytest.raises(ModelError, match="no usable sample out of 3"):
        await think_parallel(client_for(down_model, []), "q", n=3)


async def test_think_parallel_rejects_bad_settings() -> None:
    client = client_for(answering(["x"]), [])
    with pytest.raises(UserError, match="n=0"):
        await think_parallel(client, "q", n=0)
    with pytest.raises(UserError, match="method='poll'"):
        await think_parallel(client, "q", n=2, method="poll")  # type: ignore[arg-type]


WORDS = "one two three four five six seven eight nine ten"


async def test_budget_forcing_extends_a_short_answer_with_wait() -> None:
    replies = iter(["Quick guess. Answer: 3", "Let me recount the items. Answer: 5"])

    def thinker(request: ModelRequest) -> object:
        return next(replies, "")  # third time: nothing more to say

    model = FunctionModel(thinker)
    thought = await think_longer(client_for(model, []), "how many?", budget_tokens=500)

    assert thought.method == "budget_forcing"
    assert thought.answer == "5"  # the answer after "Wait", not the first guess
    assert thought.waits == 2
    assert len(model.requests) == 3
    second = model.requests[1].messages[-1]
    assert second["role"] == "assistant"
    assert second["content"] == "Quick guess. Answer: 3\nWait"
    assert "Answer: 3\nWait" in thought.samples[0] and "Answer: 5" in thought.samples[0]


async def test_budget_forcing_stops_at_the_budget() -> None:
    def thinker(request: ModelRequest) -> Reply:
        return Reply(text=WORDS, completion_tokens=count_text(WORDS))

    model = FunctionModel(thinker)
    calls: list[Any] = []
    thought = await think_longer(client_for(model, calls), "think", budget_tokens=35)

    assert count_text(WORDS) == 10
    # 10 + 10 + 10 tokens, then only 5 were left: that part is cut and thinking stops.
    assert [r.max_tokens for r in model.requests] == [35, 25, 15, 5]
    assert thought.waits == 3
    assert thought.samples[0].endswith("Wait\none two three four five")
    written = thought.samples[0].replace("\nWait", "")
    assert count_text(written) <= 35 + 3
    assert thought.tokens == sum(r.prompt_tokens + r.completion_tokens for _, r in calls)


async def test_budget_forcing_gives_up_after_max_waits() -> None:
    model = FunctionModel(lambda request: Reply(text="hmm", completion_tokens=1))
    thought = await think_longer(client_for(model, []), "q", budget_tokens=10_000)
    assert thought.waits == thinking.MAX_WAITS
    assert len(model.requests) == thinking.MAX_WAITS + 1


async def test_a_model_with_reasoning_controls_gets_reasoning_effort(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = FunctionModel(lambda request: "long thought\nAnswer: 12")
    monkeypatch.setattr(thinking, "supports_reasoning", lambda name: name == model.model_name)

    thought = await think_longer(client_for(model, []), "q", budget_tokens=5000)

    assert thought.method == "reasoning_effort" and thought.answer == "12"
    assert thought.waits == 0
    [request] = model.requests
    assert request.reasoning_effort == "high"
    assert request.max_tokens == 5000 + thinking.ANSWER_ALLOWANCE
    assert [thinking.effort_for_budget(b) for b in (500, 3000, 9000)] == ["low", "medium", "high"]


def test_reasoning_controls_are_decided_in_the_model_layer() -> None:
    assert supports_reasoning("scripted/anything") is False
    assert supports_reasoning("local/smollm2") is False
    assert supports_reasoning("openai/o3-mini") is True
    assert supports_reasoning("openai/gpt-4.1-mini") is False
