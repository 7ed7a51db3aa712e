"""`Store`: every read and write of run records. The event log is append-only."""

from __future__ import annotations

import functools
import json
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, CursorResult, Engine, RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

import agentkit.store._search as _search
import agentkit.store.database as database
import agentkit.store.migrations as migrations
from agentkit.errors import StorageConfigError, StorageError, UserError
from agentkit.schema import CONTROL_TOOLS, Plan, RunStatus, Subtask, Usage
from agentkit.store.dialect import dialect_for
from agentkit.store.records import (
    EventRow,
    FactRow,
    MaskedOutput,
    MemoryHit,
    ModelCallRow,
    NewEvent,
    PlanVersion,
    RunAgent,
    RunRow,
    SummaryRow,
    ToolCallRow,
)
from agentkit.store.run_record import RunRecord
from agentkit.store.tables import (
    events,
    facts,
    masked_outputs,
    model_calls,
    plan_versions,
    run_agents,
    runs,
    subtasks,
    summaries,
    tool_calls,
)

T = TypeVar("T")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


# The inserts made at every step, built once: `insert(table).values(...)` builds and keys a new
# statement per call, which cost several times the database's own work per record.
_INSERT_EVENT = insert(events)
_INSERT_MODEL_CALL = insert(model_calls)
_INSERT_TOOL_CALL = insert(tool_calls)


def _inserted_id(result: CursorResult[Any]) -> int:
    """The integer primary key of the row a single-row INSERT just wrote."""
    key = result.inserted_primary_key
    # Typed Optional (None for executemany); a single-row insert always has one.
    assert key is not None
    return int(key[0])


def new_run_id() -> str:
    """A fresh run id, as `Store.create_run` makes them."""
    return uuid.uuid4().hex[:12]


def _dispose(engine: Engine, pid: int) -> None:
    """Close `engine`'s pooled connections, when this is the process that opened them."""
    if os.getpid() == pid:
        engine.dispose()


