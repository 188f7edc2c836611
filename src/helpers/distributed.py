"""The liquidation-bar aggregation on Dask, for stores that outgrow one machine.

:func:`bars_with_dask` computes the same ``liquidation_bars`` as
:func:`helpers.aggregate.aggregate_store` (DuckDB) from the same hive-partitioned Parquet
store, with Dask DataFrame doing the heavy part: reading every event and summing it per
bar, venue and symbol. Dask runs on whatever scheduler is active: its local threads by
default, or a ``dask.distributed`` cluster once a ``Client`` is connected (the store must
then be readable by every worker, e.g. a shared disk or an ``s3://`` URL readable through
fsspec).

Only the reduction of events runs on Dask. The result it returns, one row per observed
bar, is small, and the project's bar conventions are applied to it in pandas exactly as
the SQL path applies them: every venue/symbol gets zero bars from its first to its last
observed bar in the window (observed-but-quiet is zero, not missing) and every bar that
overlaps a recorded gap is left out (missing, not zero). So the output equals
``aggregate_store`` row for row, zero-filled grid included.

Dask is an optional dependency (the ``bench`` extra); importing this module without it
raises ``ImportError`` naming the extra.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from helpers import compaction, schema
from helpers.store_layout import Partition, partition_of, read_covers
from helpers.store_merge import conform
from helpers.timegrid import INTERVAL_SECONDS, TimeLike, check_interval, to_utc

try:
    import dask.dataframe as dd
    import fsspec
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "helpers.distributed needs dask: pip install 'liquidation-notebooks[bench]'"
    ) from exc

SERIES_KEYS = ["exchange", "symbol", "base", "source"]
SUMS = ["long_usd", "short_usd", "long_count", "short_count"]
_EVENT_COLUMNS = ["ts", "exchange", "symbol", "base", "side", "notional_usd", "source"]
_HIVE = {
    "flavor": "hive",
    "schema": pa.schema([("exchange", pa.string()), ("date", pa.string())]),
}


def bars_with_dask(
    data_dir: str | os.PathLike[str],
    interval: str = "1h",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    exchanges: Sequence[str] | None = None,
    symbols: Sequence[str] | None = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """``liquidation_bars`` of the stored events under ``data_dir``, computed with Dask.

    Same arguments and the same rows as :func:`helpers.aggregate.aggregate_store`: events
    with ``start <= ts < end`` on the given exchanges/symbols (``None``: no bound / all),
    summed per bar (stamped at its open time, UTC, epoch-aligned) into ``long_usd`` and
    ``short_usd`` (US dollars of liquidated LONG and SHORT positions) and their event counts;
    zero bars fill each venue/symbol's observed span and bars overlapping a recorded
    ``gaps`` row of the liquidations table are dropped. ``data_dir`` may be a local path or
    an fsspec URL. ``scheduler`` is passed to ``compute`` (``None``: Dask's current default).
    """
    secs = INTERVAL_SECONDS[check_interval(interval)]
    s, e = to_utc(start), to_utc(end)
    root = str(data_dir).rstrip("/")
    if not _has_files(f"{root}/liquidations"):
        return schema.empty("liquidation_bars")
    observed = observed_bars(root, secs, s, e, exchanges, symbols, scheduler)
    if observed.empty:
        return schema.empty("liquidation_bars")
    bars = fill_observed_span(observed, secs)
    bars = drop_gap_bars(bars, _liquidation_gaps(root, scheduler), secs)
    bars = bars.sort_values(["ts", "exchange", "symbol"], kind="stable")
    return conform("liquidation_bars", bars.assign(interval=interval))


def observed_bars(
    root: str,
    secs: int,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    exchanges: Sequence[str] | None,
    symbols: Sequence[str] | None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """One row per bar (``secs`` seconds) and venue/symbol that has events: USD and counts
    of liquidated longs and shorts. Computed by Dask; filters are pushed down to Parquet."""
    ddf = read_table(root, "liquidations", _EVENT_COLUMNS, _filters(start, end, exchanges, symbols))
    is_long = ddf["side"] == "long"
    ddf = ddf.assign(
        ts=ddf["ts"].dt.floor(f"{secs}s"),
        long_usd=ddf["notional_usd"].where(is_long, 0.0),
        short_usd=ddf["notional_usd"].where(~is_long, 0.0),
        long_count=is_long.astype("int64"),
        short_count=(~is_long).astype("int64"),
    )
    # split_out=1: a tree reduction into one frame. The result is one row per bar (small),
    # and Dask's default for five group keys, a hash shuffle across workers, took 3x the
    # time on the benchmark's 224-file store (15 s against 5 s at 1M events, threads).
    groups = ddf.groupby(["ts", *SERIES_KEYS], observed=True, dropna=False)
    sums = groups[SUMS].sum(split_out=1)
    out = sums.compute(scheduler=scheduler).reset_index()
    return out.astype({k: "string" for k in SERIES_KEYS})


def _filters(
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    exchanges: Sequence[str] | None,
    symbols: Sequence[str] | None,
) -> list[tuple[str, str, object]]:
    filters: list[tuple[str, str, object]] = []
    if start is not None:
        filters.append(("ts", ">=", start))
    if end is not None:
        filters.append(("ts", "<", end))
    if exchanges is not None:
        filters.append(("exchange", "in", list(exchanges)))
    if symbols is not None:
        filters.append(("symbol", "in", list(symbols)))
    return filters


def fill_observed_span(observed: pd.DataFrame, secs: int) -> pd.DataFrame:
    """Every bar from each venue/symbol's first to its last observed bar; bars without
    events get zero USD and zero counts (observed and quiet, not missing)."""
    step = pd.Timedelta(seconds=secs)
    span = observed.groupby(SERIES_KEYS, dropna=False)["ts"].agg(["min", "max"])
    grid = pd.concat(
        [
            pd.DataFrame({"ts": pd.date_range(lo, hi, freq=step)}).assign(
                **dict(zip(SERIES_KEYS, k, strict=True))
            )
            for k, lo, hi in zip(span.index, span["min"], span["max"], strict=True)
        ],
        ignore_index=True,
    )
    grid = grid.astype({k: "string" for k in SERIES_KEYS})
    bars = grid.merge(observed, on=["ts", *SERIES_KEYS], how="left")
    return bars.fillna({c: 0 for c in SUMS})


def drop_gap_bars(bars: pd.DataFrame, gaps: pd.DataFrame, secs: int) -> pd.DataFrame:
    """``bars`` without the bars ``[ts, ts + secs)`` that overlap a gap ``[start, end)`` of
    their exchange (and of their symbol, or of every symbol when the gap's symbol is null);
    a gap without an ``end`` is still open."""
    if gaps.empty:
        return bars
    bars = bars.reset_index(drop=True)
    g = gaps[["exchange", "symbol", "start", "end"]].rename(columns={"symbol": "gap_symbol"})
    pairs = bars[["ts", "exchange", "symbol"]].reset_index().merge(g, on="exchange")
    bar_end = pairs["ts"] + pd.Timedelta(seconds=secs)
    same_symbol = pairs["gap_symbol"].isna() | (pairs["gap_symbol"] == pairs["symbol"])
    overlaps = (pairs["start"] < bar_end) & (pairs["end"].isna() | (pairs["end"] > pairs["ts"]))
    hit = (same_symbol & overlaps).fillna(False).astype(bool)
    return bars.drop(index=pd.Index(pairs.loc[hit, "index"].unique()))


def _liquidation_gaps(root: str, scheduler: str | None) -> pd.DataFrame:
    if not _has_files(f"{root}/gaps"):
        return schema.empty("gaps")
    columns = list(schema.table("gaps").column_names)
    filters: list[tuple[str, str, object]] = [("table_name", "==", "liquidations")]
    gaps = read_table(root, "gaps", columns, filters).compute(scheduler=scheduler)
    return conform("gaps", gaps)


def read_table(
    root: str, name: str, columns: list[str], filters: list[tuple[str, str, object]]
) -> dd.DataFrame:
    """Table ``name`` under ``root`` as a Dask DataFrame, each key once: the partitions held
    in one compacted file read by Dask with ``filters`` pushed down, the few with write parts
    not compacted yet (:mod:`helpers.store_layout`) deduplicated in pandas and appended."""
    t = schema.table(name)
    fs, path = fsspec.core.url_to_fs(f"{root}/{name}")
    parts = _partitions(fs, path)
    clean = [f for p in parts if p.clean for f in p.live]
    frames = []
    if clean:
        frames.append(
            dd.read_parquet(
                clean,
                columns=columns,
                filters=filters or None,
                filesystem=fs,
                dataset={"partitioning": _HIVE, "partition_base_dir": path},
            )
        )
    dirty = [
        compaction.stored_rows(t, p, compaction.partition_values(t, p.folder), filesystem=fs)
        for p in parts
        if not p.clean
    ]
    if dirty:
        rows = _filtered(pd.concat(dirty, ignore_index=True), filters)[columns]
        if frames:
            rows = rows.astype(frames[0].dtypes.to_dict())
        frames.append(dd.from_pandas(rows, npartitions=1))
    return dd.concat(frames) if len(frames) > 1 else frames[0]


def _filtered(df: pd.DataFrame, filters: list[tuple[str, str, object]]) -> pd.DataFrame:
    keep = pd.Series(True, index=df.index)
    for col, op, value in filters:
        s = df[col]
        if op == "in":
            keep &= s.isin(list(value)).fillna(False)  # type: ignore[call-overload]
        else:
            hit = {">=": s >= value, "<": s < value, "==": s == value}[op]
            keep &= hit.fillna(False).astype(bool)
    return df[keep]


def _partitions(fs: fsspec.AbstractFileSystem, table_dir: str) -> list[Partition]:
    by_folder: dict[str, list[str]] = {}
    for f in fs.glob(f"{table_dir}/**/*.parquet"):
        folder, _, name = str(f).rpartition("/")
        by_folder.setdefault(folder, []).append(name)
    found = [
        partition_of(d, names, lambda p: read_covers(p, filesystem=fs))
        for d, names in sorted(by_folder.items())
    ]
    return [p for p in found if p.live]


def _has_files(table_dir: str) -> bool:
    fs, path = fsspec.core.url_to_fs(table_dir)
    return bool(_partitions(fs, path))


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, local_workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for the duration of the block: connected to the running
    scheduler at ``scheduler`` (``tcp://host:8786``), or to a ``LocalCluster`` of
    ``local_workers`` worker processes (one thread each) started here and closed after;
    with neither, no client (``None``: Dask's threads). While a client is open, Dask's
    ``compute`` runs on its cluster. A scheduler that cannot be reached raises ``OSError``."""
    if scheduler is None and local_workers is None:
        yield None
        return
    import distributed

    if scheduler is not None:
        with distributed.Client(scheduler, timeout="10s") as client:
            yield client
        return
    with (
        distributed.LocalCluster(
            n_workers=local_workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def storage_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a store URL can fail with that are the user's to fix: ``OSError``
    (a missing bucket or key, refused access, an unreachable scheduler) and botocore's
    (no credentials, a bad endpoint) when s3fs is installed."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)
