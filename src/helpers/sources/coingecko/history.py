"""Market caps at a PAST instant from CoinGecko's per-coin history -> ``market_caps`` rows.

For each coin, one ``/coins/{id}/market_chart/range?vs_currency=usd&from=<s>&to=<s>`` call
(UNIX seconds) covering the 24 h before the instant plus the tolerances. The answer is
``{"prices": [[ms, usd], ...], "market_caps": [[ms, usd], ...], "total_volumes": [...]}``;
a range of 1 to 90 days comes back hourly (5-minutely when it ends now), at irregular
millisecond times, and a cap of ``0`` means CoinGecko had no supply for that hour.

Per coin (:func:`caps_at`):

* the point used is the LAST one strictly before ``end`` (the window is half-open) with a
  positive price and cap, and no older than :data:`TOLERANCE`; without one the coin is
  missing (no row), never zero;
* ``change_24h_pct`` is ``(price / price_24h_before - 1) * 100`` with the price point
  nearest to 24 h before the point used, when one lies within :data:`CHANGE_TOLERANCE` of
  that time; otherwise the change is missing;
* ``ts`` is the time of the point used, not ``end``, so no row claims to be fresher than it
  is; ``source`` is :data:`SOURCE` (``coingecko:history``), the live snapshot's is
  ``coingecko``.

The coins are the top ``n`` by CURRENT cap from one ``/coins/markets`` page, or the ids in
``vendors.coingecko.coins`` (named through ``/coins/markets?ids=...``); a coin that was large
at ``end`` but is not today is therefore only included when listed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from tqdm import tqdm

from helpers import schema
from helpers.errors import UserError
from helpers.sources.coingecko import api
from helpers.sources.coingecko.snapshot import PER_PAGE_MAX, check_markets, fetch_markets
from helpers.sources.http import JsonClient

log = logging.getLogger(__name__)

SOURCE = "coingecko:history"
LOOKBACK = pd.Timedelta(hours=24)
TOLERANCE = pd.Timedelta(hours=2)
"""The point used may be at most this much older than ``end``."""
CHANGE_TOLERANCE = pd.Timedelta(hours=1)
"""The reference price may be at most this far from 24 h before the point used."""


@dataclass(frozen=True)
class Coin:
    """A CoinGecko coin: ``id`` (``bitcoin``), upper-case ticker ``symbol``, ``name``."""

    id: str
    symbol: str
    name: str


@dataclass(frozen=True)
class History:
    """Rows for the coins that had a usable point, and the ids of those that had none."""

    frame: pd.DataFrame
    missing: tuple[str, ...]


def coins_of(rows: Sequence[Mapping[str, Any]]) -> list[Coin]:
    """:class:`Coin` of each ``/coins/markets`` row, in order."""
    return [
        Coin(str(r["id"]), str(r["symbol"]).upper(), str(r.get("name") or r["id"])) for r in rows
    ]


def top_coins(client: JsonClient, access: api.Access, top: int) -> list[Coin]:
    """The ``top`` (at most 250) coins by current market cap: one ``/coins/markets`` page."""
    if not 1 <= top <= PER_PAGE_MAX:
        raise UserError(f"history covers 1 to {PER_PAGE_MAX} coins, got {top}")
    return coins_of(fetch_markets(client, top, "usd", access=access))


def named_coins(client: JsonClient, access: api.Access, ids: Sequence[str]) -> list[Coin]:
    """The coins with CoinGecko ``ids`` (one ``/coins/markets?ids=`` call per 250), in the
    order given; unknown ids are warned about and left out."""
    found: dict[str, Coin] = {}
    for i in range(0, len(ids), PER_PAGE_MAX):
        chunk = list(ids[i : i + PER_PAGE_MAX])
        body = api.get_json(
            client,
            access,
            "coins/markets",
            {
                "vs_currency": "usd",
                "ids": ",".join(chunk),
                "order": "market_cap_desc",
                "per_page": str(PER_PAGE_MAX),
            },
        )
        found.update({c.id: c for c in coins_of(check_markets(body, "coingecko /coins/markets"))})
    unknown = [i for i in ids if i not in found]
    if unknown:
        log.warning("coingecko: unknown coin ids left out: %s", ", ".join(unknown))
    return [found[i] for i in ids if i in found]


def chart_frame(body: Any, where: str) -> pd.DataFrame:
    """``ts`` (UTC), ``price_usd`` and ``market_cap_usd`` of one ``market_chart`` answer,
    one row per timestamp, oldest first; values that are not positive numbers become NaN."""
    if not isinstance(body, Mapping) or not isinstance(body.get("prices"), list):
        raise UserError(f"{where}: expected an object with a 'prices' list")

    def series(name: str) -> pd.Series:
        pairs = body.get(name) or []
        if not all(isinstance(p, list | tuple) and len(p) == 2 for p in pairs):
            raise UserError(f"{where}: '{name}' is not a list of [ms, value] pairs")
        values = {int(t): _positive(v) for t, v in pairs}
        return pd.Series(values, dtype="float64", name=name)

    merged = pd.concat([series("prices"), series("market_caps")], axis=1).sort_index()
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(merged.index.to_numpy(), unit="ms", utc=True),
            "price_usd": merged["prices"].to_numpy(),
            "market_cap_usd": merged["market_caps"].to_numpy(),
        }
    )


def _positive(value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) and x > 0 else math.nan


def caps_at(chart: pd.DataFrame, end: pd.Timestamp) -> dict[str, Any] | None:
    """``ts``, ``price_usd``, ``market_cap_usd`` and ``change_24h_pct`` (percent) of the
    point used for ``end`` (see the module docstring); None when the coin has none."""
    before = chart[chart["ts"] < end]
    usable = before.dropna(subset=["price_usd", "market_cap_usd"])
    usable = usable[usable["ts"] >= end - TOLERANCE]
    if usable.empty:
        return None
    point = usable.iloc[-1]
    priced = before.dropna(subset=["price_usd"])
    distance = (priced["ts"] - (point["ts"] - LOOKBACK)).abs()
    change = math.nan
    if len(distance) and distance.min() <= CHANGE_TOLERANCE:
        ref = priced.loc[distance.idxmin(), "price_usd"]
        change = (point["price_usd"] / ref - 1) * 100
    return {
        "ts": point["ts"],
        "price_usd": float(point["price_usd"]),
        "market_cap_usd": float(point["market_cap_usd"]),
        "change_24h_pct": change,
    }


def fetch_chart(
    client: JsonClient, access: api.Access, coin: str, end: pd.Timestamp
) -> pd.DataFrame:
    """The USD chart of ``coin`` from ``end - 24 h - both tolerances`` to ``end``."""
    start = end - LOOKBACK - TOLERANCE - CHANGE_TOLERANCE
    body = api.get_json(
        client,
        access,
        f"coins/{coin}/market_chart/range",
        {
            "vs_currency": "usd",
            "from": str(math.floor(start.timestamp())),
            "to": str(math.ceil(end.timestamp())),
        },
    )
    return chart_frame(body, f"coingecko /coins/{coin}/market_chart/range")


def history_frame(
    coins: Sequence[Coin], charts: Mapping[str, pd.DataFrame], end: pd.Timestamp
) -> History:
    """Canonical ``market_caps`` rows for ``end`` from each coin's chart (pure; no I/O)."""
    rows, missing = [], []
    for c in coins:
        picked = caps_at(charts[c.id], end) if c.id in charts else None
        if picked is None:
            missing.append(c.id)
            continue
        rows.append({"coin": c.id, "symbol": c.symbol, "name": c.name, **picked})
    if not rows:
        return History(schema.empty("market_caps"), tuple(missing))
    frame = pd.DataFrame(rows).assign(source=SOURCE)
    return History(frame[schema.table("market_caps").column_names], tuple(missing))


def check_reach(access: api.Access, end: pd.Timestamp, now: pd.Timestamp) -> None:
    """A :class:`UserError` before any call when the plan's history does not reach ``end``."""
    api.check_history_horizon(access, end - LOOKBACK - TOLERANCE - CHANGE_TOLERANCE, now)


def fetch_history(
    client: JsonClient,
    access: api.Access,
    coins: Sequence[Coin],
    end: pd.Timestamp,
    now: pd.Timestamp,
) -> History:
    """:func:`history_frame` of the coins' charts fetched for ``end`` (one call per coin,
    within ``access``'s budget); refused up front when the plan's history does not reach."""
    check_reach(access, end, now)
    charts = {
        c.id: fetch_chart(client, access, c.id, end)
        for c in tqdm(coins, desc="coingecko history", unit="coin", disable=None)
    }
    result = history_frame(coins, charts, end)
    if result.missing:
        log.warning(
            "coingecko: no point within %g h before %s for %s (left missing)",
            TOLERANCE / pd.Timedelta(hours=1),
            f"{end:%Y-%m-%d %H:%M} UTC",
            ", ".join(result.missing),
        )
    return result
