"""Measurement helpers: memory from /proc, medians, worker subprocesses, the machine."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).absolute().parent.parent
# The tests set this to run workers in the test process (fast); `python -m bench` never does.
IN_PROCESS = False


def _status(field: str) -> float:
    """A /proc/self/status field in MiB (Linux); 0 elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_mib() -> float:
    return _status("VmRSS")


def peak_rss_mib() -> float:
    return _status("VmHWM")


def reset_peak_rss() -> None:
    """Reset the peak-RSS mark so the next peak belongs to the next measurement (Linux ≥ 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run_worker(task: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
    """Run `bench._worker` in a fresh interpreter and return the JSON it prints last."""
    if IN_PROCESS:
        from bench._worker import run_task

        return json.loads(json.dumps(run_task(task)))
    proc = subprocess.run(
        [sys.executable, "-m", "bench._worker", json.dumps(task)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "AGENTKIT_ALLOW_MODEL_REQUESTS": "0",
             "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONWARNINGS": "ignore"},
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"benchmark worker {task} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    return json.loads(lines[-1])


def sqlite_size(path: str | Path) -> dict[str, int]:
    """Bytes of a SQLite database after a WAL checkpoint, counting the -wal and -shm files."""
    import sqlite3

    path = Path(path)
    before = sum(p.stat().st_size for p in _files(path))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    after = sum(p.stat().st_size for p in _files(path))
    return {"bytes_before_checkpoint": before, "bytes": after}


def _files(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory": mem,
        "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}",
        "versions": _versions(),
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("agentkit", "langgraph", "langgraph-checkpoint-sqlite", "langgraph-prebuilt",
                 "litellm", "pydantic-ai-slim", "smolagents", "llama_cpp_python"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out
