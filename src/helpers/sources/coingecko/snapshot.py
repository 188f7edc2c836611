"""The live CoinGecko ``/coins/markets`` snapshot -> the ``market_caps`` table.

One request per page of ``/coins/markets?vs_currency=...&order=market_cap_desc&per_page=N
&page=P&price_change_percentage=24h`` (the plan's root URL, :mod:`.api`), or a saved response
read with ``--file``.

Every row of one snapshot shares one ``ts``: the newest ``last_updated`` of the response,
floored to the minute (the time of the fetch when no row has one). ``coin`` is CoinGecko's
id (``bitcoin``), ``symbol`` the upper-case ticker, ``change_24h_pct`` a percent.

Prices quoted in another currency (``--vs-currency eur``) are converted to US dollars with
the ``tether`` row, taking 1 USDT = 1 USD: ``price_usd = price / tether_price`` (likewise the
cap), and the 24 h change becomes ``(1 + c / 100) / (1 + c_tether / 100) - 1`` (in percent),
since the coin's move in that currency is its move in dollars times the dollar's move. Such
rows say so in ``source`` (:func:`source_label`). A snapshot without a tether row cannot be
converted and is refused.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from helpers import schema
from helpers.errors import UserError
from helpers.sources.coingecko import api
from helpers.sources.coingecko.api import BASE_URL
from helpers.sources.http import JsonClient

log = logging.getLogger(__name__)

SOURCE = "coingecko"
TETHER_ID = "tether"
PER_PAGE_MAX = 250


def source_label(vs_currency: str) -> str:
    """``coingecko``, or a label saying the row was converted from ``vs_currency`` via USDT."""
    vs = vs_currency.lower()
    return SOURCE if vs == "usd" else f"{SOURCE} ({vs.upper()} converted to USD via tether)"


def fetch_markets(
    client: JsonClient,
    top: int = 100,
    vs_currency: str = "usd",
    base_url: str = BASE_URL,
    *,
    access: api.Access | None = None,
) -> list[dict[str, Any]]:
    """The ``top`` coins by market cap as CoinGecko returns them (raw dicts). ``access``
    (root URL, key header, call budget) replaces ``base_url`` when given."""
    access = access or api.keyless(base_url, calls_per_minute=PER_PAGE_MAX)
    per_page = min(top, PER_PAGE_MAX)
    pages = -(-top // per_page)
    rows: list[dict[str, Any]] = []
    for page in tqdm(range(1, pages + 1), desc="coingecko", unit="page", disable=None):
        body = api.get_json(
            client,
            access,
            "coins/markets",
            params={
                "vs_currency": vs_currency.lower(),
                "order": "market_cap_desc",
                "per_page": str(per_page),
                "page": str(page),
                "price_change_percentage": "24h",
            },
        )
        rows.extend(check_markets(body, "coingecko /coins/markets"))
        if len(body) < per_page:
            break
    return rows[:top]


def check_markets(body: Any, where: str) -> list[dict[str, Any]]:
    """``body`` if it is a list of coin dicts with ``id``, ``symbol`` and ``current_price``;
    a :class:`UserError` otherwise."""
    if not isinstance(body, list):
        raise UserError(f"{where}: expected a JSON list of coins, got {type(body).__name__}")
    for i, row in enumerate(body):
        if not isinstance(row, Mapping) or not all(k in row for k in ("id", "symbol")):
            raise UserError(f"{where}: entry {i} is not a coin (no id/symbol)")
        if "current_price" not in row or "market_cap" not in row:
            raise UserError(f"{where}: entry {i} ({row.get('id')}) has no price or market cap")
    return [dict(r) for r in body]


def load_file(path: str | Path) -> list[dict[str, Any]]:
    """A saved ``/coins/markets`` response."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: file not found")
    try:
        body = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise UserError(f"{p.name}: not valid JSON (truncated?)") from None
    return check_markets(body, p.name)


def snapshot_time(rows: Sequence[Mapping[str, Any]], fetched_at: pd.Timestamp) -> pd.Timestamp:
    """The newest ``last_updated`` floored to the minute, else ``fetched_at`` floored."""
    stamps = pd.to_datetime(
        pd.Series([r.get("last_updated") for r in rows], dtype="object"),
        utc=True,
        errors="coerce",
        format="ISO8601",
    ).dropna()
    t = stamps.max() if len(stamps) else fetched_at
    return pd.Timestamp(t).tz_convert("UTC").floor("min")


def markets_frame(
    rows: Sequence[Mapping[str, Any]],
    vs_currency: str = "usd",
    fetched_at: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Canonical ``market_caps`` rows (US dollars) of one ``/coins/markets`` response quoted
    in ``vs_currency``; see the module docstring for the conversion."""
    if not rows:
        return schema.empty("market_caps")
    fetched_at = fetched_at if fetched_at is not None else pd.Timestamp.now(tz="UTC")
    df = pd.DataFrame([dict(r) for r in rows])
    change_col = (
        "price_change_percentage_24h_in_currency"
        if "price_change_percentage_24h_in_currency" in df
        else "price_change_percentage_24h"
    )
    price = pd.to_numeric(df["current_price"], errors="coerce").astype("float64")
    cap = pd.to_numeric(df["market_cap"], errors="coerce").astype("float64")
    change = pd.to_numeric(df.get(change_col), errors="coerce").astype("float64")  # type: ignore[call-overload]  # stubs: to_numeric(None) is NaN
    vs = vs_currency.lower()
    if vs != "usd":
        tether = df.index[df["id"] == TETHER_ID]
        if len(tether) == 0:
            raise UserError(
                f"prices are in {vs.upper()} and the snapshot has no tether row to convert "
                "them to USD; fetch with --vs-currency usd"
            )
        usdt = price[tether[0]]
        usdt_change = change[tether[0]]
        if not usdt > 0:
            raise UserError(f"the tether row has no usable {vs.upper()} price")
        price, cap = price / usdt, cap / usdt
        change = ((1 + change / 100) / (1 + usdt_change / 100) - 1) * 100
        log.info(
            "coingecko: %s converted to USD with tether at %.6g %s per USDT (1 USDT = 1 USD)",
            vs.upper(),
            usdt,
            vs.upper(),
        )
    return pd.DataFrame(
        {
            "ts": snapshot_time(rows, fetched_at),
            "coin": df["id"].astype("string"),
            "symbol": df["symbol"].astype("string").str.upper(),
            "name": df.get("name", df["id"]).astype("string"),
            "price_usd": price,
            "market_cap_usd": cap,
            "change_24h_pct": change,
            "source": source_label(vs),
        }
    )
