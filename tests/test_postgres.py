"""The same run, records, replay and memory search on a real PostgreSQL server.

`.ci/run` starts one (`.ci/postgres.sh`) and sets AGENTKIT_TEST_POSTGRES_URL; without it these
tests skip.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from agentkit.cli import event_log
from agentkit.store import Store
from agentkit.store.migrations import MIGRATIONS
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
    hits = store.search_memory(run_id, "Seine river", full_text=False)  # the LIKE path
    store.close()
    assert [h.kind for h in hits][:1] == ["fact"] and "Seine" in hits[0].text


def test_memory_search_ranks_with_postgres_own_text_search(workspace: Path) -> None:
    store = Store(URL)
    assert store.dialect.search == "tsvector" and store.full_text
    run = store.run(store.create_run(goal="g", model="scripted/x", workspace=str(workspace),
                                     settings={}))
    run.set_facts([("river", "Loire")], subtask_id=None, source="test")
    run.set_facts([("river", "Seine"), ("capital", "Paris")], subtask_id=None, source="test")
    masked = run.add_masked_output(subtask_id=None, call_id="c1", name="read_file",
                                   content="the Seine flows through Paris to the sea")
    hits = run.search_memory("Seine Paris")
    stale = run.search_memory("Loire")
    store.close()
    # Both words beat one word; a fact's old value is no longer indexed.
    assert (hits[0].kind, hits[0].ref) == ("masked", str(masked))
    assert {(h.kind, h.ref) for h in hits[1:]} == {("fact", "river"), ("fact", "capital")}
    assert stale == []


def test_an_old_numbered_database_gets_text_search_over_what_it_holds(workspace: Path) -> None:
    store = Store(URL)
    run_id = store.create_run(goal="g", model="scripted/x", workspace=str(workspace), settings={})
    store.set_facts(run_id, [("river", "Seine")], subtask_id=None, source="test")
    with store.engine.begin() as conn:  # as agentkit left it before migrations had names
        for statement in (
            "DROP TABLE memory_fts", "DROP TABLE agentkit_migrations",
            "CREATE TABLE agentkit_schema_version (version INTEGER PRIMARY KEY, "
            "applied_at FLOAT NOT NULL)",
            "INSERT INTO agentkit_schema_version VALUES (1, 1.0), (2, 2.0), (3, 3.0)",
        ):
            conn.exec_driver_sql(statement)
    store.close()

    again = Store(URL)
    with again.engine.connect() as conn:
        names = [r[0] for r in conn.exec_driver_sql(
            "SELECT name FROM agentkit_migrations ORDER BY name")]
    hits = again.search_memory(run_id, "Seine")
    again.close()
    assert names == ["0001_initial", "0002_context_memory", "0003_request_deltas",
                     "0004_tsvector_search", "0005_run_agent", "0006_per_run_numbers",
                     "0007_batch", "0008_facts"]
    assert [(h.kind, h.ref) for h in hits] == [("fact", "river")]  # indexed by 0004


def _open_together(url: str, barrier: Any, results: Any) -> None:
    from agentkit.store import Store

    barrier.wait()
    try:
        Store(url).close()
        results.put("ok")
    except Exception as e:  # noqa: BLE001 - reported to the parent, which asserts
        results.put(f"{type(e).__name__}: {e}"[:300])


def test_many_processes_migrate_one_new_postgres_schema_at_once() -> None:
    import multiprocessing

    import sqlalchemy

    assert URL is not None
    schema = f"fresh_{uuid.uuid4().hex[:8]}"
    store = Store(URL)
    admin = sqlalchemy.create_engine(store.url)
    store.close()
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    # A new, empty schema first on the search path: to agentkit, a new database.
    url = f"{URL}{'&' if '?' in URL else '?'}options=-csearch_path%3D{schema}"
    try:
        spawn = multiprocessing.get_context("spawn")
        barrier, results = spawn.Barrier(8), spawn.Queue()
        children = [spawn.Process(target=_open_together, args=(url, barrier, results))
                    for _ in range(8)]
        for child in children:
            child.start()
        outcomes = [results.get(timeout=120) for _ in children]
        for child in children:
            child.join(timeout=60)
        assert [o for o in outcomes if o != "ok"] == []
        with admin.begin() as conn:
            names = conn.exec_driver_sql(f"SELECT name FROM {schema}.agentkit_migrations")
            assert sorted(r[0] for r in names) == [m.name for m in MIGRATIONS]
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def test_a_store_dropped_without_close_gives_its_connections_back() -> None:
    import gc
    import warnings

    store = Store(URL)
    store.list_runs()  # a pooled connection, checked in again
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del store
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
