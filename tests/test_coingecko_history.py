"""CoinGecko market caps at a past window end (market_chart/range), against a local server
speaking CoinGecko's format, and the choice between the live snapshot and the history."""

from __future__ import annotations

import argparse
import logging
import math
import time

import pandas as pd
import pytest
from servers.vendors import CoinGeckoServer

from helpers.cli import vendors
from helpers.errors import UserError
from helpers.metrics import marketmap as mm
from helpers.plots import marketmap as pmm
from helpers.sources import coingecko as cg
from helpers.sources.call_budget import CallBudget
from helpers.sources.coingecko import history
from helpers.sources.http import JsonClient
from helpers.store import Store

END = pd.Timestamp("2025-03-04 00:00", tz="UTC")
NOW = END + pd.Timedelta(days=6)
KEY = "CG-secret-demo-key-123"
MIN = 60_000


def ms(t: pd.Timestamp) -> int:
    return int(t.value // 1_000_000)


def hourly(last: pd.Timestamp, hours: int, price, cap) -> list[tuple[int, float, float]]:
    """``hours + 1`` points an hour apart ending at ``last`` (a few seconds of jitter, as
    CoinGecko's are), oldest first; ``price(k)``/``cap(k)`` of the point ``k`` hours back."""
    pts = [(ms(last) - k * 3_600_000 + (k % 3) * 7_000, price(k), cap(k)) for k in range(hours + 1)]
    return sorted(pts)


def charts(end: pd.Timestamp) -> dict[str, list[tuple[int, float, float]]]:
    btc_last = end - pd.Timedelta(minutes=3)
    btc = hourly(btc_last, 30, lambda k: 80_000.0 if k == 24 else 90_000.0 + k, lambda k: 1.8e12)
    btc = [p for p in btc if p[0] != ms(btc_last)] + [(ms(btc_last), 100_000.0, 2.0e12)]
    btc += [(ms(end), 999_999.0, 9e12), (ms(end) + 30 * MIN, 888_888.0, 8e12)]  # not before end
    eth_last = end - pd.Timedelta(minutes=90)  # within the 2 h tolerance
    eth = hourly(eth_last, 30, lambda k: 2_000.0 if k == 0 else 2_500.0, lambda k: 2.4e11)
    sol = hourly(end - pd.Timedelta(hours=3), 30, lambda k: 140.0, lambda k: 7e10)  # a gap
    doge_last = end - pd.Timedelta(minutes=10)  # no supply at the last hour; a short history
    doge = hourly(doge_last, 8, lambda k: 0.2 + k / 100, lambda k: 0.0 if k == 0 else 3e10)
    return {"bitcoin": sorted(btc), "ethereum": eth, "solana": sol, "dogecoin": doge, "ripple": []}


def market(cid: str, sym: str, cap: float) -> dict:
    return {
        "id": cid,
        "symbol": sym,
        "name": cid.title(),
        "current_price": 1.0,
        "market_cap": cap,
        "price_change_percentage_24h": 1.5,
        "last_updated": "2025-03-10T11:59:40.000Z",
    }


MARKETS = [
    market("bitcoin", "btc", 2e12),
    market("ethereum", "eth", 3e11),
    market("ripple", "xrp", 1.5e11),
    market("solana", "sol", 8e10),
    market("dogecoin", "doge", 3e10),
]


@pytest.fixture
def server():
    with CoinGeckoServer(MARKETS, charts(END)) as srv:
        yield srv


def access(srv: CoinGeckoServer, key: str | None = None, **settings) -> cg.Access:
    return cg.access_from(
        {"base_url": f"{srv.base_url}/api/v3", "calls_per_minute": 600, **settings}, key
    )


def client(key: str | None = None) -> JsonClient:
    return JsonClient(
        "coingecko", timeout=5, retries=2, backoff=0.01, max_backoff=5, secrets=(key or "",)
    )


def at_end(srv, store, now=NOW, key=None, **kw) -> cg.CapsAtEnd:
    return cg.fetch_market_caps_at(
        store, END, client=client(key), access=access(srv, key), now=now, **kw
    )


def test_history_picks_the_last_point_before_the_end_and_the_24h_change(server, tmp_path):
    got = at_end(server, Store(tmp_path), top=5)
    assert got.kind == "history"
    rows = got.frame.set_index("coin")
    btc = rows.loc["bitcoin"]
    # the point 3 min before the end; the ones at and after the end are not used
    assert btc["ts"] == END - pd.Timedelta(minutes=3)
    assert (btc["price_usd"], btc["market_cap_usd"]) == (100_000.0, 2.0e12)
    # 24 h before that point the price was 80,000: +25 %
    assert btc["change_24h_pct"] == pytest.approx(25.0)
    # 90 min old is within the tolerance; 2,000 against 2,500 a day earlier: -20 %
    assert rows.loc["ethereum", "ts"] == END - pd.Timedelta(minutes=90)
    assert rows.loc["ethereum", "change_24h_pct"] == pytest.approx(-20.0)
    # a cap of 0 is "no supply": the hour before is used; no price a day earlier: no change
    doge = rows.loc["dogecoin"]
    assert doge["ts"] == END - pd.Timedelta(minutes=70) + pd.Timedelta(seconds=7)
    assert doge["market_cap_usd"] == 3e10 and math.isnan(doge["change_24h_pct"])
    # solana's last point is 3 h old and ripple has none: missing, not zero
    assert set(got.missing) == {"solana", "ripple"}
    assert set(rows.index) == {"bitcoin", "ethereum", "dogecoin"}
    assert set(rows["source"]) == {"coingecko:history"} and set(rows["symbol"]) >= {"BTC"}
    stored = Store(tmp_path).read("market_caps")
    assert len(stored) == 3 and got.result.written == 3
    assert "3 of 5 coins" in got.summary() and "missing: ripple, solana" in got.summary()
    assert "history" in got.summary()


def test_history_requests_the_range_in_unix_seconds(server, tmp_path):
    at_end(server, Store(tmp_path), top=2)
    hits = server.calls("/api/v3/coins/bitcoin/market_chart/range")
    assert len(hits) == 1
    q = hits[0].query
    assert q["vs_currency"] == "usd" and q["to"] == str(int(END.timestamp()))
    assert int(q["to"]) - int(q["from"]) == 27 * 3600  # 24 h + 2 h + 1 h
    markets = server.calls("/api/v3/coins/markets")
    assert len(markets) == 1 and markets[0].query["per_page"] == "2"


def test_configured_coins_are_named_through_markets_ids(server, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        got = at_end(server, Store(tmp_path), coins=["ethereum", "nosuchcoin", "bitcoin"])
    assert list(got.frame["coin"]) == ["ethereum", "bitcoin"]
    assert server.calls("/api/v3/coins/markets")[0].query["ids"] == "ethereum,nosuchcoin,bitcoin"
    assert "nosuchcoin" in caplog.text and not server.calls("/api/v3/coins/nosuchcoin")


def test_429_with_retry_after_is_waited_for_then_retried(server, tmp_path):
    server.fail("/api/v3/coins/bitcoin/market_chart", (429, {"Retry-After": "1"}))
    t0 = time.monotonic()
    got = at_end(server, Store(tmp_path), coins=["bitcoin"])
    assert time.monotonic() - t0 >= 0.9  # the server's Retry-After, not the 0.01 s backoff
    assert len(server.calls("/api/v3/coins/bitcoin/market_chart/range")) == 2
    assert list(got.frame["coin"]) == ["bitcoin"]


@pytest.mark.parametrize(
    ("key", "plan", "header", "absent"),
    [
        (None, "demo", None, ("x-cg-demo-api-key", "x-cg-pro-api-key")),
        (KEY, "demo", "x-cg-demo-api-key", ("x-cg-pro-api-key",)),
        (KEY, "pro", "x-cg-pro-api-key", ("x-cg-demo-api-key",)),
    ],
)
def test_key_header_is_sent_only_when_set_and_never_logged(
    server, tmp_path, caplog, key, plan, header, absent
):
    with caplog.at_level(logging.DEBUG):
        cg.fetch_market_caps_at(
            Store(tmp_path),
            END,
            client=client(key),
            access=access(server, key, plan=plan),
            now=NOW,
            top=2,
        )
    for hit in server.hits:
        names = {h.lower() for h in hit.headers}
        assert not names & set(absent)
        if header:
            assert hit.headers[next(h for h in hit.headers if h.lower() == header)] == key
    assert KEY not in caplog.text


def test_pro_plan_needs_a_key_and_uses_the_pro_root():
    with pytest.raises(UserError, match="COINGECKO_API_KEY"):
        cg.access_from({"plan": "pro"}, None)
    assert cg.access_from({"plan": "pro"}, KEY).base_url == cg.PRO_BASE_URL
    assert cg.access_from({}, None).base_url == cg.BASE_URL
    with pytest.raises(UserError, match="plan"):
        cg.access_from({"plan": "enterprise"}, KEY)


def test_history_beyond_365_days_is_refused_before_any_call_without_a_paid_key(server, tmp_path):
    late = END + pd.Timedelta(days=400)
    with pytest.raises(UserError, match="365 days"):
        at_end(server, Store(tmp_path), now=late, key=KEY)
    assert server.hits == []
    got = cg.fetch_market_caps_at(
        Store(tmp_path), END, client=client(KEY), access=access(server, KEY, plan="pro"),
        now=late, top=1,
    )  # fmt: skip
    assert list(got.frame["coin"]) == ["bitcoin"]


def test_calls_are_spent_from_the_budget(server):
    clock = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        clock[0] += s

    acc = access(server)
    acc = cg.Access(acc.tier, acc.base_url, acc.headers, CallBudget(2, lambda: clock[0], sleep))
    coins = history.coins_of(MARKETS[:4])
    history.fetch_history(client(), acc, coins, END, NOW)
    assert len(waits) == 1 and waits[0] == pytest.approx(60.0)  # 4 calls at 2 a minute


@pytest.mark.parametrize(
    ("now", "kind"),
    [(END, "snapshot"), (END + pd.Timedelta(minutes=59), "snapshot"),
     (END - pd.Timedelta(hours=5), "snapshot"), (END + pd.Timedelta(minutes=61), "history")],
)  # fmt: skip
def test_live_snapshot_when_the_end_is_within_an_hour_of_now(server, tmp_path, now, kind):
    got = at_end(server, Store(tmp_path), now=now, top=3)
    assert got.kind == kind
    if kind == "snapshot":
        assert set(got.frame["source"]) == {"coingecko"} and len(got.frame) == 3
        assert not server.calls("/api/v3/coins/bitcoin/")
        assert got.summary().startswith("coingecko: live snapshot")
    else:
        assert set(got.frame["source"]) == {"coingecko:history"}


def test_history_in_another_currency_is_refused(server, tmp_path):
    with pytest.raises(UserError, match="USD only"):
        at_end(server, Store(tmp_path), vs_currency="eur")


def test_chart_with_the_wrong_shape_is_one_clear_error():
    with pytest.raises(UserError, match="prices"):
        history.chart_frame({"error": "coin not found"}, "x")
    with pytest.raises(UserError, match="pairs"):
        history.chart_frame({"prices": [[1, 2, 3]]}, "x")


def test_market_map_takes_one_history_fetch_as_one_snapshot_and_says_so(server, tmp_path):
    at_end(server, Store(tmp_path), top=5)
    caps = Store(tmp_path).read("market_caps")
    snap = mm.latest_snapshot(caps, END - pd.Timedelta(microseconds=1))
    # the three coins' points differ in time, yet form one snapshot
    assert set(snap["coin"]) == {"bitcoin", "ethereum", "dogecoin"}
    assert pmm.snapshot_label(mm.top_by_cap(snap)) == (
        "history, points 2025-03-03 22:30 to 23:57 UTC"
    )
    assert mm.HISTORY_SPREAD == history.TOLERANCE


# ---- the command --------------------------------------------------------------------------


def command_args(tmp_path, srv, at, **kw) -> argparse.Namespace:
    cfg = tmp_path / "sources.yaml"
    cfg.write_text(
        f"vendors:\n  coingecko:\n    base_url: {srv.base_url}/api/v3\n"
        "    calls_per_minute: 600\n    coins: [bitcoin, solana]\n"
    )
    args = dict(
        config=str(cfg),
        data_dir=str(tmp_path / "store"),
        verbose=True,
        file=None,
        at=at,
        vs_currency="usd",
        top=None,
        timeout=5.0,
        retries=1,
        backoff=0.01,
    )
    args.update(kw)
    return argparse.Namespace(**args)


def test_command_at_a_past_end_uses_history_and_says_so(tmp_path, monkeypatch, capsys, caplog):
    end = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(days=2)
    monkeypatch.setenv("COINGECKO_API_KEY", KEY)
    with CoinGeckoServer(MARKETS, charts(end)) as srv, caplog.at_level(logging.DEBUG):
        assert vendors.run_coingecko(command_args(tmp_path, srv, end)) == 0
        assert all(h.headers.get("x-cg-demo-api-key") == KEY for h in srv.hits)
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coingecko: history")
    assert "1 of 2 coins" in lines[0] and "missing: solana" in lines[0]
    for text in (caplog.text, out.out, out.err):
        assert KEY not in text
    assert set(Store(tmp_path / "store").read("market_caps")["source"]) == {"coingecko:history"}


def test_command_at_now_uses_the_live_snapshot(tmp_path, capsys):
    with CoinGeckoServer(MARKETS, charts(END)) as srv:
        now = pd.Timestamp.now(tz="UTC")
        assert vendors.run_coingecko(command_args(tmp_path, srv, now, top=2)) == 0
        assert [h.path for h in srv.hits] == ["/api/v3/coins/markets"]
    line = capsys.readouterr().out.strip()
    assert line.startswith("coingecko: live snapshot (/coins/markets)") and "2 coins" in line
