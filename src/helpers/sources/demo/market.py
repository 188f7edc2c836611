"""The demo market model: minute price path (USD), open positions (amounts in coins),
liquidation cascades, and ``simulate`` / ``DemoMarket`` (every table of one run)."""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.sources.demo.scenarios import MINUTES_PER_HOUR, Coin, Scenario
from helpers.sources.demo.tables import (
    _events,
    _funding,
    _long_short_ratio,
    _market_caps,
    _ohlcv,
    _open_interest,
)

log = logging.getLogger(__name__)


@dataclass
class _Book:
    """Open positions of one coin across venues (parallel arrays, grown in hourly batches)."""

    venue: np.ndarray
    is_long: np.ndarray
    amount: np.ndarray
    liq_price: np.ndarray
    close_minute: np.ndarray
    alive: np.ndarray

    @classmethod
    def empty(cls) -> _Book:
        return cls(
            np.empty(0, np.int16),
            np.empty(0, bool),
            np.empty(0),
            np.empty(0),
            np.empty(0, np.int64),
            np.empty(0, bool),
        )

    def extend(self, other: _Book) -> int:
        offset = len(self.amount)
        for name in ("venue", "is_long", "amount", "liq_price", "close_minute", "alive"):
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))
        return offset


@dataclass
class CoinRun:
    """The simulated history of one coin: minute prices and its liquidation events."""

    coin: Coin
    minute_open: np.ndarray
    minute_high: np.ndarray
    minute_low: np.ndarray
    minute_close: np.ndarray
    hourly_oi_base: np.ndarray  # (hours, venues): open amount in coins at each hour's start
    hourly_long_share: np.ndarray  # (hours, venues): long fraction of open amount
    liq_minute: np.ndarray
    liq_venue: np.ndarray
    liq_is_long: np.ndarray
    liq_amount: np.ndarray
    liq_price: np.ndarray


def _open_positions(
    rng: np.random.Generator,
    sc: Scenario,
    coin: Coin,
    n: int,
    price: float,
    near_low: bool,
    minute: int,
) -> _Book:
    venues = sc.venues
    venue = rng.choice(len(venues), size=n, p=_normalised([v.share for v in venues]))
    p_long = sc.dip_long_bias if near_low else sc.long_bias
    is_long = rng.random(n) < p_long
    lev = np.empty(n)
    mmr = np.empty(n)
    for i, v in enumerate(venues):
        idx = np.flatnonzero(venue == i)
        levels = np.array(list(v.leverage), dtype=float)
        lev[idx] = rng.choice(levels, size=len(idx), p=_normalised(list(v.leverage.values())))
        mmr[idx] = v.mmr
    entry = price * np.exp(rng.normal(0.0, 0.002, n))
    size = (lev / 10.0) ** -sc.size_leverage_elasticity
    notional = (
        sc.median_notional_usd * coin.size_scale * size * rng.lognormal(0.0, sc.notional_sigma, n)
    )
    liq = np.where(is_long, entry * (1 - 1 / lev + mmr), entry * (1 + 1 / lev - mmr))
    hold = rng.exponential(sc.hold_hours * MINUTES_PER_HOUR, n).astype(np.int64) + 1
    alive = np.ones(n, bool)
    return _Book(venue.astype(np.int16), is_long, notional / entry, liq, minute + hold, alive)


def _seasoned_book(rng: np.random.Generator, sc: Scenario, coin: Coin, price: float) -> _Book:
    """Positions already open at the start: entries spread around ``price`` (opened over the
    previous days), minus those whose liquidation price the start price has already passed."""
    book = _open_positions(rng, sc, coin, sc.initial_positions, price, False, 0)
    drift = np.exp(rng.normal(0.0, 0.03, sc.initial_positions))
    book.liq_price *= drift
    book.alive &= np.where(
        book.is_long, book.liq_price < price * 0.985, book.liq_price > price * 1.015
    )
    book.close_minute = rng.integers(1, int(sc.hold_hours * 2 * MINUTES_PER_HOUR), len(book.amount))
    return book