class Store:
    """The run database. Thread-safe; one instance may serve many concurrent runs."""

    def __init__(self, db: str | None = None, *, read_only: bool = False) -> None:
        """Open (and create or migrate) the database `db`; see `database.resolve_url`.

        Args:
            db: a file path or URL; None for `$AGENTKIT_DB` or the default file.
            read_only: open without writing anything, not even a migration; a database that
                needs one is refused with `problem='needs_migration'`.

        Raises:
            StorageConfigError: the database cannot be used; `problem` says why (corrupt,
                locked, read-only, not writable, from a newer agentkit).
        """
        self.url = database.resolve_url(db)
        self.dialect = dialect_for(self.url)
        self.read_only = read_only
        self.engine = database.create_db_engine(
            self.dialect.read_only_url(self.url) if read_only else self.url, self.dialect)
        # Dropped without `close()`, the store gives its connections back where the dialect says.
        if self.dialect.dispose_when_dropped:
            weakref.finalize(self, _dispose, self.engine, os.getpid())
        self._seq_lock = threading.Lock()
        self._next_seq: dict[str, int] = {}  # the next event number per run, after the first
        # The last request per (run, subtask, role), so the next is stored as a delta.
        self._last_request: dict[tuple[str, str | None, str], tuple[int, list[Any]]] = {}
        self._open_schema()

    @classmethod
    def for_reading(cls, db: str | None = None) -> Store:
        """The store as `Store(db)` opens it, or read-only when the file or folder is."""
        try:
            return cls(db)
        except StorageConfigError as e:
            if e.problem != "read_only":
                raise
        return cls(db, read_only=True)

    def _open_schema(self) -> None:
        """Migrate the schema (processes take turns on the dialect's lock), or check it."""
        name = database.display(self.url)
        try:
            with self.engine.begin() as conn:
                if self.read_only:
                    migrations.check_current(conn, database=name)
                else:
                    self.dialect.lock_schema(conn)
                    migrations.migrate(conn, self.dialect, database=name)
        except SQLAlchemyError as e:
            self.engine.dispose()
            raise database.explain(e, self.url, self.dialect) from e
        except StorageConfigError:
            self.engine.dispose()
            raise

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as e:
            known = self.dialect.explain(getattr(e, "orig", None) or e, self.url)
            raise StorageError(known[1] if known else f"database {self.url!r} failed: {e}") from e

    def close(self) -> None:
        """Close the database connections; the store opens new ones if used again."""
        self.engine.dispose()

    def _lock_run(self, conn: Connection, run_id: str) -> None:
        """Hold the run's row until commit, so writers numbering its records take turns.

        Only where the dialect locks rows; SQLite's writers already take turns on the file.
        """
        if self.dialect.row_locking:
            conn.execute(select(runs.c.id).where(runs.c.id == run_id).with_for_update())

    # runs -----------------------------------------------------------------------------------

    def create_run(
        self, *, goal: str, model: str, workspace: str, settings: dict[str, Any],
        parent_run_id: str | None = None, run_id: str | None = None,
    ) -> str:
        """Record a new run and return its id (`run_id` when given, e.g. `new_run_id()`; a
        batch picks it before the run starts, so a resumed batch finds the run again)."""
        run_id = run_id or new_run_id()
        now = time.time()
        with self._tx() as conn:
            conn.execute(
                insert(runs).values(
                    id=run_id, goal=goal, status="running", model=model, workspace=workspace,
                    settings=_json(settings), parent_run_id=parent_run_id,
                    created_at=now, updated_at=now,
                )
            )
        return run_id

    def finish_run(
        self, run_id: str, status: RunStatus, *, answer: str | None, error: str | None = None
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(status=status, answer=answer, error=error, updated_at=time.time())
            )

    def get_run(self, run_id: str) -> RunRow:
        """The run `run_id`, or the one run whose id starts with it."""
        with self._tx() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
            if row is None:
                matches = conn.execute(
                    select(runs).where(runs.c.id.startswith(run_id))
                ).mappings().all()
                if len(matches) != 1:
                    raise UserError(
                        f"no run {run_id!r} in {self.url!r}; `agentkit runs list` shows the runs"
                    )
                row = matches[0]
        return RunRow(**dict(row, settings=json.loads(row["settings"])))

    def list_runs(self, limit: int = 50) -> list[RunRow]:
        """The latest runs, newest first."""
        with self._tx() as conn:
            rows = conn.execute(
                select(runs).order_by(runs.c.created_at.desc()).limit(limit)
            ).mappings().all()
        return [RunRow(**dict(r, settings=json.loads(r["settings"]))) for r in rows]

    def set_agent(
        self, run_id: str, spec: dict[str, Any], tools: dict[str, dict[str, str]]
    ) -> None:
        """Record (or replace) the agent run `run_id` is made with."""
        values = {"spec": _json(spec), "tools": _json(tools), "updated_at": time.time()}
        with self._tx() as conn:
            done = conn.execute(update(run_agents).where(run_agents.c.run_id == run_id)
                                .values(**values))
            if done.rowcount == 0:
                conn.execute(insert(run_agents).values(run_id=run_id, **values))

    def get_agent(self, run_id: str) -> RunAgent | None:
        """The agent run `run_id` (its full id) was made with; None for a run made before
        agentkit recorded agents."""
        with self._tx() as conn:
            row = conn.execute(
                select(run_agents).where(run_agents.c.run_id == run_id)
            ).mappings().first()
        if row is None:
            return None
        return RunAgent(run_id=row["run_id"], spec=json.loads(row["spec"]),
                        tools=json.loads(row["tools"]), updated_at=row["updated_at"])

    def run(self, run_id: str) -> RunRecord:
        """The records of run `run_id` (its full id) behind one object."""
        return RunRecord(store=self, run_id=run_id)

    # plans and subtasks ---------------------------------------------------------------------

    def add_plan_version(self, run_id: str, plan: Plan, *, trigger: str, reason: str) -> int:
        with self._tx() as conn:
            self._lock_run(conn, run_id)
            current = conn.execute(
                select(func.max(plan_versions.c.version)).where(plan_versions.c.run_id == run_id)
            ).scalar()
            version = (current or 0) + 1
            conn.execute(
                insert(plan_versions).values(
                    run_id=run_id, version=version, plan=plan.model_dump_json(),
                    trigger=trigger, reason=reason, created_at=time.time(),
                )
            )
        return version

    def get_plan(self, run_id: str, version: int | None = None) -> PlanVersion | None:
        """Plan `version` of a run, or its latest; None when it has no such plan."""
        query = select(plan_versions).where(plan_versions.c.run_id == run_id)
        if version is not None:
            query = query.where(plan_versions.c.version == version)
        with self._tx() as conn:
            row = conn.execute(
                query.order_by(plan_versions.c.version.desc())
            ).mappings().first()
        return None if row is None else _plan_version(row)

    def plan_versions(self, run_id: str) -> list[PlanVersion]:
        """Every plan version of a run, oldest first."""
        with self._tx() as conn:
            rows = conn.execute(
                select(plan_versions).where(plan_versions.c.run_id == run_id)
                .order_by(plan_versions.c.version)
            ).mappings().all()
        return [_plan_version(r) for r in rows]

    def save_subtasks(self, run_id: str, items: list[Subtask]) -> None:
        now = time.time()
        with self._tx() as conn:
            for item in items:
                conn.execute(
                    insert(subtasks).values(
                        run_id=run_id, id=item.id, plan_version=item.plan_version,
                        status=item.status, data=item.model_dump_json(), updated_at=now,
                    )
                )

    def update_subtask(self, run_id: str, subtask: Subtask) -> None:
        with self._tx() as conn:
            conn.execute(
                update(subtasks)
                .where(subtasks.c.run_id == run_id, subtasks.c.id == subtask.id)
                .values(status=subtask.status, data=subtask.model_dump_json(),
                        updated_at=time.time())
            )

    def get_subtasks(self, run_id: str) -> list[Subtask]:
        with self._tx() as conn:
            rows = conn.execute(
                select(subtasks.c.data).where(subtasks.c.run_id == run_id)
            ).scalars().all()
        items = [Subtask.model_validate_json(r) for r in rows]
        return sorted(items, key=lambda s: _natural(s.id))

    def get_subtask(self, run_id: str, subtask_id: str) -> Subtask:
        with self._tx() as conn:
            data = conn.execute(
                select(subtasks.c.data).where(
                    subtasks.c.run_id == run_id, subtasks.c.id == subtask_id
                )
            ).scalar()
        if data is None:
            raise StorageError(f"run {run_id!r} has no subtask {subtask_id!r}")
        return Subtask.model_validate_json(data)

    # the record -----------------------------------------------------------------------------

    def add_event(
        self, run_id: str, kind: str, data: dict[str, Any], *, subtask_id: str | None = None
    ) -> int:
        return self._with_event(run_id, (kind, data, subtask_id), lambda conn: None)[1]

    def _with_event(
        self, run_id: str, event: NewEvent | None,
        write: Callable[[Connection], T],
    ) -> tuple[T, int]:
        """Run `write` and append `event` in one transaction (one commit per record)."""
        with self._seq_lock:
            for attempt in range(2):
                seq = self._next_seq.get(run_id) if attempt == 0 else None
                try:
                    with self.engine.begin() as conn:
                        if event is not None and seq is None:
                            # First event of this run here, or another writer took the number.
                            self._lock_run(conn, run_id)  # before `write` touches the run's row
                            last = conn.execute(
                                select(func.max(events.c.seq)).where(events.c.run_id == run_id)
                            ).scalar()
                            seq = (last or 0) + 1
                        value = write(conn)
                        if event is not None:
                            kind, data, subtask_id = event
                            conn.execute(_INSERT_EVENT, {
                                "run_id": run_id, "seq": seq, "kind": kind,
                                "subtask_id": subtask_id, "data": _json(data),
                                "created_at": time.time(),
                            })
                except IntegrityError:
                    if attempt == 0:
                        continue  # the cached number was taken: read the log's end again
                    raise StorageError(f"event {seq} of run {run_id!r} already exists") from None
                except SQLAlchemyError as e:
                    raise StorageError(f"database {self.url!r} failed: {e}") from e
                if event is None:
                    return value, 0
                assert seq is not None  # numbered above, in the same transaction
                self._next_seq[run_id] = seq + 1  # only a written event takes a number
                return value, seq
        raise AssertionError("unreachable")

    def get_events(self, run_id: str) -> list[EventRow]:
        with self._tx() as conn:
            rows = conn.execute(
                select(events.c.seq, events.c.kind, events.c.subtask_id, events.c.data)
                .where(events.c.run_id == run_id)
                .order_by(events.c.seq)
            ).mappings().all()
        return [EventRow(**dict(r, data=json.loads(r["data"]))) for r in rows]

    def record_model_call(
        self, run_id: str, *, subtask_id: str | None, role: str, model: str,
        request: dict[str, Any], response: dict[str, Any] | None, error: str | None,
        prompt_tokens: int, completion_tokens: int, cost_usd: float, latency_ms: float,
        event: NewEvent | None = None,
    ) -> int:
        """Record a model call (and, in the same transaction, its event)."""
        messages = list(request.get("messages") or [])
        chain = (run_id, subtask_id, role)
        prefix_id = prefix_len = None
        previous = self._last_request.get(chain)
        if previous is not None:
            before = previous[1]
            if len(messages) >= len(before) and messages[: len(before)] == before:
                prefix_id, prefix_len = previous[0], len(before)
                request = {**request, "messages": messages[prefix_len:]}
        row = {
            "run_id": run_id, "subtask_id": subtask_id, "role": role, "model": model,
            "request": _json(request), "response": None if response is None else _json(response),
            "error": error, "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "cost_usd": cost_usd, "latency_ms": latency_ms, "created_at": time.time(),
            "prefix_id": prefix_id, "prefix_len": prefix_len,
        }
        call_id, _ = self._with_event(
            run_id, event, lambda conn: _inserted_id(conn.execute(_INSERT_MODEL_CALL, row))
        )
        self._last_request[chain] = (call_id, messages)
        return call_id

    def get_model_calls(self, run_id: str) -> list[ModelCallRow]:
        """A run's model calls in order, each with its full request."""
        with self._tx() as conn:
            rows = conn.execute(
                select(model_calls).where(model_calls.c.run_id == run_id)
                .order_by(model_calls.c.id)
            ).mappings().all()
        full: dict[int, list[Any]] = {}
        calls = []
        for r in rows:
            fields = dict(r)
            request = json.loads(fields.pop("request"))
            prefix_id, prefix_len = fields.pop("prefix_id"), fields.pop("prefix_len")
            if prefix_id is not None:
                request["messages"] = full[prefix_id][:prefix_len] + request["messages"]
            full[r["id"]] = request["messages"]
            response = fields.pop("response")
            calls.append(ModelCallRow(
                **fields, request=request,
                response=None if response is None else json.loads(response),
            ))
        return calls

    def record_tool_call(
        self, run_id: str, *, subtask_id: str | None, call_id: str, name: str,
        arguments: str, result: str, status: str, latency_ms: float,
        event: NewEvent | None = None,
    ) -> int:
        """Record a tool call (and, in the same transaction, its event)."""
        row = {
            "run_id": run_id, "subtask_id": subtask_id, "call_id": call_id, "name": name,
            "arguments": arguments, "result": result, "status": status,
            "latency_ms": latency_ms, "created_at": time.time(),
        }
        return self._with_event(
            run_id, event, lambda conn: _inserted_id(conn.execute(_INSERT_TOOL_CALL, row))
        )[0]

    def get_tool_calls(self, run_id: str) -> list[ToolCallRow]:
        """A run's finished tool calls in order."""
        with self._tx() as conn:
            rows = conn.execute(
                select(tool_calls).where(tool_calls.c.run_id == run_id).order_by(tool_calls.c.id)
            ).mappings().all()
        return [ToolCallRow(**r) for r in rows]

    def usage(self, run_id: str) -> Usage:
        with self._tx() as conn:
            m = conn.execute(
                select(
                    func.coalesce(func.sum(model_calls.c.prompt_tokens), 0),
                    func.coalesce(func.sum(model_calls.c.completion_tokens), 0),
                    func.coalesce(func.sum(model_calls.c.cost_usd), 0.0),
                    func.count(model_calls.c.id),
                ).where(model_calls.c.run_id == run_id)
            ).one()
            t = conn.execute(
                select(func.count(tool_calls.c.id)).where(
                    tool_calls.c.run_id == run_id, tool_calls.c.name.notin_(CONTROL_TOOLS))
            ).scalar()
        return Usage(
            prompt_tokens=m[0], completion_tokens=m[1], cost_usd=float(m[2]),
            model_calls=m[3], tool_calls=t or 0,
        )

    # context memory: masked outputs, summaries, facts, and search over them -------------------

    @functools.cached_property
    def full_text(self) -> bool:
        """Whether this database has a full-text index (FTS5, or PostgreSQL's tsvector)."""
        with self._tx() as conn:
            return _search.has_index(conn, self.dialect.search)

    def add_masked_output(
        self, run_id: str, *, subtask_id: str | None, call_id: str, name: str, content: str
    ) -> int:
        """Keep a tool output that left the prompt; return its number within the run, which is
        what the stub shows (a database-wide id would make the run's prompts depend on others)."""
        fts = self.full_text
        with self._tx() as conn:
            number = self._next_number(conn, masked_outputs, run_id)
            conn.execute(
                insert(masked_outputs).values(
                    run_id=run_id, number=number, subtask_id=subtask_id, call_id=call_id,
                    name=name, content=content, created_at=time.time(),
                )
            )
            if fts:
                _search.index(conn, run_id, "masked", str(number), f"{name}: {content}")
        return number

    def _next_number(self, conn: Connection, table: Any, run_id: str) -> int:
        """The next per-run number of `table`'s rows, under the run's lock."""
        self._lock_run(conn, run_id)
        last = conn.execute(
            select(func.max(table.c.number)).where(table.c.run_id == run_id)
        ).scalar()
        return int(last or 0) + 1

    def get_masked_output(self, run_id: str, number: int) -> MaskedOutput | None:
        """The masked output with this number in the run (the number its stub shows)."""
        with self._tx() as conn:
            row = conn.execute(
                select(masked_outputs).where(
                    masked_outputs.c.run_id == run_id, masked_outputs.c.number == number
                )
            ).mappings().first()
        return None if row is None else MaskedOutput(**row)

    def add_summary(
        self, run_id: str, *, subtask_id: str | None, level: int, first_message: int,
        last_message: int, merged_ids: list[int], tokens_before: int, tokens_after: int,
        model: str, data: str, text: str,
    ) -> int:
        """Store a summary with the messages it covers, the prompt size before and after, and
        the model that wrote it; return its number within the run. `data` is the summary as
        JSON, `text` as shown in prompts; `merged_ids` are the numbers of the summaries merged."""
        fts = self.full_text
        with self._tx() as conn:
            number = self._next_number(conn, summaries, run_id)
            conn.execute(
                insert(summaries).values(
                    run_id=run_id, number=number, subtask_id=subtask_id, level=level,
                    first_message=first_message, last_message=last_message,
                    merged_ids=_json(merged_ids), tokens_before=tokens_before,
                    tokens_after=tokens_after, model=model, data=data, text=text,
                    created_at=time.time(),
                )
            )
            if fts:
                _search.index(conn, run_id, "summary", str(number), text)
        return number

    def get_summaries(
        self, run_id: str, *, subtask_id: str | None = None
    ) -> list[SummaryRow]:
        query = select(summaries).where(summaries.c.run_id == run_id)
        if subtask_id is not None:
            query = query.where(summaries.c.subtask_id == subtask_id)
        with self._tx() as conn:
            rows = conn.execute(query.order_by(summaries.c.id)).mappings().all()
        return [SummaryRow(**dict(r, merged_ids=json.loads(r["merged_ids"]))) for r in rows]

    def set_facts(
        self, run_id: str, items: list[tuple[str, str]], *, subtask_id: str | None, source: str
    ) -> None:
        """Record facts in order; a key seen again takes its latest value (and loses any doubt).
        Each value set gets the run's next `seq`, so later values rank as newer."""
        now, fts = time.time(), self.full_text
        with self._tx() as conn:
            self._lock_run(conn, run_id)
            seq = int(conn.execute(
                select(func.max(facts.c.seq)).where(facts.c.run_id == run_id)).scalar() or 0)
            for key, value in items:
                seq += 1
                values = {"value": value, "subtask_id": subtask_id, "source": source,
                          "updated_at": now, "seq": seq, "doubt": None}
                changed = conn.execute(
                    update(facts).where(facts.c.run_id == run_id, facts.c.key == key)
                    .values(**values)
                ).rowcount
                if not changed:
                    conn.execute(insert(facts).values(run_id=run_id, key=key, **values))
                if fts:
                    _search.index(conn, run_id, "fact", key, f"{key} = {value}")

    def doubt_facts(self, run_id: str, doubts: dict[str, str]) -> None:
        """Mark facts (by key) as possibly out of date, each with its reason; unknown keys are
        skipped. A later `set_facts` of the key clears the doubt."""
        with self._tx() as conn:
            for key, reason in doubts.items():
                conn.execute(update(facts).where(facts.c.run_id == run_id, facts.c.key == key)
                             .values(doubt=reason[:400]))

    def get_fact_rows(self, run_id: str) -> list[FactRow]:
        """The run's facts, oldest learned first."""
        with self._tx() as conn:
            rows = conn.execute(
                select(facts.c.key, facts.c.value, facts.c.subtask_id, facts.c.source,
                       facts.c.seq, facts.c.doubt)
                .where(facts.c.run_id == run_id).order_by(facts.c.seq, facts.c.key)
            ).mappings().all()
        return [FactRow(**dict(r, seq=r["seq"] or 0)) for r in rows]

    def get_facts(self, run_id: str) -> dict[str, str]:
        """Latest values by key (sorted by key); a doubted value is marked `[unconfirmed]`, so
        it is never read as current (`get_fact_rows` has the reason)."""
        rows = sorted(self.get_fact_rows(run_id), key=lambda r: r.key)
        return {r.key: r.value if r.doubt is None else f"{r.value} [unconfirmed]" for r in rows}

    def search_memory(
        self, run_id: str, query: str, *, limit: int = 5, full_text: bool | None = None
    ) -> list[MemoryHit]:
        """Facts, summaries and masked outputs matching `query`, best first.

        The dialect's full-text index ranks them where the database has one (SQLite FTS5 by
        BM25, PostgreSQL by `ts_rank`); otherwise, or with `full_text=False`, documents are
        ranked by how many query words they contain (LIKE).
        """
        words = _search.terms(query)
        if not words:
            return []
        use_index = self.full_text if full_text is None else full_text and self.full_text
        with self._tx() as conn:
            return _search.search(
                conn, self.dialect.search if use_index else "like", run_id, words, limit
            )


def _plan_version(row: RowMapping) -> PlanVersion:
    return PlanVersion(**dict(row, plan=Plan.model_validate_json(row["plan"])))


def _natural(text: str) -> tuple[Any, ...]:
    """Sort 't2' before 't10'."""
    head = text.rstrip("0123456789")
    tail = text[len(head):]
    return (head, int(tail) if tail else -1, text)
