"""Running a tool's function so that it cannot hang or kill the agent.

- A sync function runs in a daemon thread of its own (not the event loop's executor), so one that
  never returns is abandoned at its timeout and never holds up the process at exit.
- `SystemExit`, `KeyboardInterrupt` and other `BaseException`s a tool raises (argparse and click
  raise `SystemExit`) become `ToolAborted`, an ordinary error result, instead of unwinding the
  event loop.
- The timeout does not wait for the tool to agree: the call is answered as timed out at once, and
  a task that swallows its cancellation has its coroutine closed a second later.

Not covered: an async tool that blocks the event loop (CPU work or blocking I/O inside
`async def`) stops everything until it yields; write such a tool as a sync function.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
# Seconds a cancelled async tool gets to stop before its coroutine is closed.
ABANDON_GRACE = 1.0


class ToolAborted(Exception):
    """A tool raised a `BaseException` that is not an `Exception` (e.g. `SystemExit`)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


async def guarded(coroutine: Coroutine[Any, Any, T]) -> T:
    """Await an async tool's coroutine, turning a `SystemExit` and the like into `ToolAborted`."""
    try:
        return await coroutine
    except asyncio.CancelledError:
        raise
    except (SystemExit, KeyboardInterrupt) as e:
        raise ToolAborted(e) from None


def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> asyncio.Future[T]:
    """Run a sync function in a daemon thread; its result (or exception) completes the future."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(value: Any, failed: bool) -> None:
        if future.done():  # timed out and abandoned
            return
        if failed:
            future.set_exception(value)
        else:
            future.set_result(value)

    def work() -> None:
        value: Any
        try:
            value, failed = context.run(function, *args, **kwargs), False
        except Exception as e:
            value, failed = e, True
        except BaseException as e:  # SystemExit, KeyboardInterrupt: an error of this call only
            value, failed = ToolAborted(e), True
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for the call
            loop.call_soon_threadsafe(settle, value, failed)

    threading.Thread(target=work, name="agentkit-tool", daemon=True).start()
    return future


async def within(awaitable: Awaitable[T], timeout: float) -> T:
    """The awaitable's result, or `TimeoutError` after `timeout` seconds without waiting for it
    to stop (it is cancelled and left behind)."""
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        _abandon(task)
        raise TimeoutError
    return task.result()


def _abandon(task: asyncio.Future[Any]) -> None:
    """Cancel a timed-out call; if it swallows the cancellation, close its coroutine after a
    grace period, so no task is left that would hold up the event loop's shutdown forever."""
    task.cancel()
    task.add_done_callback(_forget)
    if isinstance(task, asyncio.Task):
        asyncio.get_running_loop().call_later(ABANDON_GRACE, _close, task)


def _close(task: asyncio.Task[Any]) -> None:
    if not task.done():
        with contextlib.suppress(Exception):
            task.get_coro().close()
        task.cancel()


def _forget(task: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned call's outcome, so asyncio does not warn that nobody did."""
    if not task.cancelled():
        task.exception()
