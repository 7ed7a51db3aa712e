"""Migrations are recorded by name; older numbered records are adopted, newer names refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agentkit import StorageConfigError, Store
from agentkit.store.migrations import MIGRATIONS

NAMES = [
    "0001_initial", "0002_context_memory", "0003_request_deltas", "0004_tsvector_search",
    "0005_run_agent", "0006_per_run_numbers", "0007_batch", "0008_facts",
]


def _sql(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)


def _rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(query).fetchall()


def _tables(path: Path) -> set[str]:
    return {r[0] for r in _rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}


def _numbered(path: Path, *versions: int) -> None:
    """Turn a database into one an agentkit before named migrations left behind."""
    _sql(path, "DROP TABLE agentkit_migrations",
         "CREATE TABLE agentkit_schema_version (version INTEGER PRIMARY KEY, "
         "applied_at FLOAT NOT NULL)",
         *[f"INSERT INTO agentkit_schema_version VALUES ({v}, {v * 1000}.0)" for v in versions])


def test_a_new_database_records_every_migration_by_name(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    Store(str(path)).close()
    assert [m.name for m in MIGRATIONS] == NAMES
    assert [r[0] for r in _rows(path, "SELECT name FROM agentkit_migrations")] == NAMES
    assert "agentkit_schema_version" not in _tables(path)


def test_a_database_with_numbered_migrations_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    store = Store(str(path))
    run_id = store.create_run(goal="kept", model="scripted/x", workspace="/ws", settings={})
    store.close()
    _numbered(path, 1, 2, 3)

    again = Store(str(path))
    assert again.get_run(run_id).goal == "kept"
    applied = dict(_rows(path, "SELECT name, applied_at FROM agentkit_migrations"))
    # 1..3 are adopted with the times they were applied, not run again; 0004 on are new.
    assert {k: v for k, v in applied.items() if k not in NAMES[3:]} == {
        "0001_initial": 1000.0, "0002_context_memory": 2000.0, "0003_request_deltas": 3000.0}
    assert set(applied) == set(NAMES)
    assert "agentkit_schema_version" not in _tables(path)
    again.close()
    Store(str(path)).close()  # and opening it once more changes nothing
    assert len(_rows(path, "SELECT name FROM agentkit_migrations")) == len(NAMES)


def test_a_numbered_database_gets_the_migrations_it_lacks(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    Store(str(path)).close()
    _sql(path, "DROP TABLE summaries", "DROP TABLE facts", "DROP TABLE masked_outputs",
         "DROP TABLE memory_fts")
    _numbered(path, 1)  # made before the context manager's memory existed

    store = Store(str(path))
    assert {"summaries", "facts", "masked_outputs", "memory_fts"} <= _tables(path)
    run_id = store.create_run(goal="g", model="scripted/x", workspace="/ws", settings={})
    store.set_facts(run_id, [("river", "Seine")], subtask_id=None, source="test")
    assert [h.ref for h in store.search_memory(run_id, "seine")] == ["river"]
    store.close()


def test_a_database_from_a_newer_agentkit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    Store(str(path)).close()
    _sql(path, "INSERT INTO agentkit_migrations VALUES ('0099_from_the_future', 1.0)")

    with pytest.raises(StorageConfigError) as caught:
        Store(str(path))
    message = str(caught.value)
    assert str(path) in message and "'0099_from_the_future'" in message
    assert "newer agentkit" in message and "upgrade agentkit" in message
    assert len(_rows(path, "SELECT name FROM agentkit_migrations")) == len(NAMES) + 1


def test_an_unknown_migration_number_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    Store(str(path)).close()
    _numbered(path, 1, 2, 3, 4)
    with pytest.raises(StorageConfigError, match=r"runs\.db.*'number 4'.*upgrade agentkit"):
        Store(str(path))
    assert _rows(path, "SELECT version FROM agentkit_schema_version") == [(1,), (2,), (3,), (4,)]


def test_summaries_and_masked_outputs_are_numbered_within_their_run(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "runs.db"))
    first, second = (store.create_run(goal="g", model="scripted/x", workspace="/ws", settings={})
                     for _ in range(2))
    numbers = [store.add_masked_output(run, subtask_id="t1", call_id="c", name="read",
                                       content=f"output of {run}") for run in (first, second)]
    summaries = [store.add_summary(run, subtask_id="t1", level=1, first_message=2,
                                   last_message=3, merged_ids=[], tokens_before=9, tokens_after=3,
                                   model="scripted/x", data="{}", text="s")
                 for run in (first, second, second)]

    assert numbers == [1, 1] and summaries == [1, 1, 2]
    found = store.get_masked_output(second, 1)
    assert found is not None and found.content == f"output of {second}"
    assert [r.number for r in store.get_summaries(second)] == [1, 2]


def test_numbers_are_backfilled_from_the_old_ids(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    store = Store(str(path))
    runs = [store.create_run(goal="g", model="scripted/x", workspace="/ws", settings={})
            for _ in range(2)]
    for run in (*runs, runs[0]):
        store.add_masked_output(run, subtask_id="t1", call_id="c", name="read", content=run)
    store.close()
    # The database as agentkit left it before 0006: no numbers, ids shown in the prompts.
    _sql(path, "DROP INDEX uq_masked_outputs_run_number", "DROP INDEX uq_summaries_run_number",
         "ALTER TABLE masked_outputs DROP COLUMN number",
         "ALTER TABLE summaries DROP COLUMN number",
         "DELETE FROM agentkit_migrations WHERE name = '0006_per_run_numbers'")

    again = Store(str(path))
    # An old stub's "#m3" still finds its output; the run's next output goes on from there.
    assert _rows(path, "SELECT id, number FROM masked_outputs ORDER BY id") == [
        (1, 1), (2, 2), (3, 3)]
    old = again.get_masked_output(runs[0], 3)
    assert old is not None and old.content == runs[0]
    assert again.add_masked_output(runs[0], subtask_id="t1", call_id="c", name="read",
                                   content="new") == 4
    assert again.add_masked_output(runs[1], subtask_id="t1", call_id="c", name="read",
                                   content="new") == 3
    fresh = again.create_run(goal="g", model="scripted/x", workspace="/ws", settings={})
    assert again.add_masked_output(fresh, subtask_id=None, call_id="c", name="read",
                                   content="x") == 1
    again.close()
