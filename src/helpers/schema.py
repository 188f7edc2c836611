"""The canonical tables: their columns, types, partitioning, deduplication keys and row checks.

Conventions that hold for every table:

* ``ts`` is a tz-aware UTC timestamp. For bars (``liquidation_bars``, ``ohlcv``) it is the
  bar's OPEN time; the bar covers ``[ts, ts + interval)``.
* ``exchange`` is a ccxt exchange id (``binanceusdm``, ``bybit``, ``okx``, ``hyperliquid``...).
* ``symbol`` is a ccxt unified symbol (``BTC/USDT:USDT``); ``base`` is its base currency.
* ``side`` in ``liquidations`` is the POSITION that was liquidated: ``long`` (a forced sell) or
  ``short`` (a forced buy), never an order side.
* Money columns ending in ``_usd`` are US dollars; ``amount`` is in base-currency units.
* ``source`` (every table but ``gaps``) says where a row came from: ``demo`` for the
  simulated market, ``ccxt:<exchange>``, ``coinalyze``, ``tardis``, ``coingecko`` (and
  ``coingecko:history`` for caps read from per-coin history)... It is
  not part of any key except ``liquidation_bars``' (where a vendor's bars and bars built
  from recorded events may coexist and :func:`helpers.aggregate.load_bars` keeps one per
  venue and bar, :mod:`helpers.precedence`).
* A vendor's FAMILY AGGREGATE bar (CoinGlass "Binance": every Binance futures market of a
  coin) has the family id as ``exchange`` (``binance``) and ``<COIN>/USD:ALL`` as ``symbol``
  (:mod:`helpers.venues`), never a contract's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

SIDES = ("long", "short")
INTERVALS = ("1m", "5m", "15m", "1h", "4h", "1d")


@dataclass(frozen=True)
class Identifier:
    """What a text column that names something may hold: a full match of ``pattern``, at
    most ``max_len`` characters; ``example`` shows the form."""

    pattern: re.Pattern[str]
    max_len: int
    example: str

    def matches(self, value: str) -> bool:
        return len(value) <= self.max_len and self.pattern.fullmatch(value) is not None


_ASSET = r"[^\W_][\w.-]{0,39}"
"""A currency code or vendor ticker: Unicode letters and digits (``BTC``, ``1000PEPE``,
``kPEPE``, a CJK ticker), then also ``.``, ``-``, ``_``."""
_CCXT_ID = r"[a-z0-9][a-z0-9_-]{1,31}"

IDENTIFIERS: dict[str, Identifier] = {
    "exchange": Identifier(
        re.compile(rf"{_CCXT_ID}(?:\+{_CCXT_ID})*"), 128, "binanceusdm, binance+okx+bybit"
    ),
    "base": Identifier(re.compile(_ASSET), 40, "BTC, 1000PEPE"),
    "coin": Identifier(re.compile(r"[^\W_][\w.-]{0,63}"), 64, "bitcoin, avalanche-2"),
    "symbol": Identifier(
        re.compile(rf"{_ASSET}(?:/{_ASSET}(?::{_ASSET})?)?"),
        96,
        "BTC/USDT:USDT, BTC/USD:BTC-250328, BTCUSDT_PERP.A, BTC",
    ),
    "source": Identifier(
        re.compile(r"[a-z0-9][a-z0-9._+-]*(?::[a-z0-9._+-]+)*(?: \([A-Za-z0-9 .,=:+-]*\))?"),
        96,
        "coinalyze, ccxt.pro:okx, coingecko (EUR converted to USD via tether)",
    ),
    "name": Identifier(re.compile(r"[^\x00-\x1f\x7f-\x9f<>\"`{}$\\]+"), 100, "Lido Staked Ether"),
    "table_name": Identifier(re.compile(r"[a-z][a-z0-9_]{0,31}"), 32, "liquidations"),
}
r"""The form of every column that names a venue, market, coin or source, in any table that
has it: what comes from a file or a venue is checked on the way in, so a name can never be
markup when a report shows it (rows that fail are quarantined,
``<column>: not an identifier: '<value>'``). ``exchange``: ccxt ids, lower-case ASCII, family
aggregates joined with ``+``. ``base``: a currency code. ``coin``: a CoinGecko id.
``symbol``: a ccxt unified symbol ``BASE/QUOTE:SETTLE`` (with a dated/option suffix after
``-``), a vendor symbol or a ticker; ``/`` and ``:`` only as ccxt places them. ``source``: a
lower-case label, ``:`` parts, and one parenthesised note. ``name`` (a coin's display name)
is free text without control characters or ``< > " ` { } $ \``. Unicode letters and digits
count as letters in currency codes, coins and symbols; nothing else outside ASCII does."""
NOT_AN_IDENTIFIER = "not an identifier"


@dataclass(frozen=True)
class Table:
    """A canonical table: column order and dtypes, partition columns and deduplication key."""

    name: str
    columns: dict[str, str]
    key: tuple[str, ...]
    partition_by: tuple[str, ...]
    positive: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    nullable_times: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)


_TS = "datetime64[us, UTC]"

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "liquidations",
            {
                "ts": _TS,
                "exchange": "string",
                "symbol": "string",
                "base": "string",
                "side": "string",
                "price": "float64",
                "amount": "float64",
                "notional_usd": "float64",
                "source": "string",
                "event_id": "string",
            },
            key=("exchange", "event_id"),
            partition_by=("exchange", "date"),
            positive=("price", "amount", "notional_usd"),
            required=("exchange", "symbol", "base", "side", "source", "event_id"),
        ),
        Table(
            "liquidation_bars",
            {
                "ts": _TS,
                "interval": "string",
                "exchange": "string",
                "symbol": "string",
                "base": "string",
                "long_usd": "float64",
                "short_usd": "float64",
                "long_count": "Int64",
                "short_count": "Int64",
                "source": "string",
            },
            key=("ts", "interval", "exchange", "symbol", "source"),
            partition_by=("exchange", "date"),
            required=("interval", "exchange", "symbol", "base", "source"),
        ),
        Table(
            "ohlcv",
            {
                "ts": _TS,
                "interval": "string",
                "exchange": "string",
                "symbol": "string",
                "open": "float64",
                "high": "float64",
                "low": "float64",
                "close": "float64",
                "volume": "float64",
                "source": "string",
            },
            key=("ts", "interval", "exchange", "symbol"),
            partition_by=("exchange", "date"),
            positive=("open", "high", "low", "close"),
            required=("interval", "exchange", "symbol", "source"),
        ),
        Table(
            "open_interest",
            {
                "ts": _TS,
                "exchange": "string",
                "symbol": "string",
                "oi_usd": "float64",
                "source": "string",
            },
            key=("ts", "exchange", "symbol"),
            partition_by=("exchange", "date"),
            positive=("oi_usd",),
            required=("exchange", "symbol", "source"),
        ),
        Table(
            "funding",
            {
                "ts": _TS,
                "exchange": "string",
                "symbol": "string",
                "rate": "float64",
                "source": "string",
            },
            key=("ts", "exchange", "symbol"),
            partition_by=("exchange", "date"),
            required=("exchange", "symbol", "source"),
        ),
        Table(
            "long_short_ratio",
            {
                "ts": _TS,
                "exchange": "string",
                "symbol": "string",
                "period": "string",
                "long_short_ratio": "float64",
                "long_account": "float64",
                "source": "string",
            },
            key=("ts", "exchange", "symbol", "period"),
            partition_by=("exchange", "date"),
            positive=("long_short_ratio",),
            required=("exchange", "symbol", "period", "source"),
        ),
        Table(
            "market_caps",
            {
                "ts": _TS,
                "coin": "string",
                "symbol": "string",
                "name": "string",
                "price_usd": "float64",
                "market_cap_usd": "float64",
                "change_24h_pct": "float64",
                "source": "string",
            },
            key=("ts", "coin"),
            partition_by=("date",),
            positive=("price_usd", "market_cap_usd"),
            required=("coin", "symbol", "source"),
        ),
        Table(
            "gaps",
            {
                "start": _TS,
                "end": _TS,
                "exchange": "string",
                "symbol": "string",
                "table_name": "string",
                "reason": "string",
                "ts": _TS,
            },
            key=("exchange", "symbol", "table_name", "start"),
            partition_by=("exchange", "date"),
            required=("exchange", "table_name", "reason"),
            nullable_times=("end",),
        ),
    )
}
"""Every canonical table by name. ``long_short_ratio`` is the venue's published ACCOUNT
long/short ratio (accounts net long / accounts net short, all traders, not top traders and
not position size) over ``period`` (one of :data:`INTERVALS`), stamped at the time the venue
gives; ``long_account`` is the share of accounts net long (a fraction, 0..1) where the venue
publishes it, else missing (OKX gives the ratio only). ``gaps`` records stretches where a
source had no data (a dropped stream, an outage), so reports can show them as missing
rather than zero; its ``ts`` equals ``start`` and is only used for partitioning; an empty
``end`` means the gap is still open."""


def table(name: str) -> Table:
    """The table definition called ``name``; a clear error for an unknown name."""
    try:
        return TABLES[name]
    except KeyError:
        raise ValueError(f"unknown table {name!r}; expected one of {sorted(TABLES)}") from None


def _parse_utc(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse timestamps, returning (parsed UTC series, reason per row or None).

    Tz-aware inputs are converted to UTC; naive inputs (no offset) and unparseable ones are
    rejected rather than guessed.
    """
    reasons = np.full(len(values), None, dtype=object)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        reasons[values.isna().to_numpy()] = "missing timestamp"
        return values.dt.tz_convert("UTC").astype(_TS), reasons
    if pd.api.types.is_datetime64_dtype(values.dtype):
        reasons[:] = "naive timestamp (no timezone)"
        return pd.Series(pd.NaT, index=values.index, dtype=_TS), reasons
    parsed = pd.Series(pd.NaT, index=values.index, dtype=_TS)
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
            reasons[i] = "missing timestamp"
            continue
        try:
            t = pd.Timestamp(v)
        except (ValueError, TypeError):
            reasons[i] = "unparseable timestamp"
            continue
        if t is pd.NaT:
            reasons[i] = "missing timestamp"
        elif t.tzinfo is None:
            reasons[i] = "naive timestamp (no timezone)"
        else:
            parsed.iloc[i] = t.tz_convert("UTC")
    return parsed, reasons


class _Reasons:
    """Each row's first reason: a row keeps the reason of the first check (in the order they
    are added) it fails; one numpy pass per check."""

    def __init__(self, n: int) -> None:
        self.reason = np.full(n, None, dtype=object)
        self.open = np.ones(n, dtype=bool)

    def add(self, mask: np.ndarray, why: str | np.ndarray) -> None:
        """Reject the open rows of ``mask`` for ``why`` (one text, or one per row)."""
        fresh = mask & self.open
        if fresh.any():
            self.reason[fresh] = why if isinstance(why, str) else why[fresh]
            self.open &= ~fresh


def _flags(values: pd.Series) -> np.ndarray:
    """A boolean mask as numpy, missing (NA) counted as False."""
    return values.to_numpy(dtype=bool, na_value=False)


def validate(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``df`` into (valid rows in canonical form, rejected rows with a ``reason`` column).

    Canonical form: exactly the table's columns, in order, with the table's dtypes. A row is
    rejected for a missing column value, a naive or unparseable timestamp, a non-positive or
    non-finite value in a column that must be positive, an unknown ``side`` or ``interval``,
    and last (so such a row is otherwise valid) a name that is not of its column's
    :data:`IDENTIFIERS` form. A row failing several checks gets the first one's reason, in
    that order (columns in table order).
    The rejected frame keeps the input's values as strings so nothing is lost.
    """
    t = table(name)
    missing_cols = [c for c in t.columns if c not in df.columns]
    if missing_cols:
        raise ValueError(f"{name}: missing columns {missing_cols}")
    df = df.reset_index(drop=True)
    reasons = _Reasons(len(df))
    reject = reasons.add
    out: dict[str, pd.Series] = {}
    for col, dtype in t.columns.items():
        if dtype == _TS:
            parsed, why = _parse_utc(df[col])
            if col in t.nullable_times:
                why[why == "missing timestamp"] = None
            failed = why != None  # noqa: E711 (elementwise on an object array)
            if failed.any():
                reject(failed, np.array([None if w is None else f"{col}: {w}" for w in why]))
            out[col] = parsed
        elif dtype == "float64":
            raw = df[col]
            vals = pd.to_numeric(raw, errors="coerce").astype("float64")
            v, nan = vals.to_numpy(), vals.isna().to_numpy()
            if raw.dtype != np.float64:  # else nothing is "not a number"
                reject(nan & raw.notna().to_numpy(), f"{col}: not a number")
            if col in t.positive:
                reject(nan, f"{col}: missing")
                reject(~((v > 0) & (v < np.inf)), f"{col}: must be positive and finite")
            out[col] = vals
        elif dtype == "Int64":
            num = pd.to_numeric(df[col], errors="coerce")
            reject(_flags(num < 0), f"{col}: negative count")
            out[col] = num.round().astype("Int64")
        else:
            text = df[col].astype("string").str.strip()
            if col in t.required:
                reject(text.isna().to_numpy() | _flags(text == ""), f"{col}: missing")
            out[col] = text
    if "side" in t.columns:
        message = "side: must be 'long' or 'short' (the liquidated position)"
        reject(~_flags(out["side"].isin(SIDES)), message)
    if "interval" in t.columns:
        reject(~_flags(out["interval"].isin(INTERVALS)), f"interval: must be one of {INTERVALS}")
    if "period" in t.columns:
        reject(~_flags(out["period"].isin(INTERVALS)), f"period: must be one of {INTERVALS}")
    if "long_account" in t.columns:
        share = out["long_account"].to_numpy()
        outside = ~np.isnan(share) & ~((share >= 0.0) & (share <= 1.0))
        reject(outside, "long_account: must be a fraction 0..1")
    if name == "ohlcv":
        reject(out["high"].to_numpy() < out["low"].to_numpy(), "high below low")
    for col, ident in IDENTIFIERS.items():
        if col in t.columns:
            wrong = _not_identifiers(out[col], ident)
            if wrong:
                shown = {v: f"{col}: {NOT_AN_IDENTIFIER}: {_shown(v)!r}" for v in wrong}
                why = out[col].map(shown).to_numpy(dtype=object)
                reject(_flags(out[col].isin(wrong)), why)

    good = pd.DataFrame(out, index=df.index)
    bad = ~reasons.open
    if not bad.any():
        return good, _no_rejects(df)
    rejected = df[bad].astype("string").assign(reason=pd.array(reasons.reason[bad], dtype="string"))
    return good[~bad].reset_index(drop=True), rejected.reset_index(drop=True)


def _no_rejects(df: pd.DataFrame) -> pd.DataFrame:
    """The rejected frame of a ``df`` whose rows are all valid: no rows, its columns and
    ``reason``, as text."""
    if not df.columns.is_unique:
        return df.iloc[:0].astype("string").assign(reason=pd.Series(dtype="string"))
    none = pd.array([], dtype="string")
    return pd.DataFrame({**{c: none for c in df.columns}, "reason": none})


def _not_identifiers(values: pd.Series, ident: Identifier) -> list[str]:
    """The distinct non-empty values of ``values`` that ``ident`` does not accept."""
    return [v for v in values.unique() if v is not pd.NA and v != "" and not ident.matches(str(v))]


def _shown(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


def empty(name: str) -> pd.DataFrame:
    """An empty frame with the table's columns and dtypes."""
    t = table(name)
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in t.columns.items()})


def pandas_strings(arrow_type: object) -> pd.StringDtype | None:
    """``types_mapper`` for ``pyarrow.Table.to_pandas``: Arrow strings straight into the
    canonical text dtype (pandas' string dtype, no Python objects on the way)."""
    return (
        pd.StringDtype()
        if arrow_type in (pa.string(), pa.large_string(), pa.string_view())
        else None
    )
