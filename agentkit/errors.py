"""The one exception tree of agentkit.

```
AgentkitError
├── UserError                 a mistake the user can fix: config, input, plan file, tool
│   ├── ModelConfigError      unknown provider/model, missing API key, missing 'local' extra
│   ├── ToolDefinitionError   duplicate tool name, unsupported signature
│   ├── PlanFileError         a plan file that does not parse or validate
│   ├── AgentFileError        an agent file that does not parse or validate, or cannot be built
│   └── StorageConfigError    database unusable: corrupt, locked, read-only, newer, bad URL
├── RunError                  the run could not go on
│   ├── ModelError            the model failed or kept answering garbage
│   │   ├── StructuredOutputError   a structured answer did not validate, even after one retry
│   │   │   └── TruncatedOutput     a structured answer cut at its token limit, even when raised
│   │   └── ContextOverflow         a prompt over budget even after every compaction tier
│   ├── BudgetExceeded        a budget (tokens, cost, calls, time) is spent
│   ├── ProviderUnavailable   the provider kept failing (429, 5xx, timeouts) after retries:
│   │                         the run is interrupted, and resumable
│   ├── StorageError          the database failed while the run was going
│   └── ReplayDivergence      a replayed run asked for something its record does not hold
└── ModelRequestsBlocked      a hosted model was called while model requests are disallowed (tests)

ToolRetry                     raised by a tool to send a message back to the model (not an error)
```

Every message names the bad value with `!r`, says what was expected and how to fix it.
"""

from __future__ import annotations

from typing import Literal


class AgentkitError(Exception):
    """Base class of every error agentkit raises on purpose."""


class UserError(AgentkitError):
    """A mistake the user can fix; the message says how."""


class ModelConfigError(UserError):
    """A model string that cannot be used: unknown provider, missing key, missing extra."""


class ToolDefinitionError(UserError):
    """A tool that cannot be registered as written."""


class PlanFileError(UserError):
    """A plan file that does not parse or does not validate."""


class AgentFileError(UserError):
    """An agent file that does not parse, does not validate, or names what cannot be loaded."""


# What is wrong with a database that cannot be opened, when agentkit can tell.
StorageProblem = Literal[
    "corrupt", "locked", "read_only", "not_writable", "newer_schema", "needs_migration"]


class StorageConfigError(UserError):
    """A database location that cannot be used.

    Attributes:
        problem: the cause, when known: a corrupt file, a lock held too long by another
            process, a read-only file or folder, a folder it cannot be created in, a schema
            from a newer agentkit, or (opened read-only) a schema that needs migrating.
    """

    def __init__(self, message: str, *, problem: StorageProblem | None = None) -> None:
        super().__init__(message)
        self.problem = problem


class RunError(AgentkitError):
    """The run could not go on."""


class ModelError(RunError):
    """The model call failed, or its answer was unusable."""


class StructuredOutputError(ModelError):
    """A structured answer did not validate against its schema, even after a retry."""


class TruncatedOutput(StructuredOutputError):
    """A structured answer was cut off at its output token limit (`finish_reason=length`), even
    after one retry with a higher limit; it is reported as cut, never parsed."""


class ContextOverflow(ModelError):
    """The prompt stays over its compaction threshold after masking, summarizing and merging.

    A `ModelError`, so the subtask fails with the message instead of the whole run crashing.
    """


class BudgetExceeded(RunError):
    """A budget of the run is spent.

    Attributes:
        kind: which budget: 'tokens', 'cost', 'model_calls', 'tool_calls', 'time'.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ProviderUnavailable(RunError):
    """The model provider stayed unavailable (rate limits, server errors, timeouts) after
    retries. Not the subtask's fault: the run stops as `interrupted` and can be resumed."""


class StorageError(RunError):
    """The database failed while the run was going."""


class ReplayDivergence(RunError):
    """A replayed run asked for something its record does not hold."""


class ModelRequestsBlocked(AgentkitError):
    """A hosted model was called while `ALLOW_MODEL_REQUESTS` is off (as in tests)."""


class ToolRetry(Exception):
    """Raised inside a tool to send `message` back to the model as the tool's result."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
