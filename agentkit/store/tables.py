"""The tables of the run database (SQLAlchemy Core). Bulk data lives here, not in graph state."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# The migrations applied to this database, by name (see migrations.py).
applied_migrations = Table(
    "agentkit_migrations",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("applied_at", Float, nullable=False),
)

# Where agentkit before named migrations recorded them, by position in its list; read once to
# record those by name, then dropped.
numbered_migrations = Table(
    "agentkit_schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", Float, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("goal", Text, nullable=False),
    Column("status", String(24), nullable=False),
    Column("model", String(200), nullable=False),
    Column("workspace", Text, nullable=False),
    Column("settings", Text, nullable=False),
    Column("answer", Text),
    Column("error", Text),
    Column("parent_run_id", String(40)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# The resolved agent of a run (an agent file's content, secrets only as `${VAR}` names) and a
# fingerprint of each of its tools, so resume, approve, replay and fork rebuild that very agent.
run_agents = Table(
    "run_agents",
    metadata,
    Column("run_id", String(40), ForeignKey("runs.id"), primary_key=True),
    Column("spec", Text, nullable=False),
    Column("tools", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

plan_versions = Table(
    "plan_versions",
    metadata,
    Column("run_id", String(40), ForeignKey("runs.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("plan", Text, nullable=False),
    Column("trigger", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

subtasks = Table(
    "subtasks",
    metadata,
    Column("run_id", String(40), ForeignKey("runs.id"), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("plan_version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("data", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), ForeignKey("runs.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("subtask_id", String(40)),
    Column("data", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("run_id", "seq", name="uq_events_run_seq"),
)

model_calls = Table(
    "model_calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), ForeignKey("runs.id"), nullable=False),
    Column("subtask_id", String(40)),
    Column("role", String(24), nullable=False),
    Column("model", String(200), nullable=False),
    Column("request", Text, nullable=False),
    Column("response", Text),
    Column("error", Text),
    Column("prompt_tokens", Integer, nullable=False, default=0),
    Column("completion_tokens", Integer, nullable=False, default=0),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("latency_ms", Float, nullable=False, default=0.0),
    Column("created_at", Float, nullable=False),
    # Requests are stored as deltas: the first `prefix_len` messages are those of call
    # `prefix_id` (the same subtask and role), so a long tool loop grows the table linearly.
    Column("prefix_id", Integer),
    Column("prefix_len", Integer),
)

tool_calls = Table(
    "tool_calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), ForeignKey("runs.id"), nullable=False),
    Column("subtask_id", String(40)),
    Column("call_id", String(80), nullable=False),
    Column("name", String(120), nullable=False),
    Column("arguments", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("latency_ms", Float, nullable=False, default=0.0),
    Column("created_at", Float, nullable=False),
)

Index("ix_events_run", events.c.run_id, events.c.seq)
Index("ix_model_calls_run", model_calls.c.run_id)
Index("ix_tool_calls_run", tool_calls.c.run_id)
Index("ix_runs_created", runs.c.created_at)

# Migration 0002: the context manager's memory. Summaries and masked outputs are never rewritten;
# facts keep one row per key (the latest value wins). `memory_fts`, the full-text index (SQLite
# FTS5 when available, PostgreSQL tsvector), is created by the migrations, outside this metadata.

summaries = Table(
    "summaries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), ForeignKey("runs.id"), nullable=False),
    # The summary's number within its run (migration 0006): what prompts and `recall` show.
    Column("number", Integer),
    Column("subtask_id", String(40)),
    Column("level", Integer, nullable=False),
    Column("first_message", Integer, nullable=False),
    Column("last_message", Integer, nullable=False),
    Column("merged_ids", Text, nullable=False),
    Column("tokens_before", Integer, nullable=False),
    Column("tokens_after", Integer, nullable=False),
    Column("model", String(200), nullable=False),
    Column("data", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

facts = Table(
    "facts",
    metadata,
    Column("run_id", String(40), ForeignKey("runs.id"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("subtask_id", String(40)),
    Column("source", String(80), nullable=False),
    Column("updated_at", Float, nullable=False),
    # Migration 0008: the order values were learned in (per run), and why a value may be out of
    # date (its subject came up again without a value the summary could confirm), else NULL.
    Column("seq", Integer),
    Column("doubt", Text),
)

masked_outputs = Table(
    "masked_outputs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), ForeignKey("runs.id"), nullable=False),
    # The output's number within its run (migration 0006): what stubs and `recall` show.
    Column("number", Integer),
    Column("subtask_id", String(40)),
    Column("call_id", String(80), nullable=False),
    Column("name", String(120), nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

Index("ix_summaries_run", summaries.c.run_id, summaries.c.id)
Index("ix_masked_outputs_run", masked_outputs.c.run_id, masked_outputs.c.id)

# Migration 0006: per-run numbers, so a run's prompts do not depend on what else the database holds.
Index("uq_summaries_run_number", summaries.c.run_id, summaries.c.number, unique=True)
Index("uq_masked_outputs_run_number", masked_outputs.c.run_id, masked_outputs.c.number, unique=True)

# Migration 0007: the tasks of `agentkit batch`, one row per repetition of a task, with the run
# that carries it out. `run_id` is chosen before the run starts, so a batch resumed after a kill
# finds (and resumes) the very run a task began, and never starts a second one for it.
batch_tasks = Table(
    "batch_tasks",
    metadata,
    Column("batch", String(200), primary_key=True),
    Column("key", String(220), primary_key=True),  # "<task id>#<repetition>"
    Column("task_id", String(200), nullable=False),
    Column("repetition", Integer, nullable=False),
    Column("position", Integer, nullable=False),  # order in the tasks file
    Column("goal", Text, nullable=False),
    Column("check_command", Text),
    Column("workspace", Text, nullable=False),
    Column("state", String(16), nullable=False),  # pending, claimed, done
    Column("run_id", String(40)),
    Column("worker", String(200)),
    Column("claims", Integer, nullable=False, default=0),
    Column("outcome", String(24)),  # the run's status when the task was done
    Column("passed", Boolean),
    Column("check_output", Text),
    Column("error", Text),
    Column("updated_at", Float, nullable=False),
)
Index("ix_batch_tasks_state", batch_tasks.c.batch, batch_tasks.c.state)
