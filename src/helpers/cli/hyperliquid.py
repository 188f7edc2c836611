"""``fetch-hyperliquid``: Hyperliquid liquidations from its node archive."""

from __future__ import annotations

import argparse

from helpers.cli import options as o
from helpers.errors import UserError
from helpers.sources import hyperliquid_archive


def add_hyperliquid_arguments(p: argparse.ArgumentParser) -> None:
    o.add_window(p, start_required=True, end_required=True)
    p.add_argument(
        "--coins",
        help="comma-separated base coins to keep (BTC,ETH); default: every perpetual",
    )
    p.add_argument(
        "--source",
        default=hyperliquid_archive.DEFAULT_URL,
        help="the archive: the requester-pays bucket (AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY from the environment, extra 's3'), or a local folder / "
        "fsspec URL with the same layout (default: %(default)s)",
    )


def run_hyperliquid(args: argparse.Namespace) -> int:
    o.check_window(args.start, args.end)
    coins = o.csv_list(args.coins) or None  # matched case-insensitively (kPEPE)
    if args.coins is not None and not coins:
        raise UserError("--coins: give at least one coin (BTC,ETH)")
    summary = hyperliquid_archive.fetch(
        o.real_store(args.data_dir), args.start, args.end, coins=coins, url=args.source
    )
    for line in summary.lines():
        print(line)
    return 0
