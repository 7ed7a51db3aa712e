"""A small JSON Schema check for tools that bring their own schema (MCP tools, `Tool.from_schema`).

It covers what models get wrong in practice: the arguments are not an object, a required argument
is missing, an unknown one is given, a value has the wrong type or is not one of an enum. Keywords
it does not know are accepted: the tool's owner (an MCP server) validates in full anyway, and this
check only saves a round trip and gives the model a precise message.
"""

from __future__ import annotations

from typing import Any

_TYPE_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}


def schema_errors(value: Any, schema: Any, root: Any = None, path: str = "") -> list[str]:
    """Messages, one per problem, naming where `value` breaks `schema`; empty when it fits."""
    if not isinstance(schema, dict):
        return []
    root = schema if root is None else root
    if isinstance(ref := schema.get("$ref"), str):
        return schema_errors(value, _resolve(ref, root), root, path)
    where = path or "arguments"
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_is_type(value, name) for name in names):
            return [f"{where}: expected {' or '.join(names)}, got {json_type(value)}"]
    errors: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} is not one of {schema['enum']!r}")
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if (
            isinstance(options, list)
            and options
            and all(schema_errors(value, option, root, path) for option in options)
        ):
            errors.append(f"{where}: {value!r} matches none of the allowed shapes")
    if isinstance(value, dict):
        errors += _object_errors(value, schema, root, path)
    if isinstance(value, list) and isinstance(items := schema.get("items"), dict):
        for index, item in enumerate(value):
            errors += schema_errors(item, items, root, f"{where}[{index}]")
    return errors


def json_type(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "integer" if isinstance(value, int) else "number"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _object_errors(
    value: dict[str, Any], schema: dict[str, Any], root: Any, path: str
) -> list[str]:
    props = schema.get("properties") or {}
    errors = [
        f"{path + '.' if path else ''}{name}: missing required argument"
        for name in schema.get("required", [])
        if name not in value
    ]
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        where = f"{path}.{name}" if path else name
        if name in props:
            errors += schema_errors(item, props[name], root, where)
        elif extra is False:
            errors.append(f"{where}: unexpected argument; expected one of {sorted(props)!r}")
        elif isinstance(extra, dict):
            errors += schema_errors(item, extra, root, where)
    return errors


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    return name not in expected or isinstance(value, expected[name])


def _resolve(ref: str, root: Any) -> Any:
    """A local reference such as `#/$defs/Point`; anything else is not checked here."""
    if not ref.startswith("#/"):
        return {}
    node = root
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return {}
        node = node[part]
    return node
