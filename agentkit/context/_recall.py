"""`recall`: what compaction took out of the prompt, searched and brought back."""

from __future__ import annotations

import re

from agentkit.context._pages import page, page_query
from agentkit.store import MemoryHit, RunStore

_MASKED_ID = re.compile(r"^\s*#?m(\d+)\s*$")
_SNIPPET_LINES = 6
_LINE_CHARS = 240


def recall_text(store: RunStore, run_id: str, query: str, *, limit: int = 5) -> str:
    """Facts, summaries and masked outputs of the run that match `query`, as the model sees them.

    `query` may be a masked output's id (`m12`, from its stub) to get that output in full, or
    `page N of call ID in SUBTASK` for a page of a long output (see `first_page`).
    """
    if (asked := page_query(query)) is not None:
        return _page(store, run_id, *asked)
    if (found := _MASKED_ID.match(query)) is not None:
        row = store.get_masked_output(run_id, int(found[1]))
        if row is None:
            return f"No masked output #m{found[1]} in this run."
        return f"Output #m{row.number} of {row.name}, in full:\n{row.content}"
    # The best matches, shown newest first: a fact's value and a masked output that came later
    # disagree, and the later one is what holds now.
    hits = store.search_memory(run_id, query, limit=limit * 2)
    hits = sorted(hits, key=lambda h: -h.at)[:limit]
    if not hits:
        return (f"Nothing stored matches {query!r}; try other words, or the id in a masked "
                "output's stub (e.g. 'm3').")
    words = [w.lower() for w in re.findall(r"\w+", query)]
    return "Newest first:\n" + "\n".join(_render(hit, words) for hit in hits)


def _page(store: RunStore, run_id: str, number: int, call_id: str, subtask_id: str) -> str:
    for row in store.get_tool_calls(run_id):
        if row.call_id == call_id and row.subtask_id == subtask_id:
            return page(row.result, number, call_id=call_id, subtask_id=subtask_id)
    return f"No call {call_id!r} in subtask {subtask_id!r} of this run."


def _render(hit: MemoryHit, words: list[str]) -> str:
    if hit.kind == "fact":
        return f"fact: {hit.text}"
    label = f"summary #{hit.ref}" if hit.kind == "summary" else f"output #m{hit.ref}"
    return f"{label}:\n{_snippet(hit.text, words)}"


def _snippet(text: str, words: list[str]) -> str:
    lines = [line for line in text.splitlines() if any(w in line.lower() for w in words)]
    chosen = lines[:_SNIPPET_LINES] or [text[:_LINE_CHARS]]
    return "\n".join(f"  {line.strip()[:_LINE_CHARS]}" for line in chosen)
