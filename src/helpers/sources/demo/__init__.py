"""The simulated demo market: a mechanistic model of leveraged positions being liquidated.

Everything this module writes is SIMULATED (``source='demo'``); it exists so the project
runs with no network and no real data, and so benchmarks have millions of events. It goes
only into a store that holds no real row (:mod:`helpers.store_kind`); ``remove_demo`` deletes
it again.

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
  interest (open positions marked to the close, hourly), funding (a base rate, a small
  long/short imbalance term, and a fall after net long liquidations; 8-hourly, hourly on
  hyperliquid), 1h liquidation bars
  (aggregated from the events by :mod:`helpers.aggregate`) and an hourly market-cap snapshot
  of 34 coins whose 24 h change follows the simulated BTC move.

Calibration (docs/simulator.md): the ``article`` scenario, seed 7, reaches the 2026-01-29
article's worst hour through its parameters ($230M+ of longs, about $3.5M of shorts across
the five venues, Binance about $36M, Hyperliquid over $59M, BTC about $1.71T, ETH about
$344B); its worst hour liquidates about 1 % of open interest, and open interest and funding
fall after it. The ``typical`` scenario's venue shares, the coin sizes and the funding level
follow figures derived from real data (:mod:`helpers.sources.demo.calibration` recomputes
them). Supplies and non-simulated market caps are round illustrative figures, not quotes.
"""

from helpers.sources.demo.market import CoinRun, DemoMarket, market_factor, simulate, simulate_coin
from helpers.sources.demo.scenarios import (
    ARTICLE,
    MINUTES_PER_HOUR,
    SCENARIOS,
    SOURCE,
    TYPICAL,
    Coin,
    Scenario,
    Shock,
    Venue,
)
from helpers.sources.demo.writers import remove_demo, write_demo

__all__ = [
    "ARTICLE",
    "MINUTES_PER_HOUR",
    "SCENARIOS",
    "SOURCE",
    "TYPICAL",
    "Coin",
    "CoinRun",
    "DemoMarket",
    "Scenario",
    "Shock",
    "Venue",
    "market_factor",
    "remove_demo",
    "simulate",
    "simulate_coin",
    "write_demo",
]
