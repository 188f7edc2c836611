"""Market-cap snapshot metrics on small hand-computed frames (and one real snapshot)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from helpers import schema
from helpers.errors import UserError
from helpers.metrics import marketmap as mm

T1 = pd.Timestamp("2025-11-16 00:00", tz="UTC")
T2 = pd.Timestamp("2025-11-17 00:00", tz="UTC")


def make_caps(rows: list[tuple]) -> pd.DataFrame:
    """Canonical market_caps from (ts, coin, symbol, market cap USD, 24h change %)."""
    records = [
        {
            "ts": ts,
            "coin": coin,
            "symbol": sym,
            "name": coin.title(),
            "price_usd": 1.0,
            "market_cap_usd": cap,
            "change_24h_pct": chg,
            "source": "test",
        }
        for ts, coin, sym, cap, chg in rows
    ]
    good, bad = schema.validate("market_caps", pd.DataFrame.from_records(records))
    assert bad.empty
    return good


CAPS = make_caps(
    [
        (T1, "bitcoin", "btc", 90.0, 1.0),
        (T2, "bitcoin", "btc", 100.0, -2.0),
        (T2, "ethereum", "eth", 50.0, 1.0),
        (T2, "solana", "sol", 30.0, None),
        (T2, "ripple", "xrp", 20.0, 0.0),
    ]
)


def test_latest_snapshot_at_or_before_a_time():
    assert set(mm.latest_snapshot(CAPS, T2)["coin"]) == {"bitcoin", "ethereum", "solana", "ripple"}
    earlier = mm.latest_snapshot(CAPS, T2 - pd.Timedelta(minutes=1))
    assert list(earlier["ts"]) == [T1] and list(earlier["market_cap_usd"]) == [90.0]
    assert mm.latest_snapshot(CAPS, T1 - pd.Timedelta(days=1)).empty
    with pytest.raises(UserError):
        mm.latest_snapshot(CAPS, pd.Timestamp("2025-11-17"))


def test_top_by_cap_orders_and_ranks():
    top = mm.top_by_cap(mm.latest_snapshot(CAPS, T2), n=3)
    assert list(top["symbol"]) == ["btc", "eth", "sol"]
    assert list(top["rank"]) == [1, 2, 3]
    assert len(mm.top_by_cap(mm.latest_snapshot(CAPS, T2), n=10)) == 4
    with pytest.raises(ValueError):
        mm.top_by_cap(CAPS, n=0)


def test_market_lines_count_red_separately_from_missing_and_weight_known_changes():
    lines = mm.market_lines(mm.top_by_cap(mm.latest_snapshot(CAPS, T2), n=4))
    assert (lines.btc_cap_usd, lines.eth_cap_usd, lines.total_cap_usd) == (100.0, 50.0, 200.0)
    # btc -2 red, eth +1 green, xrp 0 unchanged, sol missing
    assert (lines.red, lines.green, lines.unchanged, lines.missing_change) == (1, 1, 1, 1)
    # weighted over known changes only: (100 x -2 + 50 x 1 + 20 x 0) / (100 + 50 + 20)
    assert lines.cap_weighted_change_pct == pytest.approx(-150 / 170)
    assert lines.weighted_cap_share == pytest.approx(170 / 200)
    assert lines.ts == T2
    assert lines.red_text == "1 of the top 4 are red (1 without a 24h change)"


def test_market_lines_without_eth_and_with_all_changes_missing():
    caps = make_caps([(T2, "bitcoin", "BTC", 10.0, None), (T2, "tether", "usdt", 5.0, None)])
    lines = mm.market_lines(mm.top_by_cap(caps, n=2))
    assert lines.btc_cap_usd == 10.0 and math.isnan(lines.eth_cap_usd)
    # tether is a stablecoin: counted apart, not as a missing change
    assert lines.stablecoins == 1 and lines.missing_change == 1
    assert lines.red == 0 and lines.green == 0 and lines.counted == 0
    assert math.isnan(lines.cap_weighted_change_pct)
    assert lines.weighted_cap_share == 0.0
    assert (
        lines.red_text == "0 of the 1 non-stablecoins in the top 2 are red (1 without a 24h change)"
    )


def test_market_lines_of_an_empty_snapshot():
    lines = mm.market_lines(mm.top_by_cap(schema.empty("market_caps"), n=5))
    assert lines.n == 0 and lines.ts is None
    assert math.isnan(lines.btc_cap_usd) and math.isnan(lines.cap_weighted_change_pct)


@pytest.mark.realdata
def test_real_coingecko_snapshot(realdata: Path):
    raw = json.loads((realdata / "coingecko_top30_markets_2025-03-04T1445Z.json").read_text())
    # quoted in EUR: divide by tether's EUR price to get USD, and take changes relative to it
    tether = next(r for r in raw if r["id"] == "tether")
    eur_per_usd = tether["current_price"]
    tether_chg = tether["price_change_percentage_24h"]
    frame = pd.DataFrame(
        {
            "ts": pd.Timestamp("2025-03-04 14:45", tz="UTC"),
            "coin": [r["id"] for r in raw],
            "symbol": [r["symbol"] for r in raw],
            "name": [r["name"] for r in raw],
            "price_usd": [r["current_price"] / eur_per_usd for r in raw],
            "market_cap_usd": [r["market_cap"] / eur_per_usd for r in raw],
            "change_24h_pct": [
                None
                if r["price_change_percentage_24h"] is None
                else ((1 + r["price_change_percentage_24h"] / 100) / (1 + tether_chg / 100) - 1)
                * 100
                for r in raw
            ],
            "source": "coingecko",
        }
    )
    caps, bad = schema.validate("market_caps", frame)
    assert bad.empty
    top = mm.top_by_cap(mm.latest_snapshot(caps, pd.Timestamp("2025-03-05", tz="UTC")), n=10)
    lines = mm.market_lines(top)
    btc = next(r for r in raw if r["id"] == "bitcoin")
    assert top["coin"].iloc[0] == "bitcoin"
    assert lines.btc_cap_usd == pytest.approx(btc["market_cap"] / eur_per_usd)
    stable = {r["symbol"].upper() for r in raw} & {"USDT", "USDC", "DAI", "FDUSD", "USDE"}
    in_top = set(top["symbol"].str.upper()) & stable
    assert in_top, "the real top 10 holds stablecoins (USDT, USDC)"
    assert lines.stablecoins == len(in_top)
    assert lines.red + lines.green + lines.unchanged + lines.missing_change == 10 - len(in_top)
    assert lines.red >= 1  # BTC fell about 8 % that day
    assert lines.cap_weighted_change_pct < 0
