"""The real notebooks, rendered by the real report command on the simulated store.

The figures in summary.json are checked against numbers computed here by a different
path (pandas over the raw simulated events), so a notebook that shows a wrong number fails.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from pagetext import table_cells, visible_text
from report_run import render_article_report

from helpers import venues
from helpers.present import format_value

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store_copy(demo_store, tmp_path_factory) -> Path:
    dst = tmp_path_factory.mktemp("store") / "raw"
    shutil.copytree(demo_store.root, dst)
    return dst


def _report(data: Path | str, out: Path | str, *overrides: str) -> int:
    """``python -m helpers report`` with the article params on ``data`` into ``out``."""
    return render_article_report(data, out, *overrides)


def _figures(day: Path) -> dict:
    summary = json.loads((day / "summary.json").read_text())
    return {nb: v["figures"] for nb, v in summary["notebooks"].items()}


def test_every_notebook_renders_to_html(article_report):
    assert NOTEBOOKS[0] == "00_summary" and len(NOTEBOOKS) == 6
    for name in NOTEBOOKS:
        page = (article_report / f"{name}.html").read_text()
        assert "SIMULATED DATA" in page
        assert page.count("data:image/png;base64") >= 1, name  # the summary has its headline
    assert (article_report.parent / "index.html").is_file()


def test_worst_hour_matches_the_raw_events(article_report, article_market):
    ev = article_market.liquidations
    hourly = ev.assign(hour=ev["ts"].dt.floor("h")).pivot_table(
        index="hour", columns="side", values="notional_usd", aggfunc="sum", fill_value=0.0
    )
    worst = hourly["long"].idxmax()
    fig = _figures(article_report)["01_liquidation_imbalance"]
    assert fig["worst_bar_ts"]["value"] == worst.isoformat()
    assert fig["worst_bar_long_usd"]["value"] == pytest.approx(hourly.loc[worst, "long"], rel=1e-9)
    assert fig["worst_bar_short_usd"]["value"] == pytest.approx(
        hourly.loc[worst, "short"], abs=1e-6
    )
    assert fig["window_long_usd"]["value"] == pytest.approx(hourly["long"].sum(), rel=1e-9)
    assert fig["worst_bar_long_usd"]["unit"] == "USD"


def test_venue_totals_and_summary_agree_with_the_events(article_report, article_market):
    ev = article_market.liquidations
    longs = ev[ev.side == "long"].groupby("exchange")["notional_usd"].sum()
    figs = _figures(article_report)
    for venue, usd in longs.items():
        assert figs["02_venue_breakdown"][f"long_usd_{venue}"]["value"] == pytest.approx(usd)
        # every demo family has one contract venue: the family's total is that venue's
        family_total = figs["02_venue_breakdown"][f"long_usd_{venues.family(venue)}"]
        assert family_total["value"] == pytest.approx(usd)
        assert family_total["label"] == f"Longs liquidated on {venues.display_name(venue)}"
    top = venues.display_name(longs.idxmax())
    assert figs["02_venue_breakdown"]["top_long_venue"]["value"] == top
    brief = figs["00_summary"]
    assert brief["top_long_venue"]["value"] == top
    assert brief["worst_bar_long_usd"] == figs["01_liquidation_imbalance"]["worst_bar_long_usd"]


def test_market_caps_quoted_from_the_last_snapshot(article_report, article_market):
    caps = article_market.market_caps
    last = caps[caps.ts == caps.ts.max()].set_index("symbol")
    fig = _figures(article_report)["03_market_heatmap"]
    assert fig["btc_market_cap_usd"]["value"] == pytest.approx(last.loc["BTC", "market_cap_usd"])
    top = last.nlargest(30, "market_cap_usd")
    coins = top[~top.index.str.upper().isin(["USDT", "USDC", "DAI", "FDUSD", "USDE"])]
    assert len(coins) < len(top), "the demo's top 30 holds stablecoins"
    assert fig["red_count"]["value"] == int((coins["change_24h_pct"] < 0).sum())


def test_estimated_and_realised_are_labelled(article_report):
    figs = _figures(article_report)["04_clusters_support"]
    assert figs["exposed_long_usd_below_support"]["kind"] == "estimated"
    assert figs["realised_long_usd"]["kind"] == "realised"
    page = (article_report / "04_clusters_support.html").read_text()
    assert "ESTIMATED" in page and "REALISED" in page


def test_final_thoughts_follow_the_numbers(article_report):
    page = (article_report / "00_summary.html").read_text()
    figs = _figures(article_report)["00_summary"]
    dominance = figs["window_long_dominance_pct"]["value"]
    assert dominance > 60
    assert "Deleveraging was long-heavy" in page
    assert "Shorts were squeezed" not in page


def test_empty_window_renders_with_missing_not_zero(store_copy, tmp_path, capsys):
    code = _report(
        str(store_copy),
        str(tmp_path),
        "start=2026-01-01T00:00:00+00:00",
        "end=2026-01-02T00:00:00+00:00",
    )
    assert code == 0
    day = tmp_path / "2026-01-01"
    # the command and every page say what the store holds and what to change
    err = capsys.readouterr().err
    asked = "NO DATA: no liquidation data for 1h bars on every venue, 2026-01-01 00:00 to "
    assert f"warning: {asked}" in err
    hint = "Ask for a window inside 2025-11-10..2025-11-16."
    assert hint in err
    for name in NOTEBOOKS:
        text = visible_text((day / f"{name}.html").read_text())
        assert asked in text and hint in text, name
        assert "The store holds liquidation_bars at 1h for Binance USD-M, Bybit" in text, name
    imbalance = (day / "01_liquidation_imbalance.html").read_text()
    assert imbalance.count('src="data:image/png') == 0  # no empty charts: what to change
    assert visible_text(imbalance).count(hint) == 4  # the banner and the three charts' places
    figs = _figures(day)
    assert figs["01_liquidation_imbalance"]["worst_bar_long_usd"]["value"] is None
    assert figs["01_liquidation_imbalance"]["missing_bars"]["value"] == 24
    assert figs["03_market_heatmap"]["btc_market_cap_usd"]["value"] is None
    assert "No liquidation data was observed" in (day / "00_summary.html").read_text()


def test_report_pages_in_a_real_browser(article_report, offline_page):
    page = offline_page.page
    page.goto((article_report / "01_liquidation_imbalance.html").as_uri())
    assert page.get_by_text("SIMULATED DATA").first.is_visible()
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) >= 3 and all(w > 0 for w in widths)
    page.goto((article_report / "00_summary.html").as_uri())
    page.get_by_text("Liquidation imbalance").first.click()
    assert page.url.endswith("01_liquidation_imbalance.html")
    assert offline_page.blocked == []


def test_article_params_fill_an_empty_store_with_the_demo_market(tmp_path):
    # the fill comes before any notebook, so the brief alone (it declares every parameter and
    # runs every notebook's analysis) shows it; the six pages over the same simulated market
    # are article_report's
    one = tmp_path / "one-notebook"
    one.mkdir()
    shutil.copy(ROOT / "notebooks" / "00_summary.ipynb", one)
    data = tmp_path / "raw"
    data.mkdir()
    args = (str(data), str(tmp_path / "reports"), "end=2025-11-11T00:00:00+00:00")
    assert render_article_report(*args, notebooks=one) == 0
    summary = json.loads((tmp_path / "reports" / "2025-11-10" / "summary.json").read_text())
    assert summary["simulated"] is True and summary["sources"] == ["demo"]
    assert summary["notebooks"]["00_summary"]["figures"]["worst_bar_long_usd"]["value"] > 0
    stamp = sorted(p.stat().st_mtime_ns for p in data.rglob("liquidations/**/part.parquet"))
    assert stamp
    again_args = (str(data), str(tmp_path / "again"), "end=2025-11-11T00:00:00+00:00")
    assert render_article_report(*again_args, notebooks=one) == 0
    again = sorted(p.stat().st_mtime_ns for p in data.rglob("liquidations/**/part.parquet"))
    assert again == stamp, "a store that holds liquidations is never re-simulated"


def test_cluster_and_watch_figures_match_the_raw_events(article_report, article_market):
    ev = article_market.liquidations
    longs = ev[ev.side == "long"]
    figs = _figures(article_report)
    btc_long = longs.loc[longs.base == "BTC", "notional_usd"].sum()
    assert figs["04_clusters_support"]["realised_long_usd"]["value"] == pytest.approx(btc_long)
    hourly = longs.groupby(longs["ts"].dt.floor("h"))["notional_usd"].sum()
    watch = figs["05_what_to_watch"]
    top_share = 100 * hourly.max() / hourly.sum()
    assert watch["top_bar_share_pct"]["value"] == pytest.approx(top_share)
    assert watch["deleveraging_shape"]["value"] == ("single" if top_share >= 50 else "staged")
    hhi = ((hourly / hourly.sum()) ** 2).sum()
    assert watch["effective_bars"]["value"] == pytest.approx(1 / hhi)


GOLDEN = ROOT / "tests" / "golden" / "article_seed7_summary.json"


RAW_FLOAT = re.compile(r"\d[eE][+-]?\d|\d\.\d{5,}")
"""Scientific notation (``5.18e+07``) or more than 4 decimals (``0.004087``)."""


def test_every_table_is_formatted_and_long_ones_link_their_full_csv(article_report):
    csvs = []
    for name in NOTEBOOKS:
        page = (article_report / f"{name}.html").read_text()
        body = page.split('<div class="liqnb-footer">')[0]  # the parameters as given
        assert 'class="dataframe' not in body, name  # no raw DataFrame display
        for table in table_cells(body):
            raw = [c for c in table["th"] + table["td"] if RAW_FLOAT.search(c)]
            assert not raw, f"{name}: {raw[:3]}"
            snake = [c for c in table["th"] if re.search(r"[a-z]_[a-z]", c)]
            assert not snake, f"{name}: {snake}"
        csvs += [(name, href) for href in re.findall(r'<a [^>]*href="([^"]+\.csv)"', body)]
    assert ("05_what_to_watch", "05_what_to_watch_liquidations_to_oi.csv") in csvs
    for name, href in csvs:
        assert "/" not in href and ":" not in href, href  # relative: beside the page
        full = pd.read_csv(article_report / href)
        shown = re.search(r"Showing ([\d,]+) of ([\d,]+) rows", visible_text(
            (article_report / f"{name}.html").read_text()))  # fmt: skip
        assert shown is not None and int(shown.group(2).replace(",", "")) == len(full)
        assert int(shown.group(1).replace(",", "")) < len(full)


def test_the_btc_cap_has_the_same_digits_in_key_figures_and_caption(article_report):
    fig = _figures(article_report)["03_market_heatmap"]["btc_market_cap_usd"]
    shown = format_value(fig["value"], fig["unit"])
    assert re.fullmatch(r"\$\d\.\d\dT", shown)  # $1.66T, not $1.7T
    text = visible_text((article_report / "03_market_heatmap.html").read_text())
    assert f"BTC {shown}," in text  # the caption
    assert text.count(shown) >= 2  # and the key figures


def _same(actual: object, expected: object) -> bool:
    """Equal, with floats equal to 1e-9 relative (DuckDB may sum in another order)."""
    if isinstance(expected, float) and isinstance(actual, float):
        return actual == pytest.approx(expected, rel=1e-9, abs=1e-9)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return actual.keys() == expected.keys() and all(
            _same(actual[k], expected[k]) for k in expected
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(map(_same, actual, expected))
    return actual == expected


def test_article_summary_is_the_golden_one(article_report):
    """Every figure of the demo report's summary.json, as it was before the layout change
    (issue 7). A change of behaviour must update ``tests/golden/`` on purpose: render
    ``make report`` and run ``python tests/golden/update.py reports/2025-11-16/summary.json``."""
    golden = json.loads(GOLDEN.read_text())
    summary = json.loads((article_report / "summary.json").read_text())
    for key in ("window", "simulated", "sources"):
        assert summary[key] == golden[key], key
    figures = {nb: v["figures"] for nb, v in summary["notebooks"].items()}
    assert figures.keys() == golden["figures"].keys()
    for nb, expected in golden["figures"].items():
        assert figures[nb].keys() == expected.keys(), nb
        for name, want in expected.items():
            assert _same(figures[nb][name], want), f"{nb}.{name}: {figures[nb][name]} != {want}"
    assert [c["id"] for c in summary["claims"]] == [c["id"] for c in golden["claims"]]
    for got, want in zip(summary["claims"], golden["claims"], strict=True):
        assert _same(got, want), f"claim {want['id']}: {got} != {want}"
