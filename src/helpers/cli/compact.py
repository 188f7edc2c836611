"""``compact``: merge each partition's write parts into its one file (:mod:`helpers.compaction`)."""

from __future__ import annotations

import argparse

from helpers import schema
from helpers.errors import UserError
from helpers.store import Store


def add_compact_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--table",
        action="append",
        choices=sorted(schema.TABLES),
        metavar="TABLE",
        help="table to compact (repeatable; default: every table)",
    )


def run_compact(args: argparse.Namespace) -> int:
    store = Store(args.data_dir)
    if not store.root.is_dir():
        raise UserError(f"{store.root}: no such store folder")
    for name in args.table or list(schema.TABLES):
        print(store.compact(name))
    return 0
