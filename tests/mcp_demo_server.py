"""A tiny MCP server the tests start themselves:
`python tests/mcp_demo_server.py [--http PORT [--token TOKEN]]`.

It speaks stdio by default, or streamable HTTP on 127.0.0.1:PORT at /mcp; with --token, every
HTTP request must carry `Authorization: Bearer TOKEN` (else 401).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("agentkit-demo", log_level="WARNING")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool(name="notes.lookup")
def lookup(key: str) -> str:
    """Look a word up in a fixed glossary."""
    glossary = {"mcp": "Model Context Protocol", "bm25": "a ranking function"}
    if key not in glossary:
        raise ToolError(f"no entry for {key!r}")
    return glossary[key]


@server.tool()
def environment() -> str:
    """This server process's environment variables, as JSON."""
    return json.dumps(dict(os.environ))


@server.tool()
def crash(message: str) -> str:
    """Write `message` to stderr and exit at once, as a server that dies mid-run does."""
    print(message, file=sys.stderr, flush=True)
    os._exit(3)


def _requiring(token: str, app: Any) -> Any:
    """`app` behind a bearer-token check (a pure ASGI wrapper)."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != expected:
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"missing or wrong token"})
            return
        await app(scope, receive, send)

    return guarded


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--http":
        if len(sys.argv) == 5 and sys.argv[3] == "--token":
            import uvicorn

            guarded = _requiring(sys.argv[4], server.streamable_http_app())
            uvicorn.run(guarded, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
        else:
            server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
