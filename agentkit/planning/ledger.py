"""The progress ledger: what is done, what failed and why — kept outside the message list."""

from __future__ import annotations

from pydantic import BaseModel

from agentkit.schema import Subtask


class LedgerEntry(BaseModel):
    subtask_id: str
    step_id: str
    title: str
    result: str


class Ledger(BaseModel):
    """Done and failed work of a run, put back into every strategist and executor prompt."""

    done: list[LedgerEntry] = []
    failed: list[LedgerEntry] = []

    @classmethod
    def from_subtasks(cls, subtasks: list[Subtask]) -> Ledger:
        def entry(s: Subtask) -> LedgerEntry:
            return LedgerEntry(
                subtask_id=s.id, step_id=s.step_id, title=s.title, result=(s.result or "")[:500]
            )

        return cls(
            done=[entry(s) for s in subtasks if s.status == "done"],
            failed=[entry(s) for s in subtasks if s.status == "failed"],
        )

    def render(self) -> str:
        lines = ["Done:"] + [f"- [{e.step_id}] {e.title}: {e.result}" for e in self.done]
        if len(lines) == 1:
            lines.append("- nothing yet")
        if self.failed:
            lines.append("Failed (do not repeat these approaches):")
            lines += [f"- [{e.step_id}] {e.title}: {e.result}" for e in self.failed]
        return "\n".join(lines)
