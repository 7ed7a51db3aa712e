"""The same long tool-calling run in each framework: N round trips (model call + tool call).

Every framework gets a fake model of its own kind that returns the same script: call
`add(a=i, b=1)` N times, then stop (agentkit: `finish` + finalizer; the others: a final text or
`final_answer`). The tool is the same trivial sync function everywhere.

agentkit runs two ways. The user path (`agentkit_user_run`) is the default `Agent`, unpatched:
the script plans steps of at most `USER_STEP_CALLS` calls, as a strategist would within
calibration's limits. The instrumented run (`agentkit_run`) is one subtask of N steps: it raises
calibration's step cap in-process for the run (`steps_per_subtask`, no source change) and sets
budgets so large that compaction never runs; `memory_checkpointer` swaps in LangGraph's
`InMemorySaver`. Both time the model client inside the run (`Clocks`) and raise unless the run
made exactly the expected model and tool calls.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("AGENTKIT_ALLOW_MODEL_REQUESTS", "0")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

GOAL = "Add numbers with the add tool until told to stop."


class ToolClock:
    """CPU time spent inside the tool body (the thread it runs on)."""

    cpu = 0.0
    calls = 0


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first integer.
        b: the second integer.
    """
    started = time.thread_time()
    value = a + b
    ToolClock.cpu += time.thread_time() - started
    ToolClock.calls += 1
    return value


def _measure_start() -> tuple[float, float]:
    ToolClock.cpu, ToolClock.calls = 0.0, 0
    return time.process_time(), time.perf_counter()


def _measure_end(start: tuple[float, float], steps: int, **extra: Any) -> dict[str, Any]:
    cpu, wall = time.process_time() - start[0], time.perf_counter() - start[1]
    return {"steps": steps, "cpu_s": cpu, "wall_s": wall, "tool_cpu_s": ToolClock.cpu,
            "tool_calls": ToolClock.calls, **extra}


# --- agentkit ---------------------------------------------------------------------------------


@contextlib.contextmanager
def steps_per_subtask(n: int) -> Iterator[None]:
    """Let one subtask take `n` steps: calibration caps a subtask at 12 steps at most.

    Wraps `calibration.effort_for` wherever it has been imported (by name, so the patch does not
    depend on calibration's private tables), raising `max_steps` and `budget_tokens`.
    """
    import agentkit.graph  # noqa: F401  (imports every module that holds effort_for)
    from agentkit.planning import calibration

    original = calibration.effort_for

    def effort_for(*args: Any, **kwargs: Any) -> Any:
        effort = original(*args, **kwargs)
        return effort.model_copy(update={"max_steps": max(effort.max_steps, n + 2),
                                         "budget_tokens": max(effort.budget_tokens, 10**9)})

    holders = [m for m in list(sys.modules.values())
               if getattr(m, "effort_for", None) is original]
    for module in holders:
        module.effort_for = effort_for
    try:
        yield
    finally:
        for module in holders:
            module.effort_for = original


@contextlib.contextmanager
def memory_checkpointer() -> Iterator[None]:
    """Run agentkit with LangGraph's InMemorySaver instead of its SQLite checkpointer."""
    from langgraph.checkpoint.memory import InMemorySaver

    import agentkit.agent

    @contextlib.asynccontextmanager
    async def _open(url: str) -> AsyncIterator[Any]:
        yield InMemorySaver()

    old = agentkit.agent.open_checkpointer
    agentkit.agent.open_checkpointer = _open  # type: ignore[assignment]
    try:
        yield
    finally:
        agentkit.agent.open_checkpointer = old  # type: ignore[assignment]


