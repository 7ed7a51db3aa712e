"""The progress ledger: what is done, what failed and why — kept outside the message list."""

from __future__ import annotations

from pydantic import BaseModel

from agentkit.schema import Subtask

MAX_FACTS = 40
# A long run finishes thousands of subtasks: the prompt shows the latest ones and a count of the
# rest (they stay in the record).
MAX_DONE = 20
MAX_FAILED = 10
MAX_NOTES = 3
MAX_NOTE = 600


class LedgerEntry(BaseModel):
    subtask_id: str
    step_id: str
    title: str
    result: str


class Ledger(BaseModel):
    """Done and failed work of a run, put back into every strategist and executor prompt."""

    done: list[LedgerEntry] = []
    failed: list[LedgerEntry] = []
    # Facts learned (latest value per key) and earlier summaries relevant to the reader, from the
    # context manager's memory: what compaction took out of the messages comes back here.
    facts: dict[str, str] = {}
    notes: list[str] = []
    # Done and failed entries left out of `done` and `failed` (the oldest).
    earlier_done: int = 0
    earlier_failed: int = 0

    @classmethod
    def from_subtasks(
        cls, subtasks: list[Subtask], *, facts: dict[str, str] | None = None,
        notes: list[str] | None = None,
    ) -> Ledger:
        def entry(s: Subtask) -> LedgerEntry:
            return LedgerEntry(
                subtask_id=s.id, step_id=s.step_id, title=s.title, result=(s.result or "")[:500]
            )

        done = [s for s in subtasks if s.status == "done"]
        failed = [s for s in subtasks if s.status == "failed"]
        return cls(
            done=[entry(s) for s in done[-MAX_DONE:]],
            failed=[entry(s) for s in failed[-MAX_FAILED:]],
            earlier_done=max(0, len(done) - MAX_DONE),
            earlier_failed=max(0, len(failed) - MAX_FAILED),
            facts=dict(list((facts or {}).items())[-MAX_FACTS:]),
            notes=[n[:MAX_NOTE] for n in (notes or [])[:MAX_NOTES]],
        )

    def render(self) -> str:
        lines = ["Done:"]
        if self.earlier_done:
            lines.append(f"- ({self.earlier_done} earlier subtasks done, archived in the record)")
        lines += [f"- [{e.step_id}] {e.title}: {e.result}" for e in self.done]
        if len(lines) == 1:
            lines.append("- nothing yet")
        if self.failed:
            lines.append("Failed (do not repeat these approaches):")
            if self.earlier_failed:
                lines.append(f"- ({self.earlier_failed} earlier failures)")
            lines += [f"- [{e.step_id}] {e.title}: {e.result}" for e in self.failed]
        if self.facts:
            lines.append("Facts learned (latest values):")
            lines += [f"- {key} = {value}" for key, value in self.facts.items()]
        if self.notes:
            lines.append("Notes from earlier work that bear on this:")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)
