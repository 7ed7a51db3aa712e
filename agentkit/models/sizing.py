"""Output token limits for structured answers, sized from their JSON Schema.

A structured answer cut off by a token limit is not JSON, so the limit must fit the largest
answer the schema allows. agentkit's schemas bound their strings (`maxLength`) and arrays
(`maxItems`) so a grammar-constrained model cannot run on; the same bounds give the size:
`output_tokens(schema)` adds up the longest value of every field, at `CHARS_PER_TOKEN` (a
pessimistic ratio: prose runs about four characters a token), within
[`MIN_OUTPUT_TOKENS`, `MAX_OUTPUT_TOKENS`]. An unbounded string or array counts as
`UNBOUNDED_STRING` tokens or `UNBOUNDED_ITEMS` items.
"""

from __future__ import annotations

import math
from typing import Any

CHARS_PER_TOKEN = 3
UNBOUNDED_STRING = 200
UNBOUNDED_ITEMS = 20
MIN_OUTPUT_TOKENS = 256
MAX_OUTPUT_TOKENS = 16_384
# Braces, quotes, commas and the like around each value.
_PUNCTUATION = 2

__all__ = ["MAX_OUTPUT_TOKENS", "MIN_OUTPUT_TOKENS", "output_tokens"]


def output_tokens(schema: dict[str, Any]) -> int:
    """The output token limit for an answer matching `schema`: its largest size, bounded."""
    size = _size(schema, schema.get("$defs") or {}, depth=0)
    return max(MIN_OUTPUT_TOKENS, min(MAX_OUTPUT_TOKENS, math.ceil(size * 1.1)))


def _size(node: dict[str, Any], defs: dict[str, Any], *, depth: int) -> int:
    if depth > 12:  # a recursive schema: stop at a depth no answer of ours reaches
        return UNBOUNDED_STRING
    if "$ref" in node:
        target = defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
        return _size(target, defs, depth=depth + 1)
    options = node.get("anyOf") or node.get("oneOf")
    if options:
        return max(_size(o, defs, depth=depth + 1) for o in options)
    if "enum" in node:
        return max(_chars(str(v)) for v in node["enum"]) + _PUNCTUATION
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        fields = node.get("properties") or {}
        return _PUNCTUATION + sum(
            _chars(name) + _PUNCTUATION + _size(value, defs, depth=depth + 1)
            for name, value in fields.items()
        )
    if kind == "array":
        items = node.get("maxItems", UNBOUNDED_ITEMS)
        return _PUNCTUATION + items * (_size(node.get("items") or {}, defs, depth=depth + 1) + 1)
    if kind == "string":
        limit = node.get("maxLength")
        tokens = UNBOUNDED_STRING if limit is None else math.ceil(limit / CHARS_PER_TOKEN)
        return _PUNCTUATION + tokens
    return 4  # a number, a boolean, null


def _chars(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)
