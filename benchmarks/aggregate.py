"""Benchmark: hourly long/short liquidations per venue and symbol, with counts, several ways.

    python benchmarks/aggregate.py [--events 20000000] [--data-dir .bench/store] [--runs 3]
                                   [--keep] [--no-check]

Generates the SIMULATED event store once (``benchmarks/generate.py``, streamed; an
existing store is reused when it holds at least 95 % of ``--events``), then times, each run
in a fresh subprocess, engines that all compute the same thing over ALL events: per
(venue, symbol, hour), the USD of liquidated longs and shorts and the number of each (the
work of issue 11: "per venue and symbol, with counts"):

* ``pandas (naive)``: ``pd.read_parquet`` of every column, floor ``ts`` to the hour,
  groupby exchange/symbol/hour/side (sum and count), unstack;
* ``duckdb (by hand)``: a ``GROUP BY`` query over ``read_parquet``, on an integer hour;
* ``polars (lazy)``: ``scan_parquet`` + ``group_by`` + ``collect``, sums by ``when/then``;

Each baseline is the fastest of the formulations tried (``date_trunc`` vs an integer
hour in DuckDB, ``filter`` vs ``when/then`` in Polars), so "ahead of the best engine" is
measured against its best query, not a slow one.
* ``project (cold)``: :func:`helpers.aggregate.aggregate_store` with its bars cache removed
  first: every partition grouped from its events (clean partitions by Arrow + numpy,
  :mod:`helpers.bars_group`; partitions with write parts deduplicated by DuckDB), each
  series zero-filled over its observed span, bars in recorded gaps dropped, and the cache
  written (more work than the baselines, none of it skipped here);
* ``project, 1 changed``: the same after one (venue, day) partition changed, its bars cache
  (:mod:`helpers.bars_cache`) warm: what a daily report's build costs;
* ``project (dask)``: :func:`helpers.distributed.bars_with_dask`, the same, on Dask.

Seconds are wall time of the computation only (imports and interpreter start excluded),
best of ``--runs``. Peak MB is the child's maximum resident set size from ``os.wait4``
(imports included); the parent imports nothing heavy until every child has run, because
Linux carries the parent's peak RSS into a child's ``ru_maxrss`` across ``exec``. All
results must agree on every venue-symbol-hour with events (USD to relative 1e-6, counts
exactly) before the table is printed. The
run exits with status 1 when the project's aggregation takes more than ``--target`` times
the best of DuckDB-by-hand and Polars (``--no-check`` disables this). Speed is measured
here, never in the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = ROOT / ".bench" / "store"
MARKER = "BENCH_STORE.json"
STORE_FORMAT = 3
"""The generator's file format, ``generate.FORMAT`` (3: LZ4 files with the ``liqnb.series``
footer, as compaction writes them). A copy, as ``MARKER`` is: importing ``generate`` would
load pyarrow into this parent, whose peak RSS every child inherits."""
REUSE_FRACTION = 0.95
REL_TOL = 1e-6
ENGINES = {
    "pandas": "pandas (naive)",
    "duckdb": "duckdb (by hand)",
    "polars": "polars (lazy)",
    "project": "project (cold)",
    "incremental": "project, 1 changed",
    "dask": "project (dask)",
    "cluster": "dask LocalCluster",
}
BASELINES = ("duckdb", "polars")
PACKAGES = ("pandas", "pyarrow", "numpy", "duckdb", "polars", "dask", "distributed")
CLUSTER_WORKERS = 2


# ---- engines (run inside a child process) ------------------------------------------------
# Each returns one row per (venue, symbol, hour) with events: exchange, symbol, hour (UTC
# open time), long_usd and short_usd (USD of liquidated long / short positions; NaN or 0 for
# a side without events), long_count and short_count.


def run_pandas(data_dir: Path):
    import pandas as pd

    def compute():
        df = pd.read_parquet(data_dir / "liquidations")
        df["hour"] = df["ts"].dt.floor("h")
        keys = ["exchange", "symbol", "hour", "side"]
        grouped = df.groupby(keys, observed=True)["notional_usd"].agg(["sum", "count"])
        wide = grouped.unstack("side")
        wide.columns = [f"{side}_{'usd' if stat == 'sum' else stat}" for stat, side in wide.columns]
        return wide.reset_index()

    return compute


def run_duckdb(data_dir: Path):
    import duckdb

    pattern = (data_dir / "liquidations" / "**" / "*.parquet").as_posix()
    sql = f"""
        SELECT exchange, symbol, make_timestamp(h * 3600000000) AS hour,
               long_usd, short_usd, long_count, short_count
        FROM (
            SELECT exchange, symbol, epoch_us(ts) // 3600000000 AS h,
                   sum(notional_usd) FILTER (WHERE side = 'long') AS long_usd,
                   sum(notional_usd) FILTER (WHERE side = 'short') AS short_usd,
                   count(*) FILTER (WHERE side = 'long') AS long_count,
                   count(*) FILTER (WHERE side = 'short') AS short_count
            FROM read_parquet('{pattern}', hive_partitioning = true)
            GROUP BY ALL
        )
    """  # an integer hour: date_trunc on a TIMESTAMPTZ took twice as long (4.9 s vs 2.4 s at 20M)

    def compute():
        con = duckdb.connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            return con.execute(sql).df()
        finally:
            con.close()

    return compute


def run_polars(data_dir: Path):
    import polars as pl

    pattern = (data_dir / "liquidations" / "**" / "*.parquet").as_posix()
    usd, long, short = pl.col("notional_usd"), pl.col("side") == "long", pl.col("side") == "short"

    def compute():
        return (
            pl.scan_parquet(pattern, hive_partitioning=True)
            .group_by("exchange", "symbol", pl.col("ts").dt.truncate("1h").alias("hour"))
            .agg(  # when/then, not usd.filter(long): 1.8 s instead of 5.0 s at 20M
                pl.when(long).then(usd).otherwise(0.0).sum().alias("long_usd"),
                pl.when(short).then(usd).otherwise(0.0).sum().alias("short_usd"),
                long.sum().alias("long_count"),
                short.sum().alias("short_count"),
            )
            .collect()
            .to_pandas()
        )

    return compute


def _as_hours(bars):
    """The project's bars in the benchmark's columns (``ts`` is the bar's open time)."""
    return bars.rename(columns={"ts": "hour"})


def run_project(data_dir: Path):
    """A cold build: the bars cache (``_state/bars``) removed first, written by the build."""
    from helpers.aggregate import aggregate_store
    from helpers.store import Store

    shutil.rmtree(data_dir / "_state" / "bars", ignore_errors=True)

    def compute():
        return _as_hours(aggregate_store(Store(data_dir), "1h"))

    return compute


def run_incremental(data_dir: Path):
    """A build after one (venue, day) partition changed: the cache warmed by an untimed
    build, then one partition's file touched (new mtime: its identity changes, its rows do
    not, so every engine still agrees), so the timed build re-groups that partition only."""
    from helpers.aggregate import aggregate_store
    from helpers.store import Store

    store = Store(data_dir)
    aggregate_store(store, "1h")
    changed = store.files("liquidations")[0]
    os.utime(changed, ns=(time.time_ns(), time.time_ns()))

    def compute():
        return _as_hours(aggregate_store(store, "1h"))

    return compute


def run_dask(data_dir: Path):
    from helpers.distributed import bars_with_dask

    def compute():
        return _as_hours(bars_with_dask(data_dir, "1h", scheduler="threads"))

    return compute


def run_cluster(data_dir: Path):
    """bars_with_dask on a ``distributed.LocalCluster`` of worker processes (one thread
    each), or on the running cluster ``DASK_SCHEDULER_ADDRESS`` names (``tcp://host:8786``;
    the store must then be readable by every worker). Starting the cluster is outside the
    timing, like the imports; its memory is the sum over the child and its workers (see
    :func:`_tree_rss_sampler`; with a remote cluster only this process is counted)."""
    import distributed

    from helpers.distributed import bars_with_dask

    address = os.environ.get("DASK_SCHEDULER_ADDRESS")  # a running cluster instead
    cluster = (
        None
        if address
        else distributed.LocalCluster(
            n_workers=CLUSTER_WORKERS, processes=True, threads_per_worker=1, dashboard_address=None
        )
    )
    client = distributed.Client(address or cluster)

    def compute():
        try:
            return _as_hours(bars_with_dask(data_dir, "1h"))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    return compute


RUNNERS = {
    "pandas": run_pandas,
    "duckdb": run_duckdb,
    "polars": run_polars,
    "project": run_project,
    "incremental": run_incremental,
    "dask": run_dask,
    "cluster": run_cluster,
}


def canonical(df):
    """(venue, symbol, hour) rows with events, a side without events as 0, sorted: the form
    results are compared in (the project's zero-filled bars drop out)."""
    import pandas as pd

    out = pd.DataFrame(
        {
            "exchange": df["exchange"].astype("string"),
            "symbol": df["symbol"].astype("string"),
            "hour": pd.to_datetime(df["hour"], utc=True).astype("datetime64[us, UTC]"),
            **{c: df[c].astype("float64").fillna(0.0) for c in ("long_usd", "short_usd")},
            **{c: df[c].fillna(0).astype("int64") for c in ("long_count", "short_count")},
        }
    )
    out = out[(out["long_count"] != 0) | (out["short_count"] != 0)]
    return out.sort_values(["exchange", "symbol", "hour"]).reset_index(drop=True)


def child_engine(engine: str, data_dir: Path, result: Path) -> None:
    compute = RUNNERS[engine](data_dir)
    peak_tree = _tree_rss_sampler() if engine == "cluster" else (lambda: 0)
    t0 = time.perf_counter()
    out = compute()
    seconds = time.perf_counter() - t0
    canonical(out).to_parquet(result)
    report = {"seconds": seconds, "vmhwm_kb": _vmhwm_kb(), "tree_kb": peak_tree()}
    print(json.dumps(report))


def _tree_rss_sampler():
    """Start sampling, every 20 ms, the resident memory of this process plus its child
    processes (a LocalCluster's workers); returns a function that stops and gives the
    peak sum in KB. ``ru_maxrss`` would count only the largest single process."""
    import threading

    import psutil

    me, peak, stop = psutil.Process(), [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            peak[0] = max(peak[0], total // 1024)
            stop.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()

    def finish() -> int:
        stop.set()
        thread.join()
        return peak[0]

    return finish


def child_generate(data_dir: Path, events: int) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from generate import generate

    t0 = time.perf_counter()
    n = generate(data_dir, events)
    print(
        f"SIMULATED store (benchmarks/generate.py): {n:,} events "
        f"in {time.perf_counter() - t0:.0f} s"
    )


def _vmhwm_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


# ---- the parent ----------------------------------------------------------------------------


def run_child(args: list[str], stdout: Path) -> tuple[int, int]:
    """Run this script as a child; (exit status, peak RSS in KB from wait4)."""
    with open(stdout, "w") as out:
        proc = subprocess.Popen([sys.executable, __file__, *args], stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss


def stored_events(data_dir: Path) -> int:
    """Number of events in the store's liquidations table (from Parquet footers)."""
    import pyarrow.parquet as pq

    files = sorted((data_dir / "liquidations").glob("**/part.parquet"))
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def _older_generator(data_dir: Path) -> bool:
    """Whether ``data_dir`` is a benchmark store from a generator older than this one (its
    files lack what compaction writes now, such as the ``liqnb.series`` footer)."""
    marker = data_dir / MARKER
    if not marker.exists():
        return False
    return json.loads(marker.read_text()).get("format") != STORE_FORMAT


def prepare_store(data_dir: Path, events: int, work: Path) -> bool:
    """Make sure ``data_dir`` holds enough events; True when this run generated it."""
    have = stored_events(data_dir) if data_dir.exists() else 0
    if have >= REUSE_FRACTION * events and not _older_generator(data_dir):
        print(f"reusing {data_dir} ({have:,} events)")
        return False
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / MARKER).exists():
            sys.exit(
                f"{data_dir} holds {have:,} events, fewer than {REUSE_FRACTION:.0%} of "
                f"{events:,}, and is not a benchmark store; choose another --data-dir"
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    print(f"generating a SIMULATED store of about {events:,} events in {data_dir} ...", flush=True)
    status, rss = run_child(
        ["--child", "generate", "--data-dir", str(data_dir), "--events", str(events)],
        work / "generate.out",
    )
    print((work / "generate.out").read_text().strip(), f"(peak {rss / 1024:,.0f} MB)")
    if status != 0:
        sys.exit(f"generating the store failed (exit {status})")
    return True


def measure(engines: list[str], data_dir: Path, runs: int, work: Path) -> dict[str, dict]:
    """Per engine: every run's seconds, peak RSS (MB, max over runs) and the result file."""
    stats = {e: {"seconds": [], "peak_mb": 0.0, "result": work / f"{e}.parquet"} for e in engines}
    for r in range(runs):
        for e in engines:
            out = work / f"{e}-{r}.out"
            args = ["--child", e, "--data-dir", str(data_dir), "--result", str(stats[e]["result"])]
            status, rss_kb = run_child(args, out)
            if status != 0:
                sys.exit(f"{ENGINES[e]} failed (exit {status}); see the error above")
            report = json.loads(out.read_text().strip().splitlines()[-1])
            stats[e]["seconds"].append(report["seconds"])
            # a cluster's workers are separate processes: count their sum, not the largest
            peak_kb = max(rss_kb, report.get("tree_kb", 0))
            stats[e]["peak_mb"] = max(stats[e]["peak_mb"], peak_kb / 1024)
            if rss_kb > 1.1 * report["vmhwm_kb"]:
                print(
                    f"  note: {ENGINES[e]} ru_maxrss {rss_kb / 1024:.0f} MB exceeds its own "
                    f"VmHWM {report['vmhwm_kb'] / 1024:.0f} MB (inherited from this process?)"
                )
            print(f"  run {r + 1}/{runs} {ENGINES[e]:<17} {report['seconds']:7.2f} s", flush=True)
    return stats


def check_agreement(stats: dict[str, dict]) -> tuple[int, float, float]:
    """Every engine has the same (venue, symbol, hour) rows, the same counts and the same USD
    per side (relative 1e-6); returns (rows, total long USD, total short USD)."""
    import numpy as np
    import pandas as pd

    results = {e: pd.read_parquet(s["result"]) for e, s in stats.items()}
    ref_name, ref = next(iter(results.items()))
    problems = []
    for name, df in results.items():
        keys = ("exchange", "symbol", "hour", "long_count", "short_count")
        if len(df) != len(ref) or not all(df[k].equals(ref[k]) for k in keys):
            problems.append(f"{ENGINES[name]}: {len(df)} venue-symbol-hours or counts differ")
            continue
        for col in ("long_usd", "short_usd"):
            if not np.allclose(df[col], ref[col], rtol=REL_TOL, atol=0.0):
                worst = float(np.max(np.abs(df[col] - ref[col]) / np.maximum(ref[col], 1e-300)))
                problems.append(f"{ENGINES[name]} {col}: worst relative difference {worst:.2e}")
    if problems:
        sys.exit(f"engines disagree with {ENGINES[ref_name]}:\n  " + "\n  ".join(problems))
    return len(ref), float(ref["long_usd"].sum()), float(ref["short_usd"].sum())


def machine_line() -> str:
    with open("/proc/meminfo") as fh:
        mem_kb = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"machine: {len(os.sched_getaffinity(0))} cores (nproc), {mem_kb / 1024**2:.1f} GB RAM, "
        f"load average {load}; {platform.platform()}"
    )


def versions_line() -> str:
    parts = [f"python {platform.python_version()}"]
    for pkg in PACKAGES:
        try:
            parts.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            parts.append(f"{pkg} (missing)")
    return "versions: " + ", ".join(parts)


def table(stats: dict[str, dict]) -> tuple[str, float, float]:
    """The result table; also (project time / best baseline time, project / pandas memory;
    NaN without pandas). *time vs best* is against the baselines run (else every engine)."""
    best = {e: min(s["seconds"]) for e, s in stats.items()}
    baseline = (
        min(best[e] for e in BASELINES if e in best)
        if set(BASELINES) & set(best)
        else min(best.values())
    )
    pandas_mb = stats["pandas"]["peak_mb"] if "pandas" in stats else float("nan")
    head = (
        f"{'engine':<18} {'seconds':>8} {'peak MB':>8} {'time vs best':>13} "
        f"{'memory vs pandas':>17}  runs (s)"
    )
    lines = [head, "-" * len(head)]
    for e, s in stats.items():
        runs = " ".join(f"{x:.2f}" for x in s["seconds"])
        lines.append(
            f"{ENGINES[e]:<18} {best[e]:8.2f} {s['peak_mb']:8.0f} {best[e] / baseline:12.2f}x "
            f"{s['peak_mb'] / pandas_mb:17.2f}  {runs}"
        )
    nan = float("nan")
    ratio = best["project"] / baseline if "project" in best else nan
    memory = stats["project"]["peak_mb"] / pandas_mb if "project" in stats else nan
    return "\n".join(lines), ratio, memory


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=20_000_000, help="events in the store")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="benchmark store")
    p.add_argument("--runs", type=int, default=3, help="runs per engine; the best counts")
    p.add_argument("--keep", action="store_true", help="keep a store generated by this run")
    p.add_argument("--no-check", action="store_true", help="do not fail on a missed target")
    p.add_argument("--target", type=float, default=1.0, help="allowed time ratio (project/best)")
    p.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help=f"comma-separated engines to time (default all: {','.join(ENGINES)})",
    )
    p.add_argument("--child", choices=[*ENGINES, "generate"], help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.events <= 0 or args.runs <= 0:
        p.error("--events and --runs must be positive")
    args.engine_list = [e for e in args.engines.split(",") if e]
    if not args.engine_list or set(args.engine_list) - set(ENGINES):
        p.error(f"--engines: choose among {','.join(ENGINES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = args.data_dir.resolve()
    if args.child == "generate":
        child_generate(data_dir, args.events)
        return 0
    if args.child:
        child_engine(args.child, data_dir, args.result)
        return 0

    print(machine_line())
    print(versions_line())
    work = Path(tempfile.mkdtemp(prefix="liqnb-bench-"))
    generated = False
    try:
        generated = prepare_store(data_dir, args.events, work)
        n_events = stored_events(data_dir)
        engines = args.engine_list
        print(f"timing {len(engines)} engines x {args.runs} runs, each in a fresh process")
        stats = measure(engines, data_dir, args.runs, work)
        venue_hours, long_usd, short_usd = check_agreement(stats)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if generated and not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)

    text, time_ratio, memory_ratio = table(stats)
    print()
    print(
        f"hourly long/short USD and counts per venue and symbol over {n_events:,} SIMULATED events "
        f"(benchmarks/generate.py, seed 7, random time order in each file); "
        f"all engines agree on {venue_hours:,} venue-symbol-hours to {REL_TOL:g} relative "
        f"(long ${long_usd:,.0f}, short ${short_usd:,.0f})"
    )
    print(f"time vs best = seconds / best of {', '.join(ENGINES[e] for e in BASELINES)}")
    print(text)
    print(
        f"project aggregation: {time_ratio:.2f}x of best time, {memory_ratio:.2f} of pandas memory"
    )
    if time_ratio > args.target and not args.no_check:
        print(
            f"FAIL: the project's aggregation takes {time_ratio:.2f}x the best engine's time "
            f"(target <= {args.target:.2f}x); see benchmarks/README.md",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
