"""What a database dialect supports, chosen once from the URL.

This is the one place that tells SQLite from PostgreSQL; the rest of the store asks the `Dialect`
what it can do (full-text search, row locks) and how to open it (engine options, checkpointer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection

import agentkit.store._postgresql as _postgresql
import agentkit.store._sqlite as _sqlite
from agentkit.errors import StorageConfigError, StorageProblem

# How memory search ranks documents: SQLite's FTS5 (BM25), PostgreSQL's tsvector (ts_rank), or
# LIKE term counting where neither is there.
SearchKind = Literal["fts5", "tsvector", "like"]


def _nothing(url: str) -> None:
    return None


def _unexplained(error: BaseException, url: str) -> tuple[StorageProblem | None, str] | None:
    return None


def _same(url: str) -> str:
    return url


@dataclass(kw_only=True, frozen=True)
class Dialect:
    """One database family agentkit stores runs in, and what it supports."""

    name: str  # SQLAlchemy's backend name, the URL scheme before any `+driver`
    driver: str | None  # the DBAPI driver put into a URL that names none
    search: SearchKind
    # SELECT ... FOR UPDATE locks one row until commit (SQLite locks the whole file instead).
    row_locking: bool
    # A store collected without `close()` closes its pooled connections (psycopg warns about
    # each one left open). Not SQLite: disposing there at collection corrupted a file in tests.
    dispose_when_dropped: bool = False
    engine_options: Mapping[str, Any] = field(default_factory=dict)
    on_connect: Callable[[Any, Any], None] | None = None  # run on every new DBAPI connection
    # Before the engine is made: create what the database needs; OSError when it cannot.
    prepare: Callable[[str], None] = _nothing
    checkpointer: Callable[[str], AbstractAsyncContextManager[Any]]
    # At the start of the migration run's transaction: a lock so that processes take turns.
    lock_schema: Callable[[Connection], None]
    # What a DBAPI error means for this database: (problem, message), or None when unknown.
    explain: Callable[[BaseException, str], tuple[StorageProblem | None, str] | None] = (
        _unexplained)
    read_only_url: Callable[[str], str] = _same  # the URL that opens the database read-only

    @property
    def full_text(self) -> bool:
        """Whether memory search can use a ranked full-text index here."""
        return self.search != "like"

    def driver_url(self, url: str) -> str:
        """`url` with this dialect's driver when it names none (`postgresql://` → psycopg)."""
        scheme, rest = url.split("://", 1)
        if self.driver is None or "+" in scheme:
            return url
        return f"{scheme}+{self.driver}://{rest}"


SQLITE = Dialect(
    name="sqlite",
    driver=None,
    search="fts5",
    row_locking=False,
    engine_options={"connect_args": {"timeout": 30}},
    on_connect=_sqlite.pragmas,
    prepare=_sqlite.prepare,
    checkpointer=_sqlite.open_checkpointer,
    lock_schema=_sqlite.lock_schema,
    explain=_sqlite.explain,
    read_only_url=_sqlite.read_only_url,
)

POSTGRESQL = Dialect(
    name="postgresql",
    driver="psycopg",
    search="tsvector",
    row_locking=True,
    dispose_when_dropped=True,
    engine_options={"pool_pre_ping": True},
    checkpointer=_postgresql.open_checkpointer,
    lock_schema=_postgresql.lock_schema,
)

DIALECTS: Mapping[str, Dialect] = {d.name: d for d in (SQLITE, POSTGRESQL)}


def dialect_for(url: str) -> Dialect:
    """The dialect of a database URL (`sqlite:///PATH`, `postgresql[+driver]://...`)."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    found = DIALECTS.get(scheme.split("+", 1)[0])
    if found is None:
        raise StorageConfigError(
            f"database URL {url!r} is not supported; use a file path, 'sqlite:///PATH' "
            "or 'postgresql://USER@HOST/DB'"
        )
    return found


def file_url(path: str) -> str:
    """The URL of a database given as a plain file path (a SQLite file)."""
    return f"{SQLITE.name}:///{path}"
