"""Fetch a web page or API response over HTTP(S), with a timeout, a size cap and no surprises.

`fetch_url` is the default tool; `http_tool(timeout=..., max_chars=..., max_bytes=...,
allow_hosts=[...])` builds one with other limits (import it from `agentkit_tools.http`). HTML is
reduced to its text; other text is returned as is, cut at `max_chars` with a note.

Only public addresses are fetched: the host is resolved and every address it has must be global,
so loopback, link-local (169.254.0.0/16, where cloud metadata services answer), private ranges
(10/8, 172.16/12, 192.168/16, fc00::/7), shared, reserved and multicast addresses are refused. The
connection goes to the address that was checked (a second lookup cannot swap it), redirects are
followed here, at most `MAX_REDIRECTS`, and every hop is checked again. At most `max_bytes` of a
body are read. Proxy settings are not used.

An allow list opens hosts, by name (`localhost`, `wiki.internal`) or by address or network
(`127.0.0.1`, `10.0.0.0/8`): either `http_tool(allow_hosts=[...])`, or, for the default tool,
the environment variable `AGENTKIT_HTTP_ALLOW` (comma-separated, read at each call).
"""

from __future__ import annotations

import html
import http.client
import ipaddress
import os
import re
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from agentkit.errors import ToolRetry
from agentkit.tools import Tool

