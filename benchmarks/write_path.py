"""Benchmark: what a write costs now that writes add parts and compaction merges them.

    python benchmarks/write_path.py [--rows 450000] [--batch 500] [--writes 15]
                                    [--flushes 17280] [--events 300000] [--exchanges 4]

Two figures, both on SIMULATED liquidation events in a temporary store, dated today (UTC) so
no partition's day is over during the run:

1. **A 500-row write into a partition of 450k rows.** The partition is written once; then
   ``--writes`` batches of ``--batch`` new events are written one by one. *New*: the store
   as it is (each write adds one ``part-<seq>.parquet``; the write that would pass
   ``MAX_PARTS`` compacts). *Old*: the same writes with ``max_parts=0``, so every write
   reads, merges and rewrites the whole partition as the store did before compaction
   existed. CPU time per write (``time.process_time``: on a shared machine wall time
   measures the neighbours), median, and the compacting write's.
2. **A day of collector flushes.** ``--flushes`` writes (one every 5 s over 24 h), together
   ``--events`` events spread over ``--exchanges`` venues, written in order through
   ``Store.write`` with automatic compaction. The CPU time of the writes (this process's
   user + system time, ``time.process_time``) is printed as a percentage of one core over
   24 h.

Targets (issue 11): under 50 ms for figure 1 and under 5 % of one core for figure 2. The
script prints ratios and the verdicts; speed is measured here, never in the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from helpers.compaction import MAX_PARTS  # noqa: E402
from helpers.store import Store  # noqa: E402

SYMBOLS = [f"C{i}/USDT:USDT" for i in range(50)]
DAY_S = 86_400


def events(
    rng: np.random.Generator,
    n: int,
    start: int,
    exchanges: list[str],
    t0: pd.Timestamp,
    seconds: np.ndarray,
) -> pd.DataFrame:
    """``n`` SIMULATED liquidations with ids ``start..start+n``, at ``t0 + seconds``."""
    sym = rng.integers(0, len(SYMBOLS), n)
    price = rng.uniform(1.0, 100_000.0, n)
    amount = rng.uniform(0.001, 10.0, n)
    return pd.DataFrame(
        {
            "ts": t0 + pd.to_timedelta(seconds, unit="s"),
            "exchange": np.array(exchanges)[rng.integers(0, len(exchanges), n)],
            "symbol": np.array(SYMBOLS)[sym],
            "base": [SYMBOLS[i].split("/")[0] for i in sym],
            "side": np.where(rng.random(n) < 0.5, "long", "short"),
            "price": price,
            "amount": amount,
            "notional_usd": price * amount,
            "source": "bench",
            "event_id": [f"e{start + i}" for i in range(n)],
        }
    )


def timed_writes(store: Store, batches: list[pd.DataFrame]) -> list[float]:
    """CPU seconds (this process) of each write."""
    out = []
    for b in batches:
        t = time.process_time()
        store.write("liquidations", b)
        out.append(time.process_time() - t)
    return out


def one_write(rows: int, batch: int, writes: int, t0: pd.Timestamp) -> tuple[float, float, float]:
    """(new median s, old median s, the compacting write's s) for figure 1."""
    rng = np.random.default_rng(7)
    seconds = np.sort(rng.uniform(0, DAY_S / 2, rows))
    base = events(rng, rows, 0, ["okx"], t0, seconds)
    batches = [
        events(
            rng,
            batch,
            rows + i * batch,
            ["okx"],
            t0,
            np.sort(rng.uniform(DAY_S / 2 + i * 60, DAY_S / 2 + (i + 1) * 60, batch)),
        )
        for i in range(writes + 1)
    ]
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        new, old = Store(a), Store(b, max_parts=0)
        new.write("liquidations", base)
        old.write("liquidations", base)
        new_s = timed_writes(new, batches[:writes])
        old_s = timed_writes(old, batches[:writes])
        extra = [
            events(rng, batch, 10**9 + i * batch, ["okx"], t0, np.full(batch, DAY_S - 10.0))
            for i in range(MAX_PARTS + 1 - writes)
        ]
        compacting = timed_writes(new, extra)[-1] if writes <= MAX_PARTS else float("nan")
        assert len(new.read("liquidations")) == rows + batch * writes + batch * len(extra)
    return statistics.median(new_s), statistics.median(old_s), compacting


def one_day(flushes: int, total: int, exchanges: int, t0: pd.Timestamp) -> tuple[float, float, int]:
    """(CPU s of the writes, wall s, rows stored) for figure 2."""
    rng = np.random.default_rng(11)
    venues = [f"venue{i}" for i in range(exchanges)]
    per = np.diff(np.linspace(0, total, flushes + 1).round().astype(int))
    step = DAY_S / flushes
    cpu = wall = 0.0
    with tempfile.TemporaryDirectory() as d:
        store, start = Store(d), 0
        for i, n in enumerate(per):
            rows = events(
                rng,
                int(n),
                start,
                venues,
                t0,
                np.sort(rng.uniform(i * step, (i + 1) * step, int(n))),
            )
            start += int(n)
            c, w = time.process_time(), time.perf_counter()
            store.write("liquidations", rows)
            cpu += time.process_time() - c
            wall += time.perf_counter() - w
            if (i + 1) % 1000 == 0:
                print(f"  ... {i + 1} flushes: CPU {cpu:.1f} s so far", flush=True)
        stored = len(store.read("liquidations"))
    return cpu, wall, stored


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=450_000)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--writes", type=int, default=15)
    p.add_argument("--flushes", type=int, default=17_280)
    p.add_argument("--events", type=int, default=300_000)
    p.add_argument("--exchanges", type=int, default=4)
    p.add_argument("--only", choices=["write", "day"], help="run one of the two figures")
    args = p.parse_args(argv)
    t0 = pd.Timestamp.now(tz="UTC").floor("D")
    if args.only != "day":
        figure_one(args, t0)
    if args.only != "write":
        figure_two(args, t0)
    return 0


def figure_one(args: argparse.Namespace, t0: pd.Timestamp) -> None:
    new, old, compacting = one_write(args.rows, args.batch, args.writes, t0)
    print(
        f"{args.batch}-row write into a partition of {args.rows} rows (SIMULATED events), "
        f"median CPU time of {args.writes}:"
    )
    print(f"  old (full partition rewrite): {old * 1000:8.1f} ms")
    print(f"  new (one write part):         {new * 1000:8.1f} ms   ({old / new:.0f}x faster)")
    print(f"  the write that compacts ({MAX_PARTS} parts): {compacting * 1000:8.1f} ms")
    print(f"  target < 50 ms: {'met' if new < 0.05 else 'NOT met'}", flush=True)


def figure_two(args: argparse.Namespace, t0: pd.Timestamp) -> None:
    cpu, wall, stored = one_day(args.flushes, args.events, args.exchanges, t0)
    share = cpu / DAY_S * 100 * (17_280 / args.flushes)
    print(
        f"a day of collector flushes: {args.flushes} writes, {args.events} events on "
        f"{args.exchanges} venues ({stored} stored), compactions included:"
    )
    print(f"  CPU {cpu:.1f} s (wall {wall:.1f} s), {cpu / args.flushes * 1000:.1f} ms per flush")
    print(
        f"  = {share:.2f} % of one core over 24 h; target < 5 %: "
        f"{'met' if share < 5 else 'NOT met'}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
