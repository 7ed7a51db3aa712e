"""An MCP server over streamable HTTP that answers only requests carrying
`Authorization: Bearer TOKEN`: `python tests/mcp_auth_server.py PORT TOKEN`."""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer

server = MCPServer("agentkit-auth", log_level="WARNING")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def require(app: Any, token: str) -> Any:
    """The ASGI app `app`, refusing (401) any HTTP request without the bearer token."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != expected:
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"unauthorized"})
            return
        await app(scope, receive, send)

    return guarded


if __name__ == "__main__":
    port, token = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(require(server.streamable_http_app(), token), host="127.0.0.1", port=port,
                log_level="warning")
