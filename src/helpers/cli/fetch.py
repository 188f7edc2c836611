"""``fetch`` (ccxt REST history) and ``collect`` (ccxt.pro live streams)."""

from __future__ import annotations

import argparse
import asyncio
import signal

import pandas as pd

from helpers.cli import options as o
from helpers.config import FETCH_TABLES, load_config, make_exchange
from helpers.errors import UserError
from helpers.sources import ccxt_rest, live
from helpers.sources.retry import RetryPolicy


def add_fetch_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``python -m helpers fetch``."""
    o.add_config(p)
    p.add_argument("--exchanges", default=None, help="comma list of ccxt ids (default: config)")
    p.add_argument(
        "--symbols",
        default=None,
        help="comma list of unified symbols or base coins, e.g. BTC,ETH (default: config)",
    )
    p.add_argument(
        "--tables",
        default=None,
        help=f"comma list of {','.join(FETCH_TABLES)} (default: each exchange's config)",
    )
    o.add_window(
        p, f"UTC start, inclusive (default: {ccxt_rest.DEFAULT_DAYS} days before --end)",
        "UTC end, exclusive (default: now)",
    )  # fmt: skip
    p.add_argument("--interval", default=None, help="bar interval (default: config, 1h)")
    o.add_retries(p)


def run_fetch(args: argparse.Namespace) -> int:
    """Fetch every planned (table, exchange, symbol) and print a summary; 0 when all
    succeeded, 1 when some failed (their error is in the summary)."""
    end = args.end if args.end is not None else pd.Timestamp.now(tz="UTC")
    start = (
        args.start if args.start is not None else end - pd.Timedelta(days=ccxt_rest.DEFAULT_DAYS)
    )
    o.check_window(start, end)
    policy = RetryPolicy(
        attempts=o.check_retries(args.retries) + 1,
        base_delay=max(0.0, args.backoff),
        max_wait=max(0.0, args.max_wait),
    )
    summary = ccxt_rest.fetch_window(
        o.real_store(args.data_dir),
        load_config(args.config),
        start,
        end,
        exchanges=o.csv_list(args.exchanges),
        symbols=o.csv_list(args.symbols),
        tables=o.csv_list(args.tables),
        interval=args.interval,
        policy=policy,
    )
    print(summary.render())
    return 1 if summary.failures else 0


def add_collect_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``python -m helpers collect``."""
    o.add_config(p)
    p.add_argument(
        "--exchanges",
        default=",".join(live.LIVE_EXCHANGES),
        help=f"comma list among {','.join(live.LIVE_EXCHANGES)} (default: all)",
    )
    p.add_argument("--seconds", type=float, default=None, help="stop after N seconds")
    p.add_argument("--flush-seconds", type=float, default=5.0, help="write at least this often")
    p.add_argument("--flush-events", type=int, default=500, help="or once this many are buffered")
    p.add_argument(
        "--silence-seconds",
        type=float,
        default=300.0,
        help="record a gap after this long without a message (default 300)",
    )
    p.add_argument("--max-backoff", type=float, default=60.0, help="longest reconnect wait")
    p.add_argument("--backoff", type=float, default=1.0, help="first reconnect wait, doubling")


def run_collect(args: argparse.Namespace) -> int:
    """Record the streams until ``--seconds`` pass or SIGTERM/SIGINT; flush, then summarise."""
    config = load_config(args.config)
    ids = o.csv_list(args.exchanges)
    if not ids:
        raise UserError("--exchanges: name at least one of " + ", ".join(live.LIVE_EXCHANGES))
    streams = [s for ex_id in ids for s in live.streams_for(ex_id, config)]
    if args.seconds is not None and args.seconds <= 0:
        raise UserError("--seconds must be positive")
    silence = {
        ex_id: float(config.exchange(ex_id).collect.get("silence_seconds", args.silence_seconds))
        for ex_id in ids
    }
    exchanges = {ex_id: make_exchange(config, ex_id, pro=True) for ex_id in ids}
    collector = live.Collector(
        o.real_store(args.data_dir),
        exchanges,
        streams,
        flush_seconds=args.flush_seconds,
        flush_events=args.flush_events,
        silence_seconds=silence,
        backoff=args.backoff,
        max_backoff=args.max_backoff,
    )
    asyncio.run(_run_until_signal(collector, args.seconds))
    print(collector.summary())
    if collector.failures:
        first = next(iter(collector.failures.items()))
        raise UserError(f"{first[0].label}: {first[1]}")
    return 0


async def _run_until_signal(collector: live.Collector, seconds: float | None) -> None:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, collector.stop)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform
            pass
    try:
        await collector.run(seconds)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
