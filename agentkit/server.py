"""Serve an agentkit agent with the LangGraph server (`langgraph dev`, LangGraph Platform).

`langgraph.json` at the repository root names `make_graph`, a graph factory: the server calls it
and gets a one-node graph whose node runs the agent of the agent file `$AGENTKIT_AGENT` on the
input's goal, recording the run in agentkit's store (`$AGENTKIT_DB`) like `agentkit run`, so it
shows in `agentkit runs list` and can be resumed, replayed and reported from the CLI:

    AGENTKIT_AGENT=examples/agent.yaml AGENTKIT_DB=runs.db \
        langgraph dev --no-reload --allow-blocking

(`--allow-blocking`: the dev server refuses blocking calls, such as the store's SQLAlchemy calls,
even on the thread each run is given here.)

A client sends `{"goal": "..."}` (`langgraph_sdk`: `client.runs.wait(thread, "agentkit",
input={"goal": ...})`) and gets back the run's id, status, answer, tokens and cost.

The server's own thread state holds only that input and output. The run itself is checkpointed
by agentkit in its store, as every run is: the agent's graph is run in a context of its own, not
as a subgraph of the server's, so its checkpoints are the ones `agentkit resume` reads.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph

from agentkit.errors import UserError
from agentkit.schema import RunResult

__all__ = ["AGENT_ENV", "ServerInput", "ServerOutput", "make_graph"]

AGENT_ENV = "AGENTKIT_AGENT"


class ServerInput(TypedDict):
    goal: str


class ServerOutput(TypedDict, total=False):
    run_id: str
    status: str
    answer: str | None
    error: str | None
    tokens: int
    cost_usd: float


class _State(ServerInput, ServerOutput):
    pass


def _agent_file() -> str:
    path = os.environ.get(AGENT_ENV)
    if not path:
        raise UserError(f"the LangGraph server needs an agent file: set {AGENT_ENV}, e.g. "
                        f"{AGENT_ENV}=examples/agent.yaml langgraph dev")
    return path


def _run_sync(goal: str) -> RunResult:
    from agentkit.agent import Agent

    agent = Agent.from_file(_agent_file())  # the store of $AGENTKIT_DB, as for `agentkit run`
    return agent.run_sync(goal)


async def _run(state: _State) -> ServerOutput:
    # On a thread of its own with its own event loop: the store's calls block (SQLAlchemy), and
    # the server's loop must stay free. `run_in_executor` does not copy context variables, so
    # the agent's graph does not inherit the server run's config (it would become a subgraph
    # checkpointed in the server's namespace, not a run `agentkit resume` finds).
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(None, _run_sync, state["goal"])
    return {"run_id": result.run_id, "status": result.status, "answer": result.answer,
            "error": result.error, "tokens": result.usage.total_tokens,
            "cost_usd": result.usage.cost_usd}


def make_graph() -> Any:
    """The graph the LangGraph server serves: goal in, the recorded run's outcome out."""
    _agent_file()  # fail at load, with the fix, when the variable is missing
    builder = StateGraph(_State, input_schema=ServerInput, output_schema=ServerOutput)
    builder.add_node("run", _run)
    builder.add_edge(START, "run")
    builder.add_edge("run", END)
    return builder.compile()
