"""``report``: validate the parameters, fill the store if asked, build bars, render."""

from __future__ import annotations

import argparse
import logging

from helpers import aggregate
from helpers.config import load_config
from helpers.report import ReportPlan, prepare, render
from helpers.report.plan import DEFAULT_KERNEL, FALLBACK_KERNEL
from helpers.sources import ccxt_rest
from helpers.sources.demo import write_demo
from helpers.store import Store

log = logging.getLogger("helpers.report")


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``report`` command's options (``--data-dir`` and ``-v`` come from the CLI)."""
    parser.add_argument("--params", metavar="FILE", help="YAML file of parameters (see params/)")
    parser.add_argument(
        "-p",
        "--param",
        dest="param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one parameter; VALUE is YAML (null, 5, [okx, bybit]); repeatable",
    )
    parser.add_argument(
        "--notebooks", default="notebooks", metavar="DIR", help="notebooks (default: %(default)s)"
    )
    parser.add_argument(
        "--out", default="reports", metavar="DIR", help="reports folder (default: %(default)s)"
    )
    parser.add_argument("--show-code", action="store_true", help="keep code cells in the HTML")
    parser.add_argument(
        "--jobs", type=int, default=None, metavar="N", help="notebooks run at once (default: CPUs)"
    )
    parser.add_argument(
        "--kernel",
        default=None,
        metavar="NAME",
        help=f"Jupyter kernel (default: {DEFAULT_KERNEL} if installed, else {FALLBACK_KERNEL})",
    )
    parser.add_argument(
        "--date",
        default=None,
        metavar="YYYY-MM-DD",
        help="report date (default: the UTC date of the window's last instant)",
    )
    parser.add_argument(
        "--config", help="sources config for fetch: true (default: config/sources.yaml)"
    )


def run_report(args: argparse.Namespace) -> int:
    """Validate the report parameters; fill the store (``fetch: true`` pulls real data for the
    window, ``demo:`` simulates into an empty store); build the window's bars once from stored
    events; then render every notebook (which read those bars, never raw events in bulk)."""
    plan = prepare(args)
    store = Store(plan.data_dir)
    if plan.fetch:
        _fetch_for_report(store, plan, args.config)
    elif plan.demo is not None and not store.has_data("liquidations"):
        for result in write_demo(store, plan.demo["scenario"], plan.demo["seed"]).values():
            log.info("SIMULATED %s", result)
    built = aggregate.build_bars(
        store, plan.interval, plan.start, plan.end, plan.exchanges, plan.symbols
    )
    log.info("bars for the window: %s", built)
    return render(plan)


def _fetch_for_report(store: Store, plan: ReportPlan, config_path: str | None) -> None:
    """Pull the window over ccxt REST before rendering; failures are reported, not fatal,
    because the notebooks show what is missing as missing."""
    summary = ccxt_rest.fetch_window(
        store,
        load_config(config_path),
        plan.start,
        plan.end,
        exchanges=plan.exchanges or (),
        symbols=plan.symbols or (),
        interval=plan.interval,
    )
    print(summary.render())
