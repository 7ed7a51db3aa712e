"""Facts carried in code: checked against what the summarizer read, kept verbatim, shown bounded.

A summarizer (a model) proposes facts; code decides what is kept. A value is accepted only when
it appears in the turns it was taken from (ignoring case, spaces and punctuation), so a garbled
value never replaces a good one. Accepted values go to the facts table and stay there, verbatim,
until a newer value of the same key supersedes them — merges of summaries never see or touch
them. A known key whose subject comes up again in summarized turns without a value the summary
could confirm is marked doubtful: it may have changed, so it is not shown as current.

The prompt's facts block is chosen from the table by relevance (the key's words in the newest
turns and in the task) and recency, within a token budget; it is rebuilt only when compaction
runs, so the prompt stays append-only between compactions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agentkit.context._summary import Fact
from agentkit.store import FactRow
from agentkit.tokens import count_message

Message = dict[str, Any]
MARKER = "[context facts"
_HEADER = re.compile(r"^\[context facts\b")
_WORD = re.compile(r"\w+")


def words(text: str) -> set[str]:
    """The distinct words of `text`, lowercased."""
    return {w.lower() for w in _WORD.findall(text)}


def _plain(text: str) -> str:
    """`text` as its lowercased words between spaces, so a phrase matches whole words only."""
    found = _WORD.findall(text.lower())
    return f" {' '.join(found)} " if found else ""


@dataclass(kw_only=True, frozen=True)
class Source:
    """The turns a summary was written from, prepared for checking facts against them."""

    text: str
    plain: str
    where: str  # e.g. "messages 12-40 of t3"

    @classmethod
    def of(cls, text: str, where: str) -> Source:
        return cls(text=text, plain=_plain(text), where=where)

    def has_value(self, value: str) -> bool:
        plain = _plain(value)
        return bool(plain) and plain in self.plain

    def mentions(self, key: str) -> bool:
        """Whether `key` occurs in the turns as a phrase (ignoring case, spaces, punctuation):
        its subject came up."""
        plain = _plain(key)
        return bool(plain) and plain in self.plain


def check(facts: list[Fact], source: Source) -> tuple[list[Fact], list[Fact]]:
    """(accepted, rejected): a fact is accepted when its value occurs in the source turns."""
    accepted = [f for f in facts if source.has_value(f.value)]
    rejected = [f for f in facts if not source.has_value(f.value)]
    return accepted, rejected


def doubts(known: list[FactRow], confirmed: set[str], source: Source) -> dict[str, str]:
    """Known keys whose subject came up again in `source` without a confirmed value (and
    without their stored value): their value may be out of date. The reason quotes, verbatim,
    the last sentences of the source that mention the key (the newest evidence, not a model's
    reading of it)."""
    found = {}
    for row in known:
        if row.key in confirmed or not source.mentions(row.key) or source.has_value(row.value):
            continue
        quoted = " / ".join(sentences(source.text, [row.key])[-_QUOTED:])
        found[row.key] = f"in {source.where}: «{quoted}»"
    return found


_QUOTED = 2


def mentioned(known: list[FactRow], source: Source) -> list[str]:
    """Keys already known whose subject occurs in `source` (for the summarizer to reuse)."""
    return [row.key for row in known if source.mentions(row.key)]


_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\n+")
_MAX_SENTENCES, _SENTENCE_CHARS = 4, 240


def split_sentences(text: str) -> list[str]:
    """`text` in sentences (a full stop inside a number or a name does not end one)."""
    return [s.strip() for s in _BOUNDARY.split(text) if s.strip()]


def sentences(text: str, keys: list[str]) -> list[str]:
    """The sentences of `text` that mention one of `keys` as a phrase, verbatim (a few, cut)."""
    wanted = [_plain(k) for k in keys if _plain(k)]
    found = [s[:_SENTENCE_CHARS] for s in split_sentences(text)
             if any(w in _plain(s) for w in wanted)]
    return found[:_MAX_SENTENCES]


def choose(
    rows: list[FactRow], *, recent: set[str], pinned: str, budget_tokens: int
) -> list[FactRow]:
    """The facts for the prompt's block, as many as fit in `budget_tokens`, shown oldest first
    (by when their value was learned). A fact the pinned messages already state, as it is, is
    left out; one they state otherwise (an older value, in the ledger) comes first, so it is
    superseded; then the most relevant (key words in the newest turns, then in the task), the
    newest among equals."""
    task = words(pinned)
    stated = _plain(pinned)

    def rank(row: FactRow) -> tuple[int, int, int, int]:
        key = words(row.key)
        return (-(_plain(row.key) in stated), -len(key & recent), -len(key & task), -row.seq)

    chosen: list[FactRow] = []
    used = 0
    for row in sorted(rows, key=rank):
        if row.doubt is None and _plain(line(row)) in stated:
            continue
        tokens = count_message({"role": "user", "content": line(row)})
        if used + tokens > budget_tokens:
            continue
        chosen.append(row)
        used += tokens
    return sorted(chosen, key=lambda r: r.seq)


def line(row: FactRow) -> str:
    if row.doubt is None:
        return f"- {row.key} = {row.value}"
    return f"- {row.key}: was {row.value}, may be out of date; newer mention {row.doubt}"


def block(chosen: list[FactRow], total: int) -> Message | None:
    """The facts block message, or None with no facts."""
    if not chosen:
        return None
    hidden = total - len(chosen)
    more = (f"; {hidden} older or less relevant fact(s) not shown: recall(subject) finds them"
            if hidden else "")
    return {
        "role": "user",
        "content": f"{MARKER}: {len(chosen)} of {total}{more}]\n"
                   "Facts learned so far, exact; each value is the latest known and supersedes "
                   "any earlier value above:\n" + "\n".join(line(r) for r in chosen),
    }


def is_block(message: Message) -> bool:
    content = message.get("content")
    return message.get("role") == "user" and isinstance(content, str) and bool(
        _HEADER.match(content))
