"""The LangGraph server: `langgraph dev` serves the agent of an agent file (langgraph.json,
agentkit/server.py); a run started with the `langgraph_sdk` client is an agentkit run in the
store, listed by `agentkit runs list` and replayed by `agentkit replay`."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit import Store
from agentkit.cli import app

langgraph_sdk = pytest.importorskip("langgraph_sdk", reason="needs the server extra")

ROOT = Path(__file__).resolve().parent.parent
LANGGRAPH = Path(sys.executable).parent / "langgraph"
MODEL = ROOT / "tests" / "batch_models.py"
START_SECONDS = 180


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_until_up(client: object, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()[-3000:]
        try:
            await client.assistants.search()  # type: ignore[attr-defined]
            return
        except Exception:  # not listening yet
            await asyncio.sleep(0.5)
    raise AssertionError(f"langgraph dev did not start: {log.read_text()[-3000:]}")


async def _run_goal(url: str, goal: str, server: subprocess.Popen[bytes], log: Path) -> dict:
    async with langgraph_sdk.get_client(url=url) as client:
        await _wait_until_up(client, server, log)
        thread = await client.threads.create()
        return await client.runs.wait(thread["thread_id"], "agentkit", input={"goal": goal})


@pytest.mark.skipif(not LANGGRAPH.exists(), reason="needs the server extra (langgraph-cli)")
def test_langgraph_dev_serves_an_agent_file_and_records_its_runs(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    agent = tmp_path / "agent.yaml"
    agent.write_text(f"model: {MODEL}:answer\ntools: [files]\nworkspace: {workspace}\n")
    db, port, log = str(tmp_path / "runs.db"), _free_port(), tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AGENTKIT_AGENT": str(agent),
           "AGENTKIT_DB": db, "AGENTKIT_ALLOW_MODEL_REQUESTS": "0",
           "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LANGSMITH_TRACING": "false"}
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(LANGGRAPH), "dev", "--no-browser", "--no-reload", "--allow-blocking",
             "--port", str(port), "--config", str(ROOT / "langgraph.json")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # .langgraph_api: gitignored
        try:
            output = asyncio.run(_run_goal(f"http://127.0.0.1:{port}",
                                           "Write served to answer.txt", server, log))
        finally:
            server.terminate()
            server.wait(timeout=30)

    assert (output["status"], output["answer"]) == ("completed", "answer.txt holds served")
    assert output["tokens"] > 0
    assert (workspace / "answer.txt").read_text() == "served"
    store = Store(db)
    run = store.get_run(output["run_id"])
    assert (run.goal, run.status) == ("Write served to answer.txt", "completed")
    assert store.get_agent(run.id) is not None  # the agent file is recorded with the run
    listed = CliRunner().invoke(app, ["runs", "list", "--db", db, "--json"])
    assert [r["id"] for r in json.loads(listed.stdout)] == [run.id]
    replayed = CliRunner().invoke(app, ["replay", run.id, "--db", db])
    assert replayed.exit_code == 0 and "event log identical" in replayed.output, replayed.output
