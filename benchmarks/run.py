"""Every benchmark in one run: what ``make bench`` calls.

    python benchmarks/run.py [--with-100m] [--sizes 1000000,20000000] [--runs 3]
                             [--flushes 1728] [--skip-write] [--skip-render]

1. ``aggregate.py`` at each size (default 1M and 20M; ``--with-100m`` adds 100M): every
   engine's time, peak memory and ratios to the best. Each size's store is generated once
   by the streaming generator into ``.bench/store-<size>`` and kept for the next run. At
   100M naive pandas is left out: it needs about 20 GB of RAM.
2. ``write_path.py``: a 500-row write into a 450k-row partition, and a day of collector
   flushes (``--flushes`` writes, scaled to 24 h; 17280 is the whole day).
3. ``render.py``: the report suite's render time against bare papermill + nbconvert.

Each step runs as its own process and prints its own table; a failing step (a missed
target exits 1) is reported at the end and makes this exit 1, after every step ran.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ALL_ENGINES = "pandas,duckdb,polars,project,incremental,dask,cluster"
NO_PANDAS = "duckdb,polars,project,incremental,dask,cluster"


def label(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else str(n)


def step(title: str, cmd: list[str]) -> int:
    print(f"\n==== {title}\n$ {' '.join(cmd[1:])}", flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000000,20000000", help="comma-separated event counts")
    p.add_argument("--with-100m", action="store_true", help="also 100M events")
    p.add_argument("--runs", type=int, default=3, help="runs per engine (aggregate.py)")
    p.add_argument("--flushes", type=int, default=1728, help="write_path.py day flushes")
    p.add_argument("--skip-write", action="store_true")
    p.add_argument("--skip-render", action="store_true")
    a = p.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",") if s]
    if a.with_100m and 100_000_000 not in sizes:
        sizes.append(100_000_000)
    py = sys.executable
    failed = []
    for n in sizes:
        engines = NO_PANDAS if n >= 50_000_000 else ALL_ENGINES
        cmd = [py, str(HERE / "aggregate.py"), "--events", str(n), "--runs", str(a.runs)]
        cmd += ["--data-dir", str(ROOT / ".bench" / f"store-{label(n)}"), "--keep"]
        cmd += ["--engines", engines]
        if step(f"aggregation, {n:,} events", cmd):
            failed.append(f"aggregate {label(n)}")
    if not a.skip_write:
        cmd = [py, str(HERE / "write_path.py"), "--flushes", str(a.flushes)]
        if step("write path", cmd):
            failed.append("write_path")
    if not a.skip_render and step("report render", [py, str(HERE / "render.py")]):
        failed.append("render")
    print("\n==== " + (f"FAILED or target missed: {', '.join(failed)}" if failed else "all ran"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
