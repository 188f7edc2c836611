"""One market for ``pull`` tests: Gate and HTX venue servers with public liquidation history
(ccxt REST) and a Coinalyze server whose catalog (:mod:`servers.coinalyze_catalog`) lists
Binance USD-M and COIN-M, Hyperliquid and the other venues, over the 12 hours from
2024-01-01 00:00 UTC. Every figure below is what the servers serve; tests check the store
and the report against them.

* Gate BTC_USDT: six liquidations in hour 2, sizes +10, -20, +30, -40, +50, -60 contracts of
  0.0001 BTC at 42,000 USD (positive = a long position): longs 378 USD, shorts 504 USD.
* HTX BTC-USDT: four liquidations in hour 4, k = 0..3 at 04:00 + 10 min * k, 10 + k
  contracts of 0.001 BTC at 42,000 USD, a long position for even k: longs 420 + 504 = 924
  USD, shorts 462 + 546 = 1,008 USD.
* Coinalyze, every hour (base units at a close of 40,000 USD, served in USD with
  ``convert_to_usd=true``): ``BTCUSDT_PERP.A`` (binanceusdm) 2 BTC of longs and 1 of shorts,
  10 BTC of longs in hour 5: longs 11 x 80,000 + 400,000 = 1,280,000 USD, shorts 480,000;
  ``BTC.H`` (hyperliquid) 0.5 / 0.25 BTC: longs 240,000, shorts 120,000;
  ``BTCUSD_PERP.A`` (binancecoinm) 0.1 BTC of longs, no shorts: longs 48,000;
  ``BTC_USDT.Y`` (gate) 100 BTC of longs, which must never be asked for (gate's events
  cover it).
* CoinGecko (pro plan, key :data:`GECKO_KEY`): ``market_chart/range`` points every hour from
  2023-12-31 06:00 to 2024-01-01 14:00 UTC; at hour ``h`` (from 2024-01-01 00:00) bitcoin is
  ``42,000 + 10 h`` USD with a cap of ``price x 19.6M``, ethereum ``2,300 + h`` with
  ``price x 120M``. The window ends at 12:00, so its caps are the 11:00 points (a point at
  or after the end is never used): bitcoin 42,110 USD, cap 825,356,000,000 USD.
"""

from __future__ import annotations

import socket
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from servers.http_venues import GateFutures
from servers.http_venues_more import HtxLiquidations
from servers.vendors import CoinalyzeSeries, CoinalyzeServer, CoinGeckoServer

T0_MS = 1704067200000  # 2024-01-01 00:00 UTC
T0_S = T0_MS // 1000
HOURS = 12
HOUR_S = 3600
START = "2024-01-01T00:00:00+00:00"
END = "2024-01-01T12:00:00+00:00"
DATE = "2024-01-01"
KEY = "ck-pull-5b1e0d-DO-NOT-LEAK"
GECKO_KEY = "cg-pull-77aa01-DO-NOT-LEAK"
FAST = {"timeout": 2000, "enableRateLimit": False}

EXPECTED_LONG_USD = {
    "gate": 378.0,
    "htx": 924.0,
    "binanceusdm": 1_280_000.0,
    "hyperliquid": 240_000.0,
    "binancecoinm": 48_000.0,
}
EXPECTED_SHORT_USD = {
    "gate": 504.0,
    "htx": 1_008.0,
    "binanceusdm": 480_000.0,
    "hyperliquid": 120_000.0,
    "binancecoinm": 0.0,
}


def gate_liquidations() -> dict[str, list[dict[str, Any]]]:
    s0 = T0_S + 2 * HOUR_S
    rows = [
        {"time": s0 + 60 * k, "contract": "BTC_USDT", "size": size, "order_price": "42000",
         "fill_price": "42000", "left": 0}
        for k, size in enumerate([10, -20, 30, -40, 50, -60])
    ]  # fmt: skip
    return {"BTC_USDT": rows}


def htx_liquidations() -> dict[str, list[dict[str, Any]]]:
    t0 = T0_MS + 4 * 3_600_000
    rows = [
        {"id": str(9100 + k), "contract_code": "BTC-USDT",
         "liquidation_time": str(t0 + 600_000 * k),
         "side": "sell" if k % 2 == 0 else "buy",
         "position_side": "long" if k % 2 == 0 else "short",
         "volume": str(10 + k), "amount": str(10 + k), "bankrupt_price": "42000",
         "trade_turnover": f"{(10 + k) * 0.001 * 42000:.4f}"}
        for k in range(4)
    ]  # fmt: skip
    return {"BTC-USDT": rows}


