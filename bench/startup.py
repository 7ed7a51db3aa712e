"""Startup: wall time of `import agentkit` and `agentkit --help` in fresh interpreters, and which
heavy libraries each one imports (litellm must not be among them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._util import ROOT, median

SIZES = {"smoke": 1, "full": 9}
TARGET_S = 0.5
HEAVY = ("litellm", "langgraph", "langchain_core", "sqlalchemy", "tiktoken", "llama_cpp",
         "typer", "rich", "pydantic")


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "agentkit"
    return [str(script)] if script.exists() else [sys.executable, "-m", "agentkit.cli"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONWARNINGS": "ignore"}


def _wall(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=_env(), check=True, capture_output=True)
    return time.perf_counter() - started


def _imported(argv: list[str]) -> list[str]:
    """Top-level packages of HEAVY that `argv` imports, from `python -X importtime`."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *argv], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, check=True)
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return [h for h in HEAVY if h in names]


def run(size: str = "full") -> dict[str, Any]:
    repeats = SIZES[size]
    cases = {
        "python -c pass (interpreter alone)": [sys.executable, "-c", "pass"],
        'python -c "import agentkit"': [sys.executable, "-c", "import agentkit"],
        "agentkit --help": [*_cli(), "--help"],
    }
    _wall(cases['python -c "import agentkit"'])  # warm the OS file cache and .pyc files
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):  # interleaved, so drift hits every case alike
        for name, argv in cases.items():
            times[name].append(_wall(argv))
    script = _cli()
    help_argv = ([script[0], "--help"] if len(script) == 1 else ["-m", "agentkit.cli", "--help"])
    imported = {
        'python -c "import agentkit"': _imported(["-c", "import agentkit"]),
        "agentkit --help": _imported(help_argv),
    }
    rows = [{"case": name, "median_s": median(t), "min_s": min(t), "repeats": len(t),
             "imports": imported.get(name)} for name, t in times.items()]
    litellm_loaded = {name: "litellm" in mods for name, mods in imported.items()}
    targets = [
        {"what": f"{r['case']} wall time", "target": f"≤ {TARGET_S} s",
         "measured": f"{r['median_s']:.3f} s", "met": r["median_s"] <= TARGET_S}
        for r in rows if r["case"] in imported
    ] + [
        {"what": f"{name} does not import litellm", "target": "not imported",
         "measured": "imported" if loaded else "not imported", "met": not loaded}
        for name, loaded in litellm_loaded.items()
    ]
    table = {
        "title": f"Wall time in a fresh interpreter (median of {repeats})",
        "columns": ["command", "median s", "min s", "heavy libraries imported"],
        "rows": [[r["case"], f"{r['median_s']:.3f}", f"{r['min_s']:.3f}",
                  "–" if r["imports"] is None else (", ".join(r["imports"]) or "none")]
                 for r in rows],
    }
    return {"name": "startup", "title": "Startup", "rows": rows, "tables": [table],
            "targets": targets, "notes": [], "litellm_imported": litellm_loaded,
            "data": json.loads(json.dumps(times))}
