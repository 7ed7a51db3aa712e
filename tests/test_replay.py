"""Exact replay: zero model calls, no tool executed, the same event log — even in a new process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentkit import Agent, FunctionModel, load_tools
from agentkit.cli import event_log
from agentkit.store import Store
from agentkit.store.journal import ReplayDivergence
from tests.scripts import hello_agent, hello_primes

pytestmark = pytest.mark.both_stores

ROOT = Path(__file__).resolve().parent.parent
GOAL = "Create hello.py that prints the first 10 primes, then run it"


def _recorded(db: str, workspace: Path) -> str:
    agent = hello_agent(db, workspace)
    return agent.run_sync(GOAL).run_id


def test_replay_makes_no_model_call_and_repeats_the_event_log(db: str, workspace: Path) -> None:
    original = _recorded(db, workspace)
    (workspace / "hello.py").unlink()
    silent = FunctionModel(lambda request: pytest.fail("replay called the model"))
    agent = hello_agent(db, workspace, silent)

    result = agent.replay_sync(original)

    store = Store(db)
    assert result.status == "completed"
    assert result.answer == store.get_run(original).answer
    assert silent.requests == []
    assert not (workspace / "hello.py").exists()  # no tool ran: results came from the record
    assert event_log(store, result.run_id) == event_log(store, original)
    assert store.get_run(result.run_id).parent_run_id == original


def test_replay_in_a_fresh_process_is_byte_identical(db: str, workspace: Path) -> None:
    original = _recorded(db, workspace)
    env = {**os.environ, "PYTHONHASHSEED": "12345", "AGENTKIT_ALLOW_MODEL_REQUESTS": "0"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentkit.cli",
            "replay",
            original,
            "--db",
            db,
            "--json",
            "--tools",
            "files",
            "--tools",
            "shell",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["event_log_identical"] is True
    store = Store(db)
    replayed = json.dumps(event_log(store, summary["replay"]), sort_keys=True)
    assert replayed.encode() == json.dumps(event_log(store, original), sort_keys=True).encode()


def test_replay_reports_the_first_divergence(db: str, workspace: Path) -> None:
    original = _recorded(db, workspace)
    # Different tools change the executor's request: the record has no such request.
    agent = Agent(
        FunctionModel(hello_primes), tools=[load_tools("files")], db=db, workspace=workspace
    )
    with pytest.raises(
        ReplayDivergence,
        match=r"replay diverged at model call 1 \(role 'strategist', subtask None\)",
    ):
        agent.replay_sync(original)