def chunks(n: int, subtasks: int) -> list[int]:
    """n tool calls spread over `subtasks` subtasks, as evenly as possible."""
    return [n // subtasks + (1 if i < n % subtasks else 0) for i in range(subtasks)]


def agentkit_script(n: int, subtasks: int = 1) -> Any:
    """A FunctionModel reply function: a plan of `subtasks` chained steps, n add calls spread
    over them (each subtask finishes after its share), and a short final answer."""
    from agentkit import Plan, PlanStep, ToolCall

    plan = Plan(strategy="Call add until told to stop.", steps=[
        PlanStep(id=f"s{i}", title=f"Add numbers, part {i}", difficulty="easy",
                 depends_on=[f"s{i - 1}"] if i > 1 else [])
        for i in range(1, subtasks + 1)
    ])
    shares = chunks(n, subtasks)
    count = part = 0  # the subtasks run one after another (each depends on the one before)

    def reply(request: Any) -> Any:
        nonlocal count, part
        if request.role == "strategist":
            return plan
        if request.role != "executor":
            return "done"
        done_here = sum(1 for m in request.messages if m["role"] == "tool")
        if count < n and done_here < shares[min(part, subtasks - 1)]:
            count += 1
            return ToolCall(name="add", arguments={"a": count, "b": 1}, id=f"call_{count}")
        part += 1
        return ToolCall(name="finish", arguments={"result": f"{count} additions"},
                        id="call_finish")

    return reply


# The user path: the steps a strategist would write for N additions, each within calibration.
USER_STEP_CALLS = 10


class UserPathScript:
    """The scripted model of the user-path run: N add calls as steps of at most
    `USER_STEP_CALLS` calls (`expected_calls`), planned `MAX_PLAN_STEPS` steps at a time and
    extended (`Plan.continues`) as a strategist of a long task would."""

    def __init__(self, n: int) -> None:
        self.shares = chunks(n, math.ceil(n / USER_STEP_CALLS))
        self.planned = 0
        self.strategist_calls = 0
        self.adds = 0
        self.done: dict[str, int] = {}  # add calls made per subtask

    def _window(self) -> tuple[list[Any], bool]:
        from agentkit import PlanStep
        from agentkit.schema import MAX_PLAN_STEPS

        count = min(MAX_PLAN_STEPS, len(self.shares) - self.planned)
        # Chained, as the peers' one loop is sequential (and one model call at a time keeps
        # the client's timer from counting two calls at once).
        first = self.planned
        steps = [PlanStep(id=f"s{i + 1}", title=f"Add numbers, part {i + 1}",
                          expected_calls=self.shares[i],
                          depends_on=[f"s{i}"] if i > first else [],
                          instructions=f"Call add {self.shares[i]} times, then finish.")
                 for i in range(first, first + count)]
        self.planned += count
        return steps, self.planned < len(self.shares)

    def __call__(self, request: Any) -> Any:
        from agentkit import Plan, ToolCall
        from agentkit.planning.horizon import PlanExtension

        if request.role == "strategist":
            self.strategist_calls += 1
            steps, more = self._window()
            if request.output_name == "PlanExtension":
                return PlanExtension(steps=steps, continues=more)
            return Plan(strategy="Call add in parts.", steps=steps, continues=more)
        if request.role != "executor":
            return "done"
        wanted = next(int(m.group(1)) for msg in request.messages if msg["role"] == "user"
                      if (m := re.search(r"Call add (\d+) times", str(msg["content"]))))
        key = request.subtask_id or "?"
        if self.done.get(key, 0) < wanted:
            self.done[key] = self.done.get(key, 0) + 1
            self.adds += 1
            return ToolCall(name="add", arguments={"a": self.adds, "b": 1},
                            id=f"call_{self.adds}")
        return ToolCall(name="finish", arguments={"result": f"{wanted} additions"},
                        id=f"finish_{key}")

    def expected(self) -> dict[str, int]:
        """Model and tool calls the run must make: every add and a finish per step, the
        strategist once per plan window, the finalizer once."""
        steps = len(self.shares)
        from agentkit.schema import MAX_PLAN_STEPS

        windows = math.ceil(steps / MAX_PLAN_STEPS)
        return {"model_calls": self.adds_expected + steps + windows + 1,
                "counted_tool_calls": self.adds_expected,
                "recorded_tool_calls": self.adds_expected + steps,
                "strategist_calls": windows}

    @property
    def adds_expected(self) -> int:
        return sum(self.shares)


class Clocks:
    """CPU time spent inside the model client during a real run (not a replay).

    `client`: agentkit's `acompletion` as `ModelClient.complete` awaits it (agentkit's LiteLLM
    wrapper, LiteLLM, the scripted provider); `litellm`: `litellm.acompletion` inside it;
    `fake`: the scripted reply function itself. Process time around an await also counts other
    tasks that run meanwhile; in these runs one model call is in flight at a time, so those are
    LiteLLM's own background tasks.
    """

    client = litellm = fake = 0.0
    calls = 0

    @classmethod
    def reset(cls) -> None:
        cls.client = cls.litellm = cls.fake = 0.0
        cls.calls = 0


def timed_reply(reply: Any) -> Any:
    """`reply` with its CPU time added to `Clocks.fake`."""

    def timed(request: Any) -> Any:
        started = time.process_time()
        try:
            return reply(request)
        finally:
            Clocks.fake += time.process_time() - started

    return timed


def _timed(call: Any, clock: str) -> Any:
    """`call` (a coroutine function) adding its CPU time to `Clocks.<clock>`."""

    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return await call(*args, **kwargs)
        finally:
            setattr(Clocks, clock, getattr(Clocks, clock) + time.process_time() - started)
            Clocks.calls += clock == "client"

    return timed


@contextlib.contextmanager
def timed_model_client() -> Iterator[None]:
    """Time agentkit's `acompletion` (as imported by the client) and `litellm.acompletion`."""
    import litellm

    from agentkit.models import client as client_module

    original = getattr(client_module, "acompletion", None)
    if original is None:
        raise RuntimeError(
            "bench/_frameworks.py times agentkit.models.client.acompletion, which is gone; "
            "point timed_model_client at the function ModelClient.complete now awaits")
    inner = litellm.acompletion
    client_module.acompletion = _timed(original, "client")  # type: ignore[assignment]
    litellm.acompletion = _timed(inner, "litellm")
    try:
        yield
    finally:
        client_module.acompletion = original  # type: ignore[assignment]
        litellm.acompletion = inner


def agentkit_agent(n: int, workdir: Path, db: Path, reply: Any = None) -> Any:
    from agentkit import Agent, Budget, FunctionModel, Tool

    model = FunctionModel(reply or agentkit_script(n))
    return Agent(
        model, tools=[Tool(add)], db=db, workspace=workdir,
        budget=Budget(max_model_calls=n + 30, max_tool_calls=n + 30, max_tokens=None,
                      subtask_tokens=10**9),
    )


def _clock_fields() -> dict[str, Any]:
    return {"client_cpu_s": Clocks.client, "litellm_cpu_s": Clocks.litellm,
            "fake_cpu_s": Clocks.fake, "client_calls": Clocks.calls}


async def agentkit_run(n: int, workdir: Path, *, checkpointer: str = "sqlite",
                       subtasks: int = 1, timed: bool = True) -> dict[str, Any]:
    """One instrumented agentkit run: n executor round trips over `subtasks` chained subtasks,
    calibration's step cap raised and compaction off (huge budgets), everything recorded in
    `workdir/runs.db`, the model client timed."""
    db = workdir / "runs.db"
    agent = agentkit_agent(n, workdir, db, timed_reply(agentkit_script(n, subtasks)))
    patch = memory_checkpointer() if checkpointer == "memory" else contextlib.nullcontext()
    clock = timed_model_client() if timed else contextlib.nullcontext()
    Clocks.reset()
    with steps_per_subtask(max(chunks(n, subtasks))), patch, clock:
        start = _measure_start()
        result = await agent.run(GOAL)
        out = _measure_end(start, n, status=result.status, model_calls=result.usage.model_calls,
                           # every recorded call, `finish` too (the budget leaves it out)
                           recorded_tool_calls=len(agent.store.get_tool_calls(result.run_id)),
                           db=str(db), subtasks=subtasks, **_clock_fields())
    agent.store.close()
    if result.status != "completed":
        raise RuntimeError(f"agentkit run ended {result.status!r}: {result.error}")
    expected = {"model_calls": n + subtasks + 2, "recorded_tool_calls": n + subtasks}
    _check_counts("agentkit", out, expected)
    return out


async def agentkit_user_run(n: int, workdir: Path) -> dict[str, Any]:
    """The user path: the default `Agent` (default calibration, per-subtask budgets,
    compaction), nothing patched but the model client's timers; only the run-wide limits are
    lifted, as a run of n steps needs (the defaults stop it at 200 model calls)."""
    from agentkit import Agent, Budget, FunctionModel, Tool

    script = UserPathScript(n)
    db = workdir / "runs.db"
    agent = Agent(FunctionModel(timed_reply(script)), tools=[Tool(add)], db=db,
                  workspace=workdir,
                  budget=Budget(max_model_calls=None, max_tool_calls=None, max_tokens=None))
    Clocks.reset()
    with timed_model_client():
        start = _measure_start()
        result = await agent.run(GOAL)
        out = _measure_end(start, n, status=result.status, model_calls=result.usage.model_calls,
                           recorded_tool_calls=len(agent.store.get_tool_calls(result.run_id)),
                           counted_tool_calls=result.usage.tool_calls, db=str(db),
                           subtasks=len(result.subtasks), **_clock_fields())
    agent.store.close()
    if result.status != "completed":
        raise RuntimeError(f"agentkit user-path run ended {result.status!r}: {result.error}")
    _check_counts("agentkit user path", {**out, "strategist_calls": script.strategist_calls},
                  script.expected())
    return out


def _check_counts(what: str, out: dict[str, Any], expected: dict[str, int]) -> None:
    """Raise unless the run made exactly the expected calls (and n tool-body calls)."""
    expected = {**expected, "tool_calls": out["steps"]}  # `add` ran once per round trip
    wrong = {k: (out[k], v) for k, v in expected.items() if out[k] != v}
    if wrong:
        raise RuntimeError(f"{what} run of {out['steps']} steps made the wrong number of calls "
                           f"(measured, expected): {wrong}")


# --- raw LangGraph prebuilt ReAct agent --------------------------------------------------------


def langchain_fake_model(n: int) -> Any:
    """A LangChain chat model returning n add tool calls, then a final text."""
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    class ScriptedChatModel(BaseChatModel):
        steps: int
        count: int = 0

        @property
        def _llm_type(self) -> str:
            return "scripted"

        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            return self

        def _next(self) -> ChatResult:
            if self.count < self.steps:
                self.count += 1
                message = AIMessage(content="", tool_calls=[{
                    "name": "add", "args": {"a": self.count, "b": 1},
                    "id": f"call_{self.count}", "type": "tool_call"}])
            else:
                message = AIMessage(content="done")
            return ChatResult(generations=[ChatGeneration(message=message)])

        def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None,
                      **kwargs: Any) -> ChatResult:
            return self._next()

        async def _agenerate(self, messages: Any, stop: Any = None, run_manager: Any = None,
                             **kwargs: Any) -> ChatResult:
            return self._next()

    return ScriptedChatModel(steps=n)


