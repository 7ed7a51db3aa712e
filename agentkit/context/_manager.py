"""`ContextManager`: fits every executor prompt under its budget, cheapest tier first.

Tiers: (a) mask old tool outputs — the call stays, the output is stored and replaced by a stub
with its id; (b) summarize older turn groups into a `Summary`, in chunks under the summarizer's
own cap; (c) merge the summaries' prose. A prompt past the trigger is compacted down to the
target, well below it (hysteresis), so compaction runs every several steps, not every step; the
last-resort tiers (masking and summarizing all but the newest turn) run only while the prompt is
still over the threshold, and when they fail `ContextOverflow` says by how much. Facts are not
the summarizer's to keep: code checks them against the turns they came from, keeps them in the
facts table and shows them in a facts block (see `_facts`). The pinned messages
(plan, ledger, subtask) are never touched; the raw records (model calls, tool calls, events) are
never rewritten — summaries and masked outputs are new rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import agentkit.context._facts as facts
import agentkit.context._messages as msgs
from agentkit.context._accounting import TokenCounter
from agentkit.context._summary import (
    MERGE_SYSTEM,
    SUMMARIZE_SYSTEM,
    Summary,
    merge_prompt,
    summarize_prompt,
)
from agentkit.errors import ContextOverflow, UserError
from agentkit.events import Emitter
from agentkit.models import ModelClient, ModelRequest, context_window
from agentkit.store import FactRow, RunStore
from agentkit.tokens import count_text

Message = msgs.Message
# The task text shown to the summarizer is cut to its start (the goal) and its end (the subtask):
# it only needs to know what the work is for, and it is paid for in every summarizer call.
_TASK_HEAD, _TASK_TAIL = 500, 1000
# Room kept in a summarizer prompt for its framing and the known keys; and the smallest chunk.
_PROMPT_SLACK = 400
_MIN_CHUNK_TOKENS = 500


@dataclass(kw_only=True)
class _Job:
    """One `fit` call: what it fits, and against which sizes."""

    subtask_id: str | None
    tools: list[dict[str, Any]] | None
    model: str
    basis: int  # min(subtask budget, context window)
    threshold: int
    target: int
    tiers: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class ContextManager:
    """Builds every executor prompt within budget. One per run; safe for parallel subtasks.

    Args:
        store: where masked outputs, summaries and facts are kept (and `recall` searches).
        client: calls the summarizer (role `summarizer`: set a cheap model in `client.roles`).
        run_id: the run whose prompts this manager fits.
        trigger: compact when a prompt passes this share of min(subtask budget, context window).
        target: compaction aims at this share, so it is not needed again at the next step.
        keep_recent: newest turn groups kept verbatim by masking and summarizing.
        summary_share: merge the summaries when together they pass this share.
        facts_share: the prompt's facts block takes at most this share (the most relevant and
            newest facts; the others stay in the facts table, found by `recall`).
        mask_min_tokens: tool outputs smaller than this are left in place.
        max_prompt_tokens: a cap on every prompt on top of the budget and the window (a model
            with a 1M-token window need not get 1M-token prompts).
        summarizer_max_prompt_tokens: a cap on every summarizer prompt (turns are summarized in
            chunks under it, summaries merged in groups under it); default, the executor's
            compaction threshold.
        events: the run's event path (a `context_compacted` event per compaction); default,
            the store's log with no listener.
    """

    store: RunStore
    client: ModelClient
    run_id: str
    trigger: float = 0.8
    target: float = 0.5
    keep_recent: int = 2
    summary_share: float = 0.25
    facts_share: float = 0.2
    mask_min_tokens: int = 60
    max_prompt_tokens: int | None = None
    summarizer_max_prompt_tokens: int | None = None
    counter: TokenCounter = field(default_factory=TokenCounter)
    events: Emitter | None = None

    def __post_init__(self) -> None:
        if not 0 < self.target < self.trigger <= 1:
            raise UserError(
                f"context trigger {self.trigger!r} and target {self.target!r} must satisfy "
                "0 < target < trigger <= 1, e.g. trigger=0.8, target=0.5"
            )

    def _emitter(self) -> Emitter:
        if self.events is None:
            self.events = Emitter(log=self.store, run_id=self.run_id)
        return self.events

    def threshold(self, budget_tokens: int | None, model: str) -> int | None:
        """Prompt size that triggers compaction, or None with neither a budget nor a window."""
        basis = self._basis(budget_tokens, model)
        return None if basis is None else int(basis * self.trigger)

    def observe(
        self, model: str, messages: list[Message], tools: list[dict[str, Any]] | None,
        reported_prompt_tokens: int,
    ) -> None:
        """Calibrate token estimates with the prompt size the provider reported."""
        self.counter.observe(model, messages, tools, reported_prompt_tokens)

    async def fit(
        self, messages: list[Message], *, tools: list[dict[str, Any]] | None = None,
        budget_tokens: int | None = None, model: str | None = None,
        subtask_id: str | None = None,
    ) -> list[Message]:
        """`messages` if they fit, else a compacted copy (the list passed in is not changed).

        Raises:
            ContextOverflow: the prompt is still over the threshold after the last tier.
        """
        name = self.client.model_for("executor", model)
        basis = self._basis(budget_tokens, name)
        if basis is None:
            return messages
        job = _Job(subtask_id=subtask_id, tools=tools, model=name, basis=basis,
                   threshold=int(basis * self.trigger), target=int(basis * self.target))
        before = self._size(messages, job)
        if before <= job.threshold:
            return messages
        layout = msgs.split(messages)
        # Hysteresis: once past the trigger, compact down to well below it, so the next
        # compaction is several steps away. Masking aims at the target; when it leaves the prompt
        # at least halfway from the threshold down to the target, that is enough (it rewrites
        # only the masked outputs, and a provider's cache keeps the prefix before them); else
        # summarizing and merging bring it down to the target. The last-resort tiers run only
        # while the prompt is still over the threshold.
        await self._mask_old(layout, job)
        if self._size(layout.messages(), job) > (job.target + job.threshold) // 2:
            for tier in (self._summarize, self._merge):
                await tier(layout, job)
                if self._size(layout.messages(), job) <= job.target:
                    break
        for tier in (self._mask_all, self._summarize_all):
            if self._fits(layout, job):
                break
            await tier(layout, job)
        if job.tiers:  # facts may have been learned or doubted: the block is rebuilt, only now
            self._refresh_facts(layout, job)
        after = self._size(layout.messages(), job)
        self._emitter().emit(
            "context_compacted",
            {"tiers": job.tiers, "tokens_before": before, "tokens_after": after,
             "threshold": job.threshold, "model": name},
            subtask_id=subtask_id,
        )
        if after > job.threshold:
            pinned = self._size(layout.pinned, job)
            raise ContextOverflow(
                f"the prompt of subtask {subtask_id!r} is {after} tokens after every compaction "
                f"tier ({', '.join(job.tiers)}), over the threshold of {job.threshold} "
                f"({self.trigger:.0%} of {basis}, the smallest of the subtask budget "
                f"{budget_tokens!r}, the context window of {name!r} and max_prompt_tokens "
                f"{self.max_prompt_tokens!r}); the pinned plan and "
                f"task alone take {pinned}. Raise Effort.budget_tokens, use a model with a larger "
                "window, or shorten the plan and the tool outputs"
            )
        return layout.messages()

    async def settle(
        self, messages: list[Message], *, budget_tokens: int | None = None,
        model: str | None = None, subtask_id: str | None = None,
    ) -> None:
        """At the end of a subtask whose prompt was compacted: summarize the turns compaction
        has not yet, so the facts they hold reach the facts table (and the next subtasks), and
        keep their outputs for `recall`. A subtask never compacted is left as it is."""
        layout = msgs.split(messages)
        compacted = layout.summaries or layout.facts or any(
            msgs.masked_id(m) is not None for g in layout.groups for m in g)
        name = self.client.model_for("executor", model)
        basis = self._basis(budget_tokens, name)
        if not compacted or basis is None or not layout.groups:
            return
        job = _Job(subtask_id=subtask_id, tools=None, model=name, basis=basis,
                   threshold=int(basis * self.trigger), target=int(basis * self.target))
        await self._summarize(layout, job, keep=0, tier="settle", merge=False)

    async def recall(self, query: str) -> str:
        """The `recall` tool's answer for `query` (see `agentkit.context.recall_text`)."""
        from agentkit.context._recall import recall_text

        return recall_text(self.store, self.run_id, query)

    # sizes ----------------------------------------------------------------------------------

    def _basis(self, budget_tokens: int | None, model: str) -> int | None:
        """min(subtask budget, context window, cap): what the trigger is a share of."""
        sizes = [s for s in (budget_tokens, context_window(model), self.max_prompt_tokens) if s]
        return min(sizes) if sizes else None

    def _size(self, messages: list[Message], job: _Job) -> int:
        return self.counter.estimate(messages, job.tools, job.model)

    def _fits(self, layout: msgs.Layout, job: _Job) -> bool:
        return self._size(layout.messages(), job) <= job.threshold

    # tier a: masking ------------------------------------------------------------------------

    async def _mask_old(self, layout: msgs.Layout, job: _Job) -> None:
        self._mask(layout, job, keep=self.keep_recent, tier="mask")

    async def _mask_all(self, layout: msgs.Layout, job: _Job) -> None:
        # Last resort: recent outputs too, but never the newest turn's: the executor must see the
        # result it is acting on (a newest output larger than the budget is a ContextOverflow).
        self._mask(layout, job, keep=1, tier="mask_recent")

    def _mask(self, layout: msgs.Layout, job: _Job, *, keep: int, tier: str) -> None:
        """Mask tool outputs, oldest first, outside the newest `keep` turn groups; a `recall`
        result is never masked (it is what the executor asked to see again)."""
        size = self._size(layout.messages(), job)
        masked = 0
        known = self.store.get_fact_rows(self.run_id)
        for group in layout.groups[: max(len(layout.groups) - keep, 0)]:
            for i, message in enumerate(group):
                if size <= job.target:
                    break
                if message.get("role") != "tool" or msgs.masked_id(message) is not None:
                    continue
                content = str(message.get("content") or "")
                tokens = self.counter.count([message])
                name = msgs.tool_name(group, message)
                if tokens < self.mask_min_tokens or name == "recall":
                    continue
                masked_id = self.store.add_masked_output(  # numbered within the run
                    self.run_id, subtask_id=job.subtask_id,
                    call_id=str(message.get("tool_call_id", "")), name=name, content=content,
                )
                group[i] = {**message, "content": self._stub(masked_id, name, tokens, content,
                                                             known)}
                size -= tokens - self.counter.count([group[i]])
                masked += 1
        if masked:
            job.tiers.append(f"{tier}:{masked}")

    def _stub(self, masked_id: int, name: str, tokens: int, content: str,
              known: list[FactRow]) -> str:
        """The stub of a masked output. It keeps, verbatim, the sentences that mention a known
        fact (a value that changed must not hide behind a stub while the facts block shows the
        old one), and those facts are doubted until a summary confirms their new value."""
        source = facts.Source.of(content, f"output #m{masked_id}")
        about = facts.mentioned(known, source)
        doubted = facts.doubts(known, set(), source)
        if doubted:
            self.store.doubt_facts(self.run_id, doubted)
        return msgs.stub(masked_id, name, tokens, content,
                         kept=facts.sentences(content, about))

    # tier b: summarizing turns --------------------------------------------------------------

    async def _summarize_all(self, layout: msgs.Layout, job: _Job) -> None:
        # Last resort: every turn but the newest into the summary (whose output stays in full).
        await self._summarize(layout, job, keep=1, tier="summarize_recent")

    async def _summarize(
        self, layout: msgs.Layout, job: _Job, *, keep: int | None = None,
        tier: str = "summarize", merge: bool = True,
    ) -> None:
        keep = self.keep_recent if keep is None else keep
        old = layout.groups[: max(len(layout.groups) - keep, 0)]
        if not old:
            return
        task = _task(layout.pinned)
        for chunk, texts in self._chunks(old, task, job):
            first = layout.first_body
            last = first + sum(len(g) for g in chunk) - 1
            turns = "\n".join(texts)
            where = f"messages {first}-{last}" + (f" of {job.subtask_id}" if job.subtask_id else "")
            source = facts.Source.of(turns, where)
            known = self.store.get_fact_rows(self.run_id)
            prompt = summarize_prompt(task, first, last, turns, facts.mentioned(known, source))
            summary = await self._ask(SUMMARIZE_SYSTEM, prompt, job)
            self._learn(summary, source, known, job)
            self._archive(chunk, job)
            before = self._size(layout.messages(), job)
            del layout.groups[: len(chunk)]
            layout.first_body = last + 1
            message = self._persist(summary, layout, job, level=1, span=(first, last),
                                    merged=[], before=before)
            layout.summaries.append(message)
        job.tiers.append(f"{tier}:{len(old)}")
        if merge:
            self._refresh_facts(layout, job)  # before merging: its size counts toward the target
            await self._merge(layout, job)  # tier c also runs when the summaries themselves grow

    def _summarizer_cap(self, job_threshold: int) -> int:
        """The largest summarizer prompt: `summarizer_max_prompt_tokens`, else the executor's
        compaction threshold."""
        return self.summarizer_max_prompt_tokens or job_threshold

    def _chunks(
        self, groups: list[msgs.Group], task: str, job: _Job
    ) -> list[tuple[list[msgs.Group], list[str]]]:
        """Consecutive groups with their text as the summarizer sees it (masked outputs in
        full), each chunk small enough for one summarizer prompt under the cap; a group too
        large on its own is cut to fit."""
        room = self._summarizer_cap(job.threshold) - count_text(SUMMARIZE_SYSTEM + task)
        room = max(room - _PROMPT_SLACK, _MIN_CHUNK_TOKENS)
        outputs = self._masked_outputs(groups)
        chunks: list[tuple[list[msgs.Group], list[str]]] = [([], [])]
        size = 0
        for group in groups:
            text = msgs.render_turns([group], outputs)
            tokens = count_text(text)
            if tokens > room:
                text = text[: int(len(text) * room / tokens)] + " [cut for the summary]"
                tokens = room
            if chunks[-1][0] and size + tokens > room:
                chunks.append(([], []))
                size = 0
            chunks[-1][0].append(group)
            chunks[-1][1].append(text)
            size += tokens
        return chunks

    def _masked_outputs(self, groups: list[msgs.Group]) -> dict[int, str]:
        found: dict[int, str] = {}
        for group in groups:
            for message in group:
                if (masked := msgs.masked_id(message)) is not None:
                    row = self.store.get_masked_output(self.run_id, masked)
                    if row is not None:
                        found[masked] = row.content
        return found

    def _archive(self, chunk: list[msgs.Group], job: _Job) -> None:
        """Keep the outputs of summarized turns that were never masked, so `recall` finds them."""
        for group in chunk:
            for message in group:
                if message.get("role") != "tool" or msgs.masked_id(message) is not None:
                    continue
                content = str(message.get("content") or "")
                if self.counter.count([message]) >= self.mask_min_tokens:
                    self.store.add_masked_output(
                        self.run_id, subtask_id=job.subtask_id,
                        call_id=str(message.get("tool_call_id", "")),
                        name=msgs.tool_name(group, message), content=content)

    # facts, carried in code ---------------------------------------------------------------

    def _learn(
        self, summary: Summary, source: facts.Source, known: list[FactRow], job: _Job
    ) -> None:
        """Keep the summary's facts whose values occur in its source; doubt known facts whose
        subject came up again unconfirmed."""
        accepted, _ = facts.check(summary.facts, source)
        self.store.set_facts(self.run_id, [(f.key, f.value) for f in accepted],
                             subtask_id=job.subtask_id, source=source.where[:80])
        doubted = facts.doubts(known, {f.key for f in accepted}, source)
        if doubted:
            self.store.doubt_facts(self.run_id, doubted)

    def _refresh_facts(self, layout: msgs.Layout, job: _Job) -> None:
        """Rebuild the prompt's facts block from the facts table (only when compaction runs)."""
        rows = self.store.get_fact_rows(self.run_id)
        recent = facts.words(json.dumps(layout.groups[-self.keep_recent:]))
        pinned = "\n".join(str(m.get("content") or "") for m in layout.pinned)
        chosen = facts.choose(rows, recent=recent, pinned=pinned,
                              budget_tokens=int(job.basis * self.facts_share))
        message = facts.block(chosen, len(rows))
        layout.facts = [] if message is None else [message]

    # tier c: merging summaries --------------------------------------------------------------

    async def _merge(self, layout: msgs.Layout, job: _Job) -> None:
        """Merge the summaries' prose into one (facts are not the merger's: they stay in the
        facts table and block). The merger's prompt stays under the cap: when the summaries are
        too long for one prompt, the oldest that fit are merged."""
        spans = [s for m in layout.summaries if (s := msgs.summary_span(m))]
        share = self._size(layout.summaries, job)
        crowded = len(spans) > 1 and share > job.basis * self.summary_share
        if len(spans) < 2 or (self._size(layout.messages(), job) <= job.target and not crowded):
            return
        room = self._summarizer_cap(job.threshold) - count_text(MERGE_SYSTEM) - _PROMPT_SLACK
        count, used = 0, 0
        for message in layout.summaries:
            used += count_text(str(message["content"]))
            if count >= 2 and used > room:
                break
            count += 1
        taken, spans = layout.summaries[:count], spans[:count]
        ids = [s[0] for s in spans]
        rows = {r.number: r for r in self.store.get_summaries(self.run_id) if r.number in ids}
        size = int(job.basis * self.summary_share)
        texts = [str(m["content"]) for m in taken]
        summary = await self._ask(MERGE_SYSTEM, merge_prompt(texts, size), job)
        before = self._size(layout.messages(), job)
        level = 1 + max((rows[i].level for i in ids if i in rows), default=1)
        rest = layout.summaries[count:]
        layout.summaries = []
        message = self._persist(
            summary.model_copy(update={"facts": []}), layout, job, level=level,
            span=(min(s[1] for s in spans), max(s[2] for s in spans)), merged=ids, before=before,
        )
        layout.summaries = [message, *rest]
        job.tiers.append(f"merge:{len(ids)}")

    # the summarizer and the records ---------------------------------------------------------

    async def _ask(self, system: str, prompt: str, job: _Job) -> Summary:
        request = ModelRequest(
            role="summarizer", subtask_id=job.subtask_id,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": prompt}],
        )
        summary = await self.client.structured(request, Summary)
        return summary.with_latest_facts()

    def _persist(
        self, summary: Summary, layout: msgs.Layout, job: _Job, *, level: int,
        span: tuple[int, int], merged: list[int], before: int,
    ) -> Message:
        text = summary.render(facts=False)  # the facts are shown from the facts table
        placeholder = msgs.summary_message(0, *span, text)
        after = self._size([*layout.messages(), placeholder], job)
        summary_id = self.store.add_summary(
            self.run_id, subtask_id=job.subtask_id, level=level, first_message=span[0],
            last_message=span[1], merged_ids=merged, tokens_before=before, tokens_after=after,
            model=self.client.model_for("summarizer"), data=summary.model_dump_json(), text=text,
        )
        return msgs.summary_message(summary_id, *span, text)


def _task(pinned: list[Message]) -> str:
    text = "\n".join(str(m.get("content") or "") for m in pinned)
    if len(text) <= _TASK_HEAD + _TASK_TAIL:
        return text
    return f"{text[:_TASK_HEAD]}\n[…]\n{text[-_TASK_TAIL:]}"


def load_summaries(store: RunStore, run_id: str, *, subtask_id: str | None = None) -> list[Summary]:
    """The summaries of a run (or one subtask), oldest first, exactly as they were written."""
    return [
        Summary.model_validate_json(row.data)
        for row in store.get_summaries(run_id, subtask_id=subtask_id)
    ]
