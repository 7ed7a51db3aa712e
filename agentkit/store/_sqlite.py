"""SQLite specifics: the file behind the URL, connection pragmas, the schema lock, what an
error of the SQLite library means, LangGraph's SQLite saver."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from agentkit.errors import StorageConfigError, StorageProblem

BUSY_ENV = "AGENTKIT_BUSY_TIMEOUT"  # seconds a connection waits for another's write lock
HEADER = b"SQLite format 3\x00"


def path(url: str) -> Path:
    """The file behind a `sqlite:///PATH` or `sqlite:///file:PATH?mode=ro&uri=true` URL."""
    rest = url.split(":///", 1)[1]
    if rest.startswith("file:"):
        rest = rest.removeprefix("file:").split("?", 1)[0]
    return Path(rest)


def busy_timeout() -> float:
    """Seconds to wait for another process's write lock: `$AGENTKIT_BUSY_TIMEOUT`, or 30."""
    value = os.environ.get(BUSY_ENV, "30")
    try:
        return max(0.0, float(value))
    except ValueError:
        raise StorageConfigError(
            f"{BUSY_ENV}={value!r} is not a number of seconds; set it to, for example, 30"
        ) from None


def prepare(url: str) -> None:
    """Create the file's folder; refuse a file that is not an SQLite database."""
    file = path(url)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageConfigError(
            f"database {str(file)!r} is not writable: its folder cannot be created ({e}); "
            "pass --db PATH (or set AGENTKIT_DB) to a file in a writable folder",
            problem="not_writable") from e
    try:
        with file.open("rb") as f:
            head = f.read(len(HEADER))
    except FileNotFoundError:
        return
    except OSError as e:
        raise StorageConfigError(f"database {str(file)!r} cannot be read ({e})") from e
    if head and head != HEADER:
        raise StorageConfigError(_corrupt(file, "it does not start with SQLite's header"),
                                 problem="corrupt")


def read_only_url(url: str) -> str:
    """The URL that opens the file read-only, through SQLite's URI filenames.

    In a read-only folder SQLite cannot make the write-ahead log's index; `immutable=1` reads
    such a file, when it has no write-ahead log left that it would miss.
    """
    file = path(url)
    wal = file.with_name(file.name + "-wal")
    folder_writable = os.access(file.parent, os.W_OK)
    if folder_writable or (wal.exists() and wal.stat().st_size > 0):
        return f"sqlite:///file:{file}?mode=ro&uri=true"
    return f"sqlite:///file:{file}?immutable=1&uri=true"


def pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL and a busy timeout let many runs share one file without "database is locked".
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout() * 1000)}")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as e:
            if not getattr(e, "sqlite_errorname", "").startswith("SQLITE_READONLY"):
                raise  # read-only: reading works in any journal mode
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def lock_schema(conn: Connection) -> None:
    """Take the file's write lock for a migration run, and check that the file takes writes.

    `BEGIN IMMEDIATE` makes processes that open one new file at once take turns (each waits up
    to the busy timeout) and gives each the schema the previous one committed. SQLite grants
    the lock on a read-only file, so a write undone at once tells whether writes can happen.
    """
    conn.exec_driver_sql("BEGIN IMMEDIATE")
    conn.exec_driver_sql("SAVEPOINT agentkit_write_check")
    conn.exec_driver_sql("CREATE TABLE agentkit_write_check (x INTEGER)")
    conn.exec_driver_sql("ROLLBACK TO agentkit_write_check")
    conn.exec_driver_sql("RELEASE agentkit_write_check")


def explain(error: BaseException, url: str) -> tuple[StorageProblem | None, str] | None:
    """What an error of the SQLite library means for the file at `url`, or None if not one."""
    if not isinstance(error, sqlite3.Error):
        return None
    file, name = path(url), getattr(error, "sqlite_errorname", "")
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return "corrupt", _corrupt(file, str(error))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "locked", (
            f"database {str(file)!r} is locked: another process held its write lock for more "
            f"than {busy_timeout():g} s ({error}); let that process finish or stop it, or wait "
            f"longer with {BUSY_ENV}=SECONDS")
    folder_read_only = file.exists() and not os.access(file.parent, os.W_OK)
    if name.startswith("SQLITE_READONLY") or (name == "SQLITE_CANTOPEN" and folder_read_only):
        where = "its folder is" if folder_read_only or "DIRECTORY" in name else "the file is"
        return "read_only", (
            f"database {str(file)!r} is read-only ({where} read-only: {error}); `agentkit runs "
            "list` and `runs show` can still read it; to write, make the file and its folder "
            "writable, or pass --db PATH for another database")
    if name in ("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_FULL", "SQLITE_IOERR"):
        return "not_writable", (
            f"database {str(file)!r} is not writable ({error}); pass --db PATH (or set "
            "AGENTKIT_DB) to a file in a writable folder")
    return None


def _corrupt(file: Path, detail: str) -> str:
    return (f"database {str(file)!r} is corrupt or not an agentkit database ({detail}); restore "
            "it from a backup, or pass --db PATH for a new database")


@asynccontextmanager
async def open_checkpointer(url: str) -> AsyncIterator[Any]:
    """LangGraph's async SQLite saver on the run database's file."""
    import aiosqlite

    from agentkit.store._sqlite_saver import AtomicSqliteSaver

    # Autocommit: the saver's write transaction must not stay open across an `await`, or a
    # synchronous write of the store in the same event loop waits on it and deadlocks.
    conn = await aiosqlite.connect(str(path(url)), timeout=busy_timeout(), isolation_level=None)
    try:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute(f"PRAGMA busy_timeout={int(busy_timeout() * 1000)}")
        saver = AtomicSqliteSaver(conn)
        await saver.setup()
        yield saver
    finally:
        await conn.close()
