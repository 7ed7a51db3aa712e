"""Offline token counting with tiktoken.

tiktoken downloads its encoding files on first use. LiteLLM's wheel ships `cl100k_base` and
`o200k_base`; we point `TIKTOKEN_CACHE_DIR` at that folder (found without importing litellm, which
is slow) so counting works with no network.
"""

from __future__ import annotations

import collections
import functools
import importlib.util
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken

DEFAULT_ENCODING = "cl100k_base"
# Per-message framing tokens in chat formats (role markers, separators): a small constant.
_MESSAGE_OVERHEAD = 4


def _litellm_tokenizer_dir() -> Path | None:
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(spec.submodule_search_locations[0]) / "litellm_core_utils" / "tokenizers"
    return folder if folder.is_dir() else None


@functools.cache
def encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """Return a tiktoken encoding, loaded from files on disk only."""
    if "TIKTOKEN_CACHE_DIR" not in os.environ and (folder := _litellm_tokenizer_dir()):
        os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    import tiktoken

    return tiktoken.get_encoding(name)


def count_text(text: str) -> int:
    """Tokens in `text`."""
    return len(encoding().encode(text, disallowed_special=()))


def count_messages(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
) -> int:
    """Tokens a chat request will take: contents, tool calls and tool schemas."""
    return sum(count_message(m) for m in messages) + count_tools(tools)


@functools.lru_cache(maxsize=16_384)
def _count_cached(text: str) -> int:
    return count_text(text)


# Counts by message object: a tool loop re-counts its whole prompt at every step, and hashing
# each old message's text again made that quadratic in practice. An entry holds its message, so
# the id cannot be reused while it is cached; messages are never changed after they are built.
_BY_OBJECT: collections.OrderedDict[int, tuple[dict[str, Any], int]] = collections.OrderedDict()
_BY_OBJECT_MAX = 65_536


def count_message(message: dict[str, Any]) -> int:
    """Tokens of one chat message, as `count_messages` counts it (memoized: a prompt that is
    re-counted at every step costs only its new messages)."""
    found = _BY_OBJECT.get(id(message))
    if found is not None and found[0] is message:
        return found[1]
    total = _count_message(message)
    _BY_OBJECT[id(message)] = (message, total)
    if len(_BY_OBJECT) > _BY_OBJECT_MAX:
        _BY_OBJECT.popitem(last=False)
    return total


def _count_message(message: dict[str, Any]) -> int:
    total = _MESSAGE_OVERHEAD
    content = message.get("content")
    if isinstance(content, str):
        total += _count_cached(content)
    elif content:
        total += _count_cached(json.dumps(content))
    for call in message.get("tool_calls") or []:
        total += _count_call(call)
    return total


# Tool calls by value: a provider hands back copies of the history's messages (LiteLLM copies each
# one before sending it), so the by-object memo misses them, and encoding every old call again at
# every step made counting a copied prompt quadratic.
_CALLS: dict[tuple[Any, ...], int] = {}
_CALLS_MAX = 65_536


def _count_call(call: dict[str, Any]) -> int:
    try:
        key = tuple((k, tuple(v.items()) if isinstance(v, dict) else v) for k, v in call.items())
        found = _CALLS.get(key)
    except TypeError:  # a value that cannot be hashed: count it without the memo
        return _count_cached(json.dumps(call))
    if found is None:
        if len(_CALLS) >= _CALLS_MAX:
            _CALLS.clear()
        found = _CALLS[key] = _count_cached(json.dumps(call))
    return found


def count_tools(tools: list[dict[str, Any]] | None) -> int:
    """Tokens of the tool schemas sent with a request."""
    return _count_cached(json.dumps(tools)) if tools else 0
