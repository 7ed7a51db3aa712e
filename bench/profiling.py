"""cProfile summaries: the top functions by own time, and own time grouped by package.

    python -m bench.profiling                       # agentkit user path, 200 steps, top 25
    python -m bench.profiling --n 500 --config agentkit --top 40 --dump /tmp/ak.prof

Runs one configuration of `bench/overhead.py` under cProfile in a fresh interpreter (after a
warm-up run there) and prints where its CPU went. `--dump` keeps the raw profile for
`python -m pstats` or snakeviz. This module is not a benchmark of the suite; `bench/overhead.py`
puts the same summary of the user path into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import PurePath
from typing import Any


def group(filename: str, name: str) -> str:
    """The package a profiled function belongs to: `agentkit/<part>`, a site-packages
    distribution, a C built-in, or a standard-library module."""
    parts = PurePath(filename).parts
    if filename == "~":  # a C function: its name says which module it is from
        found = re.search(r"of '(\w+)\.|built-in method (\w+)\.", name)
        return f"C: {next(g for g in found.groups() if g)}" if found else "C: other"
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    if "agentkit" in parts:
        rest = parts[len(parts) - parts[::-1].index("agentkit"):]
        return "agentkit/" + (rest[0].removesuffix(".py") if rest else "")
    if "bench" in parts:
        return "bench (the fake models, the tool)"
    stdlib = [p for p in parts if p.startswith("python3")]
    if stdlib:
        rest = parts[parts.index(stdlib[-1]) + 1:]
        return "stdlib " + (rest[0].removesuffix(".py") if rest else "")
    return "other"


def _where(filename: str, line: int, name: str) -> str:
    parts = PurePath(filename).parts
    for anchor in ("site-packages", "agentkit", "bench"):
        if anchor in parts:
            start = len(parts) - parts[::-1].index(anchor)
            start -= 0 if anchor == "site-packages" else 1
            return f"{'/'.join(parts[start:])}:{line} {name}"
    return name if filename == "~" else f"{PurePath(filename).name}:{line} {name}"


def summarize(stats: Any, *, top: int = 15) -> dict[str, Any]:
    """`pstats.Stats` as rows: the `top` functions by own time, and own time per package."""
    entries = stats.stats  # (file, line, name) -> (calls, primitive calls, own, cumulative, ...)
    total = sum(own for (_, _, own, _, _) in entries.values()) or 1e-12
    functions = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:top]
    groups: dict[str, float] = {}
    for (filename, _, name), (_, _, own, _, _) in entries.items():
        key = group(filename, name)
        groups[key] = groups.get(key, 0.0) + own
    return {
        "profiled_s": total,
        "top": [{"function": _where(f, line, name), "calls": calls, "own_s": own,
                 "own_share": own / total, "cumulative_s": cum}
                for (f, line, name), (calls, _, own, cum, _) in functions],
        "groups": [{"package": key, "own_s": own, "own_share": own / total}
                   for key, own in sorted(groups.items(), key=lambda kv: kv[1], reverse=True)],
    }


def main(argv: list[str] | None = None) -> int:
    from bench._util import run_worker

    parser = argparse.ArgumentParser(prog="python -m bench.profiling",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="agentkit-user",
                        help="a configuration of bench/overhead.py (default: the user path)")
    parser.add_argument("--n", type=int, default=200, help="round trips (default 200)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--dump", help="also write the raw cProfile stats to this file")
    args = parser.parse_args(argv)
    out = run_worker({"task": "profile", "framework": args.config, "n": args.n,
                      "top": args.top, "dump": args.dump}, timeout=1800)
    print(f"{args.config}, {args.n} round trips: {out['profiled_s']:.2f} s of own time profiled "
          f"({out['profiled_s'] / args.n * 1000:.2f} ms per round trip under cProfile)")
    print("\nown time by package:")
    for g in out["groups"][:15]:
        print(f"  {g['own_share']:6.1%}  {g['own_s']:7.3f} s  {g['package']}")
    print(f"\ntop {args.top} functions by own time:")
    for f in out["top"]:
        print(f"  {f['own_share']:6.1%}  {f['own_s']:7.3f} s  cum {f['cumulative_s']:7.3f} s  "
              f"{f['calls']:>8} calls  {f['function']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
