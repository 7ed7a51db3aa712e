"""Schema migrations, each applied once and recorded by its name.

Add a migration by appending one to `MIGRATIONS` with the next number in its name; never edit or
rename one that has shipped. A database that records a name this list lacks was made by a newer
agentkit and is refused, not guessed at.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import Connection, insert, inspect, select, update

import agentkit.store._search as _search
import agentkit.store.tables as tables
from agentkit.errors import StorageConfigError
from agentkit.store.dialect import Dialect


@dataclass(kw_only=True, frozen=True)
class Migration:
    name: str
    apply: Callable[[Connection, Dialect], None]


def _initial(conn: Connection, dialect: Dialect) -> None:
    for table in (
        tables.runs,
        tables.plan_versions,
        tables.subtasks,
        tables.events,
        tables.model_calls,
        tables.tool_calls,
    ):
        table.create(conn, checkfirst=True)
    for index in (
        *tables.events.indexes,
        *tables.model_calls.indexes,
        *tables.tool_calls.indexes,
        *tables.runs.indexes,
    ):
        index.create(conn, checkfirst=True)


def _context_memory(conn: Connection, dialect: Dialect) -> None:
    for table in (tables.summaries, tables.facts, tables.masked_outputs):
        table.create(conn, checkfirst=True)
    for index in (*tables.summaries.indexes, *tables.masked_outputs.indexes):
        index.create(conn, checkfirst=True)
    if dialect.search == "fts5":  # as shipped; PostgreSQL's index came with 0004
        _search.create_index(conn, "fts5")


def _request_deltas(conn: Connection, dialect: Dialect) -> None:
    present = {c["name"] for c in inspect(conn).get_columns("model_calls")}
    for name in ("prefix_id", "prefix_len"):
        if name not in present:  # a database made by 0001 before the columns existed
            conn.exec_driver_sql(f"ALTER TABLE model_calls ADD COLUMN {name} INTEGER")


def _tsvector_search(conn: Connection, dialect: Dialect) -> None:
    if dialect.search == "tsvector":
        _search.create_index(conn, "tsvector")


def _run_agent(conn: Connection, dialect: Dialect) -> None:
    tables.run_agents.create(conn, checkfirst=True)


def _per_run_numbers(conn: Connection, dialect: Dialect) -> None:
    """Number summaries and masked outputs within their run.

    Existing rows take their old database-wide id as their number: it is unique within the run
    and it is what the prompts and checkpoints already written show, so a run begun before this
    migration still resumes and recalls correctly. New rows of a run continue from its largest.
    """
    for table in (tables.summaries, tables.masked_outputs):
        present = {c["name"] for c in inspect(conn).get_columns(table.name)}
        if "number" not in present:
            conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN number INTEGER")
        conn.execute(update(table).where(table.c.number.is_(None)).values(number=table.c.id))
        for index in table.indexes:
            index.create(conn, checkfirst=True)


def _batch(conn: Connection, dialect: Dialect) -> None:
    tables.batch_tasks.create(conn, checkfirst=True)
    for index in tables.batch_tasks.indexes:
        index.create(conn, checkfirst=True)


def _facts(conn: Connection, dialect: Dialect) -> None:
    """Facts keep the order they were learned in (`seq`) and a `doubt` when a newer value may
    have been missed; existing facts are numbered in the order they were last updated."""
    present = {c["name"] for c in inspect(conn).get_columns(tables.facts.name)}
    if "seq" not in present:
        conn.exec_driver_sql("ALTER TABLE facts ADD COLUMN seq INTEGER")
    if "doubt" not in present:
        conn.exec_driver_sql("ALTER TABLE facts ADD COLUMN doubt TEXT")
    facts = tables.facts
    rows = conn.execute(
        select(facts.c.run_id, facts.c.key).order_by(facts.c.run_id, facts.c.updated_at)
    ).all()
    numbers: dict[str, int] = {}
    for run_id, key in rows:
        numbers[run_id] = numbers.get(run_id, 0) + 1
        conn.execute(update(facts).where(facts.c.run_id == run_id, facts.c.key == key)
                     .values(seq=numbers[run_id]))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(name="0001_initial", apply=_initial),
    Migration(name="0002_context_memory", apply=_context_memory),
    Migration(name="0003_request_deltas", apply=_request_deltas),
    Migration(name="0004_tsvector_search", apply=_tsvector_search),
    Migration(name="0005_run_agent", apply=_run_agent),
    Migration(name="0006_per_run_numbers", apply=_per_run_numbers),
    Migration(name="0007_batch", apply=_batch),
    Migration(name="0008_facts", apply=_facts),
)

# Before migrations had names, the schema table recorded their positions in the list.
NUMBERED = {1: "0001_initial", 2: "0002_context_memory", 3: "0003_request_deltas"}


def migrate(conn: Connection, dialect: Dialect, *, database: str) -> list[str]:
    """Apply the migrations this database has not seen, in order; return their names.

    Raises:
        StorageConfigError: the database records migrations this agentkit does not know.
    """
    tables.applied_migrations.create(conn, checkfirst=True)
    applied = _applied(conn, database)
    _refuse_unknown(applied, database)
    done = []
    for migration in MIGRATIONS:
        if migration.name not in applied:
            migration.apply(conn, dialect)
            conn.execute(insert(tables.applied_migrations).values(
                name=migration.name, applied_at=time.time()))
            done.append(migration.name)
    return done


def _applied(conn: Connection, database: str) -> set[str]:
    names = set(conn.execute(select(tables.applied_migrations.c.name)).scalars())
    if inspect(conn).has_table(tables.numbered_migrations.name):
        names |= _adopt_numbered(conn, names, database)
    return names


def _adopt_numbered(conn: Connection, named: set[str], database: str) -> set[str]:
    """Record by name what an older agentkit recorded by number, then drop its table."""
    old = tables.numbered_migrations
    rows = conn.execute(select(old.c.version, old.c.applied_at)).all()
    unknown = sorted(number for number, _ in rows if number not in NUMBERED)
    if unknown:
        _refuse(database, [f"number {n}" for n in unknown])
    for number, applied_at in rows:
        if NUMBERED[number] not in named:
            conn.execute(insert(tables.applied_migrations).values(
                name=NUMBERED[number], applied_at=applied_at))
    old.drop(conn)
    return {NUMBERED[number] for number, _ in rows}


def _refuse_unknown(applied: set[str], database: str) -> None:
    known = {m.name for m in MIGRATIONS}
    if unknown := sorted(applied - known):
        _refuse(database, unknown)


def _refuse(database: str, unknown: list[str]) -> NoReturn:
    from agentkit import __version__

    raise StorageConfigError(
        f"database {database!r} was migrated by a newer agentkit: it records migration(s) "
        f"{', '.join(repr(u) for u in unknown)} that this agentkit ({__version__}, whose last "
        f"migration is {MIGRATIONS[-1].name!r}) does not know; upgrade agentkit to a version "
        "that has them (pip install -U agentkit) to open it, or pass --db PATH for another "
        "database", problem="newer_schema",
    )


def check_current(conn: Connection, *, database: str) -> None:
    """Check, without writing, that this agentkit can use the schema as it is.

    Raises:
        StorageConfigError: the schema is newer than this agentkit, or needs migrating.
    """
    has = inspect(conn).has_table
    applied = set()
    if has(tables.applied_migrations.name):
        applied = set(conn.execute(select(tables.applied_migrations.c.name)).scalars())
    _refuse_unknown(applied, database)
    missing = [m.name for m in MIGRATIONS if m.name not in applied]
    if missing or has(tables.numbered_migrations.name):
        raise StorageConfigError(
            f"database {database!r} is opened read-only but needs migrating to this agentkit's "
            f"schema (it lacks {', '.join(repr(m) for m in missing) or 'named migrations'}); "
            "open it once where it is writable (any agentkit command migrates it), then it "
            "can be read read-only", problem="needs_migration",
        )
