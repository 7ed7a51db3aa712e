"""The store defends itself: many processes create one database at once, and each database it
cannot use is refused with its real cause (corrupt, locked, read-only, not writable, newer)."""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentkit import StorageConfigError, StorageError, Store
from agentkit.cli import app
from agentkit.store.migrations import MIGRATIONS

ROOT = Path(__file__).resolve().parent.parent
OPENERS = 8
CLI = "from agentkit.cli import main; main()"


def _open_together(paths: list[str], barrier: Any, results: Any) -> None:
    """In a child process: open each new database at the same moment as the other children."""
    from agentkit.store import Store

    for path in paths:
        barrier.wait()
        try:
            Store(path).close()
            results.put("ok")
        except Exception as e:  # noqa: BLE001 - reported to the parent, which asserts
            results.put(f"{type(e).__name__}: {e}"[:300])


def _rows(path: Path | str, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(query).fetchall()


def test_many_processes_create_one_new_database_at_the_same_moment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Correctness, not latency: on a machine loaded ~5x past its cores one opener once waited
    # over the default 30 s for the others; the children inherit a longer busy timeout.
    monkeypatch.setenv("AGENTKIT_BUSY_TIMEOUT", "120")
    paths = [str(tmp_path / f"new{i}.db") for i in range(2)]
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(OPENERS), spawn.Queue()
    children = [spawn.Process(target=_open_together, args=(paths, barrier, results))
                for _ in range(OPENERS)]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=120) for _ in range(OPENERS * len(paths))]
    for child in children:
        child.join(timeout=60)

    assert [o for o in outcomes if o != "ok"] == []
    for path in paths:
        names = [r[0] for r in _rows(path, "SELECT name FROM agentkit_migrations")]
        assert sorted(names) == [m.name for m in MIGRATIONS]  # each recorded once
        store = Store(path)
        run_id = store.create_run(goal="g", model="scripted/x", workspace="/ws", settings={})
        assert store.get_run(run_id).status == "running"
        store.close()


def _run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CLI, *args], cwd=ROOT, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", **(env or {})}, timeout=120)


def _made(path: Path) -> str:
    store = Store(str(path))
    run_id = store.create_run(goal="kept " * 2000, model="scripted/x", workspace="/ws",
                              settings={})
    store.close()
    return run_id


# corrupt ------------------------------------------------------------------------------------


def _random_bytes(path: Path) -> None:
    path.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(8192)))


