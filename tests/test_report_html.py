"""HTML export, summary collection, index page, publishing: hand-made notebooks, no kernel."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.present import MIME_KEYFIGURES, MIME_SOURCES, KeyFigure, key_figures_payload
from helpers.report import html, index, summary
from helpers.report.render import publish


def tiny_png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def executed_notebook() -> nbformat.NotebookNode:
    """What an executed report notebook looks like: banner, figure, key figures."""
    figures = [
        KeyFigure("long_usd", 231.4e6, "USD", "Long USD", "realised"),
        KeyFigure("exposed_usd", None, "USD", "Exposed below S", "estimated"),
    ]
    banner = new_output(
        "display_data",
        data={
            "text/html": '<div class="liqnb-banner">SIMULATED DATA: fixture</div>',
            "text/plain": "SIMULATED DATA",
            MIME_SOURCES: {"sources": ["demo"], "simulated": True},
        },
    )
    table = new_output(
        "display_data",
        data={
            "text/html": "<table class='liqnb-keyfigures'><tr><td>$231.4M</td></tr></table>",
            "text/plain": "Long USD: $231.4M",
            MIME_KEYFIGURES: key_figures_payload("01_x", figures),
        },
    )
    later = new_output(
        "display_data",
        data={
            "text/plain": "again",
            MIME_KEYFIGURES: key_figures_payload(
                "01_x", [KeyFigure("long_usd", 1.0, "USD", "Long USD", "realised")]
            ),
        },
    )
    image = new_output("display_data", data={"image/png": tiny_png(), "text/plain": "<Figure>"})
    dropped = new_code_cell("SECRET_REMOVED_CELL = 1", outputs=[])
    dropped.metadata["tags"] = ["remove-cell"]
    return new_notebook(
        cells=[
            new_markdown_cell("Intro without a heading.\n\n## Imbalance, hour by hour\n\ntext"),
            new_code_cell("SOME_CODE_MARKER = 1\nshow()", outputs=[banner, image]),
            new_code_cell("key_figures(...)", outputs=[table]),
            new_code_cell("key_figures(...)", outputs=[later]),
            dropped,
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )


PAGE = {"simulated": True, "report_date": "2025-11-16", "window": "w", "venues": "all venues"}


def test_page_is_self_contained_and_hides_code_and_raw_json(tmp_path):
    nb = executed_notebook()
    page = html.render_html(nb, show_code=False, page=PAGE, source_dir=tmp_path)
    assert html.external_references(page) == []
    assert "<script src" not in page and "MathJax" not in page and "require.js" not in page
    assert page.count('src="data:image/png;base64,') == 1
    assert "SOME_CODE_MARKER" not in page
    assert "SECRET_REMOVED_CELL" not in page
    assert "vnd.liqnb" not in page and '"figures"' not in page  # payload stays invisible
    assert "$231.4M" in page
    assert "<title>Imbalance, hour by hour</title>" in page
    body = page.split("<main>", 1)[1].lstrip()
    assert body.startswith('<div class="liqnb-strip liqnb-simulated"')


def test_show_code_keeps_code_but_still_drops_tagged_cells(tmp_path):
    page = html.render_html(executed_notebook(), show_code=True, page={}, source_dir=tmp_path)
    assert "SOME_CODE_MARKER" in page
    assert "SECRET_REMOVED_CELL" not in page
    assert "liqnb-strip" not in page.split("<body", 1)[1]  # no page context, no strip


def test_external_references_finds_assets_not_links():
    page = (
        '<a href="https://example.org">fine</a>'
        '<script src="https://cdn.example/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/f.css">'
        "<style>@import url('https://fonts.example/g.css');</style>"
        '<img src="data:image/png;base64,AAAA">'
    )
    found = html.external_references(page)
    assert len(found) == 3
    assert any("cdn.example" in f for f in found)
    assert any("//fonts.example/f.css" in f for f in found)


def test_collect_key_figures_and_sources():
    nb = executed_notebook()
    figures = summary.key_figures(nb)
    assert figures["long_usd"]["value"] == 1.0  # the later display wins
    assert figures["exposed_usd"] == {
        "value": None,
        "unit": "USD",
        "label": "Exposed below S",
        "kind": "estimated",
    }
    assert summary.sources(nb) == ["demo"]
    assert html.notebook_title(nb, "fallback") == "Imbalance, hour by hour"
    assert html.notebook_title(new_notebook(cells=[]), "fallback") == "fallback"


def test_summary_simulated_if_any_source_is_demo(tmp_path):
    entry = {"title": "t", "html": "a.html", "notebook": "a.ipynb", "figures": {}}
    real = summary.build_summary(
        report_date="2025-11-16",
        window={},
        parameters={},
        notebooks={"a": {**entry, "sources": ["okx"]}},
        store_sources=["bybit"],
    )
    assert real["simulated"] is False and real["sources"] == ["bybit", "okx"]
    assert "sources" not in real["notebooks"]["a"]
    mixed = summary.build_summary(
        report_date="2025-11-16",
        window={},
        parameters={},
        notebooks={"a": {**entry, "sources": ["okx"]}},
        store_sources=["demo"],
    )
    assert mixed["simulated"] is True
    path = tmp_path / "summary.json"
    summary.write_json_atomic(path, mixed)
    assert json.loads(path.read_text()) == mixed
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def write_report(out: Path, day: str, simulated: bool | None, pages: list[str]) -> None:
    folder = out / day
    folder.mkdir(parents=True)
    for stem in pages:
        (folder / f"{stem}.html").write_text("<html></html>")
    if simulated is not None:
        summary.write_json_atomic(
            folder / "summary.json",
            {
                "report_date": day,
                "window": {
                    "start": "2025-11-10T00:00:00+00:00",
                    "end": "2025-11-17T00:00:00+00:00",
                    "exchanges": ["okx"],
                    "symbols": None,
                    "interval": "1h",
                },
                "simulated": simulated,
                "sources": ["demo"] if simulated else ["okx"],
                "notebooks": {
                    s: {"title": f"Title {s}", "html": f"{s}.html", "figures": {}} for s in pages
                },
            },
        )


def test_index_lists_dated_reports_newest_first(tmp_path):
    write_report(tmp_path, "2025-11-14", None, ["old_page"])
    write_report(tmp_path, "2025-11-16", True, ["01_a", "02_b"])
    write_report(tmp_path, "2025-11-15", False, ["01_a"])
    (tmp_path / ".staging-2025-11-17-abcd").mkdir()
    (tmp_path / "notes").mkdir()
    page = index.write_index(tmp_path).read_text()
    days = re.findall(r'<section class="report" id="r-([^"]+)"', page)
    assert days == ["2025-11-16", "2025-11-15", "2025-11-14"]
    sections = dict(zip(days, page.split('<section class="report"')[1:], strict=True))
    assert "SIMULATED DATA" in sections["2025-11-16"]
    assert "SIMULATED DATA" not in sections["2025-11-15"]
    assert '<a href="2025-11-16/01_a.html">Title 01_a</a>' in sections["2025-11-16"]
    assert '<a href="2025-11-14/old_page.html">old_page</a>' in sections["2025-11-14"]
    assert "2025-11-10 00:00 to 2025-11-17 00:00 UTC" in sections["2025-11-15"]
    assert html.external_references(page) == [] and "http" not in page


def test_publish_swaps_folders(tmp_path):
    target = tmp_path / "2025-11-16"
    first = tmp_path / ".staging-1"
    first.mkdir()
    (first / "a.html").write_text("one")
    publish(first, target)
    assert (target / "a.html").read_text() == "one" and not first.exists()
    second = tmp_path / ".staging-2"
    second.mkdir()
    (second / "b.html").write_text("two")
    publish(second, target)
    assert sorted(p.name for p in target.iterdir()) == ["b.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-11-16"]


def test_store_sources_in_window_venues_and_symbols(tmp_path):
    import pandas as pd

    from helpers.report.render import store_sources
    from helpers.store import Store

    def event(ts: str, exchange: str, symbol: str, source: str, event_id: str) -> dict:
        return {
            "ts": pd.Timestamp(ts, tz="UTC"),
            "exchange": exchange,
            "symbol": symbol,
            "base": symbol.split("/")[0],
            "side": "long",
            "price": 100.0,
            "amount": 2.0,
            "notional_usd": 200.0,
            "source": source,
            "event_id": event_id,
        }

    Store(tmp_path).write(
        "liquidations",
        pd.DataFrame(
            [
                event("2025-11-10 05:00", "okx", "BTC/USDT:USDT", "tardis", "a"),
                event("2025-11-10 06:00", "bybit", "ETH/USDT:USDT", "ccxt:bybit", "b"),
                event("2025-11-17 00:00", "okx", "BTC/USDT:USDT", "vendor", "c"),  # at end: out
            ]
        ),
    )
    start, end = pd.Timestamp("2025-11-10", tz="UTC"), pd.Timestamp("2025-11-17", tz="UTC")
    assert store_sources(tmp_path, start, end) == ["ccxt:bybit", "tardis"]
    assert store_sources(tmp_path, start, end, exchanges=["bybit"]) == ["ccxt:bybit"]
    assert store_sources(tmp_path, start, end, symbols=["BTC/USDT:USDT"]) == ["tardis"]
    assert store_sources(tmp_path / "empty", start, end) == []