def _normalised(weights: list[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


def _shock_returns(sc: Scenario, minutes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-minute log-return of scheduled shocks and the anchor's cumulative log shift."""
    shock = np.zeros(minutes)
    anchor = np.zeros(minutes)
    for s in sc.shocks:
        m0 = int(s.hour * MINUTES_PER_HOUR)
        if m0 >= minutes:
            continue
        m1 = min(minutes, m0 + s.minutes)
        total = np.log1p(s.pct / 100)
        shock[m0:m1] += total / s.minutes
        anchor[m0:] += (
            total * s.anchor_keep * np.clip((np.arange(m0, minutes) - m0 + 1) / s.minutes, 0, 1)
        )
    return shock, anchor


def simulate_coin(sc: Scenario, coin: Coin, market: np.ndarray, seed: int) -> CoinRun:
    """Run the minute-by-minute position/price/liquidation model for one coin."""
    rng = np.random.default_rng([seed, sum(map(ord, coin.base))])
    minutes = len(market)
    hours = minutes // MINUTES_PER_HOUR
    shock, anchor_shift = _shock_returns(sc, minutes)
    idio = rng.normal(0.0, coin.minute_vol * 0.6, minutes)
    wick = np.abs(rng.normal(0.0, coin.minute_vol * 0.5, (minutes, 2)))
    eps = coin.beta * market * coin.minute_vol + idio + coin.beta * shock
    impact_per_usd = coin.impact_pct_per_musd / 100 / 1e6
    n_venues = len(sc.venues)

    book = _Book.empty()
    long_heap: list[tuple[float, int]] = []
    short_heap: list[tuple[float, int]] = []

    def add(batch: _Book) -> None:
        offset = book.extend(batch)
        for j in range(len(batch.amount)):
            if not batch.alive[j]:
                continue
            if batch.is_long[j]:
                heapq.heappush(long_heap, (-batch.liq_price[j], offset + j))
            else:
                heapq.heappush(short_heap, (batch.liq_price[j], offset + j))

    p0 = coin.start_price
    add(_seasoned_book(rng, sc, coin, p0))

    o = np.empty(minutes)
    h = np.empty(minutes)
    lo = np.empty(minutes)
    c = np.empty(minutes)
    oi = np.zeros((hours, n_venues))
    long_share = np.zeros((hours, n_venues))
    ev_minute: list[int] = []
    ev_idx: list[int] = []
    ev_price: list[float] = []

    log_anchor0 = np.log(p0)
    logp = log_anchor0
    trailing_low = p0
    liquidated = 0.0  # coins force-closed since the hour's start
    for m in range(minutes):
        if m % MINUTES_PER_HOUR == 0:
            hr = m // MINUTES_PER_HOUR
            price = float(np.exp(logp))
            expired = book.alive & (book.close_minute <= m)
            book.alive[expired] = False
            lookback = c[max(0, m - 24 * MINUTES_PER_HOUR) : m]
            trailing_low = float(lookback.min()) if m else p0
            near_low = price <= trailing_low * 1.006
            rate = float(sc.positions_per_hour)
            if hr and liquidated > sc.flush_oi_fraction * oi[hr - 1].sum():
                rate *= sc.opens_after_flush  # risk-off: fewer new positions after a flush
            liquidated = 0.0
            n_new = rng.poisson(rate)
            add(_open_positions(rng, sc, coin, n_new, price, near_low, m))
            alive = book.alive
            oi[hr] = np.bincount(book.venue[alive], weights=book.amount[alive], minlength=n_venues)
            longs = np.bincount(
                book.venue[alive & book.is_long],
                weights=book.amount[alive & book.is_long],
                minlength=n_venues,
            )
            long_share[hr] = np.divide(
                longs, oi[hr], out=np.full(n_venues, np.nan), where=oi[hr] > 0
            )
        open_ = float(np.exp(logp))
        logp += sc.reversion_per_minute * (log_anchor0 + anchor_shift[m] - logp) + eps[m]
        close = float(np.exp(logp))
        high = max(open_, close) * (1 + wick[m, 0])
        low = min(open_, close) * (1 - wick[m, 1])
        for _ in range(8):
            net_usd = 0.0
            while long_heap and -long_heap[0][0] >= low:
                _, i = heapq.heappop(long_heap)
                if book.alive[i]:
                    book.alive[i] = False
                    px = float(book.liq_price[i])
                    ev_minute.append(m)
                    ev_idx.append(i)
                    ev_price.append(px)
                    net_usd += book.amount[i] * px
                    liquidated += book.amount[i]
            while short_heap and short_heap[0][0] <= high:
                _, i = heapq.heappop(short_heap)
                if book.alive[i]:
                    book.alive[i] = False
                    px = float(book.liq_price[i])
                    ev_minute.append(m)
                    ev_idx.append(i)
                    ev_price.append(px)
                    net_usd -= book.amount[i] * px
                    liquidated += book.amount[i]
            if abs(net_usd) < 1.0:
                break
            logp += -impact_per_usd * net_usd
            close = float(np.exp(logp))
            high = max(high, close)
            low = min(low, close)
        o[m], h[m], lo[m], c[m] = open_, high, low, close

    idx = np.asarray(ev_idx, dtype=np.int64)
    return CoinRun(
        coin,
        o,
        h,
        lo,
        c,
        oi,
        long_share,
        np.asarray(ev_minute, dtype=np.int64),
        book.venue[idx].astype(np.int64),
        book.is_long[idx],
        book.amount[idx],
        np.asarray(ev_price),
    )


def market_factor(sc: Scenario, seed: int) -> np.ndarray:
    """The common standard-normal shock per minute shared by every coin (scaled by beta)."""
    return np.random.default_rng([seed, 0]).normal(0.0, 0.8, sc.days * 24 * MINUTES_PER_HOUR)


@dataclass(frozen=True)
class DemoMarket:
    """Every canonical table of one simulated run."""

    scenario: Scenario
    seed: int
    liquidations: pd.DataFrame
    liquidation_bars: pd.DataFrame
    ohlcv: pd.DataFrame
    open_interest: pd.DataFrame
    funding: pd.DataFrame
    market_caps: pd.DataFrame
    long_short_ratio: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "liquidations": self.liquidations,
            "liquidation_bars": self.liquidation_bars,
            "ohlcv": self.ohlcv,
            "open_interest": self.open_interest,
            "funding": self.funding,
            "market_caps": self.market_caps,
            "long_short_ratio": self.long_short_ratio,
        }


def simulate(sc: Scenario, seed: int, target_events: int | None = None) -> DemoMarket:
    """Simulate the scenario and return every table (all rows ``source='demo'``).

    ``target_events`` splits each liquidation into partial fills (as venues report large
    liquidations) until there are about that many events; base amounts are unchanged and
    each fill price is jittered by about 2 bp, so USD totals move by a few parts per million.
    """
    from helpers.aggregate import bars_from_events

    market = market_factor(sc, seed)
    runs = [simulate_coin(sc, coin, market, seed) for coin in sc.coins]
    events = _events(sc, runs, seed, target_events)
    return DemoMarket(
        scenario=sc,
        seed=seed,
        liquidations=events,
        liquidation_bars=bars_from_events(events, "1h", start=sc.start, end=sc.end),
        ohlcv=_ohlcv(sc, runs),
        open_interest=_open_interest(sc, runs),
        funding=_funding(sc, runs),
        market_caps=_market_caps(sc, runs, seed),
        long_short_ratio=_long_short_ratio(sc, runs),
    )
