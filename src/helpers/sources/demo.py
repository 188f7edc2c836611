"""The simulated demo market: a mechanistic model of leveraged positions being liquidated.

Everything this module writes is SIMULATED (``source='demo'``); it exists so the project
runs with no network and no real data, and so benchmarks have millions of events.

The model, per coin, on a one-minute clock:

* **Price.** Log price follows an Ornstein-Uhlenbeck pull towards an anchor (range-bound
  spot) plus a market factor shared by all coins (scaled by each coin's beta), idiosyncratic
  noise, and scheduled shocks (staged deleveraging). The anchor moves with part of each shock.
* **Positions.** Every hour traders on each venue open positions: notional in USD drawn from
  a lognormal, leverage from the venue's discrete distribution, side long with probability
  ``long_bias`` -- higher when price sits near its trailing 24 h low (dip buying), which is
  what stacks long liquidation levels just under local lows. Each position has a
  liquidation price ``entry * (1 - 1/leverage + mmr)`` (long) or
  ``entry * (1 + 1/leverage - mmr)`` (short) and a voluntary holding time (exponential).
* **Liquidations and cascades.** Within each minute, positions whose liquidation price lies
  inside the minute's range are force-closed at that price. Net liquidated notional moves the
  price further (``impact_pct_per_musd`` percent per $1M of net forced selling), which can
  trigger further liquidations in the same minute: the cascade.
* **Derived tables.** 1m and 1h OHLCV per venue (a small constant basis per venue), open
  interest (open positions marked to the close, hourly), funding (proportional to the
  long/short open-interest imbalance, 8-hourly; hourly on hyperliquid), 1h liquidation bars
  (aggregated from the events by :mod:`helpers.aggregate`) and an hourly market-cap snapshot
  of 34 coins whose 24 h change follows the simulated BTC move.

Calibration: the ``typical`` scenario's venue shares of liquidated notional come from real
4-hour per-exchange liquidation snapshots (CoinGlass, May-Nov 2025: Bybit 31 %, Binance 19 %,
Hyperliquid 17 %, Gate 11 %, OKX 10 %); the ``article`` scenario deliberately re-weights
venues so that binanceusdm and hyperliquid carry the largest long shares. Supplies and
non-simulated market caps are round illustrative figures, not quotes.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from helpers.errors import UserError
from helpers.store import Store

log = logging.getLogger(__name__)

SOURCE = "demo"
MINUTES_PER_HOUR = 60


@dataclass(frozen=True)
class Coin:
    """A simulated perpetual's underlying: start price (USD), per-minute volatility, beta to
    the market factor, circulating supply (coins) and price impact of net forced selling."""

    base: str
    name: str
    coingecko_id: str
    start_price: float
    minute_vol: float
    beta: float
    supply: float
    impact_pct_per_musd: float
    size_scale: float = 1.0


@dataclass(frozen=True)
class Venue:
    """A simulated derivatives venue (ccxt id), its share of new positions, quote currency,
    leverage distribution (leverage -> probability), maintenance margin rate (fraction),
    funding period (hours) and price basis (fraction)."""

    id: str
    share: float
    quote: str
    leverage: dict[int, float]
    mmr: float
    funding_hours: int = 8
    basis: float = 0.0

    def symbol(self, base: str) -> str:
        return f"{base}/{self.quote}:{self.quote}"


@dataclass(frozen=True)
class Shock:
    """A scheduled market move: ``pct`` (e.g. -3.0) spread over ``minutes`` starting at
    ``hour`` hours after the scenario start; ``anchor_keep`` is the fraction of the move that
    the range's anchor keeps afterwards."""

    hour: float
    pct: float
    minutes: int
    anchor_keep: float = 0.6


@dataclass(frozen=True)
class Scenario:
    """A complete simulated market: when, which coins and venues, and trader behaviour."""

    name: str
    start: pd.Timestamp
    days: int
    coins: tuple[Coin, ...]
    venues: tuple[Venue, ...]
    long_bias: float
    dip_long_bias: float
    positions_per_hour: int
    median_notional_usd: float
    notional_sigma: float
    hold_hours: float
    initial_positions: int
    reversion_per_minute: float
    shocks: tuple[Shock, ...] = ()
    market_caps: tuple[tuple[str, str, str, float, float], ...] = field(default=())

    @property
    def end(self) -> pd.Timestamp:
        return self.start + pd.Timedelta(days=self.days)


