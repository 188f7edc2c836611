"""Tardis.dev normalised ``liquidations`` CSV files -> canonical ``liquidations`` events.

Files: ``{base_url}/{exchange}/liquidations/{YYYY}/{MM}/{DD}/{SYMBOL}.csv.gz`` (base URL
``https://datasets.tardis.dev/v1``, configurable as ``vendors.tardis.base_url``). The first
day of each month is free without a key; any other day needs ``TARDIS_API_KEY`` (environment
only), sent as ``Authorization: Bearer <key>`` and never logged. Without a key, days other
than the 1st are skipped with a warning.

Columns (https://docs.tardis.dev/downloadable-csv-files#liquidations): ``exchange, symbol,
timestamp, local_timestamp, id, side, price, amount``.

* ``timestamp`` is the exchange's time in MICROseconds since the epoch (``local_timestamp``,
  Tardis' receive time, is not used).
* ``side`` is the liquidation ORDER side: ``sell`` = a long position was liquidated,
  ``buy`` = a short one (Tardis turns Bybit's position side into the order side too).
* ``amount`` is the size as the venue gives it: base units for linear contracts quoted in
  base; contracts for the rest. Per venue (:data:`TARDIS_EXCHANGES`):

| Tardis exchange | ccxt id | linear | inverse (1 contract =) |
|---|---|---|---|
| ``binance-futures`` | ``binanceusdm`` | base units | -- |
| ``binance-delivery`` | ``binancecoinm`` | -- | 100 USD (BTC), 10 USD (others) |
| ``bybit`` | ``bybit`` | base units (``...USDT``, ``...PERP``) | 1 USD (``...USD``) |
| ``okex-swap``/``-futures`` | ``okx`` | contracts x ``ctVal`` (ccxt markets) | 100 USD (BTC), 10 |
| ``deribit`` | ``deribit`` | base units (``..._USDC-PERPETUAL``) | 1 USD (amounts are USD) |
| ``bitmex`` | ``bitmex`` | -- | 1 USD (``XBTUSD`` only) |

Linear: ``amount`` (base) = contracts x size and ``notional_usd = amount x price``. Inverse:
``notional_usd`` = contracts x USD size and ``amount = notional_usd / price``
(:func:`helpers.sources.normalize.base_and_usd`). ``event_id`` is ``tardis:<id>`` when the
venue gave an id, else a hash of the row's fields and its rank among identical rows, so
re-downloading a day never duplicates events.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from tqdm import tqdm

from helpers import schema
from helpers.errors import UserError
from helpers.sources.http import JsonClient
from helpers.sources.normalize import base_and_usd, binance_symbol, contract_info, raw_hash
from helpers.sources.retry import JunkResponse
from helpers.store import Store, WriteResult

log = logging.getLogger(__name__)

SOURCE = "tardis"
BASE_URL = "https://datasets.tardis.dev/v1"
API_KEY_ENV = "TARDIS_API_KEY"
COLUMNS = ("exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price", "amount")
ORDER_SIDE_TO_POSITION = {"sell": "long", "buy": "short"}


@dataclass(frozen=True)
class Instrument:
    """A Tardis symbol in ccxt terms, with the USD value of one inverse contract (None for
    linear) or the base units of one linear contract (None when ccxt markets must say)."""

    exchange: str
    symbol: str
    base: str
    inverse: bool
    contract_size: float | None


def _inverse_usd(base: str, btc: float, other: float) -> float:
    return btc if base == "BTC" else other


def _binance_futures(sym: str) -> Instrument:
    unified = binance_symbol(sym)
    if unified is None or ":USDT" not in unified and ":USDC" not in unified:
        raise ValueError
    return Instrument("binanceusdm", unified, unified.split("/")[0], False, 1.0)


def _binance_delivery(sym: str) -> Instrument:
    unified = binance_symbol(sym)
    if unified is None or "/USD:" not in unified:
        raise ValueError
    base = unified.split("/")[0]
    return Instrument("binancecoinm", unified, base, True, _inverse_usd(base, 100.0, 10.0))


def _bybit(sym: str) -> Instrument:
    if sym.endswith("PERP") and len(sym) > 4:
        base = sym[:-4]
        return Instrument("bybit", f"{base}/USDC:USDC", base, False, 1.0)
    for quote in ("USDT", "USDC"):
        if sym.endswith(quote) and len(sym) > len(quote):
            base = sym[: -len(quote)]
            return Instrument("bybit", f"{base}/{quote}:{quote}", base, False, 1.0)
    if sym.endswith("USD") and len(sym) > 3:
        base = sym[:-3]
        return Instrument("bybit", f"{base}/USD:{base}", base, True, 1.0)
    raise ValueError


def _okex(sym: str) -> Instrument:
    m = re.fullmatch(r"([A-Z0-9]+)-(USDT|USDC|USD)-(SWAP|\d{6})", sym)
    if not m:
        raise ValueError
    base, quote, kind = m.groups()
    expiry = "" if kind == "SWAP" else f"-{kind}"
    if quote == "USD":
        size = _inverse_usd(base, 100.0, 10.0)
        return Instrument("okx", f"{base}/USD:{base}{expiry}", base, True, size)
    return Instrument("okx", f"{base}/{quote}:{quote}{expiry}", base, False, None)


_DERIBIT_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    )
}


def _deribit(sym: str) -> Instrument:
    m = re.fullmatch(r"([A-Z0-9]+)_USDC-PERPETUAL", sym)
    if m:
        base = m[1]
        return Instrument("deribit", f"{base}/USDC:USDC", base, False, 1.0)
    m = re.fullmatch(r"([A-Z0-9]+)-PERPETUAL", sym)
    if m:
        return Instrument("deribit", f"{m[1]}/USD:{m[1]}", m[1], True, 1.0)
    m = re.fullmatch(r"([A-Z0-9]+)-(\d{1,2})([A-Z]{3})(\d{2})", sym)
    if m and m[3] in _DERIBIT_MONTHS:
        expiry = f"{m[4]}{_DERIBIT_MONTHS[m[3]]:02d}{int(m[2]):02d}"
        return Instrument("deribit", f"{m[1]}/USD:{m[1]}-{expiry}", m[1], True, 1.0)
    raise ValueError


def _bitmex(sym: str) -> Instrument:
    if sym == "XBTUSD":
        return Instrument("bitmex", "BTC/USD:BTC", "BTC", True, 1.0)
    raise ValueError


TARDIS_EXCHANGES: dict[str, Callable[[str], Instrument]] = {
    "binance-futures": _binance_futures,
    "binance-delivery": _binance_delivery,
    "bybit": _bybit,
    "okex-swap": _okex,
    "okex-futures": _okex,
    "deribit": _deribit,
    "bitmex": _bitmex,
}
"""Tardis exchange id -> its symbol rule (see the module table)."""


def instrument(tardis_exchange: str, symbol: str) -> Instrument:
    """The ccxt exchange, unified symbol and contract unit of a Tardis symbol; a
    :class:`UserError` for a venue or symbol outside :data:`TARDIS_EXCHANGES`."""
    rule = TARDIS_EXCHANGES.get(tardis_exchange)
    if rule is None:
        raise UserError(
            f"no unit rule for Tardis exchange {tardis_exchange!r}; supported: "
            f"{', '.join(TARDIS_EXCHANGES)}"
        )
    try:
        return rule(str(symbol).upper())
    except ValueError:
        raise UserError(
            f"Tardis {tardis_exchange} symbol {symbol!r}: no known contract unit "
            "(see helpers.sources.tardis)"
        ) from None


def _market(inst: Instrument, markets: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    """A ccxt-like market for :func:`helpers.sources.normalize.contract_info`: the loaded
    market's contract size when given, else the table's."""
    loaded = (markets or {}).get(inst.symbol)
    size = inst.contract_size
    if size is None and loaded is not None:
        size = loaded.get("contractSize")
    pair = inst.symbol.split(":")[0]
    return {
        "base": inst.base,
        "quote": pair.split("/")[1],
        "inverse": inst.inverse,
        "contractSize": size,
    }


# ---- parsing ------------------------------------------------------------------------------


def parse_csv(
    data: bytes | str,
    tardis_exchange: str,
    markets: Mapping[str, Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """Canonical ``liquidations`` rows from one Tardis liquidations CSV (bytes may be
    gzipped). ``markets`` (ccxt ``exchange.markets``) supplies contract sizes the module
    table leaves to ccxt (OKX linear ``ctVal``). A malformed file raises :class:`JunkResponse`."""
    text = _text(data)
    try:
        df = pd.read_csv(io.StringIO(text), dtype={"id": "string", "symbol": "string"})
    except pd.errors.EmptyDataError:
        raise JunkResponse("empty liquidations file (not even a header)") from None
    except pd.errors.ParserError as exc:
        raise JunkResponse(f"not a CSV file ({str(exc).splitlines()[0]})") from None
    missing = [c for c in ("symbol", "timestamp", "side", "price", "amount") if c not in df]
    if missing:
        raise JunkResponse(f"not a Tardis liquidations file: no {missing} column")
    if df.empty:
        return schema.empty("liquidations")
    stamps = pd.to_numeric(df["timestamp"], errors="coerce")
    if stamps.isna().any():
        raise JunkResponse("a row has no timestamp (truncated file?)")
    insts = {s: instrument(tardis_exchange, s) for s in df["symbol"].dropna().unique()}
    for inst in insts.values():
        if _market(inst, markets)["contractSize"] is None:
            raise UserError(
                f"Tardis {tardis_exchange} {inst.symbol}: amounts are in contracts and the "
                f"contract size comes from ccxt markets of {inst.exchange}; none were given"
            )
    rows = []
    seen: dict[tuple[Any, ...], int] = {}
    r: Any  # a row of ``df``: its fields are typed by the CSV's columns at run time only
    for r in df.itertuples(index=False):
        inst = insts[r.symbol]
        contract = contract_info(inst.exchange, inst.symbol, {inst.symbol: _market(inst, markets)})
        price = _float(r.price)
        amount, usd = base_and_usd(_float(r.amount), price, contract)
        venue_id = getattr(r, "id", None)
        if isinstance(venue_id, str) and venue_id.strip():
            event_id = f"tardis:{r.symbol}:{venue_id.strip()}"
        else:
            fields = (r.symbol, int(r.timestamp), str(r.side), str(r.price), str(r.amount))
            rank = seen.get(fields, 0)
            seen[fields] = rank + 1
            event_id = raw_hash("tardis", *fields, rank)
        rows.append(
            {
                "ts": int(r.timestamp),
                "exchange": inst.exchange,
                "symbol": inst.symbol,
                "base": inst.base,
                "side": ORDER_SIDE_TO_POSITION.get(str(r.side).strip().lower()),
                "price": price,
                "amount": amount,
                "notional_usd": usd,
                "source": SOURCE,
                "event_id": event_id,
            }
        )
    out = pd.DataFrame(rows, columns=schema.table("liquidations").column_names)
    out["ts"] = pd.to_datetime(out["ts"], unit="us", utc=True).astype("datetime64[us, UTC]")
    return out


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            raise JunkResponse("truncated or corrupt gzip file") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise JunkResponse("not a UTF-8 CSV file") from None


def check_body(body: bytes) -> None:
    """Raise :class:`JunkResponse` (retried) unless ``body`` is a complete Tardis CSV."""
    text = _text(body)
    if not text.startswith("exchange,") and "timestamp" not in text.split("\n", 1)[0]:
        raise JunkResponse("HTTP 200 without a Tardis CSV header")


# ---- fetching -----------------------------------------------------------------------------


def day_url(base_url: str, exchange: str, symbol: str, day: pd.Timestamp) -> str:
    """The dataset URL of one UTC day of ``symbol``'s liquidations."""
    return (
        f"{base_url.rstrip('/')}/{exchange}/liquidations/"
        f"{day:%Y}/{day:%m}/{day:%d}/{symbol.upper()}.csv.gz"
    )


