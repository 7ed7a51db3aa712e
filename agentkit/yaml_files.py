"""Reading the YAML files users write (plan files, agent files): bytes, UTF-8, YAML, with errors
that name the file and the place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from agentkit.errors import UserError

__all__ = ["load_yaml", "read_text"]


def read_text(path: Path, kind: str, error: type[UserError], hint: str) -> str:
    """The file's text; a file that cannot be read or is not UTF-8 raises `error`.

    Args:
        kind: what the file is, for messages ("plan file").
        hint: what such a file should be, said when it is binary.
    """
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise error(f"{kind} {str(path)!r} cannot be read: {e.strerror}") from e
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(
            f"{kind} {str(path)!r} is not UTF-8 text (byte {e.start} is {raw[e.start]:#04x}); "
            f"{hint}"
        ) from e


def load_yaml(text: str, name: str, kind: str, error: type[UserError], what: str = "YAML") -> Any:
    """`text` parsed as YAML; a syntax error raises `error` with its line and column."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", e)
        raise error(f"{kind} {name!r} is not valid {what}{where}: {problem}") from e
