"""Thinking as tools: sample several answers and pick one, or think longer on one question.

The executor offers both to the model when a subtask's effort allows it; they are plain async
functions of a `ModelClient`, so every sample, judgement and continuation is a recorded model call
whose tokens count against the run budget (the client checks it before each call).

- `think_parallel`: n samples at once (temperature > 0, role `thinker`), aggregated by a majority
  vote over normalized answers, or by a judge model's scores (role `judge`, structured output).
- `think_longer`: a model with reasoning controls gets LiteLLM's `reasoning_effort`; any other
  model (the offline `local/...` and `scripted/...` ones) gets budget forcing (s1, Muennighoff et
  al. 2025): when it stops before the budget, "Wait" is appended and it continues; it is cut at
  the budget.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from agentkit.errors import BudgetExceeded, ModelError, UserError
from agentkit.models import (
    ModelClient,
    ModelRequest,
    ModelResponse,
    Tally,
    supports_reasoning,
)
from agentkit.tokens import count_text, encoding

Method = Literal["vote", "judge"]

MAX_SAMPLES = 16
SAMPLE_TEMPERATURE = 0.8
WAIT = "Wait"
# Budget forcing stops after this many "Wait"s even if the model keeps stopping early.
MAX_WAITS = 8
# What a reasoning model may write after its reasoning (its answer), on top of the budget.
ANSWER_ALLOWANCE = 1024

THINKER_SYSTEM = """Think the question through step by step. End with one line of the form
Answer: <the final answer, as short as possible>"""

JUDGE_SYSTEM = """You judge candidate answers to a question. Score every candidate from 0 (wrong or
useless) to 10 (certainly correct and complete). Judge correctness, not style."""


@dataclass(kw_only=True, frozen=True)
class Thought:
    """What a thinking tool concluded.

    Attributes:
        answer: the chosen answer (the text after the last `Answer:`, or the whole reply).
        method: how it was reached.
        agreement: for a vote, the share of usable samples that gave this answer.
        confidence: for a judge, the winning sample's score scaled to 0..1.
        samples: the answers of every usable sample, in sampling order (the full thought for
            `think_longer`).
        tokens: prompt and completion tokens of every call made.
        waits: how many times budget forcing appended "Wait".
    """

    answer: str
    method: Literal["vote", "judge", "reasoning_effort", "budget_forcing"]
    agreement: float | None = None
    confidence: float | None = None
    samples: tuple[str, ...] = ()
    tokens: int = 0
    waits: int = 0

    def render(self) -> str:
        """The tool result shown to the executor's model."""
        if self.agreement is not None:
            how = f"agreement {self.agreement:.0%} of {len(self.samples)} samples"
        elif self.confidence is not None:
            how = f"judge confidence {self.confidence:.0%} over {len(self.samples)} samples"
        else:
            how = f"{self.method}, {self.waits} x Wait" if self.waits else self.method
        return f"Answer: {self.answer}\n({how}; {self.tokens} tokens)"


class SampleScore(BaseModel):
    """The judge's score of one candidate."""

    candidate: Annotated[int, Field(ge=1, le=MAX_SAMPLES, description="candidate number")]
    score: Annotated[int, Field(ge=0, le=10)]


class JudgeScores(BaseModel):
    """The judge's scores of the candidates."""

    scores: Annotated[list[SampleScore], Field(min_length=1, max_length=MAX_SAMPLES)]


def extract_answer(text: str) -> str:
    """The text after the last `Answer:` (to the end of its line), or the whole text, stripped."""
    matches = re.findall(r"(?i)\banswer\W{0,3}?:(.+)", text)
    return (matches[-1] if matches else text).strip().strip("*_").strip()


def normalize(answer: str) -> str:
    """A key under which equal answers written differently compare equal.

    Lower case, collapsed spaces, without surrounding quotes, markdown emphasis or a trailing
    full stop; numbers in one canonical form (`42.0` and `42` agree).
    """
    text = " ".join(answer.lower().split())
    text = text.strip("*_`\"' ").rstrip(".!").strip()
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        return text
    return f"{number:g}"


async def think_parallel(
    client: ModelClient,
    question: str,
    *,
    n: int = 5,
    method: Method = "vote",
    subtask_id: str | None = None,
    temperature: float = SAMPLE_TEMPERATURE,
) -> Thought:
    """Sample `n` answers at once and pick one by majority vote or by a judge's scores.

    Raises:
        UserError: `n` or `method` is out of range.
        ModelError: no sample could be had (every call failed), or the judge failed.
        BudgetExceeded: the run budget is spent.
    """
    if not 1 <= n <= MAX_SAMPLES:
        raise UserError(f"think_parallel n={n!r} is out of range; use 1 to {MAX_SAMPLES}")
    if temperature <= 0:
        raise UserError(f"think_parallel temperature={temperature!r} must be > 0 to vary samples")
    if method not in ("vote", "judge"):
        raise UserError(f"think_parallel method={method!r} is unknown; use 'vote' or 'judge'")
    client, tally = client.counting()
    responses = await _samples(client, question, n, subtask_id, temperature)
    answers = tuple(extract_answer(r.text or "") for r in responses)
    if method == "vote":
        return _vote(answers, tally)
    return await _judge(client, question, answers, tally, subtask_id)


