"""Local document search over the workspace's text and markdown files, ranked by BM25.

Files are cut into passages (paragraphs, at most `PASSAGE_LINES` lines); each result names the
file and the line of the passage that matches the query best. The index is built at each call:
it is meant for folders of notes and docs (thousands of files), not for a corpus.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from agentkit.errors import ToolRetry
from agentkit.tools import ToolContext, tool

SUFFIXES = (".md", ".markdown", ".txt", ".rst")
PASSAGE_LINES = 12
MAX_FILES = 5_000
MAX_FILE_BYTES = 2_000_000
K1, B = 1.5, 0.75
_WORD = re.compile(r"\w+")


@dataclass(kw_only=True)
class Passage:
    file: str
    line: int
    lines: list[str]
    terms: Counter[str]


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def passages(root: Path, folder: Path) -> list[Passage]:
    """The passages of every text file under `folder` that resolves inside `root`."""
    found: list[Passage] = []
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES)[:MAX_FILES]
    for file in files:
        if not file.is_file() or not file.resolve().is_relative_to(root):
            continue
        if file.stat().st_size > MAX_FILE_BYTES:
            continue
        lines = file.read_text(errors="replace").splitlines()
        found += _split(str(file.relative_to(root)), lines)
    return found


def _split(name: str, lines: list[str]) -> list[Passage]:
    out: list[Passage] = []
    start, block = 0, list[str]()
    for number, line in enumerate([*lines, ""], start=1):
        if line.strip() and len(block) < PASSAGE_LINES:
            start = start or number
            block.append(line)
            continue
        if block:
            out.append(
                Passage(file=name, line=start, lines=block, terms=Counter(words(" ".join(block))))
            )
        start, block = (number, [line]) if line.strip() else (0, [])
    return out


def rank(query: str, found: list[Passage], limit: int) -> list[tuple[float, Passage]]:
    """The passages matching `query`, best first, scored with Okapi BM25."""
    terms = set(words(query))
    if not terms or not found:
        return []
    average = sum(sum(p.terms.values()) for p in found) / len(found)
    frequency = {t: sum(1 for p in found if t in p.terms) for t in terms}
    scored = []
    for passage in found:
        size = sum(passage.terms.values())
        score = 0.0
        for term in terms:
            tf = passage.terms.get(term, 0)
            if tf:
                idf = math.log(1 + (len(found) - frequency[term] + 0.5) / (frequency[term] + 0.5))
                score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * size / average))
        if score > 0:
            scored.append((score, passage))
    scored.sort(key=lambda item: (-item[0], item[1].file, item[1].line))
    return scored[:limit]


def _best_line(passage: Passage, terms: set[str]) -> tuple[int, str]:
    hits = [len(terms & set(words(line))) for line in passage.lines]
    index = hits.index(max(hits))
    return passage.line + index, passage.lines[index].strip()


@tool(idempotent=True)
def search_docs(query: str, ctx: ToolContext, path: str = ".", limit: int = 10) -> list[str]:
    """Search the workspace's .md, .txt and .rst files; returns 'file:line (score): text' lines.

    Args:
        query: words to look for; results are ranked by how well passages match all of them.
        path: a folder relative to the workspace to search in.
        limit: how many results to return (at most 50).
    """
    root = ctx.resolve(".")
    folder = ctx.resolve(path)
    if not folder.is_dir():
        raise ToolRetry(f"no folder {path!r} in the workspace")
    if not words(query):
        raise ToolRetry("the query has no words to search for")
    terms = set(words(query))
    results = []
    for score, passage in rank(query, passages(root, folder), max(1, min(limit, 50))):
        line, text = _best_line(passage, terms)
        results.append(f"{passage.file}:{line} ({score:.2f}): {text[:200]}")
    return results or [f"no passage matches {query!r} under {path!r}"]
