"""Import vendors' liquidation CSV exports (CoinGlass, Coinalyze) into ``liquidation_bars``.

``python -m helpers import --format coinglass|coinalyze FILE``. A file is read and checked in
full before anything is stored: a bad file (unreadable, missing columns, unparseable or
timezone-less times, negative or non-numeric values, conflicting duplicate bars, an interval
that is not one of the canonical bar sizes) is one :class:`UserError` line and exit 2.

**CoinGlass** (aggregated liquidation history, one row per bar and coin): US dollars as
published, ``source='coinglass'``. Columns: a UTC time (``time_utc``/``ts_utc`` with an
offset, or ``time`` in epoch milliseconds), the coin (``coin``, or ``symbol`` holding a coin),
long/short USD (``aggregated_long_liquidation_usd``/``..._short_...`` or ``liq_long_usd``/
``liq_short_usd``...), optionally the venues (``exchange_list``/``exchange``, else
``--exchange``) and ``is_last_bar``. CoinGlass sums every futures market of the coin on a
venue (USDT-, USDC- and coin-margined), so rows go under the venue's ccxt id
(:data:`COINGLASS_EXCHANGES`; several venues are joined with ``+``, e.g.
``binance+okx+bybit``) and the symbol ``<COIN>/USD:ALL`` (:data:`AGGREGATE_SYMBOL`), not a
single contract. A bar still open when pulled (``is_last_bar`` true) is partial and dropped.

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
dates (daily bars); anything else must carry an offset.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import schema
from helpers.errors import UserError
from helpers.sources import coinalyze
from helpers.store import Store, WriteResult

log = logging.getLogger(__name__)

FORMATS = ("coinglass", "coinalyze")
SOURCE_COINGLASS = "coinglass"
AGGREGATE_SYMBOL = "{base}/USD:ALL"
"""Symbol of a coin's aggregate over every futures market of a venue (USD-valued)."""

INTERVAL_SECONDS = coinalyze.INTERVAL_SECONDS

COINGLASS_EXCHANGES: dict[str, str] = {
    "binance": "binance",
    "okx": "okx",
    "okex": "okx",
    "bybit": "bybit",
    "hyperliquid": "hyperliquid",
    "gate": "gate",
    "gate.io": "gate",
    "htx": "htx",
    "huobi": "htx",
    "bitmex": "bitmex",
    "bitfinex": "bitfinex",
    "coinex": "coinex",
    "bitget": "bitget",
    "deribit": "deribit",
    "kraken": "krakenfutures",
    "dydx": "dydx",
    "mexc": "mexc",
    "kucoin": "kucoinfutures",
}
"""CoinGlass venue name (lower case) -> ccxt exchange id."""

_COINGLASS_TIME = ("time_utc", "ts_utc", "time", "timestamp", "date", "t")
_COINGLASS_LONG = (
    "aggregated_long_liquidation_usd",
    "liq_long_usd",
    "long_liquidation_usd",
    "longliquidation_usd",
    "long_usd",
)
_COINGLASS_SHORT = (
    "aggregated_short_liquidation_usd",
    "liq_short_usd",
    "short_liquidation_usd",
    "shortliquidation_usd",
    "short_usd",
)
_COINALYZE_TIME = ("time_utc_inferred", "time_utc", "ts_utc", "t", "time", "timestamp", "date")
_COINALYZE_USD = (("long_liq_usd", "short_liq_usd"), ("long_usd", "short_usd"))
_COINALYZE_BASE = (("long_liq_base", "short_liq_base"), ("long_base", "short_base"))
_COINALYZE_UNSTATED = (("long_liquidations", "short_liquidations"), ("l", "s"))
_LOCAL_TIME = ("ts_recorded",)
_WIDE = re.compile(r"^(?P<sym>.+\.[0-9A-Za-z])_(?P<kind>longliq|shortliq|close)$")
_OFFSET = re.compile(r"(?:Z|[+-]\d\d(?::?\d\d)?)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d\d-\d\d$")


@dataclass
class Imported:
    """Bars read from a vendor file, the units they were given in, and what was dropped."""

    bars: pd.DataFrame
    units: str
    notes: list[str] = field(default_factory=list)


# ---- reading ------------------------------------------------------------------------------


