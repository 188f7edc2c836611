"""Command line: ``python -m helpers <command>``; every command takes ``--data-dir``.

Bad input ends with a one-line ``error: ...`` on stderr and exit status 2; nothing already
stored is touched by a command that fails validation.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from helpers.errors import UserError
from helpers.store import DEFAULT_DATA_DIR, Store

if TYPE_CHECKING:
    from helpers.report import ReportPlan

Runner = Callable[[argparse.Namespace], int]


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir", default=str(DEFAULT_DATA_DIR), help="store root (default: %(default)s)"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Runner]]:
    from helpers import aggregate, report
    from helpers.sources import ccxt_rest, coinalyze, coingecko, demo, live, tardis, vendor_csv

    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    runners: dict[str, Runner] = {}
    for name, module, help_ in (
        ("demo", demo, "write the simulated demo market into the store"),
        ("aggregate", aggregate, "build liquidation bars from stored events"),
        ("report", report, "render every notebook into a dated HTML report"),
        ("fetch", ccxt_rest, "pull REST history: liquidations, OHLCV, open interest, funding"),
        ("collect", live, "record live liquidation streams (binanceusdm, okx, bybit)"),
        ("fetch-coinalyze", coinalyze, "pull Coinalyze hourly liquidations, OI and funding"),
        ("fetch-tardis", tardis, "pull Tardis.dev liquidation CSV files"),
        ("fetch-coingecko", coingecko, "snapshot CoinGecko market caps"),
        ("import", vendor_csv, "import CoinGlass or Coinalyze CSV exports as bars"),
    ):
        p = sub.add_parser(name, help=help_, description=module.__doc__)
        _add_common(p)
        module.add_arguments(p)
        runners[name] = module.run
    sub.choices["report"].add_argument(
        "--config", help="sources config for fetch: true (default: config/sources.yaml)"
    )
    runners["report"] = run_report
    return parser, runners


def run_report(args: argparse.Namespace) -> int:
    """Validate the report parameters; fill the store (``fetch: true`` pulls real data for the
    window, ``demo:`` simulates into an empty store); build the window's bars once from stored
    events; then render every notebook (which read those bars, never raw events in bulk)."""
    from helpers import aggregate, report

    log = logging.getLogger("helpers.report")
    plan = report.prepare(args)
    store = Store(plan.data_dir)
    if plan.fetch:
        _fetch_for_report(store, plan, getattr(args, "config", None))
    elif plan.demo is not None and not store.has_data("liquidations"):
        from helpers.sources.demo import write_demo

        for result in write_demo(store, plan.demo["scenario"], plan.demo["seed"]).values():
            log.info("SIMULATED %s", result)
    built = aggregate.build_bars(
        store, plan.interval, plan.start, plan.end, plan.exchanges, plan.symbols
    )
    log.info("bars for the window: %s", built)
    return report.render(plan)


def _fetch_for_report(store: Store, plan: ReportPlan, config_path: str | None) -> None:
    """Pull the window over ccxt REST before rendering; failures are reported, not fatal,
    because the notebooks show what is missing as missing."""
    from helpers.config import load_config
    from helpers.sources import ccxt_rest

    start_ms, end_ms = int(plan.start.value // 10**6), int(plan.end.value // 10**6)
    summary = ccxt_rest.fetch_window(
        store,
        load_config(config_path),
        start_ms,
        end_ms,
        exchanges=plan.exchanges or (),
        symbols=plan.symbols or (),
        interval=plan.interval,
    )
    print(summary.render())


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
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