async def _samples(
    client: ModelClient, question: str, n: int, subtask_id: str | None, temperature: float
) -> list[ModelResponse]:
    def request(sample: int) -> ModelRequest:
        return ModelRequest(
            role="thinker", subtask_id=subtask_id, temperature=temperature, sample=sample,
            messages=[{"role": "system", "content": THINKER_SYSTEM},
                      {"role": "user", "content": question}],
        )

    results = await asyncio.gather(
        *(client.complete(request(i)) for i in range(1, n + 1)), return_exceptions=True
    )
    for item in results:  # a spent budget stops the run; other failures lose one sample
        if isinstance(item, BudgetExceeded):
            raise item
        if isinstance(item, BaseException) and not isinstance(item, ModelError):
            raise item
    usable = [r for r in results if isinstance(r, ModelResponse) and (r.text or "").strip()]
    if not usable:
        errors = {str(r) for r in results if isinstance(r, BaseException)}
        raise ModelError(
            f"think_parallel got no usable sample out of {n}: "
            + ("; ".join(sorted(errors))[:500] or "every answer was empty")
        )
    return usable


def _vote(answers: tuple[str, ...], tally: Tally) -> Thought:
    keys = [normalize(a) for a in answers]
    counts = Counter(keys)
    # Counter keeps first-seen order, so a tie goes to the answer sampled first.
    winner, votes = max(counts.items(), key=lambda kv: kv[1])
    return Thought(
        answer=answers[keys.index(winner)], method="vote", agreement=votes / len(answers),
        samples=answers, tokens=tally.tokens,
    )


async def _judge(
    client: ModelClient, question: str, answers: tuple[str, ...], tally: Tally,
    subtask_id: str | None,
) -> Thought:
    listing = "\n\n".join(f"Candidate {i}:\n{a}" for i, a in enumerate(answers, start=1))
    request = ModelRequest(
        role="judge", subtask_id=subtask_id,
        messages=[{"role": "system", "content": JUDGE_SYSTEM},
                  {"role": "user", "content": f"Question:\n{question}\n\n{listing}"}],
    )
    scores = await client.structured(request, JudgeScores)
    by_candidate = [0] * len(answers)
    for item in scores.scores:
        if item.candidate <= len(answers):
            by_candidate[item.candidate - 1] = item.score
    best = max(range(len(answers)), key=lambda i: (by_candidate[i], -i))
    return Thought(
        answer=answers[best], method="judge", confidence=by_candidate[best] / 10,
        samples=answers, tokens=tally.tokens,
    )


async def think_longer(
    client: ModelClient, question: str, *, budget_tokens: int, subtask_id: str | None = None
) -> Thought:
    """Think about `question` for up to `budget_tokens` completion tokens.

    Raises:
        UserError: `budget_tokens` is below 1.
        ModelError: the model failed.
        BudgetExceeded: the run budget is spent.
    """
    if budget_tokens < 1:
        raise UserError(f"think_longer budget_tokens={budget_tokens!r} must be at least 1")
    client, tally = client.counting()
    if supports_reasoning(client.model_for("thinker")):
        thought = await _reasoning_effort(client, question, budget_tokens, subtask_id)
    else:
        thought = await _budget_forcing(client, question, budget_tokens, subtask_id)
    return dataclasses.replace(thought, tokens=tally.tokens)


def effort_for_budget(budget_tokens: int) -> Literal["low", "medium", "high"]:
    """LiteLLM's reasoning effort nearest a token budget (its Anthropic mapping: 1k/2k/4k)."""
    if budget_tokens < 2048:
        return "low"
    return "medium" if budget_tokens < 4096 else "high"


async def _reasoning_effort(
    client: ModelClient, question: str, budget_tokens: int, subtask_id: str | None
) -> Thought:
    response = await client.complete(
        ModelRequest(
            role="thinker", subtask_id=subtask_id, messages=_thinker_messages(question),
            reasoning_effort=effort_for_budget(budget_tokens),
            max_tokens=budget_tokens + ANSWER_ALLOWANCE,
        )
    )
    text = response.text or ""
    return Thought(answer=extract_answer(text), method="reasoning_effort", samples=(text,))


async def _budget_forcing(
    client: ModelClient, question: str, budget_tokens: int, subtask_id: str | None
) -> Thought:
    parts: list[str] = []
    used = waits = 0
    joiner = f"\n{WAIT}\n"
    while True:
        messages = _thinker_messages(question)
        if waits:  # it stopped early: "Wait" goes after its thought, and it goes on
            messages.append({"role": "assistant", "content": joiner.join(parts) + f"\n{WAIT}"})
        response = await client.complete(
            ModelRequest(role="thinker", subtask_id=subtask_id, messages=messages,
                         max_tokens=budget_tokens - used)
        )
        part = _cut((response.text or "").strip(), budget_tokens - used)
        if part:
            parts.append(part)
        used += min(response.completion_tokens, budget_tokens - used)
        cut = response.finish_reason == "length" or used >= budget_tokens
        if cut or not part or waits == MAX_WAITS:
            break
        waits += 1
    thought = joiner.join(parts)
    return Thought(answer=extract_answer(thought), method="budget_forcing", samples=(thought,),
                   waits=waits)


def _cut(text: str, limit: int) -> str:
    """`text` cut to at most `limit` tokens (a model that ignored `max_tokens`)."""
    if count_text(text) <= limit:
        return text
    enc = encoding()
    return enc.decode(enc.encode(text, disallowed_special=())[:limit])


def _thinker_messages(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": THINKER_SYSTEM}, {"role": "user", "content": question}]
