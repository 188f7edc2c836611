"""``aggregate``: liquidation bars from stored events, by DuckDB on this machine or by Dask
on a cluster, from a local store or one on an object store (``s3://`` through fsspec).

* ``--engine duckdb`` (default): :func:`helpers.aggregate.aggregate_store` over the local
  store at ``--data-dir`` (DuckDB, with clean partitions grouped by Arrow + numpy,
  :mod:`helpers.bars_group`; the name is kept for the scripts that pass it).
* ``--engine dask``: :func:`helpers.distributed.bars_with_dask`, the same bars row for row,
  on Dask's threads, on a running ``distributed`` scheduler (``--scheduler tcp://host:8786``)
  or on a ``LocalCluster`` started for the run (``--local-cluster N`` worker processes).
  ``--data-dir`` may be a URL every worker can read; credentials come from the environment
  (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, ...), never
  from an option, and are never printed.

The bars are written into ``--out-dir`` (default: the ``--data-dir`` store, which must then
be local): a store on an object store is read, never written.
"""

from __future__ import annotations

import argparse
import logging
import os

import pandas as pd

from helpers.aggregate import aggregate_store
from helpers.cli import options as o
from helpers.errors import UserError
from helpers.store import Store
from helpers.timegrid import INTERVAL_SECONDS

ENGINES = ("duckdb", "dask")


def add_aggregate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--interval", default="1h", choices=list(INTERVAL_SECONDS))
    o.add_window(p, "UTC start, inclusive (default: all)", "UTC end, exclusive (default: all)")
    p.add_argument(
        "--exchanges", nargs="*", help="ccxt exchange ids, comma- or space-separated (default: all)"
    )
    p.add_argument(
        "--symbols",
        nargs="*",
        help="ccxt unified symbols, comma- or space-separated (default: all)",
    )
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="duckdb",
        help="duckdb: this machine, a local store; dask: Dask's threads or a cluster, "
        "a local store or a URL such as s3://bucket/store (default: %(default)s)",
    )
    cluster = p.add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the dask engine on the distributed scheduler at ADDRESS (tcp://host:8786)",
    )
    cluster.add_argument(
        "--local-cluster",
        type=int,
        metavar="N",
        help="run the dask engine on a LocalCluster of N worker processes started for the run",
    )
    p.add_argument(
        "--out-dir",
        help="the local store the bars are written into (default: --data-dir; needed when "
        "--data-dir is a URL)",
    )


def is_url(data_dir: str) -> bool:
    """A store named by an fsspec URL (``s3://...``, ``gcs://...``), not a local path."""
    return "://" in data_dir and not data_dir.startswith("file://")


def run_aggregate(args: argparse.Namespace) -> int:
    o.check_window(args.start, args.end)
    out = _output_store(args)
    bars = _bars(args)
    result = out.write("liquidation_bars", bars)
    print(_described(bars, args))
    print(result)
    return 0


def _output_store(args: argparse.Namespace) -> Store:
    cluster = args.scheduler is not None or args.local_cluster is not None
    if args.engine == "duckdb" and cluster:
        raise UserError("--scheduler and --local-cluster run the dask engine: add --engine dask")
    if args.local_cluster is not None and args.local_cluster < 1:
        raise UserError("--local-cluster: give at least 1 worker")
    if is_url(args.data_dir):
        if args.engine == "duckdb":
            raise UserError(
                f"--data-dir {args.data_dir}: the duckdb engine reads a local store; "
                "a URL store is read with --engine dask"
            )
        if args.out_dir is None:
            raise UserError(
                f"--data-dir {args.data_dir} is read, never written: give --out-dir, "
                "the local store to write the bars into"
            )
    if args.out_dir is not None and is_url(args.out_dir):
        raise UserError(f"--out-dir {args.out_dir}: bars are written into a local store")
    return Store(args.out_dir or args.data_dir)


def _names(values: list[str] | None) -> list[str] | None:
    return None if values is None else [v for text in values for v in o.csv_list(text)]


def _bars(args: argparse.Namespace) -> pd.DataFrame:
    window = (args.interval, args.start, args.end, _names(args.exchanges), _names(args.symbols))
    if args.engine == "duckdb":
        return aggregate_store(Store(args.data_dir), *window)
    try:
        from helpers.distributed import bars_with_dask, dask_client, storage_errors
    except ImportError as exc:  # the message names the extra to install
        raise UserError(f"--engine dask: {exc}") from None

    if not args.verbose and (args.scheduler or args.local_cluster):
        import distributed  # noqa: F401  (its import sets its loggers to INFO: set them after)

        # the scheduler's and nannies' INFO lines, a screenful per run
        logging.getLogger("distributed").setLevel(logging.WARNING)
    try:
        with dask_client(args.scheduler, args.local_cluster):
            return bars_with_dask(args.data_dir, *window)
    except storage_errors() as exc:  # unreachable scheduler, missing bucket, no credentials
        raise UserError(f"--engine dask on {args.data_dir}: {_one_line(exc)}") from None


SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


def _one_line(exc: BaseException) -> str:
    """``exc`` as one line of at most 300 characters, any secret from the environment
    replaced by ``***`` (a library's message must not leak it onto a terminal or a log)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    for name in SECRET_VARIABLES:
        secret = os.environ.get(name)
        if secret:
            text = text.replace(secret, "***")
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= 300 else text[:297] + "..."


def _described(bars: pd.DataFrame, args: argparse.Namespace) -> str:
    """``aggregate: 1,234 bars (1h) of 5 venues, 2026-01-26 00:00 to ... UTC, by dask``."""
    where = f"by {args.engine}" + (
        f" on {args.scheduler}"
        if args.scheduler
        else f" on a LocalCluster of {args.local_cluster} workers"
        if args.local_cluster
        else ""
    )
    if bars.empty:
        return f"aggregate: no events in the window, no bars ({args.interval}), {where}"
    first, last = bars["ts"].min(), bars["ts"].max()
    return (
        f"aggregate: {len(bars):,} bars ({args.interval}) of {bars['exchange'].nunique()} "
        f"venues, {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC (bar open times), {where}"
    )
