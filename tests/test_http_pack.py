"""The http pack reaches only public addresses unless a host is allowed, checks every redirect
hop and caps the body. The servers are on loopback, allowed explicitly; refusals need no network."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from agentkit import ToolContext, load_tools
from tests.test_tool_packs import call, pack_module

FETCH = load_tools("http")


class _Site(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []
    target = ""

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        if self.path.startswith("/to/"):  # /to/<url>: a redirect there
            self.send_response(302)
            self.send_header("Location", self.path[len("/to/"):])
            self.end_headers()
            return
        if self.path == "/loop":
            self.send_response(301)
            self.send_header("Location", "/loop")
            self.end_headers()
            return
        body = b"x" * 5_000_000 if self.path == "/big" else b"hello from loopback"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[str]]]:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "AGENTKIT_HTTP_ALLOW"):
        monkeypatch.delenv(name, raising=False)
    seen: list[str] = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), type("S", (_Site,), {"seen": seen}))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def ctx(workspace: Any) -> ToolContext:
    return ToolContext(workspace=workspace)


def test_loopback_is_refused_by_default(ctx: ToolContext, site: tuple[str, list[str]]) -> None:
    url, seen = site
    refused = call(FETCH, "fetch_url", ctx, url=f"{url}/page")
    assert refused.status == "error"
    assert refused.content.startswith(
        f"refused '{url}/page': host '127.0.0.1' is at 127.0.0.1, a loopback address")
    assert "AGENTKIT_HTTP_ALLOW=127.0.0.1" in refused.content
    named = call(FETCH, "fetch_url", ctx, url=f"{url.replace('127.0.0.1', 'localhost')}/page")
    assert named.status == "error" and "a loopback address" in named.content
    assert seen == []  # nothing was sent


@pytest.mark.parametrize(("address", "kind"), [
    ("169.254.169.254", "link-local (cloud metadata)"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("[fd00::1]", "private"),
    ("[::1]", "loopback"),
    ("[::ffff:127.0.0.1]", "private"),
    ("0.0.0.0", "private"),
    ("100.64.0.1", "non-public"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "private"),  # reserved
])
def test_non_public_addresses_are_refused_without_a_connection(
    ctx: ToolContext, address: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_connection(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a refused address must not be connected to")

    monkeypatch.setattr(pack_module("http")._Pinned, "connect", no_connection)
    result = call(FETCH, "fetch_url", ctx, url=f"http://{address}/latest/meta-data/")
    assert result.status == "error"
    assert f", a {kind} address; the fetch tool only reaches public addresses" in result.content


def test_an_allow_list_opens_hosts_by_name_address_or_network(
    ctx: ToolContext, site: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = site
    port = url.rsplit(":", 1)[1]
    http_pack = pack_module("http")
    for allowed in (["127.0.0.1"], ["127.0.0.0/8"], ["localhost"]):
        fetch = http_pack.http_tool(allow_hosts=allowed)
        host = "localhost" if allowed == ["localhost"] else "127.0.0.1"
        result = call(fetch, "", ctx, url=f"http://{host}:{port}/page")
        assert result.content == "HTTP 200 text/plain\n\nhello from loopback", allowed
    monkeypatch.setenv("AGENTKIT_HTTP_ALLOW", "example.org, 127.0.0.1")
    assert call(FETCH, "fetch_url", ctx, url=f"{url}/page").status == "ok"
    assert len(seen) == 4


def test_every_redirect_hop_is_checked(ctx: ToolContext, site: tuple[str, list[str]]) -> None:
    url, seen = site
    fetch = pack_module("http").http_tool(allow_hosts=["127.0.0.1"])
    followed = call(fetch, "", ctx, url=f"{url}/to/{url}/page")
    assert followed.content == "HTTP 200 text/plain\n\nhello from loopback"
    metadata = call(fetch, "", ctx, url=f"{url}/to/http://169.254.169.254/latest/")
    assert metadata.status == "error"
    assert metadata.content.startswith("refused 'http://169.254.169.254/latest/'")
    other = url.replace("127.0.0.1", "127.0.0.2")  # loopback too, and not allowed
    moved = call(fetch, "", ctx, url=f"{url}/to/{other}/page")
    assert moved.content.startswith(f"refused '{other}/page': host '127.0.0.2' is at 127.0.0.2")
    looping = call(fetch, "", ctx, url=f"{url}/loop")
    assert looping.content.endswith("redirected more than 5 times; not followed further")
    assert seen.count("/page") == 1  # only the allowed hop reached the page


def test_the_body_is_capped(ctx: ToolContext, site: tuple[str, list[str]]) -> None:
    url, _ = site
    fetch = pack_module("http").http_tool(allow_hosts=["127.0.0.1"], max_bytes=1000,
                                          max_chars=5000)
    result = call(fetch, "", ctx, url=f"{url}/big")
    assert result.content == (
        "HTTP 200 text/plain\n\n" + "x" * 1000 + "\n[truncated: the body is larger than 1000 bytes]"
    )


def test_the_connection_goes_to_the_address_that_was_checked(
    ctx: ToolContext, site: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second lookup (DNS rebinding) cannot swap the address: there is none."""
    url, seen = site
    port = int(url.rsplit(":", 1)[1])
    answers = iter(["127.0.0.1", "10.9.9.9"])  # a resolver that changes its mind
    lookups: list[str] = []

    def resolve(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    fetch = pack_module("http").http_tool(allow_hosts=["site.test"])
    result = call(fetch, "", ctx, url=f"http://site.test:{port}/page")
    assert result.content == "HTTP 200 text/plain\n\nhello from loopback"
    assert lookups == ["site.test"] and seen == ["/page"]
    assert pack_module("http").MAX_BYTES == 2_000_000  # the default cap of a body