def read_csv(path: str | Path) -> pd.DataFrame:
    """The file as a frame with stripped column names; a :class:`UserError` when it is not a
    readable, non-empty CSV."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: file not found")
    with open(p, "rb") as fh:
        head = fh.read(512).lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"{", b"[")):
        raise UserError(f"{p.name}: an HTML/XML/JSON document, not a CSV file")
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{p.name}: not a readable CSV file ({first})") from None
    if df.empty:
        raise UserError(f"{p.name}: no data rows")
    df.columns = [str(c).strip() for c in df.columns]
    return df


def utc_times(values: pd.Series, column: str, where: str) -> pd.Series:
    """Bar times as UTC. Numbers are epoch seconds or milliseconds (by magnitude); strings
    must carry an offset unless ``column`` says UTC or the values are plain dates."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        x = pd.to_numeric(values, errors="coerce")
        if x.isna().any():
            raise UserError(f"{where}: column {column!r} has empty times")
        unit = "ms" if float(x.abs().max()) > 1e11 else "s"
        return pd.to_datetime(x.astype("int64"), unit=unit, utc=True).astype("datetime64[us, UTC]")
    text = values.astype("string").str.strip()
    if text.isna().any() or (text == "").any():
        raise UserError(f"{where}: column {column!r} has empty times")
    has_offset = text.str.contains(_OFFSET)
    if not has_offset.all():
        date_only = text.str.fullmatch(_DATE_ONLY).all()
        if not (date_only or "utc" in column.lower()):
            bad = text[~has_offset].iloc[0]
            raise UserError(
                f"{where}: time {bad!r} in column {column!r} has no timezone; give UTC times "
                "with an offset (or a column named *_utc)"
            )
        if has_offset.any():
            raise UserError(f"{where}: column {column!r} mixes times with and without offsets")
    try:
        parsed = pd.to_datetime(text, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        for i, v in text.items():
            try:
                pd.Timestamp(v)
            except (ValueError, TypeError):
                raise UserError(
                    f"{where}: unparseable time {v!r} in column {column!r} (row {i + 2})"
                ) from None
        raise UserError(f"{where}: unparseable times in column {column!r}") from None
    return parsed.astype("datetime64[us, UTC]")


def non_negative_numbers(values: pd.Series, column: str, where: str) -> pd.Series:
    """Non-negative numbers (NaN where empty); a :class:`UserError` naming the first bad row."""
    x = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = (x.isna() & values.notna() & (values.astype("string").str.strip() != "")) | (x < 0)
    bad |= np.isinf(x)
    if bad.any():
        i = bad.idxmax()
        raise UserError(
            f"{where}: column {column!r} row {i + 2}: {str(values[i])!r} is not a non-negative "
            "number"
        )
    return x


def infer_interval(ts: pd.Series, groups: list[pd.Series], where: str) -> str:
    """The canonical interval of bars: the most common spacing between consecutive bars of
    each group, which must be one of the canonical sizes."""
    key = pd.DataFrame({"ts": ts, **{f"g{i}": g for i, g in enumerate(groups)}})
    diffs = (
        key.sort_values(list(key.columns[1:]) + ["ts"])
        .groupby(list(key.columns[1:]), sort=False)["ts"]
        .diff()
        .dropna()
        .dt.total_seconds()
    )
    diffs = diffs[diffs > 0]
    if diffs.empty:
        raise UserError(f"{where}: a single bar per series; pass --interval")
    step = int(diffs.mode().iloc[0])
    for name, secs in INTERVAL_SECONDS.items():
        if secs == step:
            return name
    raise UserError(
        f"{where}: bars are {step} s apart, not one of {list(INTERVAL_SECONDS)}; pass --interval"
    )


def check_grid(ts: pd.Series, interval: str, where: str) -> None:
    """Every bar must start on the interval's UTC grid (bars are stamped at their open)."""
    secs = INTERVAL_SECONDS[interval]
    epoch = ts.astype("int64") // 1_000_000
    off = epoch % secs != 0
    if off.any():
        raise UserError(
            f"{where}: bar {ts[off].iloc[0].isoformat()} does not start on the {interval} UTC "
            "grid; is the time column local time?"
        )


def _pick(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in df.columns}
    for n in names:
        if n in lower:
            return lower[n]
    return None


def _pick_pair(df: pd.DataFrame, pairs: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    for long_, short_ in pairs:
        a, b = _pick(df, (long_,)), _pick(df, (short_,))
        if a and b:
            return a, b
    return None


def _flag(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.lower()
    return text.isin(["true", "1", "yes"]).fillna(False).astype(bool)


# ---- CoinGlass ----------------------------------------------------------------------------


def coinglass_exchange(name: str, where: str) -> str:
    """The ccxt id(s) of a CoinGlass venue name or list (``Binance,OKX,Bybit`` ->
    ``binance+okx+bybit``); a ccxt id is accepted as it is."""
    import ccxt

    ids = []
    for part in re.split(r"[,+]", str(name)):
        key = part.strip().lower()
        if not key:
            continue
        if key == "all":
            raise UserError(f"{where}: 'All' is every exchange together, not a venue")
        ex = COINGLASS_EXCHANGES.get(key, key if key in ccxt.exchanges else None)
        if ex is None:
            raise UserError(f"{where}: unknown CoinGlass exchange {part.strip()!r}")
        ids.append(ex)
    if not ids:
        raise UserError(f"{where}: empty exchange name")
    return "+".join(ids)


def read_coinglass(
    path: str | Path, exchange: str | None = None, interval: str | None = None
) -> Imported:
    """``liquidation_bars`` (US dollars, ``source='coinglass'``) from a CoinGlass export."""
    where = Path(path).name
    df = read_csv(path)
    time_col = _pick(df, _COINGLASS_TIME)
    long_col, short_col = _pick(df, _COINGLASS_LONG), _pick(df, _COINGLASS_SHORT)
    coin_col = _pick(df, ("coin", "symbol", "base"))
    missing = [
        what
        for what, col in (
            ("time", time_col),
            ("coin", coin_col),
            ("long USD", long_col),
            ("short USD", short_col),
        )
        if col is None
    ]
    if missing:
        raise UserError(
            f"{where}: not a CoinGlass liquidation export (no {', '.join(missing)} column)"
        )
    notes = []
    if "is_last_bar" in df.columns:
        open_bar = _flag(df["is_last_bar"])
        if open_bar.any():
            notes.append(f"{int(open_bar.sum())} bars still open when pulled dropped")
        df = df[~open_bar].reset_index(drop=True)
    ex_col = _pick(df, ("exchange_list", "exchange", "exchange_name"))
    if exchange is not None:
        venues = pd.Series(coinglass_exchange(exchange, "--exchange"), index=df.index)
    elif ex_col is not None:
        names = {v: coinglass_exchange(v, where) for v in df[ex_col].astype(str).unique()}
        venues = df[ex_col].astype(str).map(names)
    else:
        raise UserError(f"{where}: the file names no exchange; pass --exchange (e.g. binance)")
    coins = df[coin_col].astype("string").str.strip().str.upper()
    if coins.isna().any() or (coins == "").any():
        raise UserError(f"{where}: empty coin in column {coin_col!r}")
    ts = utc_times(df[time_col], time_col, where)
    long_usd = non_negative_numbers(df[long_col], long_col, where)
    short_usd = non_negative_numbers(df[short_col], short_col, where)
    interval = interval or infer_interval(ts, [venues, coins], where)
    check_grid(ts, interval, where)
    bars = pd.DataFrame(
        {
            "ts": ts,
            "interval": interval,
            "exchange": venues.astype("string"),
            "symbol": coins.map(lambda c: AGGREGATE_SYMBOL.format(base=c)).astype("string"),
            "base": coins,
            "long_usd": long_usd,
            "short_usd": short_usd,
            "long_count": pd.array([pd.NA] * len(df), dtype="Int64"),
            "short_count": pd.array([pd.NA] * len(df), dtype="Int64"),
            "source": SOURCE_COINGLASS,
        }
    )
    return Imported(_dedupe(_drop_empty(bars, notes), where), "USD (as published)", notes)


# ---- Coinalyze ----------------------------------------------------------------------------


def read_coinalyze(
    path: str | Path,
    prices: str | Path | None = None,
    interval: str | None = None,
    units: str = "auto",
) -> Imported:
    """``liquidation_bars`` from a Coinalyze export (long or wide layout, see the module)."""
    where = Path(path).name
    df = read_csv(path)
    if _pick(df, ("symbol",)) is not None:
        return _coinalyze_long(df, where, interval, units)
    if any(_WIDE.match(c) for c in df.columns):
        return _coinalyze_wide(df, where, prices, interval, units)
    raise UserError(
        f"{where}: not a Coinalyze export (no 'symbol' column and no <SYMBOL>_longliq columns)"
    )


def _coinalyze_long(df: pd.DataFrame, where: str, interval: str | None, units: str) -> Imported:
    time_col = _pick(df, _COINALYZE_TIME)
    if time_col is None:
        local = _pick(df, _LOCAL_TIME)
        why = f" ({local!r} is the collector's local time, not UTC)" if local else ""
        raise UserError(f"{where}: no UTC time column{why}")
    usd_pair = _pick_pair(df, _COINALYZE_USD)
    base_pair = _pick_pair(df, _COINALYZE_BASE)
    plain_pair = _pick_pair(df, _COINALYZE_UNSTATED)
    if units == "usd":
        usd_pair = usd_pair or plain_pair
    elif units == "base":
        usd_pair, base_pair = None, base_pair or plain_pair
    elif usd_pair is None and base_pair is None and plain_pair is not None:
        raise UserError(f"{where}: the liquidation columns do not state units; pass --units")
    if usd_pair is None and base_pair is None:
        raise UserError(f"{where}: no long/short liquidation columns")
    notes = []
    symbols = df[_pick(df, ("symbol",))].astype("string").str.strip()
    markets = {s: coinalyze.parse_symbol(s) for s in symbols.dropna().unique()}
    ts = utc_times(df[time_col], time_col, where)
    interval = interval or infer_interval(ts, [symbols], where)
    if "liq_row_missing" in df.columns:
        gone = _flag(df["liq_row_missing"])
        if gone.any():
            notes.append(f"{int(gone.sum())} bars flagged liq_row_missing left missing")
        df, symbols, ts = (x[~gone].reset_index(drop=True) for x in (df, symbols, ts))
    if usd_pair is not None:
        long_v = non_negative_numbers(df[usd_pair[0]], usd_pair[0], where)
        short_v = non_negative_numbers(df[usd_pair[1]], usd_pair[1], where)
        source, units_text = coinalyze.SOURCE, "USD"
    else:
        close_col = _pick(df, ("close", "c"))
        if close_col is None:
            raise UserError(f"{where}: base-unit liquidations need a 'close' column to convert")
        close = non_negative_numbers(df[close_col], close_col, where)
        long_v = non_negative_numbers(df[base_pair[0]], base_pair[0], where) * close
        short_v = non_negative_numbers(df[base_pair[1]], base_pair[1], where) * close
        source = coinalyze.SOURCE_APPROX
        units_text = "base units, converted with the bar's close (approximate)"
    frame = pd.DataFrame({"coinalyze": symbols, "ts": ts, "long": long_v, "short": short_v})
    return _coinalyze_bars(frame, markets, where, interval, source, units_text, notes)


def _coinalyze_wide(
    df: pd.DataFrame, where: str, prices: str | Path | None, interval: str | None, units: str
) -> Imported:
    time_col = _pick(df, ("t", "time", "date", "time_utc", "timestamp")) or df.columns[0]
    ts = utc_times(df[time_col], time_col, where)
    cols: dict[str, dict[str, str]] = {}
    for c in df.columns:
        m = _WIDE.match(c)
        if m:
            cols.setdefault(m["sym"].upper(), {})[m["kind"]] = c
    pairs = {s: k for s, k in cols.items() if "longliq" in k and "shortliq" in k}
    if not pairs:
        raise UserError(f"{where}: no <SYMBOL>_longliq / <SYMBOL>_shortliq column pairs")
    markets = {s: coinalyze.parse_symbol(s) for s in pairs}
    long_rows = []
    for sym, kinds in pairs.items():
        long_rows.append(
            pd.DataFrame(
                {
                    "coinalyze": sym,
                    "ts": ts,
                    "long": non_negative_numbers(df[kinds["longliq"]], kinds["longliq"], where),
                    "short": non_negative_numbers(df[kinds["shortliq"]], kinds["shortliq"], where),
                }
            )
        )
    frame = pd.concat(long_rows, ignore_index=True)
    notes: list[str] = []
    if units == "usd":
        return _coinalyze_bars(frame, markets, where, interval, coinalyze.SOURCE, "USD", notes)
    closes = _wide_closes(df, ts, cols, where)
    if prices is not None:
        pdf = read_csv(prices)
        p_where = Path(prices).name
        p_time = _pick(pdf, ("t", "time", "date", "time_utc", "timestamp")) or pdf.columns[0]
        p_cols: dict[str, dict[str, str]] = {}
        for c in pdf.columns:
            m = _WIDE.match(c)
            if m:
                p_cols.setdefault(m["sym"].upper(), {})[m["kind"]] = c
        more = _wide_closes(pdf, utc_times(pdf[p_time], p_time, p_where), p_cols, p_where)
        closes = pd.concat([closes, more]).drop_duplicates(["coinalyze", "ts"], keep="first")
    frame = frame.merge(closes, on=["coinalyze", "ts"], how="left")
    no_close = frame["close"].isna() & (frame["long"].notna() | frame["short"].notna())
    if no_close.all():
        raise UserError(
            f"{where}: liquidations are in base units and no close prices were found; "
            "pass --prices FILE with <SYMBOL>_close columns (or --units usd)"
        )
    if no_close.any():
        notes.append(f"{int(no_close.sum())} bars without a close price left missing")
    frame = frame[~no_close]
    frame = frame.assign(long=frame["long"] * frame["close"], short=frame["short"] * frame["close"])
    units_text = "base units, converted with the bar's close (approximate)"
    return _coinalyze_bars(
        frame, markets, where, interval, coinalyze.SOURCE_APPROX, units_text, notes
    )


def _wide_closes(
    df: pd.DataFrame, ts: pd.Series, cols: dict[str, dict[str, str]], where: str
) -> pd.DataFrame:
    frames = [
        pd.DataFrame(
            {
                "coinalyze": sym,
                "ts": ts,
                "close": non_negative_numbers(df[k["close"]], k["close"], where),
            }
        )
        for sym, k in cols.items()
        if "close" in k
    ]
    if not frames:
        return pd.DataFrame({"coinalyze": [], "ts": pd.Series(dtype=ts.dtype), "close": []})
    out = pd.concat(frames, ignore_index=True)
    out.loc[out["close"] <= 0, "close"] = np.nan
    return out


def _coinalyze_bars(
    frame: pd.DataFrame,
    markets: dict[str, coinalyze.Market],
    where: str,
    interval: str | None,
    source: str,
    units_text: str,
    notes: list[str],
) -> Imported:
    frame = frame.reset_index(drop=True)
    interval = interval or infer_interval(frame["ts"], [frame["coinalyze"]], where)
    check_grid(frame["ts"], interval, where)
    m = frame["coinalyze"].map(markets)
    bars = pd.DataFrame(
        {
            "ts": frame["ts"],
            "interval": interval,
            "exchange": pd.array([x.exchange for x in m], dtype="string"),
            "symbol": pd.array([x.symbol for x in m], dtype="string"),
            "base": pd.array([x.base for x in m], dtype="string"),
            "long_usd": frame["long"].astype("float64"),
            "short_usd": frame["short"].astype("float64"),
            "long_count": pd.array([pd.NA] * len(frame), dtype="Int64"),
            "short_count": pd.array([pd.NA] * len(frame), dtype="Int64"),
            "source": source,
        }
    )
    return Imported(_dedupe(_drop_empty(bars, notes), where), units_text, notes)


def _drop_empty(bars: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    empty = bars["long_usd"].isna() & bars["short_usd"].isna()
    if empty.any():
        notes.append(f"{int(empty.sum())} rows with neither side given left missing")
    return bars[~empty].reset_index(drop=True)


def _dedupe(bars: pd.DataFrame, where: str) -> pd.DataFrame:
    bars = bars.drop_duplicates().reset_index(drop=True)
    key = ["ts", "interval", "exchange", "symbol", "source"]
    clash = bars.duplicated(key, keep=False)
    if clash.any():
        row = bars[clash].iloc[0]
        raise UserError(
            f"{where}: two different bars for {row['exchange']} {row['symbol']} at "
            f"{row['ts'].isoformat()}"
        )
    return bars.sort_values(["ts", "exchange", "symbol"], kind="stable").reset_index(drop=True)


# ---- storing ------------------------------------------------------------------------------


def import_file(
    store: Store,
    fmt: str,
    path: str | Path,
    exchange: str | None = None,
    interval: str | None = None,
    prices: str | Path | None = None,
    units: str = "auto",
) -> tuple[Imported, WriteResult]:
    """Read ``path`` as ``fmt``, check every row against the schema, and only then store it:
    a file with any bad row stores nothing."""
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
    if len(rejected):
        raise UserError(
            f"{Path(path).name}: {len(rejected)} rows fail the schema "
            f"(first: {rejected['reason'].iloc[0]}); nothing stored"
        )
    return imported, store.write("liquidation_bars", imported.bars)
