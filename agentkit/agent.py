"""`Agent`: the public entry point. Build one with a model and tools; `await agent.run(goal)`."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator, Coroutine, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit import tracing
from agentkit.errors import ProviderUnavailable, UserError
from agentkit.events import EventListener
from agentkit.execution import toolbox
from agentkit.models import DEFAULT_MODEL, ModelClient, check_model
from agentkit.models.scripted import ScriptedBase
from agentkit.runtime import RunContext, RunMode
from agentkit.sandbox import SANDBOX_MODES, SandboxMode
from agentkit.schema import Budget, Plan, RunResult, RunStatus
from agentkit.store import Store, open_checkpointer
from agentkit.streaming import RunEvent, stream_run
from agentkit.tools import Tool, Toolset

if TYPE_CHECKING:
    from agentkit.agent_file import AgentFile
    from agentkit.store.journal import Journal

ModelLike = str | ScriptedBase


def _model_name(model: ModelLike) -> str:
    return model.model_name if isinstance(model, ScriptedBase) else model


class Agent:
    """A planning agent: strategist, decomposer, executors and monitor over LangGraph.

    Args:
        model: a LiteLLM model string (`provider/model`), or a scripted model; default is the
            embedded offline model `local/smollm2`.
        tools: tools, functions or toolsets the executors may call.
        db: database file path or URL; default `$AGENTKIT_DB` or `~/.agentkit/agentkit.db`.
        workspace: the folder tools work in; it must exist.
        budget: limits of each run.
        roles: per-role models, e.g. `{"finalizer": "openai/gpt-4.1-mini"}`.
        aliases: model tiers such as `{"fast": ..., "strong": ...}` used by calibration.
        max_concurrency: how many subtasks may run at once.
        max_prompt_tokens: a cap on every executor prompt, on top of the subtask budget and the
            model's context window; the context manager compacts history to stay under it.
        sandbox: how the shell and python tools confine their programs: "bwrap" (bubblewrap;
            they refuse to run where it is missing) or "none" (unconfined; recorded with the run).
        sandbox_network: whether sandboxed programs may use the network.
        servers: tool servers started for each run and stopped after it, such as
            `agentkit.mcp.MCPToolset(command=...)` (not entered: the agent enters it).
        needs_approval: names of tools whose calls need approval.
        reasoning_efforts: a reasoning effort per tier of `aliases`, e.g. `{"strong": "high"}`.
        small: the model is small (say a 1–8B model through Ollama): small-model mode, as for
            the embedded `local/...` models, which always get it — compact prompts with a worked
            example, only the tools a subtask needs, no model-written final answer
            (`agentkit.execution.small`).
        calibrate_run: whether a cheap classifier call first decides if one executor can do the
            whole goal, which then runs as a plan of one step (`agentkit.planning.scope`);
            None (the default): only when the strategist's model is small.
    """

    def __init__(
        self,
        model: ModelLike = DEFAULT_MODEL,
        *,
        tools: Iterable[Tool | Toolset | Any] = (),
        db: str | Path | None = None,
        workspace: str | Path = ".",
        budget: Budget | None = None,
        roles: Mapping[str, ModelLike] | None = None,
        aliases: Mapping[str, ModelLike] | None = None,
        max_concurrency: int = 4,
        max_prompt_tokens: int | None = None,
        sandbox: SandboxMode = "bwrap",
        sandbox_network: bool = False,
        servers: Iterable[contextlib.AbstractAsyncContextManager[Toolset]] = (),
        needs_approval: Iterable[str] = (),
        reasoning_efforts: Mapping[str, str] | None = None,
        small: bool = False,
        calibrate_run: bool | None = None,
    ) -> None:
        if sandbox not in SANDBOX_MODES:
            raise UserError(
                f"sandbox {sandbox!r} is not one of {', '.join(map(repr, SANDBOX_MODES))}; use "
                "'bwrap' (the default) or 'none' to run shell and python tools unconfined"
            )
        self.model = _model_name(model)
        self.roles = {role: _model_name(m) for role, m in (roles or {}).items()}
        self.aliases = {name: _model_name(m) for name, m in (aliases or {}).items()}
        # The scripted models this agent was given live exactly as long as it does: the registry
        # LiteLLM finds them through holds weak references only.
        self._scripted = [
            m for m in (model, *(roles or {}).values(), *(aliases or {}).values())
            if isinstance(m, ScriptedBase)
        ]
        self.tools = Toolset()
        for item in tools:
            self.tools.add(item)
        toolbox.check_names(self.tools)
        self.db = db
        self.workspace = Path(workspace)
        self.budget = budget or Budget()
        self.max_concurrency = max_concurrency
        self.max_prompt_tokens = max_prompt_tokens
        self.sandbox: SandboxMode = sandbox
        self.sandbox_network = sandbox_network
        self.servers = list(servers)
        self.needs_approval = list(needs_approval)
        self.reasoning_efforts = dict(reasoning_efforts or {})
        self.small = small
        self.calibrate_run = calibrate_run
        # The agent file this agent was built from (`from_file`), recorded with its runs.
        self.spec: AgentFile | None = None
        self._store: Store | None = None

    @classmethod
    def from_file(
        cls, path: str | Path, *, db: str | Path | None = None, workspace: str | Path | None = None
    ) -> Agent:
        """The agent an agent file declares (see `agentkit.agent_file`).

        Args:
            path: a YAML or JSON agent file.
            db: the run database [default: `$AGENTKIT_DB` or `~/.agentkit/agentkit.db`].
            workspace: the folder tools work in, over the file's `workspace` [default: '.'].
        """
        from agentkit import agent_file

        return cls.from_spec(agent_file.load(path), db=db, workspace=workspace)

    @classmethod
    def from_spec(
        cls, spec: AgentFile, *, db: str | Path | None = None,
        workspace: str | Path | None = None,
    ) -> Agent:
        """The agent of an agent file's content (relative paths already resolved)."""
        from agentkit.agent_build import parts

        found = parts(spec)
        agent = cls(
            found.model, tools=found.tools, db=db,
            workspace=workspace or spec.workspace or ".",
            budget=Budget.model_validate(spec.budget.model_dump()), roles=found.roles,
            aliases=found.aliases, max_concurrency=spec.max_concurrency,
            max_prompt_tokens=spec.context.max_prompt_tokens, sandbox=spec.sandbox.mode,
            sandbox_network=spec.sandbox.network, servers=found.servers,
            needs_approval=spec.needs_approval, reasoning_efforts=found.efforts,
            small=spec.small, calibrate_run=spec.calibrate_run,
        )
        agent.spec = spec
        return agent

    def agent_file(self) -> AgentFile:
        """This agent as an agent file's content, as its runs record it.

        Built from an agent file, the file's references (model factories, tool files, MCP
        servers) are kept; otherwise models are their names and `tools` is None (given in
        Python). Budget, context, concurrency and sandbox are this agent's current settings.
        """
        from agentkit.agent_file import AgentFile, BudgetSpec, ContextSpec, SandboxSpec

        base = self.spec or AgentFile.model_validate({
            "model": self.model, "roles": self.roles, "tools": None,
            "aliases": {n: {"model": m, "reasoning_effort": self.reasoning_efforts[n]}
                        if n in self.reasoning_efforts else m for n, m in self.aliases.items()},
            "needs_approval": self.needs_approval,
        })
        return base.model_copy(update={
            "budget": BudgetSpec.model_validate(self.budget.model_dump()),
            "context": ContextSpec(max_prompt_tokens=self.max_prompt_tokens),
            "max_concurrency": self.max_concurrency,
            "sandbox": SandboxSpec(mode=self.sandbox, network=self.sandbox_network),
            "workspace": str(self.workspace.resolve()),
            "small": self.small, "calibrate_run": self.calibrate_run,
        })

    async def all_tools(self) -> Toolset:
        """The tools a run of this agent gets: its own and its servers' (each server started,
        asked for its tools, and stopped), with `needs_approval` marked."""
        async with self._connected() as tools:
            return tools

    @contextlib.asynccontextmanager
    async def _connected(self) -> AsyncIterator[Toolset]:
        """The agent's tools and its servers' tools, the servers running for the block, the
        tools of `needs_approval` marked (copies: a pack's tools are shared)."""
        async with contextlib.AsyncExitStack() as stack:
            found = Toolset([self.tools])
            for server in self.servers:
                found.add(await stack.enter_async_context(server))
            toolbox.check_names(found)
            unknown = [n for n in self.needs_approval if n not in found]
            if unknown:
                raise UserError(
                    f"needs_approval names {', '.join(map(repr, unknown))}, which the agent does "
                    f"not have; its tools: {', '.join(found.names) or 'none'}"
                )
            yield Toolset([_approved(t) if t.name in self.needs_approval else t for t in found])

    def _record_agent(self, run_id: str, tools: Toolset) -> None:
        from agentkit.agent_build import tool_prints

        self.store.set_agent(run_id, self.agent_file().record(), tool_prints(tools))

    def _check_tools(self, run_id: str, tools: Toolset) -> None:
        """Refuse to go on with other tools than run `run_id` had (nothing is written)."""
        from agentkit.agent_build import check_tools

        recorded = self.store.get_agent(run_id)
        if recorded is not None:
            check_tools(run_id, recorded.tools, tools)

    @property
    def store(self) -> Store:
        """The run database (opened at first use)."""
        if self._store is None:
            self._store = Store(None if self.db is None else str(self.db))
        return self._store

    def _check(self, goal: str) -> None:
        if not goal or not goal.strip():
            raise UserError("the goal is empty; say what the agent should do, e.g. "
                            "agentkit run \"Create hello.py that prints hello\"")
        if not self.workspace.is_dir():
            raise UserError(
                f"workspace {str(self.workspace)!r} does not exist; create it "
                f"(mkdir -p {self.workspace}) or pass --workspace to an existing folder"
            )
        for model in {self.model, *self.roles.values(), *self.aliases.values()}:
            check_model(model)

    async def run(
        self, goal: str, *, plan: Plan | None = None, on_event: EventListener | None = None,
        run_id: str | None = None,
    ) -> RunResult:
        """Run the agent on `goal` to its end; every step is recorded in the database.

        Args:
            run_id: the new run's id, chosen by the caller (`agentkit.store.new_run_id()`) so it
                can record it before the run starts, as `agentkit batch` does; default a fresh one.
        """
        self._check(goal)
        store = self.store
        async with self._connected() as tools:
            run_id = store.create_run(
                goal=goal.strip(), model=self.model, workspace=str(self.workspace.resolve()),
                settings=self._settings(tools), run_id=run_id,
            )
            self._record_agent(run_id, tools)
            await self._drive(self._context(run_id, goal.strip(), tools, plan=plan,
                                            on_event=on_event))
        return self.result(run_id)

    async def resume(self, run_id: str, *, on_event: EventListener | None = None) -> RunResult:
        """Continue a run whose process died, from its last LangGraph checkpoint.

        Finished subtasks are not redone: their results are in the checkpoint and the database.
        The agent must be built with the run's tools: other tools (missing, added, or with a
        changed schema) raise `UserError` before anything is written. A run that stopped on its
        budget (`budget_exhausted`) goes on when this agent's budget is not spent.
        """
        store = self.store
        run = store.get_run(run_id)
        if run.status not in ("running", "interrupted", "budget_exhausted"):
            raise UserError(
                f"run {run.id!r} already ended with status {run.status!r}; only a run that was "
                "cut off (status 'running' or 'interrupted') or stopped on its budget can be "
                "resumed"
            )
        if not self.workspace.is_dir():
            raise UserError(f"workspace {str(self.workspace)!r} does not exist")
        for model in {self.model, *self.roles.values(), *self.aliases.values()}:
            check_model(model)
        reopen = run.status == "budget_exhausted"
        if reopen:
            self._check_budget_left(run.id)
        from agentkit.store.journal import Journal

        async with self._connected() as tools:
            self._check_tools(run.id, tools)
            journal = Journal.for_run(store, run.id)  # before "resumed" is appended
            ctx = self._context(run.id, run.goal, tools, mode="resume", journal=journal,
                                on_event=on_event)
            if reopen:
                store.finish_run(run.id, "running", answer=None)
            if reopen or self._budget_changed(run.id):  # it goes on under this budget
                self._record_agent(run.id, tools)
            ctx.emit("resumed", {"status": run.status})
            await self._drive(ctx, reopen=reopen)
        return self.result(run.id)

    def _budget_changed(self, run_id: str) -> bool:
        recorded = self.store.get_agent(run_id)
        return recorded is not None and Budget.model_validate(
            recorded.spec.get("budget") or {}) != self.budget

    def _check_budget_left(self, run_id: str) -> None:
        spent = self.budget.exhausted(self.store.usage(run_id), 0.0)
        if spent is not None:
            kind, message = spent
            flag = {"tokens": "--max-tokens", "cost": "--max-cost-usd", "model_calls":
                    "--max-model-calls", "tool_calls": "--max-tool-calls"}.get(kind, kind)
            raise UserError(
                f"run {run_id!r} stopped on its budget and this budget is spent too ({message}); "
                f"resume it with a larger one, e.g. agentkit resume {run_id} {flag} N"
            )

    async def replay(self, run_id: str) -> RunResult:
        """Re-run a recorded run from its record alone: zero model calls, no tool executed.

        The replay is a new run (its parent is `run_id`) whose event log must equal the
        original's; the first request missing from the record raises `ReplayDivergence`. It
        is built from the run's record (model names, roles, budget, context and concurrency
        settings), not from this agent's settings, which it leaves as they are; only the tools
        are this agent's, and they must be the run's.
        """
        from agentkit.replay import replay_run

        async with self._connected() as tools:  # MCP servers too: the requests list them
            new_id = await replay_run(self.store, run_id, tools)
        if (recorded := self.store.get_agent(run_id)) is not None:
            self.store.set_agent(new_id, recorded.spec, recorded.tools)
        return self.result(new_id)

    def stream(
        self, goal: str, *, plan: Plan | None = None
    ) -> AsyncIterator[RunEvent | RunResult]:
        """`run`, as an async stream of the run's events with the `RunResult` last.

        `async for item in agent.stream(goal)`: see `agentkit.streaming`. Leaving the loop early
        stops the run; it is recorded `interrupted` and can be resumed.
        """
        return stream_run(lambda listen: self.run(goal, plan=plan, on_event=listen))

    def stream_resume(self, run_id: str) -> AsyncIterator[RunEvent | RunResult]:
        """`resume`, as an async stream of the run's new events with the `RunResult` last."""
        return stream_run(lambda listen: self.resume(run_id, on_event=listen))

    def _settings(self, tools: Toolset) -> dict[str, Any]:
        return {"roles": self.roles, "aliases": self.aliases, "budget": self.budget.model_dump(),
                "tools": tools.names, "max_concurrency": self.max_concurrency,
                "max_prompt_tokens": self.max_prompt_tokens, "sandbox": self.sandbox,
                "sandbox_network": self.sandbox_network,
                "reasoning_efforts": self.reasoning_efforts, "small": self.small,
                "calibrate_run": self.calibrate_run}

    def run_sync(self, goal: str, **kwargs: Any) -> RunResult:
        """`run` for code without an event loop."""
        return _sync(self.run(goal, **kwargs), "run_sync", "run")

    async def fork(
        self, run_id: str, version: int, *, on_event: EventListener | None = None
    ) -> RunResult:
        """Start a new run from plan `version` of a run and the work done up to that version.

        Subtasks finished under versions up to `version` are carried over as done (not redone);
        the new run uses this agent's model, tools and budget.
        """
        store = self.store
        original = store.get_run(run_id)
        found = store.get_plan(original.id, version)
        if found is None:
            known = [v.version for v in store.plan_versions(original.id)]
            raise UserError(f"run {original.id!r} has no plan version {version}; it has {known}")
        self._check(original.goal)
        async with self._connected() as tools:
            new_id = store.create_run(
                goal=original.goal, model=self.model, workspace=str(self.workspace.resolve()),
                settings={**self._settings(tools), "fork_of": original.id,
                          "fork_version": version},
                parent_run_id=original.id,
            )
            self._record_agent(new_id, tools)
            carried = [
                s.model_copy(update={"plan_version": 0})
                for s in store.get_subtasks(original.id)
                if s.status == "done" and s.plan_version <= version
            ]
            store.save_subtasks(new_id, carried)
            ctx = self._context(new_id, original.goal, tools, plan=found.plan,
                                plan_trigger="fork", on_event=on_event)
            ctx.emit("forked", {"run": original.id, "version": version,
                                "carried": [s.id for s in carried]})
            await self._drive(ctx)
        return self.result(new_id)

    def fork_sync(self, run_id: str, version: int) -> RunResult:
        """`fork` for code without an event loop."""
        return _sync(self.fork(run_id, version), "fork_sync", "fork")

    async def approve(
        self, run_id: str, decision: bool | dict[str, bool] = True,
        *, on_event: EventListener | None = None,
    ) -> RunResult:
        """Allow or deny the tool calls a paused run waits on, and continue it.

        Args:
            run_id: a run with status `awaiting_approval`.
            decision: one answer for every pending call, or one per approval id
                (`RunResult.approvals[i]["id"]`). A denial goes back to the model as the result.
        """
        from agentkit.store.journal import Journal

        store = self.store
        run = store.get_run(run_id)
        if run.status != "awaiting_approval":
            raise UserError(f"run {run.id!r} is {run.status!r}, not awaiting approval")
        pending = self.result(run.id).approvals
        if isinstance(decision, bool):
            decisions = {item["id"]: decision for item in pending}
        else:
            unknown = set(decision) - {item["id"] for item in pending}
            if unknown:
                raise UserError(f"no pending approval {sorted(unknown)!r} in run {run.id!r}")
            decisions = {item["id"]: bool(decision.get(item["id"], False)) for item in pending}
        async with self._connected() as tools:
            self._check_tools(run.id, tools)
            journal = Journal.for_run(store, run.id)
            ctx = self._context(run.id, run.goal, tools, mode="resume", journal=journal,
                                on_event=on_event)
            for approval_id, allowed in decisions.items():
                ctx.emit("approval_given", {"id": approval_id, "allowed": allowed})
            store.finish_run(run.id, "running", answer=None)
            await self._drive(ctx, decisions=decisions)
        return self.result(run.id)

    def approve_sync(self, run_id: str, decision: bool | dict[str, bool] = True) -> RunResult:
        """`approve` for code without an event loop."""
        return _sync(self.approve(run_id, decision), "approve_sync", "approve")

    def replay_sync(self, run_id: str) -> RunResult:
        """`replay` for code without an event loop."""
        return _sync(self.replay(run_id), "replay_sync", "replay")

    def run_sync_resume(self, run_id: str) -> RunResult:
        """`resume` for code without an event loop."""
        return _sync(self.resume(run_id), "run_sync_resume", "resume")

    def _context(
        self, run_id: str, goal: str, tools: Toolset, *, mode: RunMode = "fresh",
        journal: Journal | None = None,
        plan: Plan | None = None, plan_trigger: str = "plan_file",
        on_event: EventListener | None = None,
    ) -> RunContext:
        from agentkit.graph import ask_approval

        return RunContext(
            run_id=run_id, goal=goal, store=self.store,
            models=ModelClient(default=self.model, roles=self.roles, aliases=self.aliases,
                               efforts=self.reasoning_efforts,
                               small=frozenset([self.model] if self.small else [])),
            tools=tools, workspace=self.workspace.resolve(), budget=self.budget,
            mode=mode, journal=journal, approve=ask_approval, listener=on_event,
            initial_plan=plan, initial_trigger=plan_trigger,
            max_prompt_tokens=self.max_prompt_tokens, sandbox=self.sandbox,
            sandbox_network=self.sandbox_network, calibrate_run=self.calibrate_run,
        )

    async def _drive(
        self, ctx: RunContext, *, decisions: dict[str, bool] | None = None, reopen: bool = False
    ) -> None:
        """Run the graph for `ctx` until it ends, fails or pauses for approval; `reopen`: the
        run ended on its budget and goes on."""
        from agentkit.graph import advance, builder, reopen_run, resume_with, run_config

        store, run_id = self.store, ctx.run_id
        config = run_config(run_id, max_concurrency=self.max_concurrency)
        attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "agentkit",
                      "agentkit.run_id": run_id, "agentkit.run_mode": ctx.mode}
        async with open_checkpointer(store.url) as saver, tracing.async_span(
                "invoke_agent agentkit", attributes):
            graph = builder().compile(checkpointer=saver)
            started = ctx.mode == "resume" and (await saver.aget_tuple(config)) is not None
            if reopen and started:
                await reopen_run(graph, config)
            if decisions is not None:
                graph_input: Any = resume_with(decisions)
            else:
                graph_input = None if started else {"run_id": run_id}
            try:
                waiting = await advance(graph, graph_input, config, ctx)
            except ProviderUnavailable as e:  # resumable: `agentkit resume` continues it
                store.finish_run(run_id, "interrupted", answer=None, error=str(e))
                return
            except BaseException as e:
                status: RunStatus = "interrupted" if isinstance(
                    e, asyncio.CancelledError | KeyboardInterrupt) else "failed"
                store.finish_run(run_id, status, answer=None, error=f"{type(e).__name__}: {e}")
                raise
            for item in waiting:
                ctx.emit("approval_requested", item, subtask_id=item["subtask_id"])
            if waiting:
                store.finish_run(run_id, "awaiting_approval", answer=None)

    def result(self, run_id: str) -> RunResult:
        """The recorded result of a run."""
        store = self.store
        run = store.get_run(run_id)
        found = store.get_plan(run.id)
        return RunResult(
            run_id=run.id, status=run.status, answer=run.answer,
            plan=found.plan if found else None, plan_version=found.version if found else 0,
            subtasks=store.get_subtasks(run.id), usage=store.usage(run.id),
            error=run.error, approvals=_pending_approvals(store, run.id),
        )


def _approved(tool: Tool) -> Tool:
    marked = copy.copy(tool)
    marked.needs_approval = True
    return marked


def _sync(work: Coroutine[Any, Any, RunResult], name: str, method: str) -> RunResult:
    """Run `work` on a new event loop; inside a running loop, say to await instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    work.close()
    raise UserError(
        f"Agent.{name}() was called inside a running event loop (async code, Jupyter, or an "
        f"`async with MCPToolset(...)` block); it cannot start a second loop there. Use "
        f"`await agent.{method}(...)` instead"
    )


def _pending_approvals(store: Store, run_id: str) -> list[dict[str, Any]]:
    events = store.get_events(run_id)
    given = {e.data["id"] for e in events if e.kind == "approval_given"}
    return [e.data for e in events
            if e.kind == "approval_requested" and e.data["id"] not in given]
