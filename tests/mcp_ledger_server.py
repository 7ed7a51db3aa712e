"""An MCP server with a side effect, for crash tests: `append_entry` appends a line to the file
$LEDGER_FILE (a repeated call would show there twice). Speaks stdio."""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("agentkit-ledger", log_level="WARNING")


@server.tool()
def append_entry(text: str) -> str:
    """Append one line to the ledger (not idempotent)."""
    with open(os.environ["LEDGER_FILE"], "a") as f:
        f.write(text + "\n")
    return f"appended {text!r}"


if __name__ == "__main__":
    server.run()
