"""Provider faults, against an OpenAI-compatible server on loopback: transient faults are retried,
a lasting outage interrupts the run (resumable), garbage is a clear error, a hang stops at the
time budget."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit import Agent, Budget, allow_model_requests
from agentkit.cli import app
from agentkit.store import Store
from tests.fake_provider import FakeProvider, serving

MODEL = "openai/fake-model"


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    fake = FakeProvider([])
    with serving(fake) as url, allow_model_requests():
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        yield fake


def agent(db: str, workspace: Path, **budget: float) -> Agent:
    return Agent(MODEL, db=db, workspace=workspace, budget=Budget(**budget))  # type: ignore[arg-type]


async def test_a_429_and_a_500_are_retried_and_the_run_completes(
    provider: FakeProvider, db: str, workspace: Path
) -> None:
    provider.faults = [429, 500]
    result = await agent(db, workspace).run("Say hello")

    assert (result.status, result.answer) == ("completed", "hello")
    assert provider.requests == 5  # 3 tries of the strategist's call, the executor, the finalizer
    assert result.usage.model_calls == 3


def test_a_lasting_outage_interrupts_the_run_and_resume_continues_it(
    provider: FakeProvider, db: str, workspace: Path
) -> None:
    provider.faults = ["ok", *[503] * 4]  # the strategist answers; the executor's 4 tries fail
    stopped = agent(db, workspace).run_sync("Say hello")

    assert stopped.status == "interrupted"
    assert "stayed unavailable after 4 tries" in (stopped.error or "")
    assert [s.status for s in stopped.subtasks] == ["pending"]  # not counted as failed

    # From the command line, as a user would once the provider is back.
    shown = CliRunner().invoke(app, ["resume", stopped.run_id, "--db", db, "--json"])
    assert shown.exit_code == 0, shown.output
    resumed = json.loads(shown.output)
    assert (resumed["status"], resumed["answer"]) == ("completed", "hello")
    assert [s["status"] for s in resumed["subtasks"]] == ["done"]
    finished = [e.data["status"] for e in Store(db).get_events(stopped.run_id)
                if e.kind == "subtask_finished"]
    assert finished == ["done"]  # the outage never counted as the subtask's failure


async def test_a_completion_without_choices_is_a_clear_error(
    provider: FakeProvider, db: str, workspace: Path
) -> None:
    provider.faults = ["empty"]
    result = await agent(db, workspace).run("Say hello")

    assert result.status == "failed"
    assert "returned a response with no answer (no choices" in (result.error or "")
    assert "IndexError" not in (result.error or "")
    assert Store(db).get_run(result.run_id).status == "failed"


async def test_an_html_error_page_is_retried_like_a_server_error(
    provider: FakeProvider, db: str, workspace: Path
) -> None:
    provider.faults = ["html"]
    result = await agent(db, workspace).run("Say hello")

    assert (result.status, result.answer) == ("completed", "hello")
    assert provider.requests == 4  # the page, the strategist's retry, the executor, the finalizer


async def test_a_hanging_provider_stops_at_the_time_budget(
    provider: FakeProvider, db: str, workspace: Path
) -> None:
    provider.faults = ["ok", "hang"]  # the strategist answers, the executor's call never does
    started = time.monotonic()
    result = await agent(db, workspace, max_seconds=3).run("Say hello")
    took = time.monotonic() - started

    assert result.status == "budget_exhausted"
    assert took < 3 + 1.5, took


async def test_a_hosted_models_calls_are_priced_once_by_litellms_price_list(
    provider: FakeProvider, db: str, workspace: Path
) -> None:
    import litellm

    price = litellm.model_cost["gpt-4o-mini"]
    per_call = 10 * price["input_cost_per_token"] + 2 * price["output_cost_per_token"]
    result = await Agent("openai/gpt-4o-mini", db=db, workspace=workspace).run("Say hello")

    assert result.status == "completed"
    recorded = [c.cost_usd for c in Store(db).get_model_calls(result.run_id)]
    assert recorded == pytest.approx([per_call] * 3)
    assert result.usage.cost_usd == pytest.approx(3 * per_call)
