"""``--symbols BTC`` (``fetch``) and a configured base coin narrowed by ``--coins BTC``
(``pull``) resolve to the venue's USDT-margined perpetual, then USDC, then USD-settled
(:func:`helpers.sources.ccxt_rest.resolve_symbol`, docs/venue-rules.md), never to the
coin-margined (inverse) contract; an explicit inverse or USDC symbol is fetched as named.

The local venues list their markets side by side as the venues do: OKX lists BTC-USD-SWAP
(inverse) and BTC-USDC-SWAP before BTC-USDT-SWAP, Bybit lists BTCPERP (USDC) before BTCUSDT
and, here, its inverse category first, Binance USD-M lists BTCUSDC before BTCUSDT, Gate and
HTX list BTC_USD / BTC-USD (inverse) beside the USDT contracts. A resolver that took the
first BTC perpetual listed, or any USD-quoted one, picks the wrong contract here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from servers.http_venues import HOUR_MS, BinanceUsdm, GateFutures
from servers.http_venues_more import BybitDerivatives, HtxLiquidations, OkxSwap
from servers.pull_market import END, GECKO_KEY, START, Market

from helpers.cli import main
from helpers.store import Store

T0 = 1704067200000  # 2024-01-01 00:00 UTC
DAY = 24 * HOUR_MS
FAST = {"timeout": 2000, "enableRateLimit": False}
LINEAR, USDC, INVERSE = "BTC/USDT:USDT", "BTC/USDC:USDC", "BTC/USD:BTC"


def fetch(tmp_path: Path, exchanges: dict[str, Any], symbols: str, hours: int) -> int:
    config = tmp_path / "sources.yaml"
    config.write_text(yaml.safe_dump({"exchanges": exchanges}))
    return main(
        ["fetch", "--data-dir", str(tmp_path / "store"), "--config", str(config),
         "--symbols", symbols, "--start", pd.Timestamp(T0, unit="ms", tz="UTC").isoformat(),
         "--end", pd.Timestamp(T0 + hours * HOUR_MS, unit="ms", tz="UTC").isoformat(),
         "--retries", "1", "--backoff", "0.01"]
    )  # fmt: skip


def stored(tmp_path: Path, table: str) -> dict[str, int]:
    """Rows stored per symbol."""
    df = Store(tmp_path / "store").read(table)
    return {str(k): int(v) for k, v in df.groupby("symbol").size().items()}


def gate_rows(contract: str, sizes: list[int]) -> list[dict[str, Any]]:
    s0 = T0 // 1000
    return [
        {"time": s0 + 60 * (k + 1), "contract": contract, "size": size,
         "order_price": "42000", "fill_price": "42000", "left": 0}
        for k, size in enumerate(sizes)
    ]  # fmt: skip


def htx_linear(n: int) -> list[dict[str, Any]]:
    return [
        {"id": str(100 + k), "contract_code": "BTC-USDT",
         "liquidation_time": str(T0 + 60_000 * (k + 1)), "side": "sell",
         "position_side": "long", "volume": "10", "amount": "10", "bankrupt_price": "42000",
         "trade_turnover": "420"}
        for k in range(n)
    ]  # fmt: skip


def htx_inverse(n: int) -> list[dict[str, Any]]:
    return [
        {"query_id": 700 + k, "contract_code": "BTC-USD", "symbol": "BTC", "direction": "buy",
         "offset": "close", "volume": 20, "price": 40000, "created_at": T0 + 90_000 * (k + 1),
         "amount": 0.05}
        for k in range(n)
    ]  # fmt: skip


class Venue:
    """One local venue for these tests: the server, the table fetched, the rows each of its
    BTC contracts serves over the first 24 hours, and the path its rows are asked on."""

    def __init__(
        self, server: Any, table: str, rows: dict[str, int], path: str, **ccxt: Any
    ) -> None:
        self.server, self.table, self.rows, self.path, self.ccxt = server, table, rows, path, ccxt

    def entry(self) -> dict[str, Any]:
        options = self.server.ccxt_options()
        if self.ccxt:
            options["options"] = {**options.get("options", {}), **self.ccxt}
        return {"tables": [self.table], "ccxt": {**options, **FAST}}


def venues() -> dict[str, Venue]:
    gate = GateFutures(
        liquidations={
            "BTC_USDT": gate_rows("BTC_USDT", [3, -4]),
            "BTC_USD": gate_rows("BTC_USD", [900]),
        }
    )
    htx = HtxLiquidations({"BTC-USDT": htx_linear(3)}, {"BTC-USD": htx_inverse(2)})
    # funding every 8 h over 24 h: 3 records a contract
    return {
        "binanceusdm": Venue(BinanceUsdm(T0, T0 + DAY), "funding", {LINEAR: 3, USDC: 3},
                             "/fapi/v1/fundingRate"),
        "okx": Venue(OkxSwap(T0, T0 + DAY), "funding", {LINEAR: 3, USDC: 3, INVERSE: 3},
                     "/api/v5/public/funding-rate-history"),
        "bybit": Venue(BybitDerivatives(T0, T0 + DAY), "funding",
                       {LINEAR: 3, USDC: 3, INVERSE: 3}, "/v5/market/funding/history",
                       fetchMarkets={"types": ["inverse", "linear"]}),
        "gate": Venue(gate, "liquidations", {LINEAR: 2, INVERSE: 1},
                      "/api/v4/futures/usdt/liq_orders"),
        "htx": Venue(htx, "liquidations", {LINEAR: 3, INVERSE: 2},
                     "/v5/market/liquidation_orders"),
    }  # fmt: skip


@pytest.mark.parametrize("ex_id", ["binanceusdm", "okx", "bybit", "gate", "htx"])
def test_a_base_coin_resolves_to_the_usdt_perpetual(tmp_path: Path, ex_id: str) -> None:
    venue = venues()[ex_id]
    with venue.server.venue:
        assert fetch(tmp_path, {ex_id: venue.entry()}, "BTC", 24) == 0
        assert stored(tmp_path, venue.table) == {LINEAR: venue.rows[LINEAR]}
        # a lower-case coin and the USDT symbol itself are that contract: nothing is new
        n = len(venue.server.venue.hits(venue.path))
        assert fetch(tmp_path, {ex_id: venue.entry()}, "btc", 24) == 0
        assert fetch(tmp_path, {ex_id: venue.entry()}, LINEAR, 24) == 0
        assert len(venue.server.venue.hits(venue.path)) == n
    assert stored(tmp_path, venue.table) == {LINEAR: venue.rows[LINEAR]}


@pytest.mark.parametrize(
    "ex_id, symbol",
    [("okx", INVERSE), ("bybit", INVERSE), ("gate", INVERSE), ("htx", INVERSE),
     ("binanceusdm", USDC), ("okx", USDC), ("bybit", USDC)],
)  # fmt: skip
def test_an_explicit_contract_is_fetched_as_named(tmp_path: Path, ex_id: str, symbol: str) -> None:
    venue = venues()[ex_id]
    with venue.server.venue:
        assert fetch(tmp_path, {ex_id: venue.entry()}, symbol, 24) == 0
    assert stored(tmp_path, venue.table) == {symbol: venue.rows[symbol]}


def test_okx_funding_is_asked_of_the_usdt_swap_only(tmp_path: Path) -> None:
    okx = OkxSwap(T0, T0 + DAY)
    with okx.venue:
        venue = Venue(okx, "funding", {}, "")
        assert fetch(tmp_path, {"okx": venue.entry()}, "BTC,ETH", 24) == 0
        asked = {q["instId"] for q in okx.venue.hits("/api/v5/public/funding-rate-history")}
    assert asked == {"BTC-USDT-SWAP", "ETH-USDT-SWAP"}
    rates = Store(tmp_path / "store").read("funding", symbols=[LINEAR])["rate"].tolist()
    assert rates == pytest.approx([1e-4, 2e-4, 3e-4])  # the USDT swap's realizedRate


def test_a_venue_with_only_an_inverse_perpetual_names_it(tmp_path: Path, capsys: Any) -> None:
    """Gate listing only BTC_USD: ``BTC`` is a one-line error that names the contract to
    ask for by name; nothing is fetched or stored."""
    gate = GateFutures(liquidations={"BTC_USD": gate_rows("BTC_USD", [900])})
    gate.venue.route("/api/v4/futures/usdt/contracts", lambda q: [])
    with gate.venue:
        venue = Venue(gate, "liquidations", {}, "")
        assert fetch(tmp_path, {"gate": venue.entry()}, "BTC", 2) != 0
        assert gate.venue.hits("/api/v4/futures/btc/liq_orders") == []
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: gate: no USD-margined perpetual for 'BTC'")
    assert "coin-margined: BTC/USD:BTC" in line
    assert not Store(tmp_path / "store").has_data("liquidations")


# ---- pull --coins ---------------------------------------------------------------------------


@pytest.fixture
def market(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COINGECKO_API_KEY", GECKO_KEY)
    monkeypatch.delenv("COINALYZE_API_KEY", raising=False)
    with Market() as m:
        yield m


def test_pull_coins_resolves_a_configured_coin_to_the_usdt_perpetual(
    market: Market, tmp_path: Path, capsys: Any
) -> None:
    """Gate configured with the coins ``BTC`` and ``ETH``, HTX with the inverse contract
    by name and an ETH one; ``--coins BTC`` keeps the BTC entries: Gate's resolves to
    BTC_USDT (six events in hour 2), never BTC_USD; HTX's inverse contract is fetched as
    named (two events) and its linear BTC-USDT events are not."""
    market.gate.liquidations["BTC_USD"] = gate_rows("BTC_USD", [900, -700])
    market.htx.inverse["BTC-USD"] = htx_inverse(2)
    config = market.config(tmp_path)
    raw = yaml.safe_load(config.read_text())
    raw["exchanges"]["gate"]["symbols"] = ["BTC", "ETH"]
    raw["exchanges"]["htx"]["symbols"] = [INVERSE, "ETH/USDT:USDT"]
    config.write_text(yaml.safe_dump(raw))
    code = main(
        ["pull", "--start", START, "--end", END, "--config", str(config), "--coins", "BTC",
         "--data-dir", str(tmp_path / "raw"), "--retries", "0", "--backoff", "0.01"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    events = Store(tmp_path / "raw").read("liquidations")
    per = events.groupby(["exchange", "symbol"]).size().to_dict()
    assert per == {("gate", LINEAR): 6, ("htx", INVERSE): 2}
    assert market.gate.venue.hits("/api/v4/futures/btc/liq_orders") == []
    assert market.htx.venue.hits("/v5/market/liquidation_orders") == []
