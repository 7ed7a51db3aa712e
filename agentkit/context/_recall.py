"""`recall`: what compaction took out of the prompt, searched and brought back."""

from __future__ import annotations

import re

from agentkit.context._facts import split_sentences
from agentkit.context._pages import page, page_query
from agentkit.store import FactRow, MemoryHit, RunStore

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
    words = [w.lower() for w in re.findall(r"\w+", query)]
    facts = {row.key: row for row in store.get_fact_rows(run_id)}
    hits = _ranked(store.search_memory(run_id, query, limit=limit * 4), facts, words)[:limit]
    if not hits:
        return (f"Nothing stored matches {query!r}; try other words, or the id in a masked "
                "output's stub (e.g. 'm3').")
    return (f"Best matches first. {_ORDER}\n"
            + "\n".join(_render(hit, words, facts) for hit in hits))


_ORDER = ("A fact is the latest value known; outputs and summaries are numbered in the order "
          "they were stored, so a higher number is newer.")
_KIND_RANK = {"fact": 0, "summary": 1, "masked": 2}


def _ranked(hits: list[MemoryHit], facts: dict[str, FactRow], words: list[str]) -> list[MemoryHit]:
    """Relevance first — how many of the query's words a hit has; a fact whose key names them all
    (a search by its subject's name) is always among them — then facts before outputs, then the
    newest."""
    wanted = set(words)
    named = [MemoryHit(kind="fact", ref=row.key, text=f"{row.key} = {row.value}", at=row.seq)
             for row in facts.values() if wanted and wanted <= _words(f"{row.key} {row.value}")]
    seen = {h.ref for h in named}
    pool = named + [h for h in hits if not (h.kind == "fact" and h.ref in seen)]

    def rank(hit: MemoryHit) -> tuple[int, int, float]:
        if hit.kind == "fact":
            newest = float(facts[hit.ref].seq) if hit.ref in facts else hit.at
        else:
            newest = float(hit.ref) if hit.ref.isdigit() else hit.at
        return (-len(wanted & _words(hit.text)), _KIND_RANK[hit.kind], -newest)

    return sorted(pool, key=rank)


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"\w+", text)}


def _page(store: RunStore, run_id: str, number: int, call_id: str, subtask_id: str) -> str:
    for row in store.get_tool_calls(run_id):
        if row.call_id == call_id and row.subtask_id == subtask_id:
            return page(row.result, number, call_id=call_id, subtask_id=subtask_id)
    return f"No call {call_id!r} in subtask {subtask_id!r} of this run."


def _render(hit: MemoryHit, words: list[str], facts: dict[str, FactRow]) -> str:
    if hit.kind == "fact":
        row = facts.get(hit.ref)
        if row is not None and row.doubt is not None:
            return f"fact (may be out of date: {row.doubt}): {row.key} was {row.value}"
        return f"fact: {hit.text if row is None else f'{row.key} = {row.value}'}"
    label = f"summary #{hit.ref}" if hit.kind == "summary" else f"output #m{hit.ref}"
    return f"{label}:\n{_snippet(hit.text, words)}"


def _snippet(text: str, words: list[str]) -> str:
    """The sentences with the most of the query's words, in text order."""
    parts = split_sentences(text)
    scores = [len(set(words) & _words(part)) for part in parts]
    best = max(scores, default=0)
    lines = [p for p, n in zip(parts, scores, strict=True) if best and n == best]
    chosen = lines[:_SNIPPET_LINES] or [text[:_LINE_CHARS]]
    return "\n".join(f"  {line.strip()[:_LINE_CHARS]}" for line in chosen)
