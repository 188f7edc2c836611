"""A Coinalyze market catalog in the wire format of ``/future-markets`` and ``/exchanges``
(field names, types and symbol formats as recorded in ``docs/venue-rules.md``, Coinalyze),
with the formats that differ by venue: Binance USD-M and COIN-M, Bybit linear / inverse /
USDC, OKX, Hyperliquid, Deribit, Kraken (``XBT``), Gate; dated futures that must not be
chosen; a BTC-quoted perpetual (no USD value); venues whose code has no ccxt mapping.

:data:`EXPECTED_BTC_ETH` is what a selection of BTC and ETH on every venue must return:
(ccxt id, unified symbol) -> Coinalyze symbol."""

from __future__ import annotations

from typing import Any

EXCHANGES: list[dict[str, str]] = [
    {"name": "Binance", "code": "A"},
    {"name": "Bybit", "code": "6"},
    {"name": "OKX", "code": "3"},
    {"name": "Hyperliquid", "code": "H"},
    {"name": "Deribit", "code": "2"},
    {"name": "Kraken", "code": "K"},
    {"name": "Gate.io", "code": "Y"},
    {"name": "dYdX", "code": "8"},
    {"name": "WOO X", "code": "W"},
    {"name": "Bitstamp", "code": "B"},
]


def row(
    symbol: str,
    code: str,
    on_exchange: str,
    base: str,
    quote: str,
    margined: str | None,
    perpetual: bool = True,
    expire_at: int | None = None,
) -> dict[str, Any]:
    """One ``/future-markets`` row; ``expire_at`` in UNIX milliseconds (null on perpetuals)."""
    return {
        "symbol": symbol,
        "exchange": code,
        "symbol_on_exchange": on_exchange,
        "base_asset": base,
        "quote_asset": quote,
        "is_perpetual": perpetual,
        "margined": margined,
        "expire_at": expire_at,
        "oi_lq_vol_denominated_in": "QUOTE_ASSET" if margined == "COIN" else "BASE_ASSET",
        "has_long_short_ratio_data": code in ("A", "6"),
        "has_ohlcv_data": True,
        "has_buy_sell_data": True,
    }


SEP_2025_MS = 1758873600000  # 2025-09-26 08:00 UTC

FUTURE_MARKETS: list[dict[str, Any]] = [
    row("BTCUSDT_PERP.A", "A", "BTCUSDT", "BTC", "USDT", "STABLE"),
    row("ETHUSDT_PERP.A", "A", "ETHUSDT", "ETH", "USDT", "STABLE"),
    row("BTCUSDC_PERP.A", "A", "BTCUSDC", "BTC", "USDC", "STABLE"),
    row("BTCUSD_PERP.A", "A", "BTCUSD_PERP", "BTC", "USD", "COIN"),
    row("ETHUSD_PERP.A", "A", "ETHUSD_PERP", "ETH", "USD", "COIN"),
    row("SOLUSDT_PERP.A", "A", "SOLUSDT", "SOL", "USDT", "STABLE"),
    row("ETHBTC_PERP.A", "A", "ETHBTC", "ETH", "BTC", "STABLE"),
    row("BTCUSDT_250926.A", "A", "BTCUSDT_250926", "BTC", "USDT", "STABLE", False, SEP_2025_MS),
    row("BTCUSD_250926.A", "A", "BTCUSD_250926", "BTC", "USD", "COIN", False, SEP_2025_MS),
    row("BTCUSDT.6", "6", "BTCUSDT", "BTC", "USDT", "STABLE"),
    row("ETHUSDT.6", "6", "ETHUSDT", "ETH", "USDT", "STABLE"),
    row("BTCUSD.6", "6", "BTCUSD", "BTC", "USD", "COIN"),
    row("BTCPERP.6", "6", "BTCPERP", "BTC", "USDC", "STABLE"),
    row("BTCUSDU25.6", "6", "BTCUSDU25", "BTC", "USD", "COIN", False, SEP_2025_MS),
    row("BTCUSDT_PERP.3", "3", "BTC-USDT-SWAP", "BTC", "USDT", "STABLE"),
    row("ETHUSDT_PERP.3", "3", "ETH-USDT-SWAP", "ETH", "USDT", "STABLE"),
    row("BTCUSD_PERP.3", "3", "BTC-USD-SWAP", "BTC", "USD", "COIN"),
    row("BTC.H", "H", "BTC", "BTC", "USD", "STABLE"),
    row("ETH.H", "H", "ETH", "ETH", "USD", "STABLE"),
    row("BTC-PERPETUAL.2", "2", "BTC-PERPETUAL", "BTC", "USD", "COIN"),
    row("BTC_USDC-PERPETUAL.2", "2", "BTC_USDC-PERPETUAL", "BTC", "USDC", "STABLE"),
    row("BTC-26SEP25.2", "2", "BTC-26SEP25", "BTC", "USD", "COIN", False, SEP_2025_MS),
    row("pf_xbtusd.K", "K", "PF_XBTUSD", "XBT", "USD", "STABLE"),
    row("BTC_USDT.Y", "Y", "BTC_USDT", "BTC", "USDT", "STABLE"),
    row("BTC-USD.8", "8", "BTC-USD", "BTC", "USD", "STABLE"),
    row("PERP_BTC_USDT.W", "W", "PERP_BTC_USDT", "BTC", "USDT", "STABLE"),
    row("ETH-USD.Q", "Q", "ETH-USD", "ETH", "USD", "STABLE"),
]

EXPECTED_BTC_ETH: dict[tuple[str, str], str] = {
    ("binancecoinm", "BTC/USD:BTC"): "BTCUSD_PERP.A",
    ("binancecoinm", "ETH/USD:ETH"): "ETHUSD_PERP.A",
    ("binanceusdm", "BTC/USDC:USDC"): "BTCUSDC_PERP.A",
    ("binanceusdm", "BTC/USDT:USDT"): "BTCUSDT_PERP.A",
    ("binanceusdm", "ETH/USDT:USDT"): "ETHUSDT_PERP.A",
    ("bybit", "BTC/USD:BTC"): "BTCUSD.6",
    ("bybit", "BTC/USDC:USDC"): "BTCPERP.6",
    ("bybit", "BTC/USDT:USDT"): "BTCUSDT.6",
    ("bybit", "ETH/USDT:USDT"): "ETHUSDT.6",
    ("deribit", "BTC/USD:BTC"): "BTC-PERPETUAL.2",
    ("deribit", "BTC/USDC:USDC"): "BTC_USDC-PERPETUAL.2",
    ("gate", "BTC/USDT:USDT"): "BTC_USDT.Y",
    ("hyperliquid", "BTC/USDC:USDC"): "BTC.H",
    ("hyperliquid", "ETH/USDC:USDC"): "ETH.H",
    ("krakenfutures", "BTC/USD:USD"): "pf_xbtusd.K",
    ("okx", "BTC/USD:BTC"): "BTCUSD_PERP.3",
    ("okx", "BTC/USDT:USDT"): "BTCUSDT_PERP.3",
    ("okx", "ETH/USDT:USDT"): "ETHUSDT_PERP.3",
}