_CEX_LEVERAGE = {3: 0.10, 5: 0.17, 10: 0.28, 20: 0.22, 25: 0.12, 50: 0.08, 75: 0.02, 100: 0.01}
_HL_LEVERAGE = {3: 0.08, 5: 0.12, 10: 0.25, 20: 0.25, 25: 0.15, 40: 0.15}

_COINS = (
    Coin("BTC", "Bitcoin", "bitcoin", 88_500.0, 0.00055, 1.0, 19_955_000, 0.007, 1.0),
    Coin("ETH", "Ethereum", "ethereum", 2_960.0, 0.00075, 1.25, 120_700_000, 0.012, 0.55),
    Coin("SOL", "Solana", "solana", 142.0, 0.00095, 1.45, 555_000_000, 0.03, 0.25),
)

# coin id, symbol, name, market cap (USD) at the start, beta to BTC's 24 h move
_OTHER_CAPS = (
    ("tether", "USDT", "Tether", 183e9, 0.0),
    ("ripple", "XRP", "XRP", 138e9, 1.2),
    ("binancecoin", "BNB", "BNB", 128e9, 0.8),
    ("usd-coin", "USDC", "USDC", 75e9, 0.0),
    ("tron", "TRX", "TRON", 27e9, 0.5),
    ("dogecoin", "DOGE", "Dogecoin", 26e9, 1.5),
    ("cardano", "ADA", "Cardano", 18e9, 1.4),
    ("hyperliquid", "HYPE", "Hyperliquid", 13e9, 1.6),
    ("chainlink", "LINK", "Chainlink", 9.6e9, 1.3),
    ("bitcoin-cash", "BCH", "Bitcoin Cash", 9.5e9, 1.0),
    ("stellar", "XLM", "Stellar", 8.4e9, 1.2),
    ("monero", "XMR", "Monero", 6.3e9, 0.6),
    ("litecoin", "LTC", "Litecoin", 6.8e9, 1.1),
    ("sui", "SUI", "Sui", 6.2e9, 1.7),
    ("avalanche-2", "AVAX", "Avalanche", 6.0e9, 1.5),
    ("hedera-hashgraph", "HBAR", "Hedera", 6.1e9, 1.4),
    ("zcash", "ZEC", "Zcash", 7.0e9, -0.4),
    ("shiba-inu", "SHIB", "Shiba Inu", 5.4e9, 1.4),
    ("dai", "DAI", "Dai", 5.3e9, 0.0),
    ("the-open-network", "TON", "Toncoin", 5.0e9, 0.9),
    ("uniswap", "UNI", "Uniswap", 4.2e9, 1.5),
    ("crypto-com-chain", "CRO", "Cronos", 4.0e9, 0.9),
    ("mantle", "MNT", "Mantle", 3.9e9, 1.2),
    ("polkadot", "DOT", "Polkadot", 3.6e9, 1.4),
    ("aave", "AAVE", "Aave", 3.1e9, 1.5),
    ("near", "NEAR", "NEAR Protocol", 2.6e9, 1.6),
    ("ethena", "ENA", "Ethena", 2.2e9, 1.9),
    ("pepe", "PEPE", "Pepe", 2.1e9, 2.0),
    ("aptos", "APT", "Aptos", 2.0e9, 1.6),
    ("internet-computer", "ICP", "Internet Computer", 2.1e9, 1.3),
    ("ethereum-classic", "ETC", "Ethereum Classic", 2.0e9, 1.1),
)

