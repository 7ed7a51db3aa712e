"""The built-in tool packs as entry-point targets.

agentkit's pyproject declares each pack in the `agentkit.tools` entry-point group as an attribute
of this module (`files = "agentkit._packs:files"`); loading the entry point looks the attribute
up here, which loads `files.py` from `agentkit.plugins.packs_dir()`: the checkout's own `tools/`
in a checkout (never the copy an editable install makes of it), `agentkit_tools/` when installed
from a wheel. So a pack is a file in `tools/` plus one line in pyproject, and nothing else.
"""

from __future__ import annotations

from agentkit.plugins import load_pack, pack_file
from agentkit.tools import Toolset


def __getattr__(name: str) -> Toolset:
    path = None if name.startswith("__") else pack_file(name)  # dunders: Python probing
    if path is None:
        raise AttributeError(
            f"module {__name__!r} has no built-in pack {name!r}: no {name}.py in the packs "
            "folder; reinstall agentkit, or add the pack's file next to the others"
        )
    return load_pack(path)
