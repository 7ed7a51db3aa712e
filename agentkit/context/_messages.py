"""The shape of an executor prompt, as compaction sees it.

```
[system, first user message]   pinned: the plan, the ledger and the subtask; never compacted
[summary messages]             what compaction left of older turns, oldest first
[facts block]                  the facts learned so far, from the facts table (see `_facts`)
[turn groups]                  an assistant message with its tool results, or a lone user message
```

A group moves as a whole, so a tool call is never separated from its result.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agentkit.context._facts import is_block

Message = dict[str, Any]
Group = list[Message]

_SUMMARY = re.compile(r"^\[context summary #(\d+), messages (\d+)-(\d+)\]")
_MASKED = re.compile(r"^\[output masked #m(\d+):")


@dataclass(kw_only=True)
class Layout:
    """A prompt split into its pinned part, summaries and turn groups (lists are copies)."""

    pinned: list[Message]
    summaries: list[Message]
    groups: list[Group]
    first_body: int  # position of groups[0][0] in the subtask's uncompacted conversation
    facts: list[Message] = field(default_factory=list)  # the facts block, at most one message

    def messages(self) -> list[Message]:
        return [*self.pinned, *self.summaries, *self.facts, *(m for g in self.groups for m in g)]


def split(messages: list[Message]) -> Layout:
    pin_end = next((i + 1 for i, m in enumerate(messages) if m.get("role") == "user"), 0)
    if pin_end == 0:
        pin_end = next((i for i, m in enumerate(messages) if m.get("role") != "system"), 0)
    i = pin_end
    while i < len(messages) and summary_span(messages[i]) is not None:
        i += 1
    summaries = messages[pin_end:i]
    facts = messages[i:i + 1] if i < len(messages) and is_block(messages[i]) else []
    spans = [summary_span(m) for m in summaries]
    first_body = max((s[2] + 1 for s in spans if s), default=pin_end)
    return Layout(
        pinned=messages[:pin_end], summaries=list(summaries), facts=facts,
        groups=group(messages[i + len(facts):]), first_body=first_body,
    )


def group(messages: list[Message]) -> list[Group]:
    """Turn groups: an assistant message takes the tool messages that follow it."""
    groups: list[Group] = []
    for message in messages:
        if message.get("role") == "tool" and groups and groups[-1][0].get("role") == "assistant":
            groups[-1].append(message)
        else:
            groups.append([message])
    return groups


def summary_message(summary_id: int, first: int, last: int, text: str) -> Message:
    return {
        "role": "user",
        "content": f"[context summary #{summary_id}, messages {first}-{last}]\n"
                   f"Earlier work on this subtask, compacted:\n{text}",
    }


def summary_span(message: Message) -> tuple[int, int, int] | None:
    """(summary id, first message, last message) of a summary message, else None."""
    content = message.get("content")
    if message.get("role") != "user" or not isinstance(content, str):
        return None
    found = _SUMMARY.match(content)
    return None if found is None else (int(found[1]), int(found[2]), int(found[3]))


def masked_id(message: Message) -> int | None:
    content = message.get("content")
    found = _MASKED.match(content) if isinstance(content, str) else None
    return None if found is None else int(found[1])


def stub(
    masked: int, name: str, tokens: int, content: str, *, kept: Sequence[str] = ()
) -> str:
    """A masked output's stub: its id, size and first words, and `kept` lines verbatim."""
    preview = " ".join(content.split())[:60]
    lines = "".join(f"\n  kept: {line}" for line in kept)
    return (
        f"[output masked #m{masked}: {name}, {tokens} tokens; recall(\"m{masked}\") shows it "
        f"in full] {preview}...{lines}"
    )


def tool_name(group: Group, message: Message) -> str:
    """The name of the tool whose result `message` is, from the call in its group."""
    for call in group[0].get("tool_calls") or []:
        if call.get("id") == message.get("tool_call_id"):
            return str(call.get("function", {}).get("name", "tool"))
    return "tool"


def render_turns(groups: list[Group], outputs: dict[int, str]) -> str:
    """Turns as plain text for the summarizer; masked outputs shown in full from `outputs`."""
    lines: list[str] = []
    for g in groups:
        for message in g:
            role, content = message.get("role"), message.get("content")
            if role == "tool":
                full = outputs.get(masked_id(message) or -1, content)
                lines.append(f"result of {tool_name(g, message)}: {full}")
                continue
            if content:
                lines.append(f"{role}: {content}")
            for call in message.get("tool_calls") or []:
                fn = call.get("function", {})
                lines.append(f"{role} called {fn.get('name')}({fn.get('arguments')})")
    return "\n".join(lines)
