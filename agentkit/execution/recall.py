"""The executor's `recall` tool: brings back what compaction took out of the prompt."""

from __future__ import annotations

from agentkit.context import ContextManager
from agentkit.tools import Tool, Toolset


def recall_tool(context: ContextManager) -> Tool:
    """A `recall(query)` tool searching the run's summaries, facts and masked outputs."""

    async def recall(query: str) -> str:
        """Search what was compacted out of this conversation: facts learned, summaries of
        earlier turns, and tool outputs that were masked. Use it before redoing work.

        Args:
            query: words to look for (a fact's key, a file name, an error message), or the id
                in a masked output's stub, such as 'm12', to get that output in full.
        """
        return await context.recall(query)

    return Tool(recall, name="recall", idempotent=True, source="agentkit.recall")


def with_recall(tools: Toolset, context: ContextManager) -> Toolset:
    """`tools` plus `recall`, unless the user already has a tool of that name."""
    if "recall" in tools:
        return tools
    combined = Toolset()
    combined.add(tools)
    combined.add(recall_tool(context))
    return combined
