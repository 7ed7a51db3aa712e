"""Checking the arguments of a tool that brings its own JSON Schema (MCP tools, `Tool.from_schema`).

`jsonschema` does the checking, in full; this module only says what is wrong in terms a model can
act on, one message per problem, each naming where: `limit: expected integer, got string`,
`point.x: missing required argument`, `tags[0]: ...`. The check saves a round trip to the tool's
owner (an MCP server validates again anyway), so a remote `$ref` is left unchecked, never fetched.
jsonschema is imported at the first schema tool, not with `agentkit.tools` (it adds ~40 ms).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from agentkit.errors import ToolDefinitionError

if TYPE_CHECKING:
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator
    from referencing import Registry

__all__ = ["schema_problems", "schema_validator"]


def schema_validator(schema: dict[str, Any], name: str, source: str) -> Validator:
    """A checker of arguments against `schema` (its `$schema` draft, 2020-12 by default)."""
    from jsonschema import Draft202012Validator, SchemaError
    from jsonschema.validators import validator_for

    cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as e:
        raise ToolDefinitionError(
            f"tool {name!r} from {source!r}: its parameters schema is not valid JSON Schema: "
            f"{e.message} (at {_where(e.absolute_path)!r}); fix the schema"
        ) from e
    return cls(schema, registry=_no_fetching())


@functools.cache
def _no_fetching() -> Registry:
    """Where `$ref`s resolve: a remote one is not fetched (jsonschema's default would go to the
    network) but stands for any value; the tool's owner validates its arguments in full anyway."""
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    anything = DRAFT202012.create_resource({})
    # `retrieve` is an attrs field that referencing's stubs leave out (jsonschema ignores it too).
    return Registry(retrieve=lambda uri: anything)  # type: ignore[call-arg]


def schema_problems(validator: Validator, value: Any) -> list[str]:
    """One message per way `value` breaks the schema, each naming where (`tags[0]: ...`)."""
    found: dict[str, None] = {}  # in order, each once
    for error in validator.iter_errors(value):
        found.update(dict.fromkeys(_describe(error)))
    return list(found)


def _describe(error: ValidationError) -> list[str]:
    path, instance, where = list(error.absolute_path), error.instance, _where(error.absolute_path)
    expected: Any = error.validator_value  # the keyword's value: a list of names, a type, ...
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        return [f"{_where([*path, n])}: missing required argument" for n in expected
                if isinstance(instance, dict) and n not in instance]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known, patterns = schema.get("properties") or {}, schema.get("patternProperties") or {}
        return [
            f"{_where([*path, n])}: unexpected argument; expected one of {sorted(known)!r}"
            for n in instance if n not in known and not any(re.search(p, n) for p in patterns)
        ]
    if error.validator == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        return [f"{where}: expected {' or '.join(names)}, got {_json_type(instance)}"]
    if error.validator in ("anyOf", "oneOf") and error.context:  # no shape fits at all
        return [f"{where}: {instance!r} matches none of the allowed shapes"]
    return [f"{where}: {error.message}"]


def _where(path: Iterable[str | int]) -> str:
    """`point.x`, `tags[0]`; `arguments` for the whole of them."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "arguments"


def _json_type(value: Any) -> str:
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
             dict: "object", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)
