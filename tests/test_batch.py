"""`agentkit batch`: many goals with one agent file, on worker processes sharing one store; a
worker killed mid-run gives its task back and the run is resumed, a batch cut off finishes with
--resume, every task ends exactly once with one run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit import Store, UserError
from agentkit.batch import load_tasks, pass_hat_k
from agentkit.cli import app

pytestmark = pytest.mark.both_stores

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "tests" / "batch_models.py"
WAIT_SECONDS = 240


def agent_file(folder: Path) -> Path:
    path = folder / "agent.yaml"
    path.write_text(f"model: {MODEL}:answer\ntools: [files]\n")
    return path


def tasks_file(folder: Path, words: list[str], *, gate: str | None = None,
               extra: list[dict[str, object]] = ()) -> Path:  # type: ignore[assignment]
    """One task per word (`Write WORD to answer.txt`, checked); `gate` waits for the test."""
    lines = [{"id": word, "goal": f"Write {word} to answer.txt"
              + (" (gate)" if word == gate else ""),
              "check": f"grep -qx {word} answer.txt"} for word in words]
    path = folder / "tasks.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in [*lines, *extra]))
    return path


def batch_command(tasks: Path, agent: Path, db: str, *more: str) -> list[str]:
    return [sys.executable, "-m", "agentkit.cli", "batch", str(tasks), "--agent", str(agent),
            "--db", db, "--json", *more]


def environment(gate_dir: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "AK_GATE_DIR": str(gate_dir),
            "AGENTKIT_ALLOW_MODEL_REQUESTS": "0", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def wait_for_ready(gate_dir: Path, process: subprocess.Popen[str]) -> int:
    """The pid of the worker waiting at the gate."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        ready = list(gate_dir.glob("ready-*"))
        if ready:
            return int(ready[0].name.removeprefix("ready-"))
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    raise AssertionError("no worker reached the gate")


def batch_rows(db: str, batch: str = "tasks") -> list[dict[str, object]]:
    from agentkit.store.batches import BatchTasks

    return [vars(row) for row in BatchTasks(Store(db), batch).rows()]


def assert_each_task_ended_once(db: str, words: list[str]) -> None:
    """One done row per task with its own run; that run completed once, with full records."""
    store = Store(db)
    rows = batch_rows(db)
    assert [(r["task_id"], r["state"], r["passed"]) for r in rows] == [
        (w, "done", True) for w in words]
    run_ids = [r["run_id"] for r in rows]
    assert len(set(run_ids)) == len(words)
    assert sorted(r.id for r in store.list_runs(1000)) == sorted(run_ids)  # no other runs
    for row in rows:
        run_id = str(row["run_id"])
        run = store.get_run(run_id)
        assert (run.status, run.answer) == ("completed", f"answer.txt holds {row['task_id']}")
        kinds = [e.kind for e in store.get_events(run_id)]
        assert kinds.count("run_finished") == 1 and kinds[-1] == "run_finished"
        assert [s.status for s in store.get_subtasks(run_id)] == ["done"]
        writes = [c for c in store.get_tool_calls(run_id) if c.name == "write_file"]
        assert len(writes) == 1  # the work was done once, also where the worker died
        assert store.plan_versions(run_id) and store.usage(run_id).model_calls >= 3
        assert Path(str(row["workspace"]), "answer.txt").read_text() == row["task_id"]


