"""The proof of issue 22 part 4: a batch of 20 scripted tasks on a local Ray instance with 3
workers against PostgreSQL; one Ray worker process is killed in the middle of a run; every task
still ends exactly once, with one run whose records are complete."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.test_batch import (
    WAIT_SECONDS,
    agent_file,
    assert_each_task_ended_once,
    batch_command,
    batch_rows,
    environment,
    tasks_file,
    wait_for_ready,
)

pytest.importorskip("ray", reason="needs Ray: pip install 'agentkit[ray]'")

WORDS = [f"w{n:02d}" for n in range(1, 21)]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_twenty_tasks_on_ray_survive_a_killed_worker(db: str, tmp_path: Path) -> None:
    gates = tmp_path / "gates"
    gates.mkdir()
    tasks = tasks_file(tmp_path, WORDS, gate="w08")
    process = subprocess.Popen(
        batch_command(tasks, agent_file(tmp_path), db, "--ray", "local", "--workers", "3"),
        cwd=tmp_path, env=environment(gates), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    worker = wait_for_ready(gates, process)  # a Ray worker process, inside task w08's run
    rows = {r["task_id"]: r for r in batch_rows(db)}
    killed = f"{socket.gethostname()}:{worker}"
    assert rows["w08"]["worker"] == killed
    os.kill(worker, signal.SIGKILL)
    (gates / "go").write_text("")
    out, err = process.communicate(timeout=WAIT_SECONDS * 2)
    assert process.returncode == 0, err

    summary = json.loads(out)
    assert (summary["tries"], summary["passed"], summary["resumed"]) == (20, 20, 1)
    assert_each_task_ended_once(db, WORDS)
    rows = {r["task_id"]: r for r in batch_rows(db)}
    assert [w for w in WORDS if rows[w]["claims"] != 1] == ["w08"]
    assert rows["w08"]["worker"] != killed  # Ray retried it on another worker process
    workers = {str(r["worker"]) for r in rows.values()}
    assert len(workers) >= 3  # the tasks ran on several Ray workers (and the replacement)
