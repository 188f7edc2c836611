"""``demo``: the simulated market into the store, without the network."""

from __future__ import annotations

import argparse

from helpers import store_kind
from helpers.errors import UserError
from helpers.sources.demo import SCENARIOS, remove_demo, write_demo
from helpers.store import Store


def add_demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", default="article", choices=sorted(SCENARIOS))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--events",
        type=int,
        default=None,
        help="split liquidations into partial fills to reach about this many events (benchmarks)",
    )
    p.add_argument(
        "--if-absent",
        action="store_true",
        help="do nothing when the store already holds liquidations or any real data",
    )
    p.add_argument(
        "--remove",
        action="store_true",
        help="delete every simulated row from the store instead, keeping real rows",
    )


def run_demo(args: argparse.Namespace) -> int:
    store = Store(args.data_dir)
    if args.remove:
        removed = remove_demo(store)
        counts = ", ".join(f"{name}: {n} rows" for name, n in removed.items()) or "none found"
        print(f"simulated rows removed from {store.root}: {counts}; the store is {store.kind()}")
        return 0
    if args.if_absent and store.has_data("liquidations"):
        print(f"store {store.root} already holds liquidations; demo not regenerated")
        return 0
    if args.if_absent and store.kind() == store_kind.REAL:
        print(f"store {store.root} holds real data; demo not written (it never mixes with it)")
        return 0
    if args.events is not None and args.events <= 0:
        raise UserError("--events must be a positive number")
    for result in write_demo(store, args.scenario, args.seed, args.events).values():
        print(f"SIMULATED {result}")
    return 0
