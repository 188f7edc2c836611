"""CoinGecko /coins/markets -> market_caps, against a local server and the real snapshot."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest
from servers.vendors import CoinGeckoServer

from helpers.cli import vendors
from helpers.errors import UserError
from helpers.sources import coingecko as cg
from helpers.sources.http import JsonClient
from helpers.store import Store

REAL = "coingecko_top30_markets_2025-03-04T1445Z.json"


def coin(cid: str, sym: str, price: float, cap: float, change: float | None, when: str) -> dict:
    return {
        "id": cid,
        "symbol": sym,
        "name": cid.title(),
        "current_price": price,
        "market_cap": cap,
        "price_change_percentage_24h": change,
        "last_updated": when,
    }


EUR_ROWS = [
    coin("bitcoin", "btc", 95.0, 1900.0, -8.0, "2025-03-04T14:45:50.155Z"),
    coin("tether", "usdt", 0.95, 142.5, -0.4, "2025-03-04T14:44:10.000Z"),
    coin("dogecoin", "doge", 0.19, 28.5, None, "2025-03-04T14:45:01.000Z"),
]


def test_usd_rows_are_kept_as_they_are():
    f = cg.markets_frame(EUR_ROWS, "usd")
    assert list(f["coin"]) == ["bitcoin", "tether", "dogecoin"]
    assert list(f["symbol"]) == ["BTC", "USDT", "DOGE"]
    assert list(f["price_usd"]) == [95.0, 0.95, 0.19]
    assert set(f["source"]) == {"coingecko"}
    # one snapshot time: the newest last_updated (14:45:50) floored to the minute
    assert set(f["ts"]) == {pd.Timestamp("2025-03-04T14:45Z")}
    assert pd.isna(f["change_24h_pct"].iloc[2])  # missing stays missing


def test_eur_rows_are_converted_with_tether():
    f = cg.markets_frame(EUR_ROWS, "eur").set_index("coin")
    # 0.95 EUR per USDT: 95 EUR / 0.95 = 100 USD; cap 1,900 / 0.95 = 2,000
    assert f.loc["bitcoin", "price_usd"] == pytest.approx(100.0)
    assert f.loc["bitcoin", "market_cap_usd"] == pytest.approx(2000.0)
    assert f.loc["tether", "price_usd"] == pytest.approx(1.0)
    # -8 % in EUR while the dollar moved -0.4 % in EUR: 0.92 / 0.996 - 1 = -7.6305 %
    assert f.loc["bitcoin", "change_24h_pct"] == pytest.approx((0.92 / 0.996 - 1) * 100)
    assert f.loc["tether", "change_24h_pct"] == pytest.approx(0.0)
    assert set(f["source"]) == {"coingecko (EUR converted to USD via tether)"}


def test_other_currency_without_tether_is_refused():
    with pytest.raises(UserError, match="tether"):
        cg.markets_frame([EUR_ROWS[0]], "eur")


def test_fetch_pages_from_the_server_and_stores(tmp_path):
    rows = [
        coin(f"coin{i}", f"c{i}", 1.0 + i, 1e9 - i, 0.5, "2025-03-04T14:00:00Z") for i in range(260)
    ]
    with CoinGeckoServer(rows) as srv:
        got = cg.fetch_markets(JsonClient("coingecko"), 260, "usd", f"{srv.base_url}/api/v3")
        hits = srv.calls("/api/v3/coins/markets")
    assert len(got) == 260
    # 260 coins at the 250-per-page maximum: two pages
    assert [(h.query["page"], h.query["per_page"]) for h in hits] == [("1", "250"), ("2", "250")]
    assert hits[0].query["price_change_percentage"] == "24h"
    result = Store(tmp_path).write("market_caps", cg.markets_frame(got))
    assert result.written == 260 and result.quarantined == 0


def test_html_answer_is_retried_then_fails_in_one_line():
    with CoinGeckoServer(EUR_ROWS) as srv:
        srv.fail("/api/v3/coins/markets", "html", "html", "html")
        client = JsonClient("coingecko", retries=2, backoff=0.01, max_backoff=0.02)
        with pytest.raises(UserError) as err:
            cg.fetch_markets(client, 3, "usd", f"{srv.base_url}/api/v3")
    assert "HTML" in str(err.value) and "\n" not in str(err.value)


def test_bad_saved_file(tmp_path):
    p = tmp_path / "m.json"
    p.write_text('[{"id": "bitcoin", "symbol": "btc", "current_pri')
    with pytest.raises(UserError, match="not valid JSON"):
        cg.load_file(p)
    p.write_text(json.dumps({"error": "rate limited"}))
    with pytest.raises(UserError, match="expected a JSON list"):
        cg.load_file(p)


@pytest.mark.realdata
def test_real_eur_snapshot_in_usd(realdata, tmp_path, capsys):
    args = argparse.Namespace(
        data_dir=str(tmp_path),
        verbose=False,
        file=str(realdata / REAL),
        at=None,
        vs_currency="eur",
        top=100,
        timeout=5.0,
        retries=0,
        backoff=0.01,
    )
    assert vendors.run_coingecko(args) == 0
    assert "(EUR -> USD)" in capsys.readouterr().out
    caps = Store(tmp_path).read("market_caps").set_index("coin")
    raw = {r["id"]: r for r in json.loads((realdata / REAL).read_text())}
    usdt = raw["tether"]["current_price"]
    assert len(caps) == 30
    assert set(caps["ts"]) == {pd.Timestamp("2025-03-04T14:45Z")}
    assert caps.loc["bitcoin", "price_usd"] == pytest.approx(raw["bitcoin"]["current_price"] / usdt)
    # BTC fell 8.2 % in EUR; in USD the fall is a little smaller because the dollar fell too
    change = caps.loc["bitcoin", "change_24h_pct"]
    expected = (
        (1 + raw["bitcoin"]["price_change_percentage_24h"] / 100)
        / (1 + raw["tether"]["price_change_percentage_24h"] / 100)
        - 1
    ) * 100
    assert change == pytest.approx(expected) and -8.2 < change < -7.5