TIMEOUT = 20.0
MAX_CHARS = 20_000
MAX_BYTES = 2_000_000
MAX_REDIRECTS = 5
ALLOW_ENV = "AGENTKIT_HTTP_ALLOW"
USER_AGENT = "agentkit-fetch/0.1"
_REDIRECTS = {301, 302, 303, 307, 308}
_DROP = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLOCK = re.compile(r"</?(p|div|br|li|tr|h[1-6]|section|article|pre|table)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def html_to_text(page: str) -> str:
    """The readable text of an HTML page: scripts and tags dropped, entities decoded."""
    text = _BLOCK.sub("\n", _DROP.sub("", page))
    text = html.unescape(_TAG.sub("", text))
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass(kw_only=True, frozen=True)
class _Answer:
    status: int
    reason: str
    kind: str
    charset: str | None
    location: str | None
    body: bytes
    cut: bool


def http_tool(
    *, timeout: float = TIMEOUT, max_chars: int = MAX_CHARS, max_bytes: int = MAX_BYTES,
    allow_hosts: Iterable[str] | None = None, name: str = "fetch_url",
) -> Tool:
    """A fetch tool with its own limits and allow list.

    Args:
        timeout: seconds to wait for the server, for connecting and for each read.
        max_chars: characters of the text kept; the rest is cut with a note.
        max_bytes: bytes of a body read at most; the rest is not downloaded.
        allow_hosts: host names, addresses or networks that may be fetched although they are
            not public; None for `$AGENTKIT_HTTP_ALLOW`.
        name: the tool's name.
    """
    fixed = None if allow_hosts is None else tuple(allow_hosts)

    def fetch_url(url: str) -> str:
        """Fetch a URL with HTTP GET; returns the status, the content type and the body as text.

        Args:
            url: an absolute http:// or https:// URL.
        """
        allowed = fixed if fixed is not None else _env_allow()
        answer, final = _follow(url, allowed, timeout, max_bytes)
        if answer.status >= 400:
            detail = answer.body[:500].decode(errors="replace").strip()
            raise ToolRetry(f"{final} answered HTTP {answer.status} {answer.reason}: {detail}")
        body = answer.body.decode(answer.charset or "utf-8", errors="replace")
        text = html_to_text(body) if answer.kind in ("text/html", "application/xhtml+xml") else body
        if len(text) > max_chars:
            text = text[:max_chars] + f"\n[truncated: more than {max_chars} characters]"
        elif answer.cut:
            text += f"\n[truncated: the body is larger than {max_bytes} bytes]"
        return f"HTTP {answer.status} {answer.kind}\n\n{text}"

    return Tool(
        fetch_url, name=name, timeout=timeout * 3, idempotent=True, source=f"{__name__}.http_tool"
    )


def _follow(
    url: str, allowed: tuple[str, ...], timeout: float, max_bytes: int
) -> tuple[_Answer, str]:
    """GET `url`, following redirects; each hop's host is checked before it is contacted."""
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ToolRetry(
                f"url {url!r} is not an absolute http(s) URL, e.g. 'https://example.com/'"
            )
        try:
            port = parts.port
        except ValueError as e:
            raise ToolRetry(f"url {url!r} has an invalid port: {e}") from e
        address = checked_address(url, parts.hostname, port, parts.scheme, allowed)
        answer = _get(url, address, timeout, max_bytes)
        if answer.status not in _REDIRECTS or not answer.location:
            return answer, url
        url = urljoin(url, answer.location)
    raise ToolRetry(f"{url} redirected more than {MAX_REDIRECTS} times; not followed further")


def checked_address(
    url: str, host: str, port: int | None, scheme: str, allowed: tuple[str, ...]
) -> Address:
    """The address to connect to for `host`; raises `ToolRetry` unless every one is public.

    A host the allow list names, or an address it holds (an address or a network), is allowed.
    """
    try:
        infos = socket.getaddrinfo(host, port or (443 if scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise ToolRetry(
            f"cannot resolve host {host!r}: {e}; this machine may have no network access, "
            "so do not retry this URL"
        ) from e
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    by_name = host.lower().rstrip(".") in {a.lower() for a in allowed}
    for address in addresses:
        if not by_name and not _public(address) and not _in_allowed(address, allowed):
            raise ToolRetry(
                f"refused {url!r}: host {host!r} is at {address}, a {_kind(address)} address; "
                "the fetch tool only reaches public addresses. To open this host, allow it: "
                f"http_tool(allow_hosts=[{host!r}]) or {ALLOW_ENV}={host}"
            )
    return addresses[0]


def _public(address: Address) -> bool:
    return address.is_global and not address.is_multicast


def _in_allowed(address: Address, allowed: tuple[str, ...]) -> bool:
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a host name, not a network
    return False


def _kind(address: Address) -> str:
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local (cloud metadata)"
    if address.is_private:
        return "private"
    return "multicast" if address.is_multicast else "non-public"


def _env_allow() -> tuple[str, ...]:
    value = os.environ.get(ALLOW_ENV, "")
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _get(url: str, address: Address, timeout: float, max_bytes: int) -> _Answer:
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = _Pinned(host, parts.port, address=str(address), timeout=timeout,
                         tls=parts.scheme == "https")
    try:
        connection.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
        response = connection.getresponse()
        body = response.read(max_bytes + 1)
        return _Answer(
            status=response.status, reason=response.reason,
            kind=response.headers.get_content_type(),
            charset=response.headers.get_content_charset(),
            location=response.headers.get("Location"), body=body[:max_bytes],
            cut=len(body) > max_bytes,
        )
    except (OSError, http.client.HTTPException) as e:
        raise ToolRetry(_network_error(url, host, e, timeout)) from e
    finally:
        connection.close()


class _Pinned(http.client.HTTPConnection):
    """An HTTP(S) connection to an address checked beforehand, named by its host (Host, SNI)."""

    def __init__(
        self, host: str, port: int | None, *, address: str, timeout: float, tls: bool
    ) -> None:
        super().__init__(host, port or (443 if tls else 80), timeout=timeout)
        self._address, self._tls = address, tls

    def connect(self) -> None:
        family = socket.AF_INET6 if ":" in self._address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect((self._address, self.port))  # no second lookup: the checked address
        except OSError:
            sock.close()
            raise
        if self._tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


def _network_error(url: str, host: str, error: Exception, timeout: float) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return f"{url} did not answer within {timeout:g}s (timed out)"
    if isinstance(error, ConnectionRefusedError):
        return f"connection to {host!r} refused: nothing is listening at {url}"
    return (
        f"cannot reach {url}: {error}; this machine may have no network access, "
        "so do not retry this URL"
    )


fetch_url = http_tool()