def _truncated(path: Path) -> None:
    _made(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize("damage", [_random_bytes, _truncated], ids=["random", "truncated"])
def test_a_corrupt_database_is_reported_corrupt_and_left_untouched(
    tmp_path: Path, damage: Any
) -> None:
    path = tmp_path / "runs.db"
    damage(path)
    before = path.read_bytes()

    with pytest.raises(StorageConfigError, match=r"runs\.db' is corrupt.*backup") as caught:
        Store(str(path))
    assert caught.value.problem == "corrupt"
    assert "not writable" not in str(caught.value)

    done = _run_cli("runs", "list", "--db", str(path))
    assert done.returncode == 2, done.stderr
    assert "runs.db' is corrupt" in done.stderr and "Traceback" not in done.stderr
    assert path.read_bytes() == before


# locked -------------------------------------------------------------------------------------

HOLD = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("held", flush=True)
sys.stdin.read()
"""


def test_a_database_held_by_another_process_is_reported_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "runs.db"
    run_id = _made(path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        monkeypatch.setenv("AGENTKIT_BUSY_TIMEOUT", "0.2")
        with pytest.raises(StorageConfigError, match=r"runs\.db' is locked: another process"):
            Store(str(path))
        done = _run_cli("runs", "show", run_id, "--db", str(path),
                        env={"AGENTKIT_BUSY_TIMEOUT": "0.2"})
        assert done.returncode == 2
        assert "is locked: another process held its write lock for more than 0.2 s" in (
            done.stderr)
    finally:
        holder.communicate("")
    Store(str(path)).close()  # the lock released, the database opens


# not writable -------------------------------------------------------------------------------


def test_a_database_in_a_folder_that_cannot_exist_is_reported_not_writable(
    tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageConfigError, match=r"a-file/runs\.db' is not writable") as caught:
        Store(str(blocker / "runs.db"))
    assert caught.value.problem == "not_writable"
    done = _run_cli("runs", "list", "--db", str(blocker / "runs.db"))
    assert done.returncode == 2 and "is not writable" in done.stderr


# newer schema -------------------------------------------------------------------------------


def test_a_database_from_a_newer_agentkit_names_the_migration_and_the_fix(
    tmp_path: Path
) -> None:
    path = tmp_path / "runs.db"
    _made(path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO agentkit_migrations VALUES ('0042_from_the_future', 1.0)")
    with pytest.raises(StorageConfigError) as caught:
        Store(str(path))
    assert caught.value.problem == "newer_schema"
    done = _run_cli("runs", "list", "--db", str(path))
    assert done.returncode == 2
    for text in ("newer agentkit", "'0042_from_the_future'", MIGRATIONS[-1].name,
                 "upgrade agentkit"):
        assert text in done.stderr


# read-only ----------------------------------------------------------------------------------


def test_read_only_store_reads_without_writing_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    run_id = _made(path)
    before = path.read_bytes()

    store = Store(str(path), read_only=True)
    assert [r.id for r in store.list_runs()] == [run_id]
    assert store.get_run(run_id).goal.startswith("kept")
    with pytest.raises(StorageError, match="read-only"):
        store.create_run(goal="g", model="scripted/x", workspace="/ws", settings={})
    store.close()
    assert path.read_bytes() == before


def test_read_only_store_refuses_a_schema_that_needs_migrating(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    _made(path)
    last = MIGRATIONS[-1].name
    with sqlite3.connect(path) as conn:
        conn.execute(f"DELETE FROM agentkit_migrations WHERE name = '{last}'")
    with pytest.raises(StorageConfigError, match=f"needs migrating.*'{last}'") as caught:
        Store(str(path), read_only=True)
    assert caught.value.problem == "needs_migration"
    Store(str(path)).close()  # a writable open migrates it, and then it reads read-only
    Store(str(path), read_only=True).close()


def _bwrap_works() -> bool:
    if shutil.which("bwrap") is None:
        return False
    probe = subprocess.run(["bwrap", "--bind", "/", "/", "--dev", "/dev", "true"],
                           capture_output=True)
    return probe.returncode == 0


needs_bwrap = pytest.mark.skipif(
    not _bwrap_works(), reason="bubblewrap cannot mount here; it makes a path read-only even "
    "for root, where chmod does not stop writes")


@needs_bwrap
@pytest.mark.parametrize("read_only", ["file", "folder"])
def test_a_read_only_database_can_still_be_listed_and_shown(
    tmp_path: Path, read_only: str
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "runs.db"
    run_id = _made(path)
    before = path.read_bytes()
    mounted = str(path if read_only == "file" else folder)

    def confined(*argv: str) -> subprocess.CompletedProcess[str]:
        # The path is mounted read-only: writes fail as they would for a user without access.
        return subprocess.run(
            ["bwrap", "--bind", "/", "/", "--dev", "/dev", "--ro-bind", mounted, mounted,
             sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={"PATH": "/usr/bin:/bin", "AGENTKIT_ALLOW_MODEL_REQUESTS": "0"})

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return confined("-c", CLI, *args, "--db", str(path))

    listed = cli("runs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert run_id in listed.stdout
    shown = cli("runs", "show", run_id, "--json")
    assert shown.returncode == 0, shown.stderr
    assert '"status": "running"' in shown.stdout

    writer = confined("-c", "import sys\nfrom agentkit import StorageConfigError, Store\n"
                      "try:\n    Store(sys.argv[1])\nexcept StorageConfigError as e:\n"
                      "    print(e.problem, e)", str(path))
    assert writer.stdout.startswith("read_only "), writer.stderr
    assert "runs.db' is read-only" in writer.stdout
    assert path.read_bytes() == before


def test_cli_lists_a_read_only_database_opened_by_url(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    run_id = _made(path)
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    result = CliRunner().invoke(app, ["runs", "list", "--json", "--db", url])
    assert result.exit_code == 0, result.output
    assert run_id in result.output
