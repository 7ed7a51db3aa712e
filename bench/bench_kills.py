"""SIGKILL sweep: agent runs killed at random points, then resumed until they finish.

Each trial starts the run of `bench/_kill_worker.py` in a fresh interpreter: three subtasks (two
in parallel) append 12 numbered lines to a log outside the run database with a non-idempotent
tool. The sweep kills the process with SIGKILL after a random number of lines (0 = once the run
exists, during planning) plus a random delay of up to 0.15 s, so kills land inside tool calls,
between them, in model calls and in checkpoint writes. Half the trials kill the first resume as
well. Then `Agent.resume` runs in new interpreters until the run ends. Checked per trial: the
run is `completed`; no line appended twice (repeated side effect); no line missing (lost side
effect); no run left unfinished after three resumes without a kill, or a resume that hangs
(stuck).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench._util import ROOT

EFFECTS = 12  # bench._kill_worker.EFFECTS, without importing agentkit here
# kills: how many workers of a trial may be killed; latest: the most lines before a kill (the
# smoke size kills before the last lines, so that its runs are cut off, not already finished).
SIZES: dict[str, dict[str, Any]] = {"smoke": {"trials": 2, "kills": [1], "latest": EFFECTS - 3},
                                    "full": {"trials": 50, "kills": [1, 2], "latest": EFFECTS}}
PARALLEL = 2  # trials at once (each is a chain of worker processes)
TIMEOUT_S = 120.0  # a worker that has not ended by then is hung


def _start(mode: str, db: Path, log: Path, run_id: str | None) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "bench._kill_worker", mode, str(db), *filter(None, [run_id])]
    env = {**os.environ, "AGENTKIT_ALLOW_MODEL_REQUESTS": "0", "AGENTKIT_KILL_LOG": str(log),
           "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONWARNINGS": "ignore"}
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _lines(log: Path) -> list[int]:
    return [int(x) for x in log.read_text().split()] if log.exists() else []


def _run_ids(db: Path) -> list[str]:
    if not db.exists():
        return []
    # Read-write: the first connection after a kill recovers the write-ahead log's index.
    conn = sqlite3.connect(db, timeout=30)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY created_at")]
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):  # its schema not yet made
            return []
        raise
    finally:
        conn.close()


def _kill_at_random(proc: subprocess.Popen[str], db: Path, log: Path, rng: random.Random,
                    latest: int) -> str:
    """SIGKILL `proc` after a random number of lines and a random delay; what happened."""
    after = rng.randint(min(len(_lines(log)), latest), latest)  # EFFECTS: in the finalizer
    deadline = time.monotonic() + TIMEOUT_S
    while proc.poll() is None and time.monotonic() < deadline:
        if (len(_lines(log)) >= after if after else _run_ids(db)):
            break
        time.sleep(0.005)
    time.sleep(rng.uniform(0, 0.15))
    if proc.poll() is not None:
        proc.communicate()
        return "ended before the kill"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    return "killed"


def _finish(proc: subprocess.Popen[str]) -> dict[str, Any]:
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"status": "hung"}
    lines = [x for x in out.splitlines() if x.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"status": "error", "error": err.strip().splitlines()[-1:] or [proc.returncode]}
    return dict(json.loads(lines[-1]))


def _status(db: Path, run_id: str) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()[0])


def trial(seed: int, folder: Path, kill_choices: tuple[int, ...] = (1, 2),
          latest: int = EFFECTS) -> dict[str, Any]:
    """One run, killed once or twice at random points, then resumed until it ends."""
    rng = random.Random(seed)
    db, log = folder / "runs.db", folder / "effects.log"
    kills = rng.choice(kill_choices)
    outcome: dict[str, Any] = {"seed": seed, "kills": 0, "cut_off": 0, "resumes": 0,
                               "errors": []}
    run_id: str | None = None
    for attempt in range(kills + 3):
        ids = _run_ids(db)
        run_id = ids[0] if ids else None
        if run_id is not None and _status(db, run_id) != "running":
            break
        proc = _start("resume" if run_id else "run", db, log, run_id)
        outcome["resumes"] += run_id is not None
        if attempt < kills:
            killed = _kill_at_random(proc, db, log, rng, latest) == "killed"
            outcome["kills"] += killed
            ids = _run_ids(db)  # did the kill leave a recorded run unfinished?
            outcome["cut_off"] += killed and bool(ids) and _status(db, ids[0]) == "running"
            continue
        result = _finish(proc)
        if result["status"] in ("hung", "error"):
            outcome["errors"].append(result)
    ids = _run_ids(db)
    counts = Counter(_lines(log))
    outcome.update(
        runs=len(ids), status=_status(db, ids[0]) if len(ids) == 1 else f"{len(ids)} runs",
        repeated=sum(c - 1 for c in counts.values() if c > 1),
        lost=sum(1 for n in range(1, EFFECTS + 1) if n not in counts),
    )
    outcome["stuck"] = int(outcome["status"] != "completed")
    print(f"trial {seed}: {outcome}", file=sys.stderr, flush=True)
    return outcome


def run(size: str = "full") -> dict[str, Any]:
    if size not in SIZES:
        raise ValueError(f"size {size!r} is unknown; use one of {', '.join(SIZES)}")
    trials, choices, latest = (SIZES[size][k] for k in ("trials", "kills", "latest"))
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(PARALLEL) as pool:
        folders = [Path(tmp) / f"trial{seed}" for seed in range(trials)]
        for folder in folders:
            folder.mkdir()
        outcomes = list(pool.map(lambda s: trial(s, folders[s], tuple(choices), latest),
                                 range(trials)))
    total = {
        "trials": trials,
        "kills": sum(o["kills"] for o in outcomes),
        "resumes": sum(o["resumes"] for o in outcomes),
        "completed": sum(o["status"] == "completed" for o in outcomes),
        "repeated_side_effects": sum(o["repeated"] for o in outcomes),
        "lost_side_effects": sum(o["lost"] for o in outcomes),
        "stuck_runs": sum(o["stuck"] for o in outcomes),
        "worker_errors": sum(len(o["errors"]) for o in outcomes),
    }
    clean = (total["completed"] == trials and total["repeated_side_effects"] == 0
             and total["lost_side_effects"] == 0 and total["stuck_runs"] == 0)
    failed = [o for o in outcomes if o["stuck"] or o["repeated"] or o["lost"] or o["errors"]]
    notes = [
        f"{EFFECTS} side effects per run; a kill waits for a random number of them (or for the "
        f"run to exist) plus up to 0.15 s; {PARALLEL} trials at a time. kills counts the "
        "workers actually killed (a worker that ended first is not). Seeds 0..trials-1, so a "
        "failing trial can be rerun alone with bench.bench_kills.trial(seed, folder).",
        *(f"seed {o['seed']}: {o}" for o in failed[:5]),
    ]
    return {
        "name": "kills", "title": "SIGKILL sweep: kill -9 at random points, then resume",
        "rows": [total], "notes": notes, "outcomes": outcomes,
        "targets": [{"what": f"{trials} runs killed at random points: all completed, 0 "
                             "repeated, 0 lost side effects, 0 stuck",
                     "target": "0 bad", "measured": "0 bad" if clean else
                     f"{trials - total['completed']} not completed, "
                     f"{total['repeated_side_effects']} repeated, "
                     f"{total['lost_side_effects']} lost", "met": clean}],
    }


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=1))
