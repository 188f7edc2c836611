"""Is the broad market risk-off? The top coins by market cap and their 24h change.

Input is the canonical ``market_caps`` table (:mod:`helpers.schema`): snapshots of
(ts, coin, symbol, name, price_usd, market_cap_usd, change_24h_pct). Caps are US dollars;
``change_24h_pct`` is a percent (``-2.1`` means -2.1 %), and a missing change stays missing:
it is counted separately, never as red or green, and left out of averages. Stablecoins
(:data:`STABLECOINS`) are pegged, so their "change" is noise around 0: they are counted apart
from red and green and left out of the cap-weighted change too.

A live snapshot's rows share one ``ts``. Rows from CoinGecko's history (``source`` ending in
:data:`HISTORY_SUFFIX`) carry each coin's own point time, at most :data:`HISTORY_SPREAD`
before the instant they were fetched for, so one fetch is the newest row per coin in that
span.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from helpers.timegrid import require_utc

HISTORY_SUFFIX = ":history"
HISTORY_SPREAD = pd.Timedelta(hours=2)
"""The tolerance of :mod:`helpers.sources.coingecko.history`: how old its points may be."""


STABLECOINS: frozenset[str] = frozenset(
    {
        "USDT", "USDC", "DAI", "FDUSD", "USDE", "SUSDE", "USDS", "TUSD", "USDD", "PYUSD",
        "BUSD", "USDP", "GUSD", "FRAX", "LUSD", "USD1", "RLUSD", "USDB", "USDX", "USD0",
        "USDY", "GHO", "CRVUSD", "EURC", "EURS", "USDG", "BFUSD", "USDTB", "USYC", "BUIDL",
    }
)  # fmt: skip
"""Symbols (upper case) of the stablecoins that reach a top-30 by market cap: USD pegs
(Tether, USD Coin, Dai, First Digital USD, Ethena USDe and its staked sUSDe, Sky USDS, ...),
tokenised US-dollar funds (BUIDL, USYC, USDY) and euro pegs (EURC, EURS). The one table
:func:`is_stablecoin` reads; add a symbol here, nowhere else."""


def is_stablecoin(symbols: pd.Series) -> pd.Series:
    """Which rows are stablecoins (:data:`STABLECOINS`, by ``symbol``, case-insensitive)."""
    upper = symbols.astype("string").str.upper()
    return upper.isin(STABLECOINS).fillna(False).astype(bool)


def is_history(sources: pd.Series) -> pd.Series:
    """Which rows come from a per-coin history rather than a snapshot (by ``source``)."""
    return sources.astype("string").str.endswith(HISTORY_SUFFIX).fillna(False).astype(bool)


def latest_snapshot(caps: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """The rows of the latest snapshot taken at or before ``at`` (all rows sharing that ``ts``).

    Empty (same columns) when no snapshot is that old. When a coin appears twice at that time,
    the last row is kept. When the newest row is historical, the snapshot is the newest
    historical row per coin within :data:`HISTORY_SPREAD` of it.
    """
    t = require_utc(at, "at")
    before = caps[caps["ts"] <= t]
    if before.empty:
        return caps.iloc[0:0].reset_index(drop=True)
    newest = before["ts"].max()
    snap = before[before["ts"] == newest]
    if is_history(snap["source"]).any():
        snap = before[is_history(before["source"]) & (before["ts"] > newest - HISTORY_SPREAD)]
        snap = snap.sort_values("ts", kind="stable")
    return snap.drop_duplicates("coin", keep="last").reset_index(drop=True)


def top_by_cap(snapshot: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """The ``n`` largest coins of one snapshot by ``market_cap_usd``, largest first, with a
    1-based ``rank``. Coins without a cap are left out."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    ranked = snapshot.dropna(subset=["market_cap_usd"]).sort_values(
        "market_cap_usd", ascending=False, kind="stable"
    )
    top = ranked.head(n).reset_index(drop=True)
    return top.assign(rank=range(1, len(top) + 1))


def cap_of(top: pd.DataFrame, symbol: str) -> float:
    """The market cap (USD) of the coin ``symbol`` (case-insensitive) in ``top`` (a
    :func:`top_by_cap` frame or a snapshot); NaN when it is not there."""
    mine = top[top["symbol"].str.upper() == symbol.upper()]
    return float(mine["market_cap_usd"].max()) if len(mine) else math.nan


@dataclass(frozen=True)
class MarketLines:
    """The lines a market note quotes about the top ``n`` coins of one snapshot.

    ``stablecoins`` counts the :data:`STABLECOINS` among the ``n``; of the other coins,
    ``red`` counts those with change < 0, ``green`` change > 0, ``unchanged`` change == 0
    and ``missing_change`` those with no 24h change (the five add up to ``n``).
    ``cap_weighted_change_pct`` is sum(cap x change) / sum(cap) over the non-stablecoins
    WITH a known change only (NaN if none); ``weighted_cap_share`` is the fraction of the
    top-n cap those coins hold. Caps in USD.
    """

    ts: pd.Timestamp | None
    n: int
    btc_cap_usd: float
    eth_cap_usd: float
    total_cap_usd: float
    red: int
    green: int
    unchanged: int
    missing_change: int
    cap_weighted_change_pct: float
    weighted_cap_share: float
    stablecoins: int = 0

    @property
    def counted(self) -> int:
        """Coins that can be red or green: the top ``n`` less stablecoins and missing changes."""
        return self.n - self.stablecoins - self.missing_change

    @property
    def red_text(self) -> str:
        """``17 of the top 20 are red``, or with stablecoins ``17 of the 28 non-stablecoins
        in the top 30 are red`` (plus how many lack a 24h change, when any do)."""
        if self.stablecoins:
            text = f"{self.red} of the {self.n - self.stablecoins} non-stablecoins in the top "
            text += f"{self.n} are red"
        else:
            text = f"{self.red} of the top {self.n} are red"
        if self.missing_change:
            text += f" ({self.missing_change} without a 24h change)"
        return text


def market_lines(top: pd.DataFrame) -> MarketLines:
    """:class:`MarketLines` of a :func:`top_by_cap` frame. BTC and ETH are found by ``symbol``
    (case-insensitive); their cap is NaN when they are not in ``top``. Stablecoins are
    counted apart (:func:`is_stablecoin`), never as red, green or missing."""
    stable = is_stablecoin(top["symbol"]).to_numpy()
    change = top["change_24h_pct"].astype("float64").where(~stable)
    cap = top["market_cap_usd"].astype("float64")
    known = change.notna()
    weighted_cap = float(cap[known].sum())
    total_cap = float(cap.sum())
    weighted_change = float((cap[known] * change[known]).sum())
    return MarketLines(
        ts=pd.Timestamp(top["ts"].max()) if len(top) else None,
        n=len(top),
        btc_cap_usd=cap_of(top, "BTC"),
        eth_cap_usd=cap_of(top, "ETH"),
        total_cap_usd=total_cap,
        red=int((change < 0).sum()),
        green=int((change > 0).sum()),
        unchanged=int((change == 0).sum()),
        missing_change=int((~known & ~stable).sum()),
        cap_weighted_change_pct=weighted_change / weighted_cap if weighted_cap > 0 else math.nan,
        weighted_cap_share=weighted_cap / total_cap if total_cap > 0 else math.nan,
        stablecoins=int(stable.sum()),
    )
