"""agentkit: long-horizon agents that plan explicitly.

```python
from agentkit import Agent, load_tools

agent = Agent("local/smollm2", tools=[load_tools("files"), load_tools("shell")], workspace="ws")
result = agent.run_sync("Create hello.py that prints the first 10 primes, then run it")
print(result.status, result.answer, result.usage.total_tokens)
```
"""

from __future__ import annotations

from agentkit.agent import Agent
from agentkit.errors import (
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
from agentkit.schema import Budget, Effort, Plan, PlanStep, RunResult, Subtask, Usage
from agentkit.store import Store
from agentkit.tools import Tool, ToolContext, Toolset, load_tools, tool

__version__ = "0.1.0"

__all__ = [
    "Agent",
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
    "load_tools",
    "set_allow_model_requests",
    "tool",
]
