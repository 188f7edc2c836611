"""Each notebook's analysis on a tiny hand-made store, including tables that are absent."""

from __future__ import annotations

import pytest
from factories import T0, H, liquidation_bars

from helpers.dataset import Dataset
from helpers.metrics import (
    clusters_analysis,
    imbalance_analysis,
    marketmap_analysis,
    outlook_analysis,
    summary_analysis,
    venues_analysis,
)
from helpers.store import Store


@pytest.fixture
def short_squeeze(tmp_path) -> Dataset:
    # hour 0: okx L=1 S=10, bybit L=2 S=20; hour 1: okx L=0 S=5; hour 2: bybit L=4 S=0
    # hour 3: no venue observed (missing)
    Store(tmp_path).write(
        "liquidation_bars",
        liquidation_bars(
            [
                (0, "okx", 1.0, 10.0),
                (0, "bybit", 2.0, 20.0),
                (1, "okx", 0.0, 5.0),
                (2, "bybit", 4.0, 0.0),
            ],
            source="vendor",
            validated=False,
        ),
    )
    return Dataset.open(str(tmp_path), T0.isoformat(), (T0 + 4 * H).isoformat())


def _values(figures):
    return {f.name: f.value for f in figures}


def test_imbalance_figures_are_the_hand_computed_ones(short_squeeze):
    r = imbalance_analysis.imbalance_analysis(short_squeeze, spike_k=5, spike_window=2)
    v = _values(imbalance_analysis.imbalance_figures(r))
    # worst long bar: hour 2 (bybit 4) vs hour 0 (1 + 2 = 3)
    assert v["worst_bar_ts"] == (T0 + 2 * H).isoformat()
    assert (v["worst_bar_long_usd"], v["worst_bar_short_usd"]) == (4.0, 0.0)
    assert v["worst_bar_long_short_ratio"] == float("inf")
    # L = 1 + 2 + 0 + 4 = 7, S = 10 + 20 + 5 + 0 = 35, dominance 7 / 42
    assert (v["window_long_usd"], v["window_short_usd"]) == (7.0, 35.0)
    assert v["window_long_dominance_pct"] == pytest.approx(100 * 7 / 42)
    # hour 1 only okx reported of two venues: partial; hour 3 nobody: missing
    assert (v["partial_bars"], v["missing_bars"]) == (2, 1)


def test_final_thoughts_say_what_the_numbers_say(short_squeeze):
    imb = imbalance_analysis.imbalance_analysis(short_squeeze, 5, 2)
    ven = venues_analysis.venue_analysis(short_squeeze, imb.spikes)
    mkt = marketmap_analysis.market_analysis(short_squeeze)
    clu = clusters_analysis.cluster_analysis(short_squeeze)
    out = outlook_analysis.outlook_analysis(short_squeeze)
    thoughts = summary_analysis.final_thoughts(imb, ven, mkt, clu, out)
    assert thoughts[0].startswith("Shorts were squeezed: only 16.7% of the $42")
    assert any("Bybit carried the most longs ($6" in t for t in thoughts)
    assert any("top two venues (Bybit, OKX)" in t for t in thoughts)
    assert any(t.startswith("Data caveat: 1 bars had no data and 2 were partial") for t in thoughts)
    assert not any("risk-off" in t for t in thoughts), "no market-cap data, no claim about it"
    assert not any("ESTIMATED" in t for t in thoughts), "no open interest, no estimate"


def test_absent_tables_give_missing_figures_not_zero(short_squeeze):
    m = _values(
        marketmap_analysis.market_figures(marketmap_analysis.market_analysis(short_squeeze))
    )
    assert m["btc_market_cap_usd"] is None and m["top_n"] == 0
    assert m["red_count"] is None and m["green_count"] is None, "no snapshot: unknown, not 0"
    c = _values(
        clusters_analysis.cluster_figures(clusters_analysis.cluster_analysis(short_squeeze))
    )
    assert c["last_price"] is None and c["exposed_long_usd_below_support"] is None
    label = next(
        f.label
        for f in clusters_analysis.cluster_figures(
            clusters_analysis.cluster_analysis(short_squeeze)
        )
    )
    assert label == "Asset analysed"
    exposure = [
        f
        for f in clusters_analysis.cluster_figures(
            clusters_analysis.cluster_analysis(short_squeeze, break_depth=0.05)
        )
        if f.name == "exposed_long_usd_below_support"
    ][0]
    assert exposure.label.endswith("by 5%")
    o = _values(outlook_analysis.outlook_figures(outlook_analysis.outlook_analysis(short_squeeze)))
    assert o["mean_funding_annualised_pct"] is None and o["stress_flag_last_bar"] is None


