"""Text helpers."""

from __future__ import annotations

import re


def slugify(title: str) -> str:
    """A URL slug: 'Hello, World!' -> 'hello-world'."""
    words = re.findall(r"[a-z0-9]+", title)
    return "-".join(words)


def initials(name: str) -> str:
    """'Ada Lovelace' -> 'A.L.'"""
    return "".join(part[0].upper() + "." for part in name.split())
