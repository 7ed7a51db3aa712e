"""Run every benchmark, print a table, write docs/benchmarks.md.

    python -m bench                     # full size, writes docs/benchmarks.md
    python -m bench --size smoke        # tiny size, prints only
    python -m bench --only overhead,startup --no-write
    python -m bench --only bench_kills      # a long benchmark the default run leaves out

Benchmarks are the modules of this package with a `run(size) -> dict` function: the five below
first, then any other module (`bench_*.py`) other issues add. The `SEPARATE` ones are measured
alone (they take long, or their sections were written by their own command) and run only when
named with --only. Writing merges into the existing docs/benchmarks.md: the sections of the
benchmarks that ran are replaced, every other section is kept as it was.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import report
from bench._util import ROOT, machine

CORE = ["startup", "overhead", "concurrency", "dbsize", "local_model"]
# Run only when named: the kill sweep (about 20 min), the local model's goals (about an hour),
# and the sections their owners measured alone (horizon, prompt caching).
SEPARATE = ["bench_kills", "bench_small_goals", "bench_horizon", "bench_cache"]
NOT_BENCHMARKS = {"report", "profiling", "ab_checkouts"}


def discover() -> list[str]:
    """Benchmark module names: the core ones, then every other public module with `run`."""
    others = sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_") and m.name not in CORE and m.name not in NOT_BENCHMARKS
    )
    return CORE + others


def run_one(name: str, size: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}")
        result = module.run(size)
    except Exception as e:  # one broken benchmark must not hide the others' numbers
        result = {"name": name, "title": name, "error": f"{type(e).__name__}: {e}",
                  "traceback": traceback.format_exc(), "rows": [], "notes": []}
    result["module"] = name
    result["seconds"] = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["smoke", "full"], default="full")
    parser.add_argument("--only", help="comma-separated benchmark names: " + ", ".join(discover()))
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    names = discover()
    if args.only:
        wanted = [n.strip() for n in args.only.split(",")]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(names)}")
        names = [n for n in names if n in wanted]
    else:
        names = [n for n in names if n not in SEPARATE]
    command = "python -m bench" + ("" if len(sys.argv) <= 1 else " " + " ".join(sys.argv[1:]))
    meta = {"machine": machine(), "command": command, "size": args.size,
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_before": os.getloadavg(), "planned": len(names), "done": 0}
    results: list[dict[str, Any]] = []
    out = Path(args.output)
    write = args.size == "full" and not args.no_write
    earlier = out.read_text() if write and out.exists() else ""
    for name in names:
        print(f"running {name} ({args.size}) …", file=sys.stderr, flush=True)
        result = run_one(name, args.size)
        results.append(result)
        report.print_result(result)
        meta["load_after"] = os.getloadavg()
        meta["seconds"] = sum(r["seconds"] for r in results)
        meta["done"] = len(results)
        if write:  # after each benchmark, so a run cut short keeps what it measured
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(report.markdown(results, meta, earlier))
    if write:
        print(f"wrote {out} ({meta['seconds'] / 60:.1f} min)", file=sys.stderr)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
