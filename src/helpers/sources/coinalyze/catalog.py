"""Coinalyze's market catalog (``/future-markets`` and ``/exchanges``), cached in the store.

A catalog row, as the API sends it (see ``docs/venue-rules.md``, Coinalyze)::

    {"symbol": "BTCUSDT_PERP.A", "exchange": "A", "symbol_on_exchange": "BTCUSDT",
     "base_asset": "BTC", "quote_asset": "USDT", "is_perpetual": true,
     "margined": "STABLE", "expire_at": null, "oi_lq_vol_denominated_in": "BASE_ASSET",
     "has_long_short_ratio_data": true, "has_ohlcv_data": true, "has_buy_sell_data": true}

``margined`` is ``STABLE`` (linear) or ``COIN`` (inverse, settled in the base coin);
``expire_at`` is null on perpetuals. ``/exchanges`` is ``[{"name": "Binance", "code": "A"}]``.

The cache is ``<data_dir>/_state/coinalyze_catalog.json``: the raw rows, the API base URL
and the UTC time they were fetched, written atomically. It is used while younger than
``max_age`` (default 24 h) and fetched from the same base URL; a cache that is unreadable,
truncated, malformed, stale, from another base URL or dated in the future is fetched again,
never trusted.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.errors import UserError
from helpers.files import write_text_atomic
from helpers.sources.coinalyze.client import Coinalyze

log = logging.getLogger(__name__)

STATE_DIR = "_state"
CATALOG_FILE = "coinalyze_catalog.json"
CATALOG_VERSION = 1
DEFAULT_MAX_AGE = pd.Timedelta(hours=24)
_REQUIRED = ("symbol", "exchange", "base_asset", "quote_asset")


@dataclass(frozen=True)
class CatalogEntry:
    """One ``/future-markets`` row: ``exchange`` is the Coinalyze exchange code, ``margined``
    ``STABLE``/``COIN`` (None when absent), ``expire_at`` the UTC expiry of a dated future."""

    symbol: str
    exchange: str
    symbol_on_exchange: str
    base: str
    quote: str
    is_perpetual: bool
    margined: str | None
    expire_at: pd.Timestamp | None

    @property
    def perpetual(self) -> bool:
        """True for a perpetual: flagged so and without an expiry."""
        return self.is_perpetual and self.expire_at is None


@dataclass(frozen=True)
class Catalog:
    """The catalog at ``fetched_at`` (UTC): its rows and exchange code -> name."""

    entries: tuple[CatalogEntry, ...]
    exchanges: dict[str, str]
    fetched_at: pd.Timestamp
    _by_symbol: dict[str, CatalogEntry] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_symbol.update({e.symbol: e for e in self.entries})

    def entry(self, symbol: str) -> CatalogEntry | None:
        """The row of Coinalyze ``symbol`` (exact spelling), or None."""
        return self._by_symbol.get(symbol)

    def exchange_name(self, code: str) -> str:
        """The name ``/exchanges`` gives ``code``, or ``"unknown code"``."""
        return self.exchanges.get(code, "unknown code")


def catalog_path(data_dir: str | os.PathLike[str]) -> Path:
    """``<data_dir>/_state/coinalyze_catalog.json``."""
    return Path(data_dir) / STATE_DIR / CATALOG_FILE


def catalog_max_age(settings: Mapping[str, Any]) -> pd.Timedelta:
    """``vendors.coinalyze.catalog_max_age_hours`` (default 24) as a duration; a
    :class:`UserError` unless it is a positive number."""
    hours = settings.get("catalog_max_age_hours", 24)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
        raise UserError("vendors.coinalyze.catalog_max_age_hours: expected a positive number")
    return pd.Timedelta(hours=float(hours))


def load_catalog(
    client: Coinalyze,
    data_dir: str | os.PathLike[str],
    max_age: pd.Timedelta = DEFAULT_MAX_AGE,
    now: pd.Timestamp | None = None,
) -> Catalog:
    """The catalog from the cache when it is usable (see the module docstring), else
    fetched with ``client`` (two calls: ``/future-markets`` and ``/exchanges``) and cached."""
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    path = catalog_path(data_dir)
    cached = _read_cache(path, client.base_url, max_age, now)
    if cached is not None:
        log.debug("coinalyze catalog: cached %s (%d rows)", cached.fetched_at, len(cached.entries))
        return cached
    markets = client.reference("future-markets")
    exchanges = client.reference("exchanges")
    catalog = parse_catalog(markets, exchanges, now, "coinalyze /future-markets")
    write_text_atomic(
        path,
        json.dumps(
            {
                "version": CATALOG_VERSION,
                "base_url": client.base_url,
                "fetched_at": now.isoformat(),
                "future_markets": markets,
                "exchanges": exchanges,
            }
        ),
    )
    log.info(
        "coinalyze catalog: %d futures markets on %d exchanges fetched; cached in %s for %g h",
        len(catalog.entries),
        len({e.exchange for e in catalog.entries}),
        path,
        max_age / pd.Timedelta(hours=1),
    )
    return catalog


def _read_cache(
    path: Path, base_url: str, max_age: pd.Timedelta, now: pd.Timestamp
) -> Catalog | None:
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != CATALOG_VERSION or raw.get("base_url") != base_url:
            return None
        fetched_at = pd.Timestamp(raw["fetched_at"])
        if fetched_at.tzinfo is None or not (now - max_age < fetched_at <= now):
            log.info("coinalyze catalog: cache from %s is stale; fetching again", fetched_at)
            return None
        return parse_catalog(raw["future_markets"], raw["exchanges"], fetched_at, str(path))
    except (ValueError, TypeError, KeyError, AttributeError, UserError) as exc:
        log.warning("coinalyze catalog: cache %s unusable (%s); fetching again", path, exc)
        return None


def parse_catalog(markets: Any, exchanges: Any, fetched_at: pd.Timestamp, where: str) -> Catalog:
    """A :class:`Catalog` from the raw ``/future-markets`` and ``/exchanges`` bodies; a
    :class:`UserError` when either is not a list or holds no usable row. Rows without a
    symbol, exchange code, base or quote are left out (counted in a warning)."""
    if not isinstance(markets, list) or not isinstance(exchanges, list):
        raise UserError(f"{where}: expected JSON lists of markets and exchanges")
    entries = [e for e in (_entry(row) for row in markets) if e is not None]
    if not entries:
        raise UserError(f"{where}: the catalog holds no usable market")
    if len(entries) < len(markets):
        log.warning("%s: %d malformed catalog rows left out", where, len(markets) - len(entries))
    names = {
        str(x["code"]): str(x.get("name", x["code"]))
        for x in exchanges
        if isinstance(x, dict) and x.get("code") is not None
    }
    return Catalog(tuple(entries), names, fetched_at)


def _entry(row: Any) -> CatalogEntry | None:
    if not isinstance(row, dict) or not all(
        isinstance(row.get(k), str) and row[k] for k in _REQUIRED
    ):
        return None
    margined = row.get("margined")
    try:
        expire_at = expiry(row.get("expire_at"))
    except (ValueError, TypeError):
        return None
    return CatalogEntry(
        symbol=row["symbol"],
        exchange=row["exchange"],
        symbol_on_exchange=str(row.get("symbol_on_exchange") or ""),
        base=row["base_asset"].upper(),
        quote=row["quote_asset"].upper(),
        is_perpetual=row.get("is_perpetual") is True,
        margined=str(margined).upper() if margined else None,
        expire_at=expire_at,
    )


def expiry(value: Any) -> pd.Timestamp | None:
    """``expire_at`` as a UTC time: None for null, 0 or ``""``; a number is read as UNIX
    milliseconds when above 1e11, else seconds; a string as an ISO time."""
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, bool):
        raise ValueError(f"expire_at {value!r}")
    if isinstance(value, int | float):
        return pd.Timestamp(value, unit="ms" if value > 1e11 else "s", tz="UTC")
    t = pd.Timestamp(str(value))
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
