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
    """A complete simulated market: when, which coins and venues, and trader behaviour.

    ``long_bias`` / ``dip_long_bias``: probability a new position is long (the second when
    price sits within 0.6 % of its trailing 24 h low); ``positions_per_hour`` new positions
    per coin (Poisson mean), ``median_notional_usd`` and ``notional_sigma`` their lognormal
    size (USD, BTC scale; each coin multiplies by ``size_scale``), scaled by
    ``(leverage / 10) ** -size_leverage_elasticity`` (large books run low leverage, so most
    open interest sits far from any liquidation price); ``hold_hours`` mean voluntary holding
    time; ``initial_positions`` the book at the start; ``reversion_per_minute`` the pull of
    log price towards its anchor. Funding per 8 h (fraction) is ``funding_base_8h`` plus
    ``funding_per_imbalance`` x (long share of open interest - 0.5) minus
    ``funding_per_flush`` x the net long-minus-short liquidated notional over the funding
    period as a fraction of the venue's open interest (forced selling pushes the perpetual
    below the index). An hour that force-closes more than ``flush_oi_fraction`` of the
    coin's open interest (in coins) is a flush: the next hour opens ``opens_after_flush``
    times the usual new positions (traders step back), so open interest falls after it.
    See docs/simulator.md for the calibration."""

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
    size_leverage_elasticity: float = 0.0
    funding_base_8h: float = 0.0001
    funding_per_imbalance: float = 0.002
    funding_per_flush: float = 0.0
    flush_oi_fraction: float = 0.008
    opens_after_flush: float = 1.0

    @property
    def end(self) -> pd.Timestamp:
        return self.start + pd.Timedelta(days=self.days)


# leverage -> share of new positions; sizes fall with leverage (size_leverage_elasticity), so
# the 2x-5x books hold most open interest and the 20x-100x tail most liquidations
_CEX_LEVERAGE = {
    2: 0.15, 3: 0.10, 5: 0.15, 10: 0.25, 20: 0.17, 25: 0.09, 50: 0.06, 75: 0.02, 100: 0.01
}  # fmt: skip
_HL_LEVERAGE = {2: 0.15, 3: 0.08, 5: 0.12, 10: 0.25, 20: 0.20, 25: 0.10, 40: 0.10}

_COINS = (
    Coin("BTC", "Bitcoin", "bitcoin", 91_300.0, 0.00055, 1.0, 19_955_000, 0.00175, 1.0),
    Coin("ETH", "Ethereum", "ethereum", 3_050.0, 0.00075, 1.25, 120_700_000, 0.003, 0.55),
    Coin("SOL", "Solana", "solana", 146.0, 0.00095, 1.45, 555_000_000, 0.0075, 0.25),
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
        Venue("binanceusdm", 0.21, "USDT", _CEX_LEVERAGE, 0.004, 8, 0.0000),
        Venue("hyperliquid", 0.33, "USDC", _HL_LEVERAGE, 0.005, 1, 0.0002),
        Venue("bybit", 0.25, "USDT", _CEX_LEVERAGE, 0.005, 8, -0.0001),
        Venue("okx", 0.10, "USDT", _CEX_LEVERAGE, 0.004, 8, 0.0001),
        Venue("gate", 0.11, "USDT", _CEX_LEVERAGE, 0.005, 8, -0.0002),
    ),
    long_bias=0.64,
    dip_long_bias=0.85,
    positions_per_hour=700,
    median_notional_usd=110_000.0,
    notional_sigma=1.5,
    hold_hours=30.0,
    initial_positions=21_000,
    reversion_per_minute=0.004,
    shocks=(
        Shock(hour=31.0, pct=-1.6, minutes=50, anchor_keep=0.7),
        Shock(hour=62.5, pct=-1.2, minutes=40, anchor_keep=0.5),
        # the worst hour: a 6-minute squeeze through the shorts stacked above the range,
        # then the flush through the longs stacked under it
        Shock(hour=86.0, pct=0.5, minutes=6, anchor_keep=0.0),
        Shock(hour=86.1, pct=-3.36, minutes=45, anchor_keep=0.7),
        Shock(hour=121.0, pct=-1.0, minutes=60, anchor_keep=0.6),
        Shock(hour=150.0, pct=-1.0, minutes=45, anchor_keep=0.6),
        Shock(hour=158.0, pct=-1.5, minutes=90, anchor_keep=0.9),
    ),
    market_caps=_OTHER_CAPS,
    size_leverage_elasticity=1.0,
    funding_base_8h=0.0001,
    funding_per_imbalance=0.0005,
    funding_per_flush=0.15,
    flush_oi_fraction=0.008,
    opens_after_flush=0.3,
)

TYPICAL = replace(
    ARTICLE,
    name="typical",
    venues=(
        Venue("bybit", 0.31, "USDT", _CEX_LEVERAGE, 0.005, 8, -0.0001),
        Venue("binanceusdm", 0.19, "USDT", _CEX_LEVERAGE, 0.004, 8, 0.0000),
        Venue("hyperliquid", 0.17, "USDC", _HL_LEVERAGE, 0.005, 1, 0.0002),
        Venue("gate", 0.12, "USDT", _CEX_LEVERAGE, 0.005, 8, -0.0002),
        Venue("okx", 0.10, "USDT", _CEX_LEVERAGE, 0.004, 8, 0.0001),
    ),
    long_bias=0.52,
    dip_long_bias=0.6,
    shocks=(Shock(hour=50.0, pct=1.2, minutes=60), Shock(hour=110.0, pct=-1.2, minutes=60)),
)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (ARTICLE, TYPICAL)}
