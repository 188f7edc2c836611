"""Tables for people: the analyses' tables (spike bars, venue coverage, clusters, liquidations
against open interest, funding) and the key figures, formatted as a page shows them, and the
CSV download of a long table beside the page."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from factories import coverage_gaps, hours_after, liquidation_bars, liquidations, win
from pagetext import table_cells

from helpers import present_downloads as dl
from helpers.metrics import clusters as cl
from helpers.metrics import imbalance as im
from helpers.metrics import outlook
from helpers.metrics import venues as vn
from helpers.metrics import worst_hour as wh
from helpers.present import format_value
from helpers.present_analysis import (
    clusters_table,
    coverage_table,
    funding_table,
    spike_table,
    spikes_by_venue_table,
    to_oi_table,
)
from helpers.present_tables import MISSING, styled_table
from helpers.units import fmt_usd, fmt_usd_sig

T0 = pd.Timestamp("2025-11-10 00:00", tz="UTC")
h = hours_after(T0)
_bars = partial(liquidation_bars, t0=T0, counts=0)
RAW_FLOAT = re.compile(r"\d[eE][+-]?\d|\d\.\d{5,}")
"""Scientific notation or more than 4 decimals: a float printed as Python prints it (the
report's pages are checked the same way in test_notebooks.py)."""


cells = table_cells


def assert_for_people(page: str) -> dict[str, list[str]]:
    """One table: no index column, no snake_case header, no raw float; its cells."""
    (t,) = cells(page)
    assert 'class="row_heading' not in page and "blank level0" not in page  # no index
    assert not [c for c in t["th"] if re.search(r"[a-z]_[a-z]", c)], t["th"]
    assert not [c for c in t["th"] + t["td"] if RAW_FLOAT.search(c)], t["td"]
    return t


def test_styled_table_formats_numbers_percent_and_missing():
    frame = pd.DataFrame(
        {
            "Venue": ["OKX", "Bybit"],
            "Longs": [36_012_345.678, np.nan],
            "Long share": [0.934, np.nan],
            "Big": [1.23e12, 4.5e-7],
        }
    )
    page = styled_table(frame, money=["Longs"], percent=["Long share"]).to_html()
    t = assert_for_people(page)
    assert t["th"] == ["Venue", "Longs", "Long share", "Big"]
    assert t["td"] == ["OKX", "$36,012,346", "93.4%", "1,230,000,000,000.00",
                       "Bybit", MISSING, MISSING, "0.00"]  # fmt: skip
    assert "0.934" not in page and ">0<" not in page


def test_spike_table_has_readable_headers_dollars_and_percent():
    t = im.imbalance_table(
        _bars([(0, "okx", 1e6, 0.0), (1, "okx", 1e6, 0.0), (2, "okx", 231.4e6, 4.3e6)]),
        win(T0, h(3)),
    )
    spikes = im.spike_bars(t, k=3, window=2, min_history=2)
    shown = spike_table(spikes, "01_page")
    cells_ = assert_for_people(shown.html)
    assert cells_["th"] == ["Bar open (UTC)", "Longs", "Shorts", "Long share", "Long threshold",
                            "Total threshold", "Rule fired", "Venues reporting"]  # fmt: skip
    row = cells_["td"]
    assert row[:4] == ["2025-11-10 02:00", "$231,400,000", "$4,300,000", f"{231.4 / 235.7:.1%}"]
    assert row[6:] == ["long + total", "1 of 1"]
    assert shown.csv is None and "liqnb-table-note" not in shown.html  # short: no download


def test_a_long_spike_table_shows_the_largest_and_links_all_of_them(tmp_path, monkeypatch):
    # every third bar a spike over two quiet ones, each larger than the one before
    rows = [(i, "okx", (i + 1) * 1e7 if i % 3 == 2 else 1e6, 0.0) for i in range(90)]
    spikes = im.spike_bars(im.imbalance_table(_bars(rows), win(T0, h(90))), k=3, window=2)
    assert len(spikes) == 30
    monkeypatch.setenv(dl.DOWNLOADS_ENV, str(tmp_path))
    shown = spike_table(spikes, "01_page")
    t = cells(shown.html)[0]
    assert len(t["td"]) == 25 * 8
    assert t["td"][0] == "2025-11-10 17:00"  # the 25 largest (bars 17, 20, ... 89) in time order
    saved = pd.read_csv(tmp_path / "01_page_spike_bars.csv")
    assert len(saved) == len(spikes) and shown.csv == "01_page_spike_bars.csv"


def test_coverage_table_counts_percent_and_missing_times():
    bars = _bars([(0, "okx", 1e6, 0.0), (1, "okx", 2e6, 0.0), (0, "bybit", 0.0, 1e6)])
    gaps = coverage_gaps([(1, 2, "bybit", None, "liquidations", "disconnected")])
    coverage = vn.venue_coverage(bars, gaps, win(T0, h(3), ["okx", "bybit", "gate"]))
    t = assert_for_people(coverage_table(coverage).html)
    assert t["th"][:4] == ["Venue", "Source", "First bar (UTC)", "Last bar (UTC)"]
    rows = {r[0]: dict(zip(t["th"], r, strict=True)) for r in np.reshape(t["td"], (3, -1))}
    assert rows["OKX"]["Observed share"] == f"{2 / 3:.1%}"  # 2 of 3 bars
    assert rows["Bybit"]["Gap reasons"] == "disconnected"
    assert rows["Bybit"]["Bars in recorded gaps"] == "1"
    gate = rows["Gate"]  # nothing reported: times missing, not 0 or NaT
    assert gate["First bar (UTC)"] == MISSING and gate["Last bar (UTC)"] == MISSING
    assert gate["Observed bars"] == "0" and gate["No-data bars"] == "3"


def test_clusters_table_shows_bins_distances_and_supports():
    events = liquidations([("long", 86_600.0, 5.2e7), ("short", 83_100.0, 4.3e7)])
    by_price = cl.liquidations_by_price(events, 250.0)
    supports = pd.DataFrame({"level": [82_036.19429, 86_398.4267]})
    top = cl.largest_clusters(by_price, 83_320.3193, supports, n=2)
    t = assert_for_people(clusters_table(top).html)
    first = dict(zip(t["th"], t["td"][: len(t["th"])], strict=True))
    assert first["Price bin"] == "$86,500\u00a0–\u00a0$86,750"  # never split
    assert first["Liquidated"] == "$52,000,000" and first["Shorts"] == "$0"
    assert first["From last price"] == "+$3,305"  # 86,625 - 83,320.32
    assert first["From last price (%)"] == f"{86_625 / 83_320.3193 - 1:+.2%}"
    assert first["Support below"] == "$86,398" and first["Support above"] == MISSING
    second = t["td"][len(t["th"]) :]
    assert "-$195" in second  # 83,125 - 83,320.32, below the price


def test_to_oi_table_keeps_the_top_rows_and_writes_the_full_csv_beside_the_page(
    tmp_path, monkeypatch
):
    hours = 30
    rows = [(i, "okx", 1e6 * (i + 1), 1e5) for i in range(hours)]
    bars = _bars(rows + [(i, "gate", 5e5 * (i + 1), 1e5) for i in range(hours)])
    grid = outlook.liquidations_on_grid(bars, win(T0, h(hours)))
    oi = pd.DataFrame(
        {
            "ts": [h(i) for i in range(hours) for _ in "ab"],
            "exchange": ["okx", "gate"] * hours,
            "symbol": "BTC/USDT:USDT",
            "oi_usd": 1e9,
            "source": "demo",
        }  # fmt: skip
    )
    to_oi = outlook.liquidations_to_oi(grid, oi)
    assert len(to_oi) == hours * 3
    monkeypatch.delenv(dl.DOWNLOADS_ENV, raising=False)
    alone = to_oi_table(to_oi, "05_page", top=5)  # exploration: no report folder, no file
    assert alone.csv is None and "when the report is rendered" in alone.html
    assert not list(tmp_path.iterdir())
    monkeypatch.setenv(dl.DOWNLOADS_ENV, str(tmp_path))
    shown = to_oi_table(to_oi, "05_page", top=5)
    t = assert_for_people(shown.html)
    assert len(t["td"]) == 5 * 5
    # OKX's last bar has the highest ratio: (30e6 + 0.1e6) / 1e9
    assert t["td"][:5] == ["2025-11-11 05:00", "OKX", "$30,100,000", "$1,000,000,000", "3.01%"]
    href = re.search(r'<a [^>]*href="([^"]+)"', shown.html)
    assert href is not None and href.group(1) == "05_page_liquidations_to_oi.csv"
    assert "/" not in href.group(1) and ":" not in href.group(1)  # relative, beside the page
    saved = pd.read_csv(tmp_path / href.group(1))
    assert len(saved) == len(to_oi) and list(saved.columns) == list(to_oi.columns)
    assert "Showing 5 of 90 rows" in shown.html


def test_funding_table_shows_rates_in_percent_per_period_and_annualised():
    funding = pd.DataFrame(
        {
            "ts": [h(0), h(8), h(16)],
            "exchange": "binanceusdm",
            "symbol": "BTC/USDT:USDT",
            "rate": [0.0001, 0.0003, np.nan],
            "source": "demo",
        }  # fmt: skip
    )
    t = assert_for_people(funding_table(outlook.funding_summary(funding)).html)
    row = dict(zip(t["th"], t["td"], strict=True))
    assert row["Venue"] == "Binance USD-M" and row["Period"] == "8 h"
    assert row["Mean rate per period"] == "0.0200%"  # (0.01% + 0.03%) / 2
    assert row["Last rate per period"] == "0.0300%"  # the last rate known
    assert row["Mean, annualised"] == f"{0.0002 * 3 * 365:.1%}"  # 3 periods a day


def test_csv_names_are_plain_file_names():
    assert dl.csv_name("05_what_to_watch", "liquidations_to_oi") == (
        "05_what_to_watch_liquidations_to_oi.csv"
    )
    with pytest.raises(ValueError, match="plain CSV"):
        dl.csv_name("../x", "y")


def test_a_downloads_dir_that_does_not_exist_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(dl.DOWNLOADS_ENV, str(tmp_path / "gone"))
    assert dl.write_csv(pd.DataFrame({"a": [1]}), "x.csv") is None
    assert not (tmp_path / "gone").exists()


def test_key_figures_show_the_digits_the_captions_quote():
    btc = 1_663_412_000_000.0
    assert format_value(btc, "USD") == fmt_usd_sig(btc) == "$1.66T"
    assert fmt_usd(btc) == "$1.7T"  # one decimal drops a digit the map shows
    assert format_value(335.62e9, "USD") == "$335.6B" == fmt_usd_sig(335.62e9)
    assert format_value(3.5e6, "USD") == "$3.50M"
    assert format_value(None, "USD") == "missing" and fmt_usd_sig(float("nan")) == "missing"
    assert format_value("2025-11-13T14:00:00+00:00", "UTC") == "2025-11-13 14:00 UTC"
    assert format_value(1.2e-5, "ratio") == "0.000012"  # never 1.2e-05
    assert format_value(14.649, "bars") == "14.6 bars"


def test_every_table_of_a_page_is_in_a_box_that_scrolls():
    page = Path(__file__).resolve().parents[1] / "src/helpers/templates/liqnb/index.html.j2"
    css = page.read_text()
    assert re.search(r"\.liqnb-table-box[^{]*\{[^}]*overflow-x:\s*auto", css)
    assert re.search(r"\.jp-OutputArea-output[^{]*\{[^}]*overflow-x:\s*auto", css)
    box = coverage_table(vn.venue_coverage(_bars([(0, "okx", 1.0, 0.0)]), None, win(T0, h(1))))
    assert box.html.startswith(f'<div class="{dl.BOX_CLASS}" style="{dl.BOX_STYLE}">')


def test_a_long_spike_by_venue_table_shows_the_largest_and_links_all(tmp_path, monkeypatch):
    rows = [(i, v, (i + 1) * 1e6, 1e3) for i in range(30) for v in ("okx", "gate")]
    rows = [r for r in rows if not (r[0] == 3 and r[1] == "gate")]  # gate missing in bar 3
    bars = _bars(rows)
    spikes = wh.spikes_by_venue(bars, win(T0, h(30), ["okx", "gate"]), [h(i) for i in range(30)])
    monkeypatch.setenv(dl.DOWNLOADS_ENV, str(tmp_path))
    short = spikes_by_venue_table(spikes.iloc[:5], "02_page")
    assert short.csv is None and MISSING in short.html  # gate's bar 3: missing, not $0
    shown = spikes_by_venue_table(spikes, "02_page", top=4)
    t = cells(shown.html)[0]
    assert [c for c in t["td"] if c.startswith("2025")] == [
        "2025-11-11 02:00", "2025-11-11 03:00", "2025-11-11 04:00", "2025-11-11 05:00"
    ]  # fmt: skip
    saved = pd.read_csv(tmp_path / "02_page_spike_bars_by_venue.csv")
    assert len(saved) == 30 and {"ts", "okx_long_usd", "gate_short_usd"} <= set(saved.columns)
    assert np.isnan(saved.loc[3, "gate_long_usd"])  # missing stays missing in the CSV
