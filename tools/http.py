"""Fetch a web page or API response over HTTP(S), with a timeout and a clear error offline.

`fetch_url` is the default tool; `http_tool(timeout=..., max_chars=...)` builds one with other
limits (import it from `agentkit_tools.http`). HTML is reduced to its text; other text is returned
as is, cut at `max_chars` with a note.
"""

from __future__ import annotations

import html
import re
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from agentkit.errors import ToolRetry
from agentkit.tools import Tool

TIMEOUT = 20.0
MAX_CHARS = 20_000
USER_AGENT = "agentkit-fetch/0.1"
_DROP = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLOCK = re.compile(r"</?(p|div|br|li|tr|h[1-6]|section|article|pre|table)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def html_to_text(page: str) -> str:
    """The readable text of an HTML page: scripts and tags dropped, entities decoded."""
    text = _BLOCK.sub("\n", _DROP.sub("", page))
    text = html.unescape(_TAG.sub("", text))
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def http_tool(
    *, timeout: float = TIMEOUT, max_chars: int = MAX_CHARS, name: str = "fetch_url"
) -> Tool:
    """A fetch tool with its own limits.

    Args:
        timeout: seconds to wait for the server, for connecting and for each read.
        max_chars: characters of the body kept; the rest is cut with a note.
        name: the tool's name.
    """

    def fetch_url(url: str) -> str:
        """Fetch a URL with HTTP GET; returns the status, the content type and the body as text.

        Args:
            url: an absolute http:// or https:// URL.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ToolRetry(
                f"url {url!r} is not an absolute http(s) URL, e.g. 'https://example.com/'"
            )
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, kind = response.status, response.headers.get_content_type()
                body = response.read(max_chars * 4 + 1).decode(
                    response.headers.get_content_charset() or "utf-8", errors="replace"
                )
        except urllib.error.HTTPError as e:
            with e:  # the error holds the response open
                detail = e.read(500).decode(errors="replace").strip()
            raise ToolRetry(f"{url} answered HTTP {e.code} {e.reason}: {detail[:500]}") from e
        except (urllib.error.URLError, OSError) as e:
            raise ToolRetry(_network_error(url, parts.hostname, e, timeout)) from e
        text = html_to_text(body) if kind in ("text/html", "application/xhtml+xml") else body
        if len(text) > max_chars:
            text = text[:max_chars] + f"\n[truncated: more than {max_chars} characters]"
        return f"HTTP {status} {kind}\n\n{text}"

    return Tool(
        fetch_url, name=name, timeout=timeout * 3, idempotent=True, source=f"{__name__}.http_tool"
    )


def _network_error(url: str, host: str, error: Exception, timeout: float) -> str:
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"{url} did not answer within {timeout:g}s (timed out)"
    if isinstance(reason, socket.gaierror):
        return (
            f"cannot resolve host {host!r}: {reason}; this machine may have no network access, "
            "so do not retry this URL"
        )
    if isinstance(reason, ConnectionRefusedError):
        return f"connection to {host!r} refused: nothing is listening at {url}"
    return (
        f"cannot reach {url}: {reason}; this machine may have no network access, "
        "so do not retry this URL"
    )


fetch_url = http_tool()
