"""A tiny MCP server the tests start themselves: `python tests/mcp_demo_server.py [--http PORT]`.

It speaks stdio by default, or streamable HTTP on 127.0.0.1:PORT at /mcp.
"""

from __future__ import annotations

import sys

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


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
