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


def _imports(argv: list[str]) -> tuple[list[str], list[tuple[str, float]]]:
    """From `python -X importtime`: the HEAVY packages `argv` imports, and its slowest
    top-level imports as (module, cumulative seconds)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *argv], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, check=True)
    names, top = set(), []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            _, cumulative, module = line.split("|")
            names.add(module.strip().split(".")[0])
            if cumulative.strip().isdigit() and not module.startswith("  "):
                top.append((module.strip(), int(cumulative) / 1e6))
    top.sort(key=lambda item: -item[1])
    return [h for h in HEAVY if h in names], top[:3]


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
    found = {
        'python -c "import agentkit"': _imports(["-c", "import agentkit"]),
        "agentkit --help": _imports(help_argv),
    }
    imported = {name: heavy for name, (heavy, _) in found.items()}
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
            "targets": targets, "litellm_imported": litellm_loaded,
            "notes": [f"Slowest top-level imports of {name} (python -X importtime, one run): "
                      + ", ".join(f"{module} {seconds:.3f} s" for module, seconds in top)
                      for name, (_, top) in found.items()],
            "data": json.loads(json.dumps(times))}