def days_between(start: pd.Timestamp, end: pd.Timestamp) -> list[pd.Timestamp]:
    """UTC days touched by ``start <= t < end``."""
    first = start.tz_convert("UTC").normalize()
    return list(pd.date_range(first, end - pd.Timedelta(microseconds=1), freq="D"))


def free_days(days: Sequence[pd.Timestamp]) -> list[pd.Timestamp]:
    """The days downloadable without a key: the first of each month."""
    return [d for d in days if d.day == 1]


def fetch(
    store: Store,
    client: JsonClient,
    tardis_exchange: str,
    symbols: Sequence[str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    api_key: str | None = None,
    base_url: str = BASE_URL,
    markets: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[WriteResult]:
    """Download and store every (symbol, day) of ``start <= t < end``, one day at a time, so
    an interrupted run keeps the days already stored. Rows outside the window are dropped."""
    for s in symbols:
        instrument(tardis_exchange, s)
    days = days_between(start, end)
    if api_key is None:
        free = free_days(days)
        if len(free) < len(days):
            log.warning(
                "%s is not set: %d of %d days skipped (only the first day of each month is free)",
                API_KEY_ENV,
                len(days) - len(free),
                len(days),
            )
        if not free:
            raise UserError(
                f"{API_KEY_ENV} is not set and no requested day is the first of a month "
                "(the only days Tardis serves without a key)"
            )
        days = free
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    results = []
    jobs = [(s, d) for s in symbols for d in days]
    for sym, day in tqdm(jobs, desc=f"tardis {tardis_exchange}", unit="file", disable=None):
        body = client.get_bytes(
            day_url(base_url, tardis_exchange, sym, day), None, headers, check_body
        )
        events = parse_csv(body, tardis_exchange, markets)
        events = events[(events["ts"] >= start) & (events["ts"] < end)]
        results.append(store.write("liquidations", events))
    return results
