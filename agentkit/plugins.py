"""`load_tools`: tools from built-in packs, installed plugins (entry points), `.py` files, folders.

A package plugs in tools by declaring an entry point in the group `agentkit.tools`:

```toml
[project.entry-points."agentkit.tools"]
weather = "agentkit_weather:tools"
```

after which `load_tools("weather")` (or `agentkit run --tools weather`) loads it. The object named
may be a `Tool`, a `Toolset`, a module (its top-level tools are taken), or a function taking no
arguments that returns one of those or an iterable of tools (a factory, for tools needing setup).
Nothing is loaded at import: a plugin's code runs only when its name is asked for.

The built-in packs (`files`, `shell`, …, in the top-level `tools/` folder) come through the same
door: agentkit's own pyproject declares them in this group (`files = "agentkit._packs:files"`),
so those entry points are the one list of their names. They differ from a third-party plugin only
in their label: `pack 'files'` instead of `plugin 'weather' (agentkit_weather:tools)`.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from agentkit.errors import UserError
from agentkit.tools import Tool, Toolset

ENTRY_POINT_GROUP = "agentkit.tools"
# The distribution whose entry points are the built-in packs.
DISTRIBUTION = "agentkit"

__all__ = [
    "ENTRY_POINT_GROUP", "builtin_packs", "import_file", "installed_plugins", "load_tools",
    "packs_dir",
]


def load_tools(reference: str | Path) -> Toolset:
    """Tools from a built-in pack, an installed plugin, a `.py` file or a folder of them.

    `reference` is tried in this order:

    1. the name of an entry point in the group `agentkit.tools`: a built-in pack such as `files`
       (agentkit's own entry points, see `builtin_packs()`) or a plugin another installed package
       declares (see this module's docstring for what it may point at);
    2. a path to a `.py` file, or to a folder whose `*.py` files (not starting with `_`) are loaded.

    Every `Tool` a module defines at top level is taken. Raises `UserError` when nothing matches
    and `ToolDefinitionError` when two of the tools share a name.
    """
    text = str(reference)
    if _looks_like_name(text) and (found := _entry_point(text)) is not None:
        return _load_entry_point(found)
    path = Path(text).expanduser()
    if path.is_dir():
        tools = Toolset()
        for file in sorted(path.glob("*.py")):
            if not file.name.startswith("_"):
                tools.add(_load_file(file, None, None))
        return tools
    if path.suffix == ".py" and path.is_file():
        return _load_file(path, None, None)
    packs = ", ".join(builtin_packs()) or (
        f"none registered: agentkit's {ENTRY_POINT_GROUP!r} entry points are missing; install it "
        "(`make install` in a checkout)"
    )
    plugins = ", ".join(installed_plugins()) or "none installed"
    raise UserError(
        f"tools {text!r} is neither a built-in pack ({packs}), an installed "
        f"plugin ({plugins}), a .py file nor a folder of them; check the spelling or the path"
    )


def builtin_packs() -> list[str]:
    """Names of the built-in packs: agentkit's own entry points in the `agentkit.tools` group."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP) if _is_builtin(ep)})


def installed_plugins() -> list[str]:
    """Names of the other installed packages' entry points in the `agentkit.tools` group."""
    return sorted(
        {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP) if not _is_builtin(ep)}
    )


def packs_dir() -> Path:
    """The folder of the built-in packs: `agentkit_tools/` when installed, `tools/` in a checkout.

    The folder next to this very `agentkit` package wins, so a checkout never picks up the copy
    an editable install made of `tools/` (hatchling copies force-included folders).
    """
    base = Path(__file__).resolve().parent.parent
    for candidate in (base / "agentkit_tools", base / "tools"):
        if (candidate / "files.py").is_file():
            return candidate
    spec = importlib.util.find_spec("agentkit_tools")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    raise UserError(
        f"the built-in tool packs are missing: neither {str(base / 'agentkit_tools')!r} nor "
        f"{str(base / 'tools')!r} exists; reinstall agentkit"
    )


def pack_file(name: str) -> Path | None:
    """`<packs_dir()>/<name>.py`, the file of the built-in pack `name`, or None if there is none."""
    path = packs_dir() / f"{name}.py"
    return path if not name.startswith("_") and path.is_file() else None


def load_pack(path: Path) -> Toolset:
    """The tools of a built-in pack's file (see `agentkit._packs`)."""
    return _load_file(path, f"agentkit_tools.{path.stem}", f"pack {path.stem!r}")


def _is_builtin(ep: EntryPoint) -> bool:
    return ep.dist is not None and ep.dist.name == DISTRIBUTION


def _looks_like_name(text: str) -> bool:
    return "/" not in text and "\\" not in text and not text.endswith(".py")


def _entry_point(name: str) -> EntryPoint | None:
    found = list(entry_points(group=ENTRY_POINT_GROUP, name=name))
    owners = {ep.value for ep in found}
    if len(owners) > 1:
        raise UserError(
            f"two installed plugins are named {name!r} in the {ENTRY_POINT_GROUP!r} entry-point "
            f"group: {' and '.join(sorted(owners))}; uninstall one of them"
        )
    return found[0] if found else None


def _load_entry_point(ep: EntryPoint) -> Toolset:
    source = f"pack {ep.name!r}" if _is_builtin(ep) else f"plugin {ep.name!r} ({ep.value})"
    try:
        loaded = ep.load()
    except Exception as e:
        raise UserError(f"loading {source} failed: {type(e).__name__}: {e}") from e
    if callable(loaded) and not isinstance(loaded, Tool | Toolset | ModuleType):
        try:
            loaded = loaded()
        except Exception as e:
            raise UserError(f"the factory of {source} failed: {type(e).__name__}: {e}") from e
    return _as_toolset(loaded, source)


def _as_toolset(value: Any, source: str) -> Toolset:
    if isinstance(value, ModuleType):
        value = [v for v in vars(value).values() if isinstance(v, Tool)]
    if isinstance(value, Tool):
        value = [value]
    if not isinstance(value, Iterable) or isinstance(value, str | bytes):
        raise UserError(
            f"{source} gave {type(value).__name__!r}; an agentkit.tools entry point must name a "
            "Tool, a Toolset, a module of tools, or a function returning one of them"
        )
    tools = list(value)
    for each in tools:
        if isinstance(each, Tool):
            each.source = f"{source}:{each.name}"
    return Toolset(tools)


def _load_file(path: Path, module_name: str | None, label: str | None) -> Toolset:
    name = module_name or f"agentkit_user_tools.{path.stem}_{abs(hash(str(path.resolve())))}"
    module = sys.modules.get(name) or import_file(path, name)
    found = [v for v in vars(module).values() if isinstance(v, Tool)]
    for each in found:
        each.source = f"{label or path}:{each.name}"
    return Toolset(found)


def import_file(
    path: Path, name: str, *, what: str = "tools from", error: type[UserError] = UserError
) -> ModuleType:
    """Import the Python file `path` as module `name`; a failure is an `error` naming the file
    (`what` says what was being imported: "importing {what} 'path' failed: ...")."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise error(f"cannot import {what} {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[name]
        raise error(f"importing {what} {str(path)!r} failed: {type(e).__name__}: {e}") from e
    return module