def create_react_agent(model: Any, tools: list[Any], checkpointer: Any) -> Any:
    """`langgraph.prebuilt.create_react_agent` (deprecated in langgraph 1.x, still shipped)."""
    from langgraph.prebuilt import create_react_agent as create

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LangGraphDeprecatedSinceV10: moved to langchain.agents
        return create(model, tools, checkpointer=checkpointer)


async def langgraph_run(n: int, workdir: Path, *, checkpointer: str | None) -> dict[str, Any]:
    """One raw LangGraph ReAct run; checkpointer None or 'sqlite' (agentkit's own saver setup)."""
    from agentkit.store import open_checkpointer

    db = workdir / "langgraph.db"
    async with contextlib.AsyncExitStack() as stack:
        saver = None
        if checkpointer == "sqlite":
            saver = await stack.enter_async_context(open_checkpointer(f"sqlite:///{db}"))
        graph = create_react_agent(langchain_fake_model(n), [add], saver)
        config = {"configurable": {"thread_id": "bench"}, "recursion_limit": 2 * n + 10}
        start = _measure_start()
        state = await graph.ainvoke({"messages": [("user", GOAL)]}, config)
        out = _measure_end(start, n, messages=len(state["messages"]),
                           db=str(db) if saver else None)
    tool_messages = sum(1 for m in state["messages"] if m.type == "tool")
    if tool_messages != n:
        raise RuntimeError(f"LangGraph run made {tool_messages} tool calls, expected {n}")
    return out