ARTICLE = Scenario(
    name="article",
    start=pd.Timestamp("2025-11-10", tz="UTC"),
    days=7,
    coins=_COINS,
    venues=(
        Venue("binanceusdm", 0.30, "USDT", _CEX_LEVERAGE, 0.004, 8, 0.0000),
        Venue("hyperliquid", 0.31, "USDC", _HL_LEVERAGE, 0.005, 1, 0.0002),
        Venue("bybit", 0.17, "USDT", _CEX_LEVERAGE, 0.005, 8, -0.0001),
        Venue("okx", 0.13, "USDT", _CEX_LEVERAGE, 0.004, 8, 0.0001),
        Venue("gate", 0.09, "USDT", _CEX_LEVERAGE, 0.005, 8, -0.0002),
    ),
    long_bias=0.64,
    dip_long_bias=0.85,
    positions_per_hour=700,
    median_notional_usd=22_000.0,
    notional_sigma=1.5,
    hold_hours=30.0,
    initial_positions=21_000,
    reversion_per_minute=0.004,
    shocks=(
        Shock(hour=31.0, pct=-1.6, minutes=50, anchor_keep=0.7),
        Shock(hour=62.5, pct=-1.2, minutes=40, anchor_keep=0.5),
        Shock(hour=86.0, pct=-2.6, minutes=45, anchor_keep=0.7),
        Shock(hour=121.0, pct=-1.4, minutes=60, anchor_keep=0.6),
        Shock(hour=150.0, pct=-1.0, minutes=45, anchor_keep=0.6),
        Shock(hour=158.0, pct=-1.5, minutes=90, anchor_keep=0.9),
    ),
    market_caps=_OTHER_CAPS,
)

TYPICAL = replace(
    ARTICLE,
    name="typical",
    venues=(
        Venue("bybit", 0.31, "USDT", _CEX_LEVERAGE, 0.005, 8, -0.0001),
        Venue("binanceusdm", 0.19, "USDT", _CEX_LEVERAGE, 0.004, 8, 0.0000),
        Venue("hyperliquid", 0.17, "USDC", _HL_LEVERAGE, 0.005, 1, 0.0002),
        Venue("gate", 0.11, "USDT", _CEX_LEVERAGE, 0.005, 8, -0.0002),
        Venue("okx", 0.10, "USDT", _CEX_LEVERAGE, 0.004, 8, 0.0001),
    ),
    long_bias=0.52,
    dip_long_bias=0.6,
    shocks=(Shock(hour=50.0, pct=1.2, minutes=60), Shock(hour=110.0, pct=-1.2, minutes=60)),
)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (ARTICLE, TYPICAL)}


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
    notional = sc.median_notional_usd * coin.size_scale * rng.lognormal(0.0, sc.notional_sigma, n)
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
    for m in range(minutes):
        if m % MINUTES_PER_HOUR == 0:
            hr = m // MINUTES_PER_HOUR
            price = float(np.exp(logp))
            expired = book.alive & (book.close_minute <= m)
            book.alive[expired] = False
            lookback = c[max(0, m - 24 * MINUTES_PER_HOUR) : m]
            trailing_low = float(lookback.min()) if m else p0
            near_low = price <= trailing_low * 1.006
            n_new = rng.poisson(sc.positions_per_hour)
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
            while short_heap and short_heap[0][0] <= high:
                _, i = heapq.heappop(short_heap)
                if book.alive[i]:
                    book.alive[i] = False
                    px = float(book.liq_price[i])
                    ev_minute.append(m)
                    ev_idx.append(i)
                    ev_price.append(px)
                    net_usd -= book.amount[i] * px
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

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "liquidations": self.liquidations,
            "liquidation_bars": self.liquidation_bars,
            "ohlcv": self.ohlcv,
            "open_interest": self.open_interest,
            "funding": self.funding,
            "market_caps": self.market_caps,
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
    )


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


def _funding(sc: Scenario, runs: list[CoinRun]) -> pd.DataFrame:
    """Funding per period as a fraction: 1 bp base plus 2 bp per 10 pp of long excess,
    clamped to +-0.75 %, scaled to the venue's period (hyperliquid pays hourly)."""
    frames = []
    for run in runs:
        hours = run.hourly_long_share.shape[0]
        idx = pd.date_range(sc.start, periods=hours, freq="h", unit="us")
        for j, v in enumerate(sc.venues):
            imbalance = np.nan_to_num(run.hourly_long_share[:, j], nan=0.5) - 0.5
            rate_8h = np.clip(0.0001 + 0.002 * imbalance, -0.0075, 0.0075)
            step = v.funding_hours
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


def write_demo(store: Store, scenario: str, seed: int, target_events: int | None = None) -> dict:
    """Simulate ``scenario`` and write every table into ``store``; returns rows written."""
    if scenario not in SCENARIOS:
        raise UserError(f"unknown scenario {scenario!r}; choose one of {sorted(SCENARIOS)}")
    market = simulate(SCENARIOS[scenario], seed, target_events)
    return {name: store.write(name, df) for name, df in market.tables().items()}
