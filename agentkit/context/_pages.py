"""Long tool outputs: the prompt gets the first page, `recall` the others.

A tool's full output is recorded once (its tool-call row); what enters the conversation is at
most `PAGE_CHARS` characters with a note naming the call, so a 50 MB output never reaches token
counting, the stored requests or the model.
"""

from __future__ import annotations

import re

PAGE_CHARS = 20_000
_PAGE_QUERY = re.compile(r"^\s*page\s+(\d+)\s+of\s+call\s+(\S+)\s+in\s+(\S+)\s*$", re.IGNORECASE)


def first_page(content: str, *, call_id: str, subtask_id: str) -> str:
    """`content` itself, or its first page with how to get the rest."""
    if len(content) <= PAGE_CHARS:
        return content
    return page(content, 1, call_id=call_id, subtask_id=subtask_id)


def page(content: str, number: int, *, call_id: str, subtask_id: str) -> str:
    """Page `number` (from 1) of a long output, with a note on where it is in the whole."""
    pages = max(1, -(-len(content) // PAGE_CHARS))
    if not 1 <= number <= pages:
        return (f"Call {call_id!r} in {subtask_id} has {pages} page(s) of output; "
                f"ask for page 1 to {pages}.")
    start = (number - 1) * PAGE_CHARS
    text = content[start:start + PAGE_CHARS]
    note = f"[page {number} of {pages} of this output ({len(content)} characters)"
    if number < pages:
        note += f"; the next: recall('page {number + 1} of call {call_id} in {subtask_id}')"
    return f"{text}\n{note}]"


def page_query(query: str) -> tuple[int, str, str] | None:
    """(page, call id, subtask id) when `query` asks for a page of an output."""
    found = _PAGE_QUERY.match(query)
    return None if found is None else (int(found[1]), found[2], found[3])
