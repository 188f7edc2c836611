"""A SIMULATED liquidations store of any size, written one (venue, day) file at a time.

    python benchmarks/generate.py --events 100000000 --data-dir .bench/store-100m
                                  [--venues 8] [--symbols 50] [--days 28] [--seed 7]

The benchmark's store generator. ``helpers.sources.demo.write_demo`` simulates a whole
market in memory (about 10 GB of RAM for 20M events), so it cannot reach the sizes users
have. This writes only the ``liquidations`` table, straight into the store's layout
(:mod:`helpers.store_layout`: ``liquidations/exchange=<id>/date=YYYY-MM-DD/part.parquet``,
the compacted file, the partition columns in the path, the store's column types, and the
``liqnb.covers`` and ``liqnb.series`` metadata and the codec compaction writes), one file
at a time with pyarrow, so memory is bounded by one file (``events / (venues * days)``
rows: 446k at 100M) whatever the total.

Every row is SIMULATED: ``source`` is ``demo`` and the store's kind marker says so
(:func:`helpers.store_kind.write_marker`), so ``Store.read``, ``aggregate_store`` and the
report treat it like any demo store. Within a file the rows are in RANDOM time order, not
sorted by ``ts`` (the case issue 11 measured: row-group statistics cannot skip anything).

The market: ``--symbols`` contracts ``<BASE>/USDT:USDT`` with Zipf-like shares of events
(the first symbol about a fifth), 70 % of events LONG positions liquidated (sell orders),
notional USD log-normal (median about $2,500), price a per-symbol level with a random
daily drift, ``amount = notional_usd / price`` (base units). ``event_id`` is unique per
venue. Deterministic for a given ``--seed`` and shape.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpers.store_kind import SIMULATED, write_marker
from helpers.store_layout import COMPRESSION, COVERS_KEY, PART_FILE, series_metadata
from helpers.timegrid import SIMULATED_SOURCE

VENUES = (
    "binanceusdm",
    "bybit",
    "okx",
    "gate",
    "hyperliquid",
    "bitget",
    "bitmex",
    "deribit",
    "kucoinfutures",
    "krakenfutures",
)
BASES = [
    "BTC",
    "ETH",
    "SOL",
    "XRP",
    "DOGE",
    "BNB",
    "ADA",
    "AVAX",
    "LINK",
    "TON",
    "SUI",
    "TRX",
    "DOT",
    "LTC",
    "BCH",
    "NEAR",
    "APT",
    "ARB",
    "OP",
    "INJ",
    "PEPE",
    "WIF",
    "SHIB",
    "FIL",
    "ATOM",
    "ETC",
    "UNI",
    "AAVE",
    "HBAR",
    "ICP",
    "RNDR",
    "SEI",
    "TIA",
    "STX",
    "IMX",
    "MKR",
    "LDO",
    "ENA",
    "JUP",
    "WLD",
    "ORDI",
    "FET",
    "GALA",
    "SAND",
    "AXS",
    "CRV",
    "DYDX",
    "BLUR",
    "PYTH",
    "ONDO",
]
DAY_US = 86_400_000_000
START = np.datetime64("2025-01-06", "D")
MARKER = "BENCH_STORE.json"
FORMAT = 3
"""What the files hold, as compaction writes them: 3 = LZ4 with the ``liqnb.series`` footer
(2: Snappy with the footer; 1: Snappy without)."""
_LONG, _SHORT = pa.scalar("long", pa.large_string()), pa.scalar("short", pa.large_string())
SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("us", tz="UTC")),
        ("symbol", pa.large_string()),
        ("base", pa.large_string()),
        ("side", pa.large_string()),
        ("price", pa.float64()),
        ("amount", pa.float64()),
        ("notional_usd", pa.float64()),
        ("source", pa.large_string()),
        ("event_id", pa.large_string()),
    ],
    metadata={COVERS_KEY: b"0"},
)


def day_file(
    rng: np.random.Generator, n: int, day: np.datetime64, shares: np.ndarray, levels: np.ndarray
) -> pa.Table:
    """``n`` SIMULATED events of one venue on ``day`` (UTC), in random time order."""
    k = len(shares)
    sym = rng.choice(k, size=n, p=shares)
    bases = pa.array(BASES[:k], pa.large_string())
    symbols = pa.array([f"{b}/USDT:USDT" for b in BASES[:k]], pa.large_string())
    idx = pa.array(sym)
    day_us = day.astype("datetime64[us]").astype(np.int64)
    ts = day_us + rng.integers(0, DAY_US, size=n)
    notional = np.exp(rng.normal(np.log(2500.0), 1.4, size=n))
    price = levels[sym] * np.exp(rng.normal(0.0, 0.01, size=n))
    long = rng.random(n) < 0.7
    ids = pc.binary_join_element_wise(
        pa.scalar(f"{day}-", pa.large_string()),
        pc.cast(pa.array(np.arange(n)), pa.large_string()),
        pa.scalar("", pa.large_string()),
    )
    return pa.Table.from_arrays(
        [
            pa.array(ts.astype("datetime64[us]"), pa.timestamp("us", tz="UTC")),
            pc.take(symbols, idx),
            pc.take(bases, idx),
            pc.if_else(pa.array(long), _LONG, _SHORT),
            pa.array(price),
            pa.array(notional / price),
            pa.array(notional),
            pa.repeat(pa.scalar(SIMULATED_SOURCE, pa.large_string()), n),
            ids,
        ],
        schema=SCHEMA,
    )


def generate(
    data_dir: Path, events: int, venues: int = 8, symbols: int = 50, days: int = 28, seed: int = 7
) -> int:
    """Write about ``events`` SIMULATED liquidations into the store ``data_dir``, one
    (venue, day) file at a time; returns the number of events written."""
    if not 1 <= venues <= len(VENUES) or not 1 <= symbols <= len(BASES) or days < 1:
        raise ValueError(f"venues 1..{len(VENUES)}, symbols 1..{len(BASES)}, days >= 1")
    rng = np.random.default_rng(seed)
    shares = 1.0 / np.arange(1, symbols + 1) ** 1.1
    shares /= shares.sum()
    levels = 60_000.0 * np.exp(-0.35 * np.arange(symbols)) + 0.01
    venue_weight = rng.uniform(0.5, 1.5, size=venues)
    venue_weight /= venue_weight.sum()
    per_day = events / days
    written = 0
    for d in range(days):
        day = START + np.timedelta64(d, "D")
        levels = levels * np.exp(rng.normal(0.0, 0.03, size=symbols))
        for v in range(venues):
            n = int(round(per_day * venue_weight[v]))
            folder = data_dir / "liquidations" / f"exchange={VENUES[v]}" / f"date={day}"
            folder.mkdir(parents=True, exist_ok=True)
            table = day_file(rng, n, day, shares, levels)
            table = table.replace_schema_metadata({**SCHEMA.metadata, **series_metadata(table)})
            pq.write_table(table, folder / PART_FILE, compression=COMPRESSION)
            written += n
    write_marker(data_dir, SIMULATED)
    shape = {"venues": venues, "symbols": symbols, "days": days, "seed": seed}
    (data_dir / MARKER).write_text(
        json.dumps({"generator": "stream", "format": FORMAT, **shape, "events": written})
    )
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--venues", type=int, default=8)
    p.add_argument("--symbols", type=int, default=50)
    p.add_argument("--days", type=int, default=28)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args(argv)
    if a.data_dir.exists() and any(a.data_dir.iterdir()):
        p.error(f"{a.data_dir} is not empty; the generator writes a store of its own")
    t0 = time.perf_counter()
    n = generate(a.data_dir, a.events, a.venues, a.symbols, a.days, a.seed)
    print(f"SIMULATED store: {n:,} events in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