def test_venue_figures_split_by_exchange(short_squeeze):
    imb = imbalance_analysis.imbalance_analysis(short_squeeze, 5, 2)
    v = _values(
        venues_analysis.venue_figures(venues_analysis.venue_analysis(short_squeeze, imb.spikes))
    )
    assert (v["long_usd_okx"], v["long_usd_bybit"]) == (1.0, 6.0)
    assert v["top_long_venue"] == "Bybit"
    assert v["top_long_venue_share_pct"] == pytest.approx(100 * 6 / 7)


def test_summary_figures_are_copies_of_the_detail_figures(demo_store):
    ds = Dataset.open(str(demo_store.root), "2025-11-12T00:00:00Z", "2025-11-14T00:00:00Z")
    imb = imbalance_analysis.imbalance_analysis(ds)
    parts = (
        imb,
        venues_analysis.venue_analysis(ds, imb.spikes),
        marketmap_analysis.market_analysis(ds),
        clusters_analysis.cluster_analysis(ds),
        outlook_analysis.outlook_analysis(ds),
    )
    detail = {}
    for fn, r in zip(
        (
            imbalance_analysis.imbalance_figures,
            venues_analysis.venue_figures,
            marketmap_analysis.market_figures,
            clusters_analysis.cluster_figures,
            outlook_analysis.outlook_figures,
        ),
        parts,
        strict=True,
    ):
        detail.update(_values(fn(r)))
    summary = _values(summary_analysis.summary_figures(*parts))
    assert summary and all(detail[k] == v for k, v in summary.items())


@pytest.mark.parametrize(
    ("start", "end", "interval", "message"),
    [
        ("2025-11-10T00:00Z", "2025-11-10T00:00Z", "1h", "the window needs start < end"),
        ("not a date", "2025-11-10T00:00Z", "1h", "bad start/end"),
        ("2025-11-10T00:00Z", "2025-11-11T00:00Z", "2h", "unknown interval '2h'"),
    ],
)
def test_dataset_rejects_bad_parameters_in_one_line(tmp_path, start, end, interval, message):
    from helpers.errors import UserError

    with pytest.raises(UserError, match=message) as err:
        Dataset.open(str(tmp_path), start, end, interval=interval)
    assert "\n" not in str(err.value)


def test_extended_dataset_starts_earlier_and_reads_afresh(short_squeeze):
    wider = short_squeeze.extended(2)
    assert wider.start == T0 - 2 * H and wider.end == short_squeeze.end
    assert len(wider.bars()) == len(short_squeeze.bars()) == 4


def test_one_venue_is_not_called_a_top_two(tmp_path):
    Store(tmp_path).write(
        "liquidation_bars",
        liquidation_bars(
            [(0, "okx", 8.0, 2.0), (1, "okx", 0.0, 0.0)], source="vendor", validated=False
        ),
    )
    ds = Dataset.open(str(tmp_path), T0.isoformat(), (T0 + 2 * H).isoformat())
    imb = imbalance_analysis.imbalance_analysis(ds, 5, 2)
    thoughts = summary_analysis.final_thoughts(
        imb, venues_analysis.venue_analysis(ds, imb.spikes), marketmap_analysis.market_analysis(ds),
        clusters_analysis.cluster_analysis(ds), outlook_analysis.outlook_analysis(ds),
    )  # fmt: skip
    assert "OKX is the only venue with long liquidations ($8)." in thoughts
    assert thoughts[0].startswith("Deleveraging was long-heavy: 80.0% of the $10")


def test_dataset_reads_one_base_of_raw_events_for_exploration(demo_store, article_market):
    ds = Dataset.open(str(demo_store.root), "2025-11-13T14:00Z", "2025-11-13T15:00Z")
    btc = ds.events("BTC")
    ev = article_market.liquidations
    expected = ev[(ev.base == "BTC") & (ev.ts >= ds.start) & (ev.ts < ds.end)]
    assert len(btc) == len(expected) > 0 and set(btc["base"]) == {"BTC"}
    assert btc["notional_usd"].sum() == pytest.approx(expected["notional_usd"].sum())
