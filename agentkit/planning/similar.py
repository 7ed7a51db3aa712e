"""Near-duplicate plan steps: two steps that say nearly the same thing in nearly the same words.

Exact repeats are dropped as the plan is read (`strategist.repair_steps`). A near-duplicate is a
pair of steps whose words (title and instructions) match for at least `NEAR` of their length
(difflib's ratio over the word sequences) and that name the same specific things as often:
words with a digit or a path character (`a.csv`, `module 3`, `src/x.py`) tell apart steps that
do the same kind of work on different things, so "Read module 3 and note it" and "Read module 4
and note it" are both kept.
"""

from __future__ import annotations

import re
from collections import Counter
from difflib import SequenceMatcher

from agentkit.schema import PlanStep

NEAR = 0.8

_WORD = re.compile(r"[\w./-]+")


def _words(step: PlanStep) -> list[str]:
    return [w.strip(".-/").lower() or w for w in _WORD.findall(f"{step.title} {step.instructions}")]


def _specific(words: list[str]) -> Counter[str]:
    return Counter(w for w in words if re.search(r"[\d./_]", w))


def near_duplicates(steps: list[PlanStep]) -> list[tuple[str, str]]:
    """Pairs (earlier id, later id) of steps that do nearly the same work, in plan order."""
    words = [_words(s) for s in steps]
    pairs = []
    for j in range(len(steps)):
        for i in range(j):
            if _specific(words[i]) != _specific(words[j]):
                continue
            if SequenceMatcher(None, words[i], words[j], autojunk=False).ratio() >= NEAR:
                pairs.append((steps[i].id, steps[j].id))
                break
    return pairs


def fold(steps: list[PlanStep], pairs: list[tuple[str, str]]) -> list[PlanStep]:
    """`steps` with the later step of each pair merged into the earlier: it leaves the plan,
    and what depended on it depends on the earlier step."""
    into = {later: earlier for earlier, later in pairs}
    kept = []
    for step in steps:
        if step.id in into:
            continue
        deps = [into.get(d, d) for d in step.depends_on]
        kept.append(step.model_copy(update={"depends_on": list(dict.fromkeys(
            d for d in deps if d != step.id))}))
    return kept


def describe(pairs: list[tuple[str, str]]) -> str:
    """The pairs as the strategist is told about them."""
    return "; ".join(f"{b!r} repeats {a!r}" for a, b in pairs)