def hourly(long_base: float, short_base: float, spike: dict[int, float] | None = None):
    times = [T0_S + h * HOUR_S for h in range(HOURS)]
    longs = {t: (spike or {}).get(h, long_base) for h, t in enumerate(times)}
    return CoinalyzeSeries(
        long_base=longs,
        short_base={t: short_base for t in times} if short_base else {},
        close={t: 40_000.0 for t in times},
        oi_base={t: 1_000.0 for t in times},
        funding_pct={t: 0.01 for t in times},
    )


def coinalyze_series() -> dict[str, CoinalyzeSeries]:
    return {
        "BTCUSDT_PERP.A": hourly(2.0, 1.0, spike={5: 10.0}),
        "BTC.H": hourly(0.5, 0.25),
        "BTCUSD_PERP.A": hourly(0.1, 0.0),
        "BTC_USDT.Y": hourly(100.0, 100.0),
    }


COINS = {"bitcoin": ("btc", "Bitcoin", 42_000.0, 10.0, 19.6e6),
         "ethereum": ("eth", "Ethereum", 2_300.0, 1.0, 120e6)}  # fmt: skip
"""id -> (symbol, name, price at 00:00, USD per hour, supply)."""


def gecko_rows() -> list[dict[str, Any]]:
    """Today's ``/coins/markets`` rows (only their ids and order matter to the history)."""
    return [
        {"id": cid, "symbol": sym, "name": name, "current_price": p0, "market_cap": p0 * supply,
         "price_change_percentage_24h": 0.0, "last_updated": "2026-01-01T00:00:00Z"}
        for cid, (sym, name, p0, _, supply) in COINS.items()
    ]  # fmt: skip


def gecko_charts() -> dict[str, list[tuple[int, float, float]]]:
    charts = {}
    for cid, (_, _, p0, per_hour, supply) in COINS.items():
        points = []
        for h in range(-18, 15):
            price = p0 + per_hour * h
            points.append((T0_MS + h * 3_600_000, price, price * supply))
        charts[cid] = points
    return charts


def closed_port() -> int:
    """A local port nothing listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Market:
    """The three servers, started; :meth:`config` writes a sources config pointing at them."""

    gate: GateFutures = field(default_factory=lambda: GateFutures(liquidations=gate_liquidations()))
    htx: HtxLiquidations = field(default_factory=lambda: HtxLiquidations(htx_liquidations(), {}))
    coinalyze: CoinalyzeServer = field(
        default_factory=lambda: CoinalyzeServer(KEY, coinalyze_series())
    )
    gecko: CoinGeckoServer = field(
        default_factory=lambda: CoinGeckoServer(gecko_rows(), gecko_charts())
    )
    _stack: ExitStack = field(default_factory=ExitStack)

    def __enter__(self) -> Market:
        self._stack.enter_context(self.gate.venue)
        self._stack.enter_context(self.htx.venue)
        self._stack.enter_context(self.coinalyze)
        self._stack.enter_context(self.gecko)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()

    def fail_everything(self) -> None:
        """Every venue answers HTTP 500; Coinalyze answers 500 to every request."""
        self.gate.venue.fail_always("/api/v4/futures/usdt/contracts", 500)
        for path in list(self.gate.venue.routes):
            self.gate.venue.fail_always(path, 500)
        for path in list(self.htx.venue.routes):
            self.htx.venue.fail_always(path, 500)
        self.coinalyze.fail("/v1/", *[500] * 1000)
        self.gecko.fail("/api/v3/", *[500] * 1000)

    def config(self, folder: Path, *, htx_port: int | None = None, **vendors: Any) -> Path:
        """``sources.yaml`` in ``folder``: gate and htx (liquidations only) over ccxt REST,
        Coinalyze at its local URL; ``htx_port`` points HTX at another port (say, a closed
        one); ``vendors`` are merged into the ``vendors`` mapping."""
        htx = self.htx.ccxt_options()
        if htx_port is not None:
            url = f"http://127.0.0.1:{htx_port}"
            htx["urls"]["api"] = {k: url for k in htx["urls"]["api"]}
        coinalyze = {"base_url": f"{self.coinalyze.base_url}/v1", "calls_per_minute": 400}
        coingecko = {"base_url": f"{self.gecko.base_url}/api/v3", "plan": "pro",
                     "calls_per_minute": 600}  # fmt: skip
        raw = {
            "exchanges": {
                "gate": {"symbols": ["BTC/USDT:USDT"], "tables": ["liquidations"],
                         "ccxt": {**self.gate.ccxt_options(), **FAST}},
                "htx": {"symbols": ["BTC/USDT:USDT"], "tables": ["liquidations"],
                        "ccxt": {**htx, **FAST}},
            },
            "vendors": {"coinalyze": coinalyze, "coingecko": coingecko, **vendors},
        }  # fmt: skip
        path = folder / "sources.yaml"
        path.write_text(yaml.safe_dump(raw))
        return path
