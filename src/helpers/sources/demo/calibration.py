"""Recompute the real-data figures the demo scenarios are calibrated against.

The figures are DERIVED statistics (shares, ratios, medians) of third-party data that stays
outside the project (``LIQNB_REALDATA``, default ``../shared/realdata``); no row of it is
copied. docs/simulator.md quotes the figures this module prints::

    python -m helpers.sources.demo.calibration /work/shared/realdata

Conventions: "long" = a long position liquidated (a forced sell); notionals in USD.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

VENUES = ("Bybit", "Binance", "Hyperliquid", "Gate", "OKX")
"""The five simulated venues, as CoinGlass names them (``Gate.io`` is folded into Gate)."""

SNAPSHOTS = "coinglass_exchange_liq_snapshots_4h_window.csv"
BTC_MARKETS = "coinglass_btc_futures_markets_snapshot_2025-11-14.csv"
BINANCE_4H = "coinglass_binance_liq_4h_BTC_ETH_SOL_XRP.csv"
BINANCE_1H = "coinalyze_binance_perp_1h_ohlcv_liq_BTC_ETH_SOL_2024-06_08.csv"


@dataclass(frozen=True)
class Calibration:
    """Derived figures (fractions unless named otherwise).

    ``venue_share``: each venue's share of all-exchange liquidations (both sides) over every
    4-hour CoinGlass snapshot (May to Nov 2025); ``venue_long_share``: each venue's share
    of all-exchange long liquidations over the snapshots where Hyperliquid is reported;
    ``flush_venue_long_share`` the same over the top decile of those snapshots by
    all-exchange longs;
    ``flush_short_to_long``: shorts / longs over that decile; ``liq_24h_to_oi``: 24 h
    liquidations / open interest over the BTC futures markets of 2025-11-14 (a -4.8 % day);
    ``funding_median_8h``: median funding rate of those markets (fraction per period);
    ``worst_hour_short_to_long``: Binance BTC+ETH+SOL shorts / longs in the hour with the
    most longs (coinalyze, 2024-06 to 2024-08); ``worst_hour_to_median_hour``: that hour's
    longs / the median hour's; ``coin_long_share``: BTC, ETH, SOL shares of their summed
    Binance long liquidations (CoinGlass 4 h, 2024-11 to 2025-11)."""

    venue_share: dict[str, float]
    venue_long_share: dict[str, float]
    flush_venue_long_share: dict[str, float]
    flush_short_to_long: float
    liq_24h_to_oi: float
    funding_median_8h: float
    worst_hour_short_to_long: float
    worst_hour_to_median_hour: float
    coin_long_share: dict[str, float]


def _venue_shares(
    snap: pd.DataFrame,
) -> tuple[dict[str, float], dict[str, float], dict[str, float], float]:
    snap = snap.assign(exchange=snap["exchange"].replace({"Gate.io": "Gate"}))
    key = ["folder", "coin"]
    both = snap.pivot_table(index=key, columns="exchange", values="liquidation_usd")
    total = {v: float(both[v].sum() / both["All"].sum()) for v in VENUES}
    longs = snap.pivot_table(index=key, columns="exchange", values="longLiquidation_usd")
    shorts = snap.pivot_table(index=key, columns="exchange", values="shortLiquidation_usd")
    longs = longs.dropna(subset=["All", "Hyperliquid"])
    shorts = shorts.loc[longs.index]
    everywhere = {v: float(longs[v].sum() / longs["All"].sum()) for v in VENUES}
    flush = longs["All"] >= longs["All"].quantile(0.9)
    top = longs[flush]
    in_flush = {v: float(top[v].sum() / top["All"].sum()) for v in VENUES}
    return total, everywhere, in_flush, float(shorts.loc[flush, "All"].sum() / top["All"].sum())


def _oi_and_funding(markets: pd.DataFrame) -> tuple[float, float]:
    both = markets.dropna(subset=["long_liquidation_usd_24h", "short_liquidation_usd_24h"])
    liq = both["long_liquidation_usd_24h"] + both["short_liquidation_usd_24h"]
    funding = markets["funding_rate"].dropna().median() / 100  # quoted in percent
    return float(liq.sum() / both["open_interest_usd"].sum()), float(funding)


def _worst_hour(hourly: pd.DataFrame) -> tuple[float, float]:
    by_hour = hourly.groupby("time_utc_inferred")[
        ["long_liq_usd_approx", "short_liq_usd_approx"]
    ].sum()
    worst = int(by_hour["long_liq_usd_approx"].to_numpy().argmax())
    longs, shorts = by_hour.iloc[worst].to_numpy()
    return float(shorts / longs), float(longs / by_hour["long_liq_usd_approx"].median())


def _coin_shares(four_hour: pd.DataFrame) -> dict[str, float]:
    final = four_hour[~four_hour["is_last_bar"].astype(bool)]
    longs = final.groupby("coin")["aggregated_long_liquidation_usd"].sum()
    longs = longs.loc[["BTC", "ETH", "SOL"]]
    return {str(coin): float(x) for coin, x in (longs / longs.sum()).items()}


def calibrate(folder: Path) -> Calibration:
    """Every figure from the real-data ``folder`` (a one-line FileNotFoundError if a file
    is missing)."""
    total, everywhere, in_flush, flush_ratio = _venue_shares(pd.read_csv(folder / SNAPSHOTS))
    oi_ratio, funding = _oi_and_funding(pd.read_csv(folder / BTC_MARKETS))
    short_ratio, peak = _worst_hour(pd.read_csv(folder / BINANCE_1H))
    return Calibration(
        venue_share=total,
        venue_long_share=everywhere,
        flush_venue_long_share=in_flush,
        flush_short_to_long=flush_ratio,
        liq_24h_to_oi=oi_ratio,
        funding_median_8h=funding,
        worst_hour_short_to_long=short_ratio,
        worst_hour_to_median_hour=peak,
        coin_long_share=_coin_shares(pd.read_csv(folder / BINANCE_4H)),
    )


def report(cal: Calibration) -> str:
    """The figures as docs/simulator.md quotes them (percent, one decimal)."""

    def shares(d: dict[str, float]) -> str:
        return ", ".join(f"{k} {v:.1%}" for k, v in d.items())

    return "\n".join(
        [
            f"venue share of liquidations (4 h snapshots): {shares(cal.venue_share)}",
            f"venue share of long liquidations (4 h snapshots): {shares(cal.venue_long_share)}",
            f"venue share in the top-decile long snapshots: {shares(cal.flush_venue_long_share)}",
            f"shorts / longs in the top-decile long snapshots: {cal.flush_short_to_long:.1%}",
            f"24 h liquidations / open interest (BTC markets, 2025-11-14): {cal.liq_24h_to_oi:.1%}",
            f"median funding per period (BTC markets, 2025-11-14): "
            f"{cal.funding_median_8h * 1e4:.2f} bp",
            f"shorts / longs in the worst long hour (Binance 1 h): "
            f"{cal.worst_hour_short_to_long:.1%}",
            f"worst long hour / median hour (Binance 1 h): {cal.worst_hour_to_median_hour:.0f}x",
            f"coin share of long liquidations (Binance 4 h): {shares(cal.coin_long_share)}",
        ]
    )


if __name__ == "__main__":  # pragma: no cover - a developer's tool
    print(report(calibrate(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/realdata"))))