# --- peers with their own fake models, no persistence ------------------------------------------


def peer_available(name: str) -> bool:
    import importlib.util

    module = {"pydantic-ai": "pydantic_ai", "smolagents": "smolagents"}[name]
    return importlib.util.find_spec(module) is not None


async def pydantic_ai_run(n: int, workdir: Path) -> dict[str, Any]:
    from pydantic_ai import Agent as PydanticAgent
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel
    from pydantic_ai.usage import UsageLimits

    count = 0

    async def reply(messages: list[Any], info: AgentInfo) -> ModelResponse:
        nonlocal count
        if count < n:
            count += 1
            return ModelResponse(parts=[ToolCallPart("add", {"a": count, "b": 1},
                                                     tool_call_id=f"call_{count}")])
        return ModelResponse(parts=[TextPart("done")])

    agent = PydanticAgent(FunctionModel(reply), tools=[add])
    start = _measure_start()
    result = await agent.run(GOAL, usage_limits=UsageLimits(request_limit=None))
    return _measure_end(start, n, messages=len(result.all_messages()))


async def smolagents_run(n: int, workdir: Path) -> dict[str, Any]:
    from smolagents import ToolCallingAgent
    from smolagents import tool as smol_tool
    from smolagents.models import (
        ChatMessage,
        ChatMessageToolCall,
        ChatMessageToolCallFunction,
        MessageRole,
        Model,
    )
    from smolagents.monitoring import LogLevel

    class ScriptedModel(Model):
        def __init__(self) -> None:
            super().__init__(model_id="scripted")
            self.count = 0

        def generate(self, messages: Any, stop_sequences: Any = None, response_format: Any = None,
                     tools_to_call_from: Any = None, **kwargs: Any) -> ChatMessage:
            if self.count < n:
                self.count += 1
                name, args = "add", {"a": self.count, "b": 1}
            else:
                name, args = "final_answer", {"answer": "done"}
            call = ChatMessageToolCall(
                id=f"call_{self.count}", type="function",
                function=ChatMessageToolCallFunction(name=name, arguments=args))
            return ChatMessage(role=MessageRole.ASSISTANT, content="", tool_calls=[call])

    agent = ToolCallingAgent(tools=[smol_tool(add)], model=ScriptedModel(), max_steps=n + 5,
                             verbosity_level=LogLevel.OFF)
    start = _measure_start()
    answer = agent.run(GOAL)  # smolagents is synchronous
    out = _measure_end(start, n, answer=str(answer))
    return out
