"""The same run, records, replay and memory search on a real PostgreSQL server.

`.ci/run` starts one (`.ci/postgres.sh`) and sets AGENTKIT_TEST_POSTGRES_URL; without it these
tests skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentkit.cli import event_log
from agentkit.store import Store
from tests.scripts import hello_agent

URL = os.environ.get("AGENTKIT_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="no PostgreSQL (set AGENTKIT_TEST_POSTGRES_URL)")
GOAL = "Create hello.py that prints the first 10 primes, then run it"


async def test_a_run_is_recorded_and_replayed_on_postgres(workspace: Path) -> None:
    agent = hello_agent(URL, workspace)
    result = await agent.run(GOAL)

    assert result.status == "completed"
    assert result.answer == "hello.py prints [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]"
    store = Store(URL)
    assert store.url.startswith("postgresql+psycopg://")
    assert [s.status for s in store.get_subtasks(result.run_id)] == ["done", "done"]
    assert len(store.get_model_calls(result.run_id)) == 6
    assert store.get_events(result.run_id)[-1].kind == "run_finished"

    replayed = await agent.replay(result.run_id)
    assert replayed.answer == result.answer
    assert event_log(store, replayed.run_id) == event_log(store, result.run_id)
    store.close()  # give the pooled connections back before the test ends
    agent.store.close()


def test_memory_search_works_without_fts(workspace: Path) -> None:
    store = Store(URL)
    run_id = store.create_run(goal="g", model="scripted/x", workspace=str(workspace), settings={})
    store.set_facts(run_id, [("capital", "Paris"), ("river", "Seine")], subtask_id=None,
                    source="test")
    hits = store.search_memory(run_id, "Seine river")
    store.close()
    assert [h.kind for h in hits][:1] == ["fact"] and "Seine" in hits[0].text
