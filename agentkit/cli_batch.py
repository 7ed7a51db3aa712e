"""Rendering of `agentkit batch` with rich: the progress bar and the summary table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from agentkit.batch import BatchSummary


@contextmanager
def batch_progress(console: Console, *, quiet: bool = False
                   ) -> Iterator[Callable[[dict[str, int]], None]]:
    """A progress bar of tries done; yields the callback that moves it (`quiet`: no bar)."""
    if quiet:
        yield lambda counts: None
        return
    columns = (TextColumn("batch"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[running]} running"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task("batch", total=None, running=0)

        def update(counts: dict[str, int]) -> None:
            progress.update(bar, total=sum(counts.values()), completed=counts["done"],
                            running=counts["claimed"])

        yield update


def batch_table(summary: BatchSummary) -> Table:
    """One row per task (tries, passed, tokens, cost), the totals last."""
    k = summary.k
    table = Table(title=f"batch {summary.batch}", show_edge=False)
    for column in ("task", "tries", "passed", "tokens", "cost", "runs"):
        table.add_column(column, justify="left" if column in ("task", "runs") else "right",
                         overflow="fold")
    for task in summary.tasks:
        table.add_row(Text(task.task_id), str(task.tries), str(task.passed), f"{task.tokens:,}",
                      f"${task.cost_usd:.4f}", Text(" ".join(task.run_ids)))
    rate = f"{summary.passed}/{summary.ended} passed ({summary.success_rate:.0%})"
    pass_k = f"; pass^{k} {summary.pass_k:.2f}" if k is not None and summary.pass_k is not None \
        else ""
    table.caption = (f"{rate}{pass_k}; {summary.tokens:,} tokens, ${summary.cost_usd:.4f}; "
                     f"{summary.resumed} resumed after a worker died")
    return table
