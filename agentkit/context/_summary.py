"""`Summary`: what compacted turns taught, in fixed sections, and the prompts that ask for one."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Line = Annotated[str, Field(max_length=400)]


class Fact(BaseModel):
    """One thing learned, as an exact key and value (numbers, names, paths, ids verbatim)."""

    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, Field(min_length=1, max_length=200)]
    value: Annotated[str, Field(max_length=1000)]


class FailedAttempt(BaseModel):
    """An approach that did not work, and why — so it is not tried again."""

    model_config = ConfigDict(extra="forbid")

    attempt: Line
    why: Line


class Summary(BaseModel):
    """Older turns of an executor's conversation, compressed into fixed sections.

    `facts` keeps exact values; a key appears once, with its latest value.
    """

    model_config = ConfigDict(extra="forbid")

    goal: Annotated[str, Field(max_length=600)] = ""
    plan_status: Annotated[str, Field(max_length=600)] = ""
    done: Annotated[list[Line], Field(max_length=30)] = []
    failed_attempts: Annotated[list[FailedAttempt], Field(max_length=20)] = []
    facts: Annotated[list[Fact], Field(max_length=500)] = []
    open_questions: Annotated[list[Line], Field(max_length=20)] = []
    next_step: Annotated[str, Field(max_length=600)] = ""

    def fact_map(self) -> dict[str, str]:
        """Facts by key; a key given twice takes its later value."""
        return {f.key: f.value for f in self.facts}

    def with_latest_facts(self, latest: dict[str, str] | None = None) -> Summary:
        """This summary with each key once, at its last position and value; keys also in
        `latest` take the value from there (exact values are data, not prose to paraphrase)."""
        values = self.fact_map() | {k: v for k, v in (latest or {}).items() if k in self.fact_map()}
        order = list(reversed(dict.fromkeys(f.key for f in reversed(self.facts))))
        return self.model_copy(update={"facts": [Fact(key=k, value=values[k]) for k in order]})

    def render(self, *, facts: bool = True) -> str:
        """The summary as text; without `facts`, its prose only (the context manager shows
        facts from the facts table instead, where code keeps them verbatim)."""
        parts = [f"Goal: {self.goal or '-'}", f"Plan status: {self.plan_status or '-'}"]
        parts += _section("Done", self.done)
        parts += _section(
            "Failed attempts (do not repeat)",
            [f"{a.attempt} - failed because {a.why}" for a in self.failed_attempts],
        )
        if facts:
            parts += _section(
                "Facts learned (exact; latest value)",
                [f"{f.key} = {f.value}" for f in self.facts],
            )
        parts += _section("Open questions", self.open_questions)
        parts.append(f"Next step: {self.next_step or '-'}")
        return "\n".join(parts)


def _section(title: str, items: list[str]) -> list[str]:
    return [f"{title}:", *(f"- {item}" for item in items)] if items else [f"{title}: none"]


SUMMARIZE_SYSTEM = """You compress the older turns of an agent's work into a summary with fixed
sections: goal, plan status, done, failed attempts and why, facts learned, open questions, next
step. Facts are exact key -> value pairs: copy values verbatim (numbers, names, paths, ids); when a
key changes, keep only its latest value. Record every failed attempt with why it failed so it is
not repeated. Be brief everywhere else."""

MERGE_SYSTEM = """You merge summaries of consecutive parts of one agent's work, given oldest first,
into one shorter summary with the same sections. Later summaries override earlier ones. Facts are
kept elsewhere, verbatim: leave the facts section empty. Drop what no longer matters; keep failed
attempts."""


def summarize_prompt(task: str, first: int, last: int, turns: str, keys: list[str]) -> str:
    known = ("\n\nFacts already known that these turns mention (reuse the same key when a "
             "value changes): " + "; ".join(keys[:_MAX_KEYS])) if keys else ""
    return (
        f"The agent's task (it stays in the prompt; do not copy it):\n{task}{known}\n\n"
        f"Summarize messages {first}-{last} of its conversation:\n\n{turns}"
    )


_MAX_KEYS = 40


def merge_prompt(summaries: list[str], max_tokens: int) -> str:
    body = "\n\n".join(summaries)
    return (
        f"Summaries, oldest first:\n\n{body}\n\n"
        f"Merge them into one of at most {max_tokens} tokens."
    )
