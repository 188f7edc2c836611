"""Every page's data banner and NO DATA explanation, from real report runs of the small
fixture notebook (``tests/fixtures/data_notebooks``) on a real Parquet store.

The store, 2024-01-01 00:00-12:00 UTC, hourly bars of BTC:

* Binance USD-M (``binanceusdm``): Coinalyze every hour; the collector's recorded stream
  events (``ccxt.pro:binanceusdm``) at hours 2-4, which outrank Coinalyze there;
* Binance COIN-M (``binancecoinm``): Coinalyze at hours 0-7;
* OKX: bars from REST events (``ccxt:okx``) at hours 0-9.

So Binance has 12 + 8 = 20 bar rows, 3 from recorded events (15%) and 17 from Coinalyze
(85%); OKX 10, all REST; 3 (venue, symbol) pairs x 12 hours = 36 cells of which
12 + 8 + 10 = 30 are observed (83.3%).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from factories import hours_after, liquidation_bars
from pagetext import visible_text

from helpers.cli import main
from helpers.inventory import no_data_lines, store_inventory, what_to_change
from helpers.store import Store
from helpers.timegrid import Window

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "tests" / "fixtures" / "data_notebooks"
T0 = "2024-01-01T00:00:00+00:00"
DAY = "2024-01-01"
USDM, COINM = "BTC/USDT:USDT", "BTC/USD:BTC"
at = hours_after(__import__("pandas").Timestamp(T0))
pytestmark = pytest.mark.slow


def _bars(exchange: str, hours, source: str, symbol: str, long_usd: float, interval="1h"):
    rows = [(x, exchange, long_usd, 1.0, symbol) for x in hours]
    return liquidation_bars(rows, t0=at(0), source=source, interval=interval)


@pytest.fixture
def store(tmp_path) -> Path:
    data = tmp_path / "raw"
    s = Store(data)
    s.write("liquidation_bars", _bars("binanceusdm", range(12), "coinalyze", USDM, 100.0))
    s.write("liquidation_bars", _bars("binanceusdm", [2, 3, 4], "ccxt.pro:binanceusdm", USDM, 7.0))
    s.write("liquidation_bars", _bars("binancecoinm", range(8), "coinalyze", COINM, 10.0))
    s.write("liquidation_bars", _bars("okx", range(10), "ccxt:okx", "BTC/USDT:USDT", 1.0))
    return data


def report(data: Path, out: Path, *params: str) -> int:
    argv = ["report", "--data-dir", str(data), "--out", str(out), "--notebooks", str(NOTEBOOKS),
            "--jobs", "1", "-p", f"start={T0}", "-p", "end=2024-01-01T12:00:00+00:00"]  # fmt: skip
    for p in params:
        argv += ["-p", p]
    return main(argv)


def figures(out: Path, day: str = DAY) -> dict:
    summary = json.loads((out / day / "summary.json").read_text())
    return {k: v["value"] for k, v in summary["notebooks"]["01_data"]["figures"].items()}


def test_the_banner_lists_each_venue_with_its_sources_and_shares(store, tmp_path, capsys):
    out = tmp_path / "reports"
    assert report(store, out) == 0, capsys.readouterr().err
    assert "NO DATA" not in capsys.readouterr().err
    page = (out / DAY / "01_data.html").read_text()
    banner = re.search(r'<div class="liqnb-banner liqnb-sources".*?</table>.*?</div>', page, re.S)
    assert banner is not None
    text = visible_text(banner.group(0))
    assert "Binance\nCoinalyze 85%, recorded stream events 15%" in text
    assert "OKX\nexchange REST history 100%" in text
    assert "Observed: 83.3% of (venue, symbol) bars (30 of 36: 3 pairs x 12 bars)." in text
    shown = visible_text(page)
    assert "binanceusdm" not in shown and "binancecoinm" not in shown and "okx" not in shown
    # the figures: Binance's hours 2-4 from the recorded events, never added to Coinalyze's
    f = figures(out)
    assert f["long_usd_binanceusdm"] == 9 * 100.0 + 3 * 7.0
    assert f["long_usd_binance"] == 9 * 100.0 + 3 * 7.0 + 8 * 10.0
    assert f["top_long_venue"] == "Binance"
    summary = json.loads((out / DAY / "summary.json").read_text())
    assert summary["simulated"] is False


def test_hourly_bars_serve_a_4h_report_exactly(store, tmp_path, capsys):
    out = tmp_path / "reports"
    assert report(store, out, "interval=4h") == 0, capsys.readouterr().err
    f = figures(out)
    # 4h bars at 00, 04, 08: Binance USD-M's recorded hours 2-4 make no whole 4h bar, so
    # every USD-M 4h bar is Coinalyze's four hours (400); COIN-M has 00 and 04 (40 each);
    # OKX 00 and 04 (4 each) but not 08 (hours 10 and 11 missing): missing, never partial
    assert f["window_long_usd"] == 3 * 400.0 + 2 * 40.0 + 2 * 4.0
    assert f["long_usd_binance"] == 3 * 400.0 + 2 * 40.0
    assert f["long_usd_okx"] == 2 * 4.0
    assert f["partial_bars"] == 1 and f["missing_bars"] == 0  # 08:00: no COIN-M, no OKX
    page = visible_text((out / DAY / "01_data.html").read_text())
    assert "3 of 3 4h bars observed." in page
    assert "Binance\nCoinalyze 100%" in page


def test_an_empty_match_says_what_the_store_holds_on_the_command_and_the_page(
    store, tmp_path, capsys
):
    out = tmp_path / "reports"
    code = report(store, out, "start=2024-02-01T00:00:00+00:00", "end=2024-02-02T00:00:00+00:00")
    assert code == 0
    err = capsys.readouterr().err
    assert "warning: NO DATA: no liquidation data for 1h bars on every venue" in err
    assert "The store holds liquidation_bars at 1h for Binance COIN-M, Binance USD-M, OKX " in err
    assert "2024-01-01..2024-01-01" in err
    assert "Ask for a window inside 2024-01-01..2024-01-01." in err
    page = visible_text((out / "2024-02-01" / "01_data.html").read_text())
    # the banner says it all; the chart's place repeats what to change
    assert page.count("Ask for a window inside 2024-01-01..2024-01-01.") == 2
    assert "The store holds liquidation_bars at 1h" in page
    assert "Data sources" not in page


def test_an_interval_or_venue_nobody_stored_is_named_with_what_to_ask_for(store):
    s = Store(store)
    s.write("liquidation_bars", _bars("gate", [0, 4], "coinglass", "BTC/USDT:USDT", 5.0, "4h"))
    held = store_inventory(s)
    assert {(h.exchange, h.interval) for h in held} == {
        ("binancecoinm", "1h"), ("binanceusdm", "1h"), ("gate", "4h"), ("okx", "1h")}  # fmt: skip
    window = Window.of(T0, "2024-01-01T12:00:00+00:00", ["gate"], interval="1h")
    assert what_to_change(held, window) == ["interval=4h"]
    lines = no_data_lines(s, window)
    assert lines[0] == (
        "NO DATA: no liquidation data for 1h bars on Gate, 2024-01-01 00:00 to 2024-01-01 "
        "12:00 UTC."
    )
    assert "The store holds liquidation_bars at 1h for Binance COIN-M, Binance USD-M, OKX " \
           "2024-01-01..2024-01-01; at 4h for Gate 2024-01-01..2024-01-01." in lines  # fmt: skip
    assert lines[-1] == "Ask for interval=4h."
    nobody = Window.of(T0, "2024-01-01T12:00:00+00:00", ["bybit"])
    assert what_to_change(held, nobody) == [
        "exchanges=[binancecoinm, binanceusdm, gate, okx] (or exchanges=null for every venue)"
    ]
    eth = Window.of(T0, "2024-01-01T12:00:00+00:00", ["okx"], ["ETH/USDT:USDT"])
    assert what_to_change(held, eth) == [
        "symbols=[BTC/USDT:USDT] (or symbols=null for every symbol)"
    ]
    # 1h bars serve 4h: a 4h window on them needs no other interval, only a time inside
    later = Window.of("2024-03-01T00:00Z", "2024-03-02T00:00Z", ["okx"], interval="4h")
    assert what_to_change(held, later) == ["a window inside 2024-01-01..2024-01-01"]


def test_the_banner_in_a_real_browser(store, tmp_path, capsys, offline_page):
    out = tmp_path / "reports"
    assert report(store, out) == 0, capsys.readouterr().err
    page = offline_page.page
    page.goto((out / DAY / "01_data.html").as_uri())
    banner = page.locator(".liqnb-banner").first
    assert banner.is_visible()
    text = banner.inner_text()
    assert "Data sources" in text and "Binance" in text and "binanceusdm" not in text
    assert "Coinalyze 85%, recorded stream events 15%" in text.replace("\t", " ")
    assert "Observed: 83.3%" in text
    # at the top: above the key figures and below the page header
    key_figures = page.locator("table.liqnb-keyfigures").first
    assert banner.bounding_box()["y"] < key_figures.bounding_box()["y"]
    assert offline_page.blocked == []
