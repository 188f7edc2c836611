"""Import vendors' liquidation CSV exports (CoinGlass, Coinalyze) into ``liquidation_bars``.

``python -m helpers import --format coinglass|coinalyze FILE``. A file is read and checked in
full before anything is stored: a bad file (unreadable, missing columns, unparseable or
timezone-less times, negative or non-numeric values, conflicting duplicate bars, an interval
that is not one of the canonical bar sizes) is one :class:`UserError` line and exit 2. So is
a file of the wrong shape (:mod:`~helpers.sources.vendor_csv.shape`): a last line without a
line break (it may be cut mid-number) or with fewer fields than the header ("file looks
truncated: line 812 has 3 of the header's 7 fields"), a row with more or fewer fields than
the header, a second header line.

A blank, ``n/a``, ``-``, ``—``, ``null``, ``NaN``, ``none`` cell
(:data:`~helpers.sources.vendor_csv.checks.MISSING_MARKERS`) is MISSING, never zero: the
command says how many cells were missing, and on a re-import a missing cell keeps the
stored number (:mod:`helpers.store`); a number that differs from the stored one replaces it
(the newest write wins: vendors revise recent bars) and the command counts the bars changed.

**CoinGlass** (aggregated liquidation history, one row per bar and coin): US dollars as
published, ``source='coinglass'``. Columns: a UTC time (``time_utc``/``ts_utc`` with an
offset, or ``time`` in epoch milliseconds), the coin (``coin``, or ``symbol`` holding a coin),
long/short USD (``aggregated_long_liquidation_usd``/``..._short_...`` or ``liq_long_usd``/
``liq_short_usd``...), optionally the venues (``exchange_list``/``exchange``, else
``--exchange``) and ``is_last_bar``. CoinGlass sums every futures market of the coin on a
venue (USDT-, USDC- and coin-margined), so its rows are FAMILY AGGREGATES
(:mod:`helpers.venues`): they go under the venue's family id (:data:`COINGLASS_EXCHANGES`:
"Binance" is ``binance``, the whole of ``binanceusdm`` + ``binancecoinm``; several venues
are joined with ``+``, e.g. ``binance+okx+bybit``) and the symbol ``<COIN>/USD:ALL``
(:data:`AGGREGATE_SYMBOL`), not a single contract, and bar loading never adds them to the
family's own contracts (:mod:`helpers.precedence`). A bar still open when pulled
(``is_last_bar`` true) is partial and dropped.

**Coinalyze** (per venue and perpetual, symbols like ``BTCUSDT_PERP.A``, mapped with
:func:`helpers.sources.coinalyze.parse_symbol`), in two layouts:

* long: ``symbol``, a UTC time column (``time_utc_inferred`` is preferred; ``ts_recorded``,
  a collector's LOCAL time, is never used), long/short liquidations and ``close``. USD
  columns (``long_liq_usd``...) are stored as they are (``source='coinalyze'``); BASE-unit
  columns (``long_liq_base``...) are converted with the bar's close price and stored as
  approximate (:data:`helpers.sources.coinalyze.SOURCE_APPROX`). A row flagged
  ``liq_row_missing`` is missing, not zero: no bar is written for it.
* wide: one row per bar, columns ``<SYMBOL>_longliq``/``<SYMBOL>_shortliq`` (BASE units
  unless ``--units usd``) with ``<SYMBOL>_close`` in the same file or in ``--prices FILE``.
  A bar without a close price cannot be converted and is left missing. Days the original
  collector interpolated cannot be told apart from real ones.

Times without an offset are accepted only from a column whose name says UTC or as plain
dates (daily bars); anything else must carry an offset. A coin or symbol that is not an
identifier (markup, a script, ``{{``, ``$``...) is never stored: its rows are quarantined
with the reason (``base: not an identifier: '<IMG SRC=X>'``) and counted in the summary line.
"""

from __future__ import annotations

from pathlib import Path

from helpers import schema
from helpers.errors import UserError
from helpers.sources.vendor_csv.checks import (
    INTERVAL_SECONDS,
    MISSING_MARKERS,
    Imported,
    check_grid,
    infer_interval,
    non_negative_numbers,
    read_csv,
    utc_times,
)
from helpers.sources.vendor_csv.coinalyze import read_coinalyze
from helpers.sources.vendor_csv.coinglass import (
    AGGREGATE_SYMBOL,
    COINGLASS_EXCHANGES,
    SOURCE_COINGLASS,
    coinglass_exchange,
    read_coinglass,
)
from helpers.sources.vendor_csv.shape import check_shape
from helpers.store import Store, WriteResult

__all__ = [
    "AGGREGATE_SYMBOL",
    "COINGLASS_EXCHANGES",
    "FORMATS",
    "INTERVAL_SECONDS",
    "MISSING_MARKERS",
    "SOURCE_COINGLASS",
    "Imported",
    "check_grid",
    "check_shape",
    "coinglass_exchange",
    "import_file",
    "infer_interval",
    "non_negative_numbers",
    "read_coinalyze",
    "read_coinglass",
    "read_csv",
    "utc_times",
]

FORMATS = ("coinglass", "coinalyze")


def import_file(
    store: Store,
    fmt: str,
    path: str | Path,
    exchange: str | None = None,
    interval: str | None = None,
    prices: str | Path | None = None,
    units: str = "auto",
) -> tuple[Imported, WriteResult]:
    """Read ``path`` as ``fmt``, check its shape and every row against the schema, and only
    then store it: a file with any bad line or row stores nothing, except a row whose only
    fault is a coin, venue or symbol that is not an identifier
    (:data:`helpers.schema.IDENTIFIERS`): the store quarantines it with the reason and the
    file's other rows are stored. A missing cell never replaces a stored number
    (:meth:`Store.write`)."""
    if fmt == "coinglass":
        if prices is not None or units != "auto":
            raise UserError("--prices and --units apply to Coinalyze files only")
        imported = read_coinglass(path, exchange, interval)
    elif fmt == "coinalyze":
        if exchange is not None:
            raise UserError("--exchange applies to CoinGlass files (Coinalyze symbols name it)")
        imported = read_coinalyze(path, prices, interval, units)
    else:
        raise UserError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    if imported.bars.empty:
        raise UserError(f"{Path(path).name}: no bars left to import")
    _, rejected = schema.validate("liquidation_bars", imported.bars)
    rejected = rejected[
        ~rejected["reason"].str.contains(f": {schema.NOT_AN_IDENTIFIER}: ", regex=False)
    ]
    if len(rejected):
        raise UserError(
            f"{Path(path).name}: {len(rejected)} rows fail the schema "
            f"(first: {rejected['reason'].iloc[0]}); nothing stored"
        )
    return imported, store.write("liquidation_bars", imported.bars)
