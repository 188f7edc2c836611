"""Turn simulated coin runs into the canonical tables: liquidation events (split into
partial fills on request; price and notional in USD, amount in coins), 1m/1h OHLCV,
hourly open interest (USD), funding (rate per period, fraction) and market caps (USD)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.sources.demo.scenarios import MINUTES_PER_HOUR, SOURCE, Scenario

if TYPE_CHECKING:
    from helpers.sources.demo.market import CoinRun


def _events(
    sc: Scenario, runs: list[CoinRun], seed: int, target_events: int | None
) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 1])
    frames = []
    for run in runs:
        n = len(run.liq_minute)
        parent = np.arange(n)
        minute = run.liq_minute
        amount = run.liq_amount
        price = run.liq_price
        if target_events:
            total = sum(len(r.liq_minute) for r in runs)
            fills = _fill_counts(rng, amount * price, max(target_events, total) * n / max(total, 1))
            parent = np.repeat(parent, fills)
            share = rng.gamma(2.0, size=len(parent))
            share /= np.bincount(parent, weights=share, minlength=n)[parent]
            amount = amount[parent] * share
            minute = minute[parent]
            price = price[parent] * np.exp(rng.normal(0.0, 0.0002, len(parent)))
        seconds = rng.integers(0, 60_000_000, len(parent))
        venue = run.liq_venue[parent]
        sym = np.array([v.symbol(run.coin.base) for v in sc.venues], dtype=object)
        exch = np.array([v.id for v in sc.venues], dtype=object)
        ts = sc.start + pd.to_timedelta(minute * 60_000_000 + seconds, unit="us")
        frames.append(
            pd.DataFrame(
                {
                    "ts": ts,
                    "exchange": exch[venue],
                    "symbol": sym[venue],
                    "base": run.coin.base,
                    "side": np.where(run.liq_is_long[parent], "long", "short"),
                    "price": price,
                    "amount": amount,
                    "notional_usd": amount * price,
                    "source": SOURCE,
                    "event_id": _event_ids(run.coin.base, parent, target_events is not None),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True).sort_values("ts", kind="stable")
    return out.reset_index(drop=True)


def _fill_counts(rng: np.random.Generator, notional: np.ndarray, target: float) -> np.ndarray:
    """How many partial fills each liquidation is split into: proportional to notional."""
    if len(notional) == 0:
        return np.zeros(0, np.int64)
    expected = notional / notional.sum() * target
    return np.maximum(1, rng.poisson(expected)).astype(np.int64)


def _event_ids(base: str, parent: np.ndarray, split: bool) -> pd.Series:
    ids = pd.Series(parent).astype("string")
    prefix = f"demo-{base}-"
    if not split:
        return prefix + ids
    fill = pd.Series(np.arange(len(parent)) - np.searchsorted(parent, parent)).astype("string")
    return prefix + ids + "-" + fill


def _minute_index(sc: Scenario, n: int) -> pd.DatetimeIndex:
    return pd.date_range(sc.start, periods=n, freq="min", unit="us")


def _ohlcv(sc: Scenario, runs: list[CoinRun]) -> pd.DataFrame:
    frames = []
    for run in runs:
        idx = _minute_index(sc, len(run.minute_close))
        base_volume = np.abs(np.log(run.minute_high / run.minute_low)) * 4e7 / run.minute_close[0]
        for v in sc.venues:
            f = 1 + v.basis
            m1 = pd.DataFrame(
                {
                    "open": run.minute_open * f,
                    "high": run.minute_high * f,
                    "low": run.minute_low * f,
                    "close": run.minute_close * f,
                    "volume": base_volume * v.share,
                },
                index=idx,
            )
            h1 = m1.resample("1h").agg(
                {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
            )
            for interval, bars in (("1m", m1), ("1h", h1)):
                frames.append(
                    bars.rename_axis("ts")
                    .reset_index()
                    .assign(
                        interval=interval,
                        exchange=v.id,
                        symbol=v.symbol(run.coin.base),
                        source=SOURCE,
                    )
                )
    return pd.concat(frames, ignore_index=True)


def _open_interest(sc: Scenario, runs: list[CoinRun]) -> pd.DataFrame:
    frames = []
    for run in runs:
        hours = run.hourly_oi_base.shape[0]
        idx = pd.date_range(sc.start, periods=hours, freq="h", unit="us")
        open_price = run.minute_open[::MINUTES_PER_HOUR][:hours]
        for j, v in enumerate(sc.venues):
            frames.append(
                pd.DataFrame(
                    {
                        "ts": idx,
                        "exchange": v.id,
                        "symbol": v.symbol(run.coin.base),
                        "oi_usd": run.hourly_oi_base[:, j] * open_price * (1 + v.basis),
                        "source": SOURCE,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _net_flush(sc: Scenario, run: CoinRun) -> np.ndarray:
    """(hours, venues): long minus short liquidated notional (USD) in each hour, as a
    fraction of the venue's open interest at the hour's start (NaN where none is open)."""
    hours, n_venues = run.hourly_oi_base.shape
    hour = run.liq_minute // MINUTES_PER_HOUR
    signed = np.where(run.liq_is_long, 1.0, -1.0) * run.liq_amount * run.liq_price
    net = np.bincount(
        hour * n_venues + run.liq_venue, weights=signed, minlength=hours * n_venues
    ).reshape(hours, n_venues)
    oi_usd = run.hourly_oi_base * run.minute_open[::MINUTES_PER_HOUR][:hours, None]
    return np.divide(net, oi_usd, out=np.full_like(net, np.nan), where=oi_usd > 0)


def _funding(sc: Scenario, runs: list[CoinRun]) -> pd.DataFrame:
    """Funding per period as a fraction, settled at the period's end from the period just
    past: ``sc.funding_base_8h`` plus ``sc.funding_per_imbalance`` x (long share of open
    interest - 0.5) at settlement, minus ``sc.funding_per_flush`` x the period's mean hourly
    net long liquidation as a fraction of open interest (a long flush pushes the perpetual
    below the index, so funding falls after it); clamped to +-0.75 % per 8 h and scaled to
    the venue's period (hyperliquid pays hourly)."""
    frames = []
    for run in runs:
        hours = run.hourly_long_share.shape[0]
        idx = pd.date_range(sc.start, periods=hours, freq="h", unit="us")
        flush = np.nan_to_num(_net_flush(sc, run), nan=0.0)
        for j, v in enumerate(sc.venues):
            step = v.funding_hours
            imbalance = np.nan_to_num(run.hourly_long_share[:, j], nan=0.5) - 0.5
            past = pd.Series(flush[:, j]).rolling(step, min_periods=1).mean().shift(1)
            rate_8h = np.clip(
                sc.funding_base_8h
                + sc.funding_per_imbalance * imbalance
                - sc.funding_per_flush * past.fillna(0.0).to_numpy(),
                -0.0075,
                0.0075,
            )
            frames.append(
                pd.DataFrame(
                    {
                        "ts": idx[::step],
                        "exchange": v.id,
                        "symbol": v.symbol(run.coin.base),
                        "rate": rate_8h[::step] * step / 8,
                        "source": SOURCE,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _market_caps(sc: Scenario, runs: list[CoinRun], seed: int) -> pd.DataFrame:
    """Snapshots of 34 coins at hh:59 every hour (so all fall inside the half-open window).

    The three simulated coins use their simulated price; the others follow BTC's move with
    their beta plus noise (stablecoins stay flat).
    """
    rng = np.random.default_rng([seed, 2])
    by_base = {r.coin.base: r for r in runs}
    btc = by_base["BTC"].minute_close
    hours = len(btc) // MINUTES_PER_HOUR
    idx = pd.date_range(sc.start, periods=hours, freq="h", unit="us") + pd.Timedelta(minutes=59)
    last_minute = slice(MINUTES_PER_HOUR - 1, None, MINUTES_PER_HOUR)
    hourly_close = {b: r.minute_close[last_minute] for b, r in by_base.items()}
    btc_h = hourly_close["BTC"]
    btc_log = np.log(btc_h / btc[0])
    frames = []
    for run in runs:
        px = hourly_close[run.coin.base]
        prev = np.concatenate([np.full(min(24, hours), run.minute_open[0]), px[:-24]])[:hours]
        frames.append(
            pd.DataFrame(
                {
                    "ts": idx,
                    "coin": run.coin.coingecko_id,
                    "symbol": run.coin.base,
                    "name": run.coin.name,
                    "price_usd": px,
                    "market_cap_usd": px * run.coin.supply,
                    "change_24h_pct": (px / prev - 1) * 100,
                    "source": SOURCE,
                }
            )
        )
    for coin_id, symbol, name, cap0, beta in sc.market_caps:
        noise = rng.normal(0.0, 0.004 if beta else 0.00005, hours).cumsum() * (1 if beta else 0.2)
        level = beta * btc_log + noise - (noise[0] if hours else 0)
        prev_level = np.concatenate([np.zeros(min(24, hours)), level[:-24]])[:hours]
        price0 = 1.0 if beta == 0 else max(0.00001, cap0 / 1e9)
        frames.append(
            pd.DataFrame(
                {
                    "ts": idx,
                    "coin": coin_id,
                    "symbol": symbol,
                    "name": name,
                    "price_usd": price0 * np.exp(level),
                    "market_cap_usd": cap0 * np.exp(level),
                    "change_24h_pct": (np.exp(level - prev_level) - 1) * 100,
                    "source": SOURCE,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _long_short_ratio(sc: Scenario, runs: list[CoinRun]) -> pd.DataFrame:
    """SIMULATED account long/short ratio, hourly, for the venues whose real counterpart
    publishes one (:func:`helpers.sources.venue_rules.ratio_venues`), labelled ``demo``.

    The share of accounts net long is read as the simulated book's long share of open
    amount at each hour's start (the same book the liquidations come from, so it is
    long-heavy before a flush and falls as longs are force-closed); the ratio is
    ``share / (1 - share)``, both rounded to 4 places as venues print them. ``long_account``
    is left missing where the real venue gives the ratio only (OKX)."""
    from helpers.sources.venue_rules import quirks, ratio_venues

    publish = set(ratio_venues())
    frames = []
    for coin, run in zip(sc.coins, runs, strict=True):
        hours = run.hourly_long_share.shape[0]
        idx = pd.date_range(sc.start, periods=hours, freq="h", unit="us")
        for j, v in enumerate(sc.venues):
            rules = quirks(v.id).long_short_ratio
            if v.id not in publish or rules is None:
                continue
            share = np.clip(run.hourly_long_share[:, j], 0.01, 0.99)
            keep = ~np.isnan(share)
            published = np.round(share[keep], 4)
            frames.append(
                pd.DataFrame(
                    {
                        "ts": idx[keep],
                        "exchange": v.id,
                        "symbol": v.symbol(coin.base),
                        "period": "1h",
                        "long_short_ratio": np.round(published / (1 - published), 4),
                        "long_account": published if rules.long_share_key else np.nan,
                        "source": SOURCE,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
