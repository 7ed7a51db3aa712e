"""agentkit: long-horizon agents that plan explicitly.

```python
from agentkit import Agent, load_tools

agent = Agent("local/smollm2", tools=[load_tools("files"), load_tools("shell")], workspace="ws")
result = agent.run_sync("Create hello.py that prints the first 10 primes, then run it")
print(result.status, result.answer, result.usage.total_tokens)
```
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentkit.agent import Agent
    from agentkit.errors import (
        AgentFileError,
        AgentkitError,
        BudgetExceeded,
        ModelConfigError,
        ModelError,
        ModelRequestsBlocked,
        PlanFileError,
        RunError,
        StorageConfigError,
        StorageError,
        StructuredOutputError,
        ToolDefinitionError,
        ToolRetry,
        UserError,
    )
    from agentkit.models import (
        FunctionModel,
        ModelRequest,
        Reply,
        ScriptedModel,
        ToolCall,
        allow_model_requests,
        set_allow_model_requests,
    )
    from agentkit.planning.plan_file import load_plan
    from agentkit.plugins import load_tools
    from agentkit.schema import Budget, Effort, Plan, PlanStep, RunResult, Subtask, Usage
    from agentkit.store import Store
    from agentkit.streaming import RunEvent
    from agentkit.tools import Tool, ToolContext, Toolset, tool

# Public names, loaded on first use (PEP 562) so `import agentkit` stays fast.
_WHERE = {
    'Agent': 'agentkit.agent',
    'AgentFileError': 'agentkit.errors',
    'AgentkitError': 'agentkit.errors',
    'BudgetExceeded': 'agentkit.errors',
    'ModelConfigError': 'agentkit.errors',
    'ModelError': 'agentkit.errors',
    'ModelRequestsBlocked': 'agentkit.errors',
    'PlanFileError': 'agentkit.errors',
    'RunError': 'agentkit.errors',
    'StorageConfigError': 'agentkit.errors',
    'StorageError': 'agentkit.errors',
    'StructuredOutputError': 'agentkit.errors',
    'ToolDefinitionError': 'agentkit.errors',
    'ToolRetry': 'agentkit.errors',
    'UserError': 'agentkit.errors',
    'FunctionModel': 'agentkit.models',
    'ModelRequest': 'agentkit.models',
    'Reply': 'agentkit.models',
    'ScriptedModel': 'agentkit.models',
    'ToolCall': 'agentkit.models',
    'allow_model_requests': 'agentkit.models',
    'set_allow_model_requests': 'agentkit.models',
    'Budget': 'agentkit.schema',
    'Effort': 'agentkit.schema',
    'Plan': 'agentkit.schema',
    'PlanStep': 'agentkit.schema',
    'RunResult': 'agentkit.schema',
    'Subtask': 'agentkit.schema',
    'Usage': 'agentkit.schema',
    'Store': 'agentkit.store',
    'RunEvent': 'agentkit.streaming',
    'Tool': 'agentkit.tools',
    'ToolContext': 'agentkit.tools',
    'Toolset': 'agentkit.tools',
    'load_tools': 'agentkit.plugins',
    'tool': 'agentkit.tools',
    'load_plan': 'agentkit.planning.plan_file',
}


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module 'agentkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__version__ = "0.1.0"

__all__ = [
    "Agent",
    "AgentFileError",
    "AgentkitError",
    "Budget",
    "BudgetExceeded",
    "Effort",
    "FunctionModel",
    "ModelConfigError",
    "ModelError",
    "ModelRequest",
    "ModelRequestsBlocked",
    "Plan",
    "PlanFileError",
    "PlanStep",
    "Reply",
    "RunError",
    "RunEvent",
    "RunResult",
    "ScriptedModel",
    "StorageConfigError",
    "StorageError",
    "Store",
    "StructuredOutputError",
    "Subtask",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolDefinitionError",
    "ToolRetry",
    "Toolset",
    "Usage",
    "UserError",
    "allow_model_requests",
    "load_plan",
    "load_tools",
    "set_allow_model_requests",
    "tool",
]