def test_a_batch_reports_success_rate_pass_k_tokens_and_records_every_run(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.chdir(tmp_path)
    tasks = tasks_file(tmp_path, ["alpha"], extra=[
        {"id": "wrong", "goal": "Write beta to answer.txt", "check": "grep -qx gamma answer.txt"},
        {"id": "rep", "goal": "Write delta to answer.txt", "check": "grep -qx delta answer.txt",
         "repeat": 3},
    ])
    command = ["batch", str(tasks), "--agent", str(agent_file(tmp_path)), "--db", db,
               "--workers", "2", "--json"]
    done = CliRunner().invoke(app, command)
    assert done.exit_code == 3, done.output  # one task did not pass
    summary = json.loads(done.stdout)
    assert (summary["tries"], summary["ended"], summary["passed"]) == (5, 5, 4)
    assert summary["success_rate"] == 0.8
    assert (summary["k"], summary["pass_k"]) == (3, 1.0)
    by_task = {t["task_id"]: t for t in summary["tasks"]}
    assert {t: (s["tries"], s["passed"]) for t, s in by_task.items()} == {
        "alpha": (1, 1), "wrong": (1, 0), "rep": (3, 3)}
    store = Store(db)
    assert summary["tokens"] == sum(store.usage(r).total_tokens
                                    for t in by_task.values() for r in t["run_ids"]) > 0
    listed = CliRunner().invoke(app, ["runs", "list", "--db", db, "--json"])
    assert sorted(r["goal"] for r in json.loads(listed.stdout)) == [
        "Write alpha to answer.txt", "Write beta to answer.txt", *["Write delta to answer.txt"] * 3]
    failed = next(r for r in batch_rows(db) if r["task_id"] == "wrong")
    assert failed["outcome"] == "completed" and str(failed["check_output"]).startswith("exit 1")

    again = CliRunner().invoke(app, command)
    assert again.exit_code == 2 and "pass --resume to finish it" in again.output
    resumed = CliRunner().invoke(app, [*command, "--resume"])
    assert resumed.exit_code == 3, resumed.output
    assert json.loads(resumed.stdout)["tasks"] == summary["tasks"]  # nothing ran again
    assert len(store.list_runs(100)) == 5


def test_a_killed_worker_gives_its_task_back_and_its_run_is_resumed(
    db: str, tmp_path: Path
) -> None:
    words = ["one", "two", "three", "four", "five"]
    gates = tmp_path / "gates"
    gates.mkdir()
    tasks = tasks_file(tmp_path, words, gate="three")
    process = subprocess.Popen(
        batch_command(tasks, agent_file(tmp_path), db, "--workers", "2"), cwd=tmp_path,
        env=environment(gates), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    worker = wait_for_ready(gates, process)
    os.kill(worker, signal.SIGKILL)
    (gates / "go").write_text("")
    out, err = process.communicate(timeout=WAIT_SECONDS)
    assert process.returncode == 0, err

    assert json.loads(out)["resumed"] == 1
    assert_each_task_ended_once(db, words)
    rows = {r["task_id"]: r for r in batch_rows(db)}
    assert {w: r["claims"] for w, r in rows.items()} == {w: 2 if w == "three" else 1
                                                         for w in words}
    kinds = [e.kind for e in Store(db).get_events(str(rows["three"]["run_id"]))]
    assert kinds.count("resumed") == 1


def test_a_batch_cut_off_finishes_with_resume_without_redoing_finished_tasks(
    db: str, tmp_path: Path
) -> None:
    words = ["red", "green", "blue", "cyan"]
    gates = tmp_path / "gates"
    gates.mkdir()
    tasks, agent = tasks_file(tmp_path, words, gate="blue"), agent_file(tmp_path)
    process = subprocess.Popen(
        batch_command(tasks, agent, db, "--workers", "1"), cwd=tmp_path, env=environment(gates),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    wait_for_ready(gates, process)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and its worker
    process.communicate()
    before = {r["task_id"]: r for r in batch_rows(db)}
    assert [before[w]["state"] for w in words] == ["done", "done", "claimed", "pending"]
    assert Store(db).get_run(str(before["blue"]["run_id"])).status == "running"

    (gates / "go").write_text("")
    done = subprocess.run(batch_command(tasks, agent, db, "--workers", "2", "--resume"),
                          cwd=tmp_path, env=environment(gates), capture_output=True, text=True,
                          timeout=WAIT_SECONDS)
    assert done.returncode == 0, done.stderr
    assert_each_task_ended_once(db, words)
    after = {r["task_id"]: r for r in batch_rows(db)}
    for word in ("red", "green"):  # finished before the cut: not touched again
        assert (after[word]["run_id"], after[word]["claims"], after[word]["updated_at"]) == (
            before[word]["run_id"], 1, before[word]["updated_at"])
    assert after["blue"]["run_id"] == before["blue"]["run_id"]  # resumed, not started again
    assert after["blue"]["claims"] == 2


@pytest.mark.parametrize(("line", "message"), [
    ('{"gaol": "x"}', r"line 1: field 'gaol': unknown field; the fields are goal, id, check"),
    ('{"goal": "x", "repeat": 0}', r"line 1: field 'repeat': Input should be greater than"),
    ('{"goal": "x"', r"line 1: not JSON"),
    ('["x"]', r"line 1: a task is a JSON object with 'goal'"),
    ('{"id": "a", "goal": "x"}\n{"id": "a", "goal": "y"}', r"task id 'a' is used twice"),
])
def test_bad_tasks_files_name_the_line_and_the_fix(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(UserError, match=message):
        load_tasks(path)


def test_pass_hat_k_is_the_chance_that_k_tries_all_pass() -> None:
    assert pass_hat_k(4, 4, 2) == 1.0
    assert pass_hat_k(4, 1, 2) == 0.0
    assert pass_hat_k(4, 2, 2) == pytest.approx(1 / 6)  # one pair of six passes both
