"""Command line: ``python -m helpers <command>``; every command takes ``--data-dir``.

This package only wires options to the libraries (as papermill keeps ``cli.py`` apart from
``execute.py``): each command is an ``add_<name>_arguments`` / ``run_<name>`` pair in the
module of its group, shared options with one meaning each in :mod:`helpers.cli.options`.

Bad input ends with a one-line ``error: ...`` on stderr and exit status 2; nothing already
stored is touched by a command that fails validation.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from helpers.cli import options
from helpers.errors import UserError

Runner = Callable[[argparse.Namespace], int]
Adder = Callable[[argparse.ArgumentParser], None]


def _commands() -> list[tuple[str, str, str | None, Adder, Runner]]:
    """(name, help, description, add-arguments, run) of every command."""
    from helpers import compaction, doctor, pull, report
    from helpers.cli import backtest, bars, fetch, hyperliquid, store, vendors
    from helpers.cli import compact as compact_cli
    from helpers.cli import doctor as doctor_cli
    from helpers.cli import pull as pull_cli
    from helpers.cli import report as report_cli
    from helpers.sources import (
        ccxt_rest,
        coinalyze,
        coingecko,
        demo,
        hyperliquid_archive,
        live,
        tardis,
        vendor_csv,
    )

    return [
        ("demo", "write the simulated demo market into the store", demo.__doc__,
         store.add_demo_arguments, store.run_demo),
        ("aggregate", "build liquidation bars from stored events (DuckDB, or Dask on a cluster)",
         bars.__doc__,
         bars.add_aggregate_arguments, bars.run_aggregate),
        ("report", "render every notebook into a dated HTML report", report.__doc__,
         report_cli.add_report_arguments, report_cli.run_report),
        ("pull", "pull a window from every source: ccxt REST, Coinalyze, collector, caps",
         pull.__doc__, pull_cli.add_pull_arguments, pull_cli.run_pull),
        ("fetch", "pull REST history: liquidations, OHLCV, open interest, funding",
         ccxt_rest.__doc__, fetch.add_fetch_arguments, fetch.run_fetch),
        ("collect", "record live liquidation streams (binance usdm/coinm, okx, bybit)",
         live.__doc__, fetch.add_collect_arguments, fetch.run_collect),
        ("fetch-coinalyze", "pull Coinalyze hourly liquidations, OI and funding",
         coinalyze.__doc__, vendors.add_coinalyze_arguments, vendors.run_coinalyze),
        ("fetch-tardis", "pull Tardis.dev liquidation CSV files", tardis.__doc__,
         vendors.add_tardis_arguments, vendors.run_tardis),
        ("fetch-hyperliquid", "read Hyperliquid liquidations from its node archive (S3 or a copy)",
         hyperliquid_archive.__doc__, hyperliquid.add_hyperliquid_arguments,
         hyperliquid.run_hyperliquid),
        ("fetch-coingecko", "snapshot CoinGecko market caps", coingecko.__doc__,
         vendors.add_coingecko_arguments, vendors.run_coingecko),
        ("import", "import CoinGlass or Coinalyze CSV exports as bars", vendor_csv.__doc__,
         vendors.add_import_arguments, vendors.run_import),
        ("doctor", "check a store for damage: unreadable files, schema, duplicates, leftovers",
         doctor.__doc__, doctor_cli.add_doctor_arguments, doctor_cli.run_doctor),
        ("backtest-map", "score the ESTIMATED liquidation map against the next 24 h",
         backtest.__doc__, backtest.add_backtest_arguments, backtest.run_backtest),
        ("compact", "merge each partition's write parts into its one sorted file",
         compaction.__doc__, compact_cli.add_compact_arguments, compact_cli.run_compact),
    ]  # fmt: skip


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Runner]]:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    runners: dict[str, Runner] = {}
    for name, help_, description, add, run in _commands():
        p = sub.add_parser(name, help=help_, description=description)
        options.add_common(p)
        add(p)
        runners[name] = run
    return parser, runners


def main(argv: Sequence[str] | None = None) -> int:
    parser, runners = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return runners[args.command](args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        said = f": {exc}" if str(exc) else ""
        print(f"error: interrupted{said}", file=sys.stderr)
        return 130
