"""Claims tested against the window: measured values checked against numbers computed here
from the store's Parquet files with DuckDB (not through the helpers), missing data is
``no data`` (never a measured 0), and a malformed claim stops the report in one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from factories import T0, H, liquidation_bars

from helpers import cli
from helpers.dataset import Dataset
from helpers.metrics.claims import ClaimError, claims_analysis, parse_claims
from helpers.metrics.clusters_analysis import cluster_analysis
from helpers.metrics.imbalance_analysis import imbalance_analysis
from helpers.metrics.marketmap_analysis import market_analysis
from helpers.metrics.venues_analysis import venue_analysis
from helpers.present_claims import claims_frame, claims_styler
from helpers.report.params import load_params_file
from helpers.store import Store

ROOT = Path(__file__).resolve().parents[1]
START, END = "2025-11-10T00:00:00+00:00", "2025-11-17T00:00:00+00:00"
ARTICLE = ROOT / "params" / "article.yaml"
STABLE = ("USDT", "USDC", "DAI", "FDUSD", "USDE")
"""The stablecoins the issue names: never red (pegged), so not in the red share."""


def analysed(ds: Dataset, raw: object):
    """The claims as the summary notebook tests them."""
    imb = imbalance_analysis(ds)
    return claims_analysis(
        ds, raw, imb, venue_analysis(ds, imb.spikes), market_analysis(ds), cluster_analysis(ds)
    )


def claim(metric: str, op: str, value: object, **extra: object) -> dict[str, object]:
    return {"text": f"{metric} {op} {value}", "metric": metric, "op": op, "value": value, **extra}


# ---- the demo store, measured independently ----------------------------------------------
def _sql(store: Store, query: str) -> list[tuple]:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        for table in ("liquidations", "market_caps"):
            pattern = (store.root / table / "**" / "*.parquet").as_posix()
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM "
                f"read_parquet('{pattern}', hive_partitioning = true)"
            )
        return con.execute(query, [START, END]).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def independent(demo_store: Store) -> dict[str, float]:
    """Worst hour, its sides and venues, window totals and caps straight from the Parquet."""
    hourly = """
        WITH ev AS (SELECT * FROM liquidations
                    WHERE ts >= $1::TIMESTAMPTZ AND ts < $2::TIMESTAMPTZ),
        h AS (SELECT date_trunc('hour', ts) AS hour,
                     sum(notional_usd) FILTER (WHERE side = 'long') AS longs,
                     coalesce(sum(notional_usd) FILTER (WHERE side = 'short'), 0) AS shorts
              FROM ev GROUP BY 1),
        worst AS (SELECT * FROM h ORDER BY longs DESC, hour LIMIT 1)
        SELECT worst.longs, worst.shorts,
               (SELECT sum(notional_usd) FROM ev WHERE side = 'long'
                  AND date_trunc('hour', ts) = worst.hour
                  AND exchange IN ('binance', 'binanceusdm', 'binancecoinm')),
               (SELECT sum(notional_usd) FROM ev WHERE side = 'long'
                  AND date_trunc('hour', ts) = worst.hour AND exchange = 'hyperliquid'),
               (SELECT sum(notional_usd) FROM ev WHERE side = 'long'),
               (SELECT sum(notional_usd) FROM ev WHERE side = 'short'),
               (SELECT sum(notional_usd) FROM ev WHERE side = 'long' AND exchange = 'okx')
        FROM worst
    """
    caps = """
        WITH snap AS (SELECT * FROM market_caps WHERE ts = (
                 SELECT max(ts) FROM market_caps
                 WHERE ts >= $1::TIMESTAMPTZ AND ts < $2::TIMESTAMPTZ)),
        top10 AS (SELECT * FROM snap ORDER BY market_cap_usd DESC LIMIT 10),
        coins AS (SELECT * FROM top10 WHERE upper(symbol) NOT IN ({STABLE}))
        SELECT (SELECT market_cap_usd FROM snap WHERE symbol = 'BTC'),
               (SELECT market_cap_usd FROM snap WHERE symbol = 'ETH'),
               (SELECT count(*) FILTER (WHERE change_24h_pct < 0)
                       / count(change_24h_pct) FROM coins)
    """.replace("{STABLE}", ", ".join(f"'{s}'" for s in STABLE))
    (longs, shorts, binance, hyperliquid, w_long, w_short, okx) = _sql(demo_store, hourly)[0]
    btc, eth, red_share = _sql(demo_store, caps)[0]
    return {
        "worst_hour.longs_usd": longs,
        "worst_hour.shorts_usd": shorts,
        "worst_hour.venue_longs_usd[binance]": binance,
        "worst_hour.venue_longs_usd[hyperliquid]": hyperliquid,
        "window.longs_usd": w_long,
        "window.shorts_usd": w_short,
        "window.venue_longs_usd[okx]": okx,
        "market_cap_usd[BTC]": btc,
        "market_cap_usd[ETH]": eth,
        "caps.red_share[top=10]": red_share,
    }


@pytest.fixture(scope="module")
def demo(demo_store: Store) -> Dataset:
    return Dataset.open(str(demo_store.root), START, END)


def test_measured_values_are_the_stores_and_verdicts_follow(demo, independent):
    raw = []
    for metric, value in independent.items():
        raw += [
            claim(metric, "about", value, tolerance=1e-9),
            claim(metric, ">", value * (1 + 1e-9)),  # DuckDB may sum in another order
            claim(metric, ">=", value * (1 - 1e-9)),
            claim(metric, "<", value * 1.01 + 1),
        ]
    results = analysed(demo, raw)
    assert len(results) == len(raw)
    for r in results:
        want = independent[r.claim.written]
        assert r.measured == pytest.approx(want, rel=1e-9, abs=1e-6), r.claim.written
        assert r.simulated is True and r.kind == "realised"
    verdicts = [r.verdict for r in results]
    assert verdicts == ["supported", "not supported", "supported", "supported"] * len(independent)


def test_article_claims_on_the_simulated_week(demo, independent):
    results = analysed(demo, load_params_file(ARTICLE)["claims"])
    by_id = {r.claim.id: r for r in results}
    longs = independent["worst_hour.longs_usd"]
    assert by_id["worst-hour-longs"].verdict == ("supported" if longs > 230e6 else "not supported")
    shorts = independent["worst_hour.shorts_usd"]
    assert by_id["worst-hour-shorts"].verdict == ("supported" if shorts < 5e6 else "not supported")
    btc = independent["market_cap_usd[BTC]"]
    within = abs(btc - 1.71e12) <= 0.05 * 1.71e12
    assert by_id["btc-market-cap"].verdict == ("supported" if within else "not supported")
    red = independent["caps.red_share[top=10]"]
    assert by_id["large-caps-red"].verdict == ("supported" if red > 0.5 else "not supported")
    binance = independent["worst_hour.venue_longs_usd[binance]"]
    hyperliquid = independent["worst_hour.venue_longs_usd[hyperliquid]"]
    eth = independent["market_cap_usd[ETH]"]
    # the demo is calibrated to the article (docs/simulator.md): every claim holds on it
    article = {
        "worst-hour-longs": longs > 230e6,
        "worst-hour-shorts": shorts < 5e6,
        "binance-worst-hour-longs": abs(binance - 36e6) <= 0.15 * 36e6,
        "hyperliquid-worst-hour-longs": hyperliquid > 59e6,
        "worst-hour-shorts-all-venues": abs(shorts - 3.5e6) <= 0.15 * 3.5e6,
        "btc-market-cap": within,
        "eth-market-cap": abs(eth - 344e9) <= 0.05 * 344e9,
        "large-caps-red": red > 0.5,
    }
    assert article == dict.fromkeys(by_id, True), "the simulated week drifted from the article"
    assert {i: r.verdict for i, r in by_id.items()} == dict.fromkeys(by_id, "supported")
    assert {r.claim.page for r in results} == {
        "01_liquidation_imbalance",
        "02_venue_breakdown",
        "03_market_heatmap",
    }
    frame = claims_frame(results).set_index("Tested")
    assert frame.loc["worst_hour.longs_usd > $230M", "Measured"] == f"${longs / 1e6:.1f}M"
    assert frame.loc["market_cap_usd[BTC] about $1.71T (±5%)", "Measured"] == (
        f"${btc / 1e12:.2f}T"
    )
    assert frame.loc["caps.red_share[top=10] > 50%", "Measured"] == f"{red * 100:.1f}%"
    assert set(frame["Figure"]) == {"realised, SIMULATED"}


def test_the_estimated_metric_is_labelled_estimated(demo):
    (r,) = analysed(demo, [claim("support.exposed_longs_usd", ">", 0)])
    assert r.kind == "estimated" and r.measured is not None and r.measured > 0
    assert claims_frame([r])["Figure"].iloc[0] == "ESTIMATED, SIMULATED"


# ---- no data is never zero ----------------------------------------------------------------
def test_a_venue_absent_from_the_window_is_no_data_not_zero(demo):
    results = analysed(
        demo,
        [
            claim("worst_hour.venue_longs_usd[bitmex]", "<", 1),
            claim("window.venue_shorts_usd[bitmex]", "<=", 0),
            claim("worst_hour.venue_longs_usd[hyperliquid]", "<", "$1T"),
        ],
    )
    assert [r.verdict for r in results] == ["no data", "no data", "supported"]
    assert results[0].measured is None and results[1].measured is None
    assert results[0].note == "BitMEX has no data in the window"
    assert claims_frame(results)["Measured"].tolist()[:2] == ["missing", "missing"]


def test_a_venue_outside_the_selection_is_no_data(demo_store):
    ds = Dataset.open(str(demo_store.root), START, END, exchanges=["bybit"])
    results = analysed(ds, [claim("window.venue_longs_usd[hyperliquid]", "<", 1)])
    assert (results[0].verdict, results[0].measured) == ("no data", None)


def test_a_venue_silent_in_the_worst_bar_is_no_data(tmp_path):
    # okx reports only in hour 0, bybit only in hour 2 (the worst bar: 4 > 1)
    bars = liquidation_bars([(0, "okx", 1.0, 10.0), (2, "bybit", 4.0, 0.0)], source="vendor")
    Store(tmp_path).write("liquidation_bars", bars)
    ds = Dataset.open(str(tmp_path), T0.isoformat(), (T0 + 3 * H).isoformat())
    okx, bybit, shorts = analysed(
        ds,
        [
            claim("worst_hour.venue_longs_usd[okx]", "<", 1),
            claim("worst_hour.venue_longs_usd[bybit]", "about", 4),
            claim("worst_hour.shorts_usd", "<", 1),
        ],
    )
    assert (okx.verdict, okx.measured) == ("no data", None)
    assert okx.note == "OKX was not observed in the worst bar 2025-11-10 02:00 UTC"
    assert (bybit.verdict, bybit.measured) == ("supported", 4.0)
    assert (shorts.verdict, shorts.measured) == ("supported", 0.0), "observed zero is a zero"
    assert ds.simulated is False and okx.simulated is False


def test_an_empty_window_is_no_data_for_every_metric(demo_store):
    ds = Dataset.open(str(demo_store.root), "2026-01-01", "2026-01-02")
    raw = load_params_file(ARTICLE)["claims"] + [claim("window.longs_usd", "<", 1)]
    assert {r.verdict for r in analysed(ds, raw)} == {"no data"}


# ---- the table ----------------------------------------------------------------------------
def test_table_has_no_index_escapes_text_colours_verdicts_and_links(demo):
    results = analysed(
        demo,
        [
            claim("worst_hour.shorts_usd", "<", "$5M", text="Shorts <b>under</b> $5M & more"),
            claim("worst_hour.venue_longs_usd[bitmex]", ">", 0),
            claim("worst_hour.longs_usd", ">", "1T", page="05_what_to_watch"),
        ],
    )
    page = claims_styler(results).to_html()
    assert "row_heading" not in page and 'class="blank' not in page, "no index column"
    assert "Shorts &lt;b&gt;under&lt;/b&gt; $5M &amp; more" in page
    assert "<b>under</b>" not in page
    cells = re.findall(r'<td id="(T_claims_row\d_col3)"[^>]*>([^<]*)</td>', page)
    assert [text for _, text in cells] == ["supported", "no data", "not supported"]
    for (cell, _), colour in zip(cells, ("#e6f4ea", "#f1f3f4", "#fce8e6"), strict=True):
        rule = re.search(rf"#[^{{]*\b{cell}\b[^{{]*\{{([^}}]*)\}}", page)
        assert rule is not None and colour in rule[1], cell
    assert '<a href="01_liquidation_imbalance.html">Liquidation imbalance</a>' in page
    assert '<a href="05_what_to_watch.html">What to watch</a>' in page


# ---- validation ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([claim("worst_hour.long_usd", ">", 1)], "did you mean worst_hour.longs_usd?"),
        ([claim("worst_hour.longs_usd", "", 1)], "op is empty; quote it in YAML"),
        ([claim("worst_hour.longs_usd", "=", 1)], "unknown op '='; use one of >, <, >=, <=, about"),
        ([claim("worst_hour.longs_usd", ">", "lots")], "cannot read 'lots' as a number"),
        ([claim("caps.red_share", ">", "$5")], "'$5' is in dollars, but the metric is a fraction"),
        ([claim("window.longs_usd", ">", "5%")], "'5%' is a percent, but the metric is in USD"),
        ([claim("window.longs_usd", ">", 1, tolerance=0.1)], "tolerance applies to op about"),
        ([claim("window.longs_usd", "about", 1, tolerance=2)], "tolerance 2: a fraction from 0"),
        ([claim("market_cap_usd", ">", 1)], "market_cap_usd needs a coin: market_cap_usd[BTC]"),
        ([claim("caps.red_share[top=0]", ">", 0.5)], "bad argument [top=0] of caps.red_share"),
        ([{"metric": "window.longs_usd", "op": ">", "value": 1}], "claims[0]: text missing"),
        ([claim("window.longs_usd", ">", 1, source="x")], "claims[0]: unknown key source"),
        ([claim("window.longs_usd", ">", 1, id="a")] * 2, "claims[1] (a): id 'a' is used twice"),
        ({"metric": "window.longs_usd"}, "claims: expected a list"),
    ],
)
def test_malformed_claims_are_one_line_errors(raw, message):
    with pytest.raises(ClaimError) as err:
        parse_claims(raw)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_values_and_tolerances_in_the_article_forms():
    (a, b, c, d) = parse_claims(
        [
            claim("worst_hour.longs_usd", ">", "$230M"),
            claim("market_cap_usd[btc]", "about", "1.71T", tolerance="5%"),
            claim("worst_hour.venue_longs_usd[Binance]", "ABOUT", "36e6", tolerance="$5M"),
            claim("caps.red_share[10]", ">", "50%"),
        ]
    )
    assert (a.metric, a.value, a.tolerance, a.page) == (
        "worst_bar.longs_usd",
        230e6,
        None,
        "01_liquidation_imbalance",
    )
    assert (b.arg, b.value, b.tolerance.amount, b.tolerance.relative) == (
        "BTC",
        1.71e12,
        0.05,
        True,
    )
    assert (c.arg, c.op, c.value, c.tolerance.amount, c.tolerance.relative) == (
        "binance",
        "about",
        36e6,
        5e6,
        False,
    )
    assert (d.arg, d.value, d.id) == ("10", 0.5, "claim-4")


def _report(tmp_path: Path, params: str, *argv: str) -> int:
    path = tmp_path / "params.yaml"
    path.write_text(f"start: {START!r}\nend: {END!r}\n{params}")
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    return cli.main(
        ["report", "--params", str(path), "--data-dir", str(data), "--out",
         str(tmp_path / "reports"), *argv]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (
            "claims:\n  - {text: t, metric: worst_hour.lngs_usd, op: '>', value: 1}\n",
            "error: claims[0]: unknown metric 'worst_hour.lngs_usd' (did you mean",
        ),
        (
            "claims:\n  - text: t\n    metric: window.longs_usd\n    op: >\n    value: 1\n",
            "error: claims[0]: op is empty; quote it in YAML",
        ),
        (
            "claims:\n  - {text: t, metric: 'window.venue_longs_usd[binanse]', op: <, value: 1}\n",
            "error: claims[0] (claim-1): unknown venue 'binanse': not a venue family or ccxt",
        ),
        (
            "interval: 4h\nclaims:\n  - {text: t, metric: worst_hour.longs_usd, op: <, value: 1}\n",
            "worst_hour.longs_usd needs interval 1h, the report's is 4h; use worst_bar.longs_usd",
        ),
        (
            "claims:\n  - {text: t, metric: window.longs_usd, op: '>', value: 1, page: 09_x}\n",
            "page '09_x' is not a notebook of this report (known: 00_summary,",
        ),
        ("claims: {text: t}\n", "error: claims: 00_summary.ipynb expects a list"),
    ],
)
def test_a_malformed_claim_fails_the_report_in_one_line(tmp_path, capsys, claims, message):
    assert _report(tmp_path, claims, "--notebooks", str(ROOT / "notebooks")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert message in err
    assert not (tmp_path / "reports").exists()


def test_article_claims_reach_the_brief_only(tmp_path):
    from helpers.cli.options import add_common
    from helpers.cli.report import add_report_arguments
    from helpers.report import prepare

    parser = __import__("argparse").ArgumentParser()
    add_common(parser)
    add_report_arguments(parser)
    data = tmp_path / "data"
    plan = prepare(
        parser.parse_args(
            [
                "--params",
                str(ARTICLE),
                "--data-dir",
                str(data),
                "--notebooks",
                str(ROOT / "notebooks"),
            ]
        )  # fmt: skip
    )
    claims = load_params_file(ARTICLE)["claims"]
    assert plan.notebook_params["00_summary.ipynb"]["claims"] == claims
    assert all(
        "claims" not in p for nb, p in plan.notebook_params.items() if nb != "00_summary.ipynb"
    )


# ---- the report ---------------------------------------------------------------------------
@pytest.mark.slow
def test_summary_json_carries_the_claims_of_a_rendered_brief(article_report):
    # article_report is this report: params/article.yaml (its claims, its window, a demo:
    # block the filled store leaves alone) on a copy of the demo store
    article = load_params_file(ARTICLE)
    assert (article["start"], article["end"]) == (START, END)
    day = article_report
    data = day.parent.parent / "raw"  # the store the report read
    summary = json.loads((day / "summary.json").read_text())
    expected = [
        r.as_json() for r in analysed(Dataset.open(str(data), START, END), article["claims"])
    ]
    assert summary["claims"] == expected
    assert [c["id"] for c in summary["claims"]] == [c["id"] for c in article["claims"]]
    assert all(c["simulated"] and c["href"].endswith(".html") for c in summary["claims"])
    page = (day / "00_summary.html").read_text()
    assert 'class="liqnb-claims"' in page and "Claims tested against this window" in page
    assert "Most large caps were in the red over 24 hours" in page
    assert f"{len(article['claims'])} claims, tested in the brief" in page
