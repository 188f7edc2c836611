"""``fetch: true`` pulls the window from every source (``helpers.pull``) and fails loudly:
the whole pull-and-render path against local Gate and HTX venue servers and a Coinalyze
server with its market catalog (``servers/pull_market.py`` lists what each serves)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from pagetext import visible_text
from servers.pull_market import (
    DATE,
    END,
    EXPECTED_LONG_USD,
    EXPECTED_SHORT_USD,
    GECKO_KEY,
    KEY,
    START,
    Market,
    closed_port,
)

from helpers.cli import main
from helpers.present import format_value
from helpers.pull import EXIT_NO_DATA
from helpers.report.summary import write_json_atomic

ROOT = Path(__file__).resolve().parents[1]
WINDOW_NOTEBOOK = ROOT / "tests" / "fixtures" / "notebooks" / "02_window.ipynb"
pytestmark = pytest.mark.slow


def report(tmp_path: Path, config: Path, notebooks: Path, *extra: str) -> int:
    data = tmp_path / "raw"
    data.mkdir(exist_ok=True)
    return main(
        ["report", "--config", str(config), "--data-dir", str(data),
         "--out", str(tmp_path / "reports"), "--notebooks", str(notebooks), "--jobs", "2",
         "--retries", "0", "--backoff", "0.01",
         "-p", "fetch=true", "-p", f"start={START}", "-p", f"end={END}", *extra]
    )  # fmt: skip


def window_only(tmp_path: Path) -> Path:
    """A notebooks folder holding only the fast fixture notebook."""
    folder = tmp_path / "nbs"
    folder.mkdir(exist_ok=True)
    shutil.copy(WINDOW_NOTEBOOK, folder)
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def earlier_report(out: Path, day: str = "2023-12-31", window: dict | None = None) -> None:
    """A published report folder and index, as an earlier run left them."""
    folder = out / day
    folder.mkdir(parents=True)
    (folder / "00_summary.html").write_text("<html>earlier report</html>")
    window = window or {"start": f"{day}T00:00:00+00:00", "end": "2024-01-01T00:00:00+00:00",
                        "exchanges": None, "symbols": None, "interval": "1h"}  # fmt: skip
    write_json_atomic(folder / "summary.json", {"report_date": day, "window": window})
    (out / "index.html").write_text(f'<a href="{day}/00_summary.html">{day}</a>')


@pytest.fixture
def market(monkeypatch):
    monkeypatch.setenv("COINGECKO_API_KEY", GECKO_KEY)
    with Market() as m:
        yield m


def test_pull_and_render_names_every_venue_with_the_served_figures(
    market, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("COINALYZE_API_KEY", KEY)
    code = report(tmp_path, market.config(tmp_path), ROOT / "notebooks")
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "coinalyze: ok, liquidation bars" in printed.out
    day = tmp_path / "reports" / DATE
    summary = json.loads((day / "summary.json").read_text())
    assert summary["simulated"] is False
    assert {"coinalyze", "ccxt:gate", "ccxt:htx"} <= set(summary["sources"])
    assert summary["pull"]["failed"] == []
    assert set(summary["pull"]["skipped"]) == {"collector"}

    venues = summary["notebooks"]["02_venue_breakdown"]["figures"]
    for venue, usd in EXPECTED_LONG_USD.items():
        assert venues[f"long_usd_{venue}"]["value"] == pytest.approx(usd), venue
    # Binance is one venue: its USD-M and COIN-M contracts, summed; the parts keep their keys
    binance = EXPECTED_LONG_USD["binanceusdm"] + EXPECTED_LONG_USD["binancecoinm"]
    assert venues["long_usd_binance"]["value"] == pytest.approx(binance)
    assert venues["long_usd_binance"]["label"] == "Longs liquidated on Binance"
    assert venues["long_usd_binancecoinm"]["label"] == "Longs liquidated on Binance COIN-M"
    assert venues["top_long_venue"]["value"] == "Binance"
    imbalance = summary["notebooks"]["01_liquidation_imbalance"]["figures"]
    # each venue's bars counted once: gate's Coinalyze bars (100 BTC an hour) never asked for
    assert imbalance["window_long_usd"]["value"] == pytest.approx(sum(EXPECTED_LONG_USD.values()))
    assert imbalance["window_short_usd"]["value"] == pytest.approx(sum(EXPECTED_SHORT_USD.values()))
    assert imbalance["worst_bar_ts"]["value"] == "2024-01-01T05:00:00+00:00"  # binance's spike

    page = (day / "02_venue_breakdown.html").read_text()
    shown = dict(
        re.findall(
            r'<tr data-figure="([^"]+)">.*?<td class="liqnb-value"[^>]*>([^<]*)</td>', page, re.S
        )
    )
    for venue, usd in EXPECTED_LONG_USD.items():
        assert shown[f"long_usd_{venue}"] == format_value(usd, "USD"), venue
    assert "INCOMPLETE DATA" not in page and "SIMULATED DATA" not in page
    # every page names venues as analysts do, never by ccxt class id, and has the banner
    for html_page in sorted(day.glob("*.html")):
        text = visible_text(html_page.read_text())
        assert "Binance" in text, html_page.name
        for ccxt_id in ("binanceusdm", "binancecoinm", "hyperliquid"):
            assert ccxt_id not in text, (html_page.name, ccxt_id)
        assert "Data sources" in text and "Observed:" in text, html_page.name
    banner = visible_text(page)
    assert "Binance\nCoinalyze 100%" in banner and "Hyperliquid\nCoinalyze 100%" in banner
    assert "Gate\nexchange REST history 100%" in banner
    for path in tmp_path.rglob("*"):
        if path.is_file():
            for key in (KEY, GECKO_KEY):
                assert key.encode() not in path.read_bytes(), path
    for key in (KEY, GECKO_KEY):
        assert key not in printed.out + printed.err


def test_every_source_failing_publishes_nothing_and_leaves_earlier_reports(
    market, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("COINALYZE_API_KEY", KEY)
    out = tmp_path / "reports"
    earlier_report(out)
    before = snapshot(out)
    market.fail_everything()
    config = market.config(tmp_path, htx_port=closed_port())

    code = report(tmp_path, config, ROOT / "notebooks")

    assert code == EXIT_NO_DATA
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: report {DATE} not written: every source failed")
    assert snapshot(out) == before  # byte for byte, and no new dated folder or staging
    assert sorted(p.name for p in out.iterdir()) == ["2023-12-31", "index.html"]


def test_no_liquidation_data_publishes_nothing(market, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COINALYZE_API_KEY", raising=False)
    market.gate.liquidations.clear()
    market.htx.linear.clear()
    code = report(tmp_path, market.config(tmp_path), window_only(tmp_path))
    assert code == EXIT_NO_DATA
    assert "not written: no liquidation data" in capsys.readouterr().err
    assert not (tmp_path / "reports" / DATE).exists()


def test_some_sources_failing_publish_with_a_banner_naming_them(
    market, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("COINALYZE_API_KEY", KEY)
    market.coinalyze.fail("/v1/", *[500] * 100)
    config = market.config(tmp_path, htx_port=closed_port())
    code = report(tmp_path, config, window_only(tmp_path))
    assert code == 0, capsys.readouterr().err
    day = tmp_path / "reports" / DATE
    summary = json.loads((day / "summary.json").read_text())
    assert summary["pull"]["failed"] == ["ccxt htx", "coinalyze"]
    states = {s["name"]: s["state"] for s in summary["pull"]["sources"]}
    assert states["ccxt gate"] == "ok" and states["coinalyze"] == "failed"
    page = (day / "02_window.html").read_text()
    strip = re.search(r'<div class="liqnb-strip liqnb-failed-sources"[^>]*>(.*?)</div>', page)
    assert strip is not None
    assert "INCOMPLETE DATA" in strip.group(1)
    assert "ccxt htx (failed)" in strip.group(1) and "coinalyze (failed)" in strip.group(1)
    assert "ccxt gate" not in strip.group(1)


def test_a_different_window_ending_the_same_day_is_refused_without_replace(
    market, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("COINALYZE_API_KEY", KEY)
    out = tmp_path / "reports"
    daily = {"start": "2024-01-01T00:00:00+00:00", "end": "2024-01-02T00:00:00+00:00",
             "exchanges": None, "symbols": None, "interval": "1h"}  # fmt: skip
    earlier_report(out, DATE, daily)
    before = snapshot(out)
    config = market.config(tmp_path)
    nbs = window_only(tmp_path)

    assert report(tmp_path, config, nbs) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pass --replace" in err[0] and "2024-01-02T00:00:00+00:00" in err[0]
    assert snapshot(out) == before
    assert market.coinalyze.hits == [] and market.gate.venue.requests == []  # nothing pulled

    assert report(tmp_path, config, nbs, "--replace") == 0
    summary = json.loads((out / DATE / "summary.json").read_text())
    assert (summary["window"]["start"], summary["window"]["end"]) == (START, END)
    assert report(tmp_path, config, nbs) == 0  # the same window again replaces its folder
