"""Demo scenarios: the Coin, Venue, Shock and Scenario dataclasses and the calibrated
ARTICLE / TYPICAL scenarios (prices in USD, volatility per minute, shares and margin rates
as fractions, shock moves in percent, times in hours after the scenario start)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

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
