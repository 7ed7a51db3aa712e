"""Full-text search over the context manager's memory: SQLite FTS5, or LIKE anywhere else.

Both paths go through SQLAlchemy, so the fallback runs unchanged on PostgreSQL.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import ColumnElement, Connection, or_, select, text

from agentkit.store.migrations import FTS_TABLE
from agentkit.store.records import MemoryHit, MemoryKind
from agentkit.store.tables import facts, masked_outputs, summaries


def terms(query: str) -> list[str]:
    """The distinct words of a query, lowercased, in order."""
    return list(dict.fromkeys(w.lower() for w in re.findall(r"\w+", query)))


def has_fts(conn: Connection) -> bool:
    if conn.dialect.name != "sqlite":
        return False
    found = conn.execute(
        text("SELECT name FROM sqlite_master WHERE name = :name"), {"name": FTS_TABLE}
    ).first()
    return found is not None


def index(conn: Connection, run_id: str, kind: MemoryKind, ref: str, body: str) -> None:
    """Add (or, for a fact, replace) one document of the full-text index."""
    if kind == "fact":
        conn.execute(
            text(f"DELETE FROM {FTS_TABLE} WHERE run_id = :run AND kind = 'fact' AND ref = :ref"),
            {"run": run_id, "ref": ref},
        )
    conn.execute(
        text(f"INSERT INTO {FTS_TABLE} (body, kind, ref, run_id, at) "
             "VALUES (:b, :k, :r, :run, :at)"),
        {"b": body, "k": kind, "r": ref, "run": run_id, "at": time.time()},
    )


def search_fts(conn: Connection, run_id: str, words: list[str], limit: int) -> list[MemoryHit]:
    match = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
    rows = conn.execute(
        text(
            f"SELECT kind, ref, body, at FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q "
            "AND run_id = :run ORDER BY bm25(" + FTS_TABLE + "), rowid DESC LIMIT :n"
        ),
        {"q": match, "run": run_id, "n": limit},
    ).all()
    return [MemoryHit(kind=r[0], ref=r[1], text=r[2], at=float(r[3])) for r in rows]


def search_like(conn: Connection, run_id: str, words: list[str], limit: int) -> list[MemoryHit]:
    """Term match with LIKE: rank by how many words a document contains, newest first on ties."""

    def any_word(*columns: Any) -> ColumnElement[bool]:
        return or_(*[c.icontains(w, autoescape=True) for c in columns for w in words])

    found: list[tuple[int, MemoryHit]] = []
    for key, value, at in conn.execute(
        select(facts.c.key, facts.c.value, facts.c.updated_at)
        .where(facts.c.run_id == run_id, any_word(facts.c.key, facts.c.value))
    ).all():
        found.append((0, MemoryHit(kind="fact", ref=key, text=f"{key} = {value}", at=at)))
    for sid, body, at in conn.execute(
        select(summaries.c.id, summaries.c.text, summaries.c.created_at)
        .where(summaries.c.run_id == run_id, any_word(summaries.c.text))
        .order_by(summaries.c.id.desc()).limit(limit * 4)
    ).all():
        found.append((sid, MemoryHit(kind="summary", ref=str(sid), text=body, at=at)))
    for mid, name, body, at in conn.execute(
        select(masked_outputs.c.id, masked_outputs.c.name, masked_outputs.c.content,
               masked_outputs.c.created_at)
        .where(masked_outputs.c.run_id == run_id,
               any_word(masked_outputs.c.name, masked_outputs.c.content))
        .order_by(masked_outputs.c.id.desc()).limit(limit * 4)
    ).all():
        found.append((mid, MemoryHit(kind="masked", ref=str(mid), text=f"{name}: {body}", at=at)))
    scored = [
        (sum(w in item.text.lower() for w in words), newest, item)
        for newest, item in found
    ]
    scored.sort(key=lambda s: (-s[0], -s[1]))
    return [item for _, _, item in scored[:limit]]
