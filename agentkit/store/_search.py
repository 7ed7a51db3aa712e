"""Full-text search over the context manager's memory: FTS5, tsvector, or LIKE.

The dialect says which (`Dialect.search`). FTS5 (SQLite) and tsvector (PostgreSQL) keep one index
table, `memory_fts`, written alongside the facts, summaries and masked outputs; LIKE needs no
index and runs anywhere through SQLAlchemy.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import ColumnElement, Connection, inspect, or_, select, text
from sqlalchemy.exc import OperationalError

from agentkit.store.dialect import SearchKind
from agentkit.store.records import MemoryHit, MemoryKind
from agentkit.store.tables import facts, masked_outputs, summaries

FTS_TABLE = "memory_fts"


def terms(query: str) -> list[str]:
    """The distinct words of a query, lowercased, in order."""
    return list(dict.fromkeys(w.lower() for w in re.findall(r"\w+", query)))


def has_index(conn: Connection, search: SearchKind) -> bool:
    """Whether the full-text index exists (a SQLite built without FTS5 has none)."""
    return search != "like" and inspect(conn).has_table(FTS_TABLE)


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


def search(
    conn: Connection, search: SearchKind, run_id: str, words: list[str], limit: int
) -> list[MemoryHit]:
    """The best `limit` documents of a run matching any of `words`, best first."""
    if search == "fts5":
        return _search_fts5(conn, run_id, words, limit)
    if search == "tsvector":
        return _search_tsvector(conn, run_id, words, limit)
    return _search_like(conn, run_id, words, limit)


def _search_fts5(conn: Connection, run_id: str, words: list[str], limit: int) -> list[MemoryHit]:
    match = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
    rows = conn.execute(
        text(
            f"SELECT kind, ref, body, at FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q "
            "AND run_id = :run ORDER BY bm25(" + FTS_TABLE + "), rowid DESC LIMIT :n"
        ),
        {"q": match, "run": run_id, "n": limit},
    ).all()
    return [MemoryHit(kind=r[0], ref=r[1], text=r[2], at=float(r[3])) for r in rows]


def _search_tsvector(
    conn: Connection, run_id: str, words: list[str], limit: int
) -> list[MemoryHit]:
    # `terms` keeps only word characters, so the words need no quoting inside the tsquery.
    rows = conn.execute(
        text(
            f"SELECT kind, ref, body, at FROM {FTS_TABLE}, to_tsquery('simple', :q) AS query "
            "WHERE run_id = :run AND tsv @@ query "
            "ORDER BY ts_rank(tsv, query) DESC, id DESC LIMIT :n"
        ),
        {"q": " | ".join(words), "run": run_id, "n": limit},
    ).all()
    return [MemoryHit(kind=r[0], ref=r[1], text=r[2], at=float(r[3])) for r in rows]


def _search_like(conn: Connection, run_id: str, words: list[str], limit: int) -> list[MemoryHit]:
    """Term match with LIKE: rank by how many words a document contains, newest first on ties."""

    def any_word(*columns: Any) -> ColumnElement[bool]:
        return or_(*[c.icontains(w, autoescape=True) for c in columns for w in words])

    found: list[tuple[int, MemoryHit]] = []
    for key, value, at in conn.execute(
        select(facts.c.key, facts.c.value, facts.c.updated_at)
        .where(facts.c.run_id == run_id, any_word(facts.c.key, facts.c.value))
    ).all():
        found.append((0, MemoryHit(kind="fact", ref=key, text=f"{key} = {value}", at=at)))
    for sid, number, body, at in conn.execute(
        select(summaries.c.id, summaries.c.number, summaries.c.text, summaries.c.created_at)
        .where(summaries.c.run_id == run_id, any_word(summaries.c.text))
        .order_by(summaries.c.id.desc()).limit(limit * 4)
    ).all():
        found.append((sid, MemoryHit(kind="summary", ref=str(number), text=body, at=at)))
    for mid, number, name, body, at in conn.execute(
        select(masked_outputs.c.id, masked_outputs.c.number, masked_outputs.c.name,
               masked_outputs.c.content, masked_outputs.c.created_at)
        .where(masked_outputs.c.run_id == run_id,
               any_word(masked_outputs.c.name, masked_outputs.c.content))
        .order_by(masked_outputs.c.id.desc()).limit(limit * 4)
    ).all():
        found.append((mid, MemoryHit(kind="masked", ref=str(number), text=f"{name}: {body}",
                                     at=at)))
    scored = [
        (sum(w in item.text.lower() for w in words), newest, item)
        for newest, item in found
    ]
    scored.sort(key=lambda s: (-s[0], -s[1]))
    return [item for _, _, item in scored[:limit]]


def create_index(conn: Connection, search: SearchKind) -> None:
    """Create the full-text index this kind of search reads (nothing for LIKE)."""
    if search == "fts5":
        _create_fts5(conn)
    elif search == "tsvector":
        _create_tsvector(conn)


def _create_fts5(conn: Connection) -> None:
    try:
        with conn.begin_nested():  # a SQLite built without FTS5 refuses; search falls back to LIKE
            conn.exec_driver_sql(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
                "body, kind UNINDEXED, ref UNINDEXED, run_id UNINDEXED, at UNINDEXED)"
            )
    except OperationalError:
        pass


def _create_tsvector(conn: Connection) -> None:
    """The index table with a generated tsvector column, filled from what is already stored."""
    conn.exec_driver_sql(
        f"CREATE TABLE {FTS_TABLE} (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL, "
        "kind VARCHAR(16) NOT NULL, ref VARCHAR(200) NOT NULL, run_id VARCHAR(40) NOT NULL, "
        "at DOUBLE PRECISION NOT NULL, "
        "tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)"
    )
    conn.exec_driver_sql(f"CREATE INDEX ix_{FTS_TABLE}_tsv ON {FTS_TABLE} USING GIN (tsv)")
    conn.exec_driver_sql(f"CREATE INDEX ix_{FTS_TABLE}_run ON {FTS_TABLE} (run_id, kind, ref)")
    conn.exec_driver_sql(
        f"INSERT INTO {FTS_TABLE} (body, kind, ref, run_id, at) "
        "SELECT key || ' = ' || value, 'fact', key, run_id, updated_at FROM facts "
        "UNION ALL SELECT text, 'summary', CAST(COALESCE(number, id) AS TEXT), run_id, "
        "created_at FROM summaries "
        "UNION ALL SELECT name || ': ' || content, 'masked', CAST(COALESCE(number, id) AS TEXT), "
        "run_id, created_at FROM masked_outputs"
    )
