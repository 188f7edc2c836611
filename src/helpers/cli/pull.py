"""``pull``: one window from every source (ccxt REST, Coinalyze, the collector's events,
market caps), one line per source."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from helpers.cli import options as o
from helpers.config import load_config
from helpers.pull import EXIT_NO_DATA, PullReport, pull_window
from helpers.sources.retry import RetryPolicy
from helpers.timegrid import Window

EXIT_HELP = (
    "exit status: 0 when the window has liquidation data (from a source, or already in the "
    f"store), even if some sources failed; {EXIT_NO_DATA} when every source asked failed or "
    "the window holds no liquidation data at all (one error line on stderr); 2 for bad input"
)


def add_pull_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``python -m helpers pull``."""
    p.epilog = EXIT_HELP
    o.add_window(p, start_required=True, end_required=True)
    p.add_argument(
        "--exchanges", default=None, help="comma list of ccxt ids (default: every venue)"
    )
    p.add_argument(
        "--coins", default=None, help="comma list of base coins, e.g. BTC,ETH (default: config)"
    )
    p.add_argument("--interval", default=None, help="bar interval (default: config, 1h)")
    o.add_http(p)


def run_pull(args: argparse.Namespace) -> int:
    """Pull the window, print one line per source; see :data:`EXIT_HELP`."""
    o.check_window(args.start, args.end)
    config = load_config(args.config)
    window = Window.of(
        args.start,
        args.end,
        exchanges=o.csv_list(args.exchanges) or None,
        interval=args.interval or config.interval,
    )
    policy = RetryPolicy(
        attempts=o.check_retries(args.retries) + 1,
        base_delay=max(0.0, args.backoff),
        max_wait=max(0.0, args.max_wait),
    )
    report = pull_window(
        o.real_store(args.data_dir),
        config,
        window,
        now=pd.Timestamp.now(tz="UTC"),
        coins=o.csv_list(args.coins),
        policy=policy,
        timeout=args.timeout,
    )
    return finish(report)


def finish(report: PullReport) -> int:
    """Print ``report``; 0, or :data:`EXIT_NO_DATA` with one error line when the window cannot
    be reported."""
    print(report.render())
    problem = report.problem()
    if problem is None:
        return 0
    print(f"error: {problem}", file=sys.stderr)
    return EXIT_NO_DATA
