"""Command line: ``python -m helpers <command>``; every command takes ``--data-dir``.

This package only wires options to the libraries (as papermill keeps ``cli.py`` apart from
``execute.py``): each command is an ``add_<name>_arguments`` / ``run_<name>`` pair in the
module of its group, shared options with one meaning each in :mod:`helpers.cli.options`.

Bad input ends with a one-line ``error: ...`` on stderr and exit status 2; nothing already
stored is touched by a command that fails validation.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from helpers.cli import options
from helpers.errors import UserError

Runner = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    """One command: its name and one-line help, the module whose docstring describes it,
    and the module (``helpers.cli.<group>``) with its ``add_arguments`` / ``run`` pair."""

    name: str
    help: str
    doc: str
    cli: str
    add_arguments: str
    run: str


COMMANDS = (
    Command("demo", "write the simulated demo market into the store",
            "helpers.sources.demo", "helpers.cli.store", "add_demo_arguments", "run_demo"),
    Command("aggregate",
            "build liquidation bars from stored events (DuckDB, or Dask on a cluster)",
            "helpers.cli.bars", "helpers.cli.bars", "add_aggregate_arguments", "run_aggregate"),
    Command("report", "render every notebook into a dated HTML report",
            "helpers.report", "helpers.cli.report", "add_report_arguments", "run_report"),
    Command("pull", "pull a window from every source: ccxt REST, Coinalyze, collector, caps",
            "helpers.pull", "helpers.cli.pull", "add_pull_arguments", "run_pull"),
    Command("fetch", "pull REST history: liquidations, OHLCV, open interest, funding",
            "helpers.sources.ccxt_rest", "helpers.cli.fetch", "add_fetch_arguments", "run_fetch"),
    Command("collect", "record live liquidation streams (binance usdm/coinm, okx, bybit)",
            "helpers.sources.live", "helpers.cli.fetch", "add_collect_arguments", "run_collect"),
    Command("fetch-coinalyze", "pull Coinalyze hourly liquidations, OI and funding",
            "helpers.sources.coinalyze", "helpers.cli.vendors", "add_coinalyze_arguments",
            "run_coinalyze"),
    Command("fetch-tardis", "pull Tardis.dev liquidation CSV files",
            "helpers.sources.tardis", "helpers.cli.vendors", "add_tardis_arguments",
            "run_tardis"),
    Command("fetch-hyperliquid",
            "read Hyperliquid liquidations from its node archive (S3 or a copy)",
            "helpers.sources.hyperliquid_archive", "helpers.cli.hyperliquid",
            "add_hyperliquid_arguments", "run_hyperliquid"),
    Command("fetch-coingecko", "snapshot CoinGecko market caps",
            "helpers.sources.coingecko", "helpers.cli.vendors", "add_coingecko_arguments",
            "run_coingecko"),
    Command("import", "import CoinGlass or Coinalyze CSV exports as bars",
            "helpers.sources.vendor_csv", "helpers.cli.vendors", "add_import_arguments",
            "run_import"),
    Command("doctor", "check a store for damage: unreadable files, schema, duplicates, leftovers",
            "helpers.doctor", "helpers.cli.doctor", "add_doctor_arguments", "run_doctor"),
    Command("backtest-map", "score the ESTIMATED liquidation map against the next 24 h",
            "helpers.cli.backtest", "helpers.cli.backtest", "add_backtest_arguments",
            "run_backtest"),
    Command("compact", "merge each partition's write parts into its one sorted file",
            "helpers.compaction", "helpers.cli.compact", "add_compact_arguments",
            "run_compact"),
)  # fmt: skip
"""Every command, in the order ``--help`` lists them."""


def _command_in(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names: its first argument that is not an option."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(
    argv: Sequence[str] | None = None,
) -> tuple[argparse.ArgumentParser, dict[str, Runner]]:
    """The parser, and the runner of the command ``argv`` names (every command's when
    ``argv`` is None). Only that command's modules are imported: ``import`` does not load
    matplotlib and ccxt to build the ``report`` and ``fetch`` options it never reads."""
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    wanted = None if argv is None else _command_in(argv)
    runners: dict[str, Runner] = {}
    for c in COMMANDS:
        if argv is not None and c.name != wanted:
            sub.add_parser(c.name, help=c.help)
            continue
        group = importlib.import_module(c.cli)
        p = sub.add_parser(c.name, help=c.help, description=importlib.import_module(c.doc).__doc__)
        options.add_common(p)
        getattr(group, c.add_arguments)(p)
        runners[c.name] = getattr(group, c.run)
    return parser, runners


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser, runners = build_parser(argv)
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
