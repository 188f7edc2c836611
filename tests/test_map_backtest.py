"""The ESTIMATED map's backtest: its scores recomputed independently from the raw events and
bars (numpy ranks, not scipy; per-event binning, not the store's price bins), on the demo
store and on real Binance liquidations where the real-data folder is present."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.dataset import Dataset
from helpers.metrics import liquidation_map
from helpers.metrics.map_backtest import (
    day_scores,
    distance_baseline,
    rank_correlation,
    top_share,
    verdict,
)
from helpers.metrics.map_backtest_analysis import backtest_figures, backtest_map
from helpers.metrics.parameters import ClusterParameters
from helpers.sources.demo import DemoMarket
from helpers.store import Store

P = ClusterParameters()
W = P.bin_width
START, END = "2025-11-10T00:00:00+00:00", "2025-11-17T00:00:00+00:00"


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra = pd.Series(a).rank(method="average").to_numpy()
    rb = pd.Series(b).rank(method="average").to_numpy()
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def _bins(prices: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(prices, "float64") / W + 1e-9).astype("int64")


def _reference(ohlcv: pd.DataFrame, interval: str) -> pd.DataFrame:
    btc = ohlcv[(ohlcv["symbol"].str.startswith("BTC/")) & (ohlcv["interval"] == interval)]
    counts = btc.groupby("exchange").size()
    venue = sorted(counts[counts == counts.max()].index)[0]
    return btc[btc["exchange"] == venue].sort_values("ts")


def independent_scores(
    events: pd.DataFrame,
    ohlcv: pd.DataFrame,
    oi: pd.DataFrame | None,
    days: list[pd.Timestamp],
    interval: str = "1h",
    top: int = 5,
    fractions: tuple[float, ...] = (0.01, 0.02, 0.03, 0.05),
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Every score of the backtest from raw rows, by hand."""
    ref = _reference(ohlcv, interval)
    step = pd.Timedelta(interval)
    btc = events[events["base"] == "BTC"]
    rows, cal = [], []
    for day in days:
        before = ref[(ref["ts"] >= day - pd.Timedelta("72h")) & (ref["ts"] < day)]
        ahead = ref[(ref["ts"] >= day) & (ref["ts"] < day + pd.Timedelta("24h"))]
        inside = btc[(btc["ts"] >= day) & (btc["ts"] < day + pd.Timedelta("24h"))]
        if before.empty or inside.empty:
            continue
        grid = before.set_index("ts")[["open", "high", "low", "close", "volume"]]
        grid = grid.reindex(
            pd.date_range(day - pd.Timedelta("72h"), day, freq=step, inclusive="left")
        )
        grid = grid.rename_axis("ts").reset_index()
        oi_usd = (
            liquidation_map.total_open_interest_at(oi[oi["symbol"].str.startswith("BTC/")], day)
            if oi is not None
            else np.nan
        )
        scaled = bool(np.isfinite(oi_usd))
        scale = oi_usd if scaled else 1.0
        prior = btc[(btc["ts"] >= day - pd.Timedelta("72h")) & (btc["ts"] < day)]
        longs = prior.loc[prior["side"] == "long", "notional_usd"].sum()
        prior_share = longs / prior["notional_usd"].sum() if len(prior) else 0.5
        levels = liquidation_map.open_liquidation_levels(
            scale, grid, day, P.leverage_weights, long_share=prior_share
        )
        p0 = float(before["close"].iloc[-1])
        low, high = float(ahead["low"].min()), float(ahead["high"].max())
        traded = np.arange(_bins([low])[0], _bins([high])[0] + 1)
        lv_bin = _bins(levels["liq_price"].to_numpy())
        est_long = (
            pd.Series(levels["notional_usd"].where(levels["side"] == "long", 0.0).to_numpy())
            .groupby(lv_bin)
            .sum()
        )
        est_all = pd.Series(levels["notional_usd"].to_numpy()).groupby(lv_bin).sum()
        ev_bin = _bins(inside["price"].to_numpy())
        real_all = pd.Series(inside["notional_usd"].to_numpy()).groupby(ev_bin).sum()
        real_long = (
            pd.Series(inside["notional_usd"].where(inside["side"] == "long", 0.0).to_numpy())
            .groupby(ev_bin)
            .sum()
        )
        # baseline: each side's total over its bins, weight 1/k from the price's bin outwards
        here = _bins([p0])[0]
        lo_b, hi_b = min(lv_bin.min(), here), max(lv_bin.max(), here)
        base_long, base_short = {}, {}
        long_total = levels.loc[levels["side"] == "long", "notional_usd"].sum()
        short_total = levels.loc[levels["side"] == "short", "notional_usd"].sum()
        below = list(range(lo_b, here + 1))
        above = list(range(here, hi_b + 1))
        wl = np.array([1 / (here - b + 1) for b in below])
        ws = np.array([1 / (b - here + 1) for b in above])
        for b, w in zip(below, wl / wl.sum(), strict=True):
            base_long[b] = long_total * w
        for b, w in zip(above, ws / ws.sum(), strict=True):
            base_short[b] = short_total * w
        e = np.array([est_all.get(b, 0.0) for b in traded])
        r = np.array([real_all.get(b, 0.0) for b in traded])
        bl = np.array([base_long.get(b, 0.0) + base_short.get(b, 0.0) for b in traded])

        def share(weights: np.ndarray, r: np.ndarray = r, traded: np.ndarray = traded) -> float:
            order = sorted(range(len(traded)), key=lambda i: (-weights[i], traded[i]))[:top]
            return float(r[order].sum() / r.sum())

        rows.append(
            {
                "day": day,
                "long_share": prior_share,
                "realised_usd": float(inside["notional_usd"].sum()),
                "rank_corr_map": _spearman(e, r),
                "rank_corr_baseline": _spearman(bl, r),
                "top_share_map": share(e),
                "top_share_baseline": share(bl),
            }
        )
        for f in fractions:
            s = p0 * (1 - f)
            if not low < s:
                continue
            span = range(_bins([max(s * (1 - P.break_depth), low)])[0], _bins([s])[0] + 1)
            cal.append(
                {
                    "est": sum(est_long.get(b, 0.0) for b in span) if scaled else np.nan,
                    "base": sum(base_long.get(b, 0.0) for b in span) if scaled else np.nan,
                    "real": sum(real_long.get(b, 0.0) for b in span),
                }
            )  # fmt: skip
    days_frame = pd.DataFrame(rows)
    c = pd.DataFrame(cal, columns=["est", "base", "real"]).dropna()
    w = days_frame["realised_usd"]
    scores = {
        "days_scored": float(len(days_frame)),
        "rank_corr_map": days_frame["rank_corr_map"].mean(),
        "rank_corr_baseline": days_frame["rank_corr_baseline"].mean(),
        "top_share_map": (days_frame["top_share_map"] * w).sum() / w.sum(),
        "top_share_baseline": (days_frame["top_share_baseline"] * w).sum() / w.sum(),
        "calibration_map": c["real"].sum() / c["est"].sum() if len(c) else np.nan,
        "calibration_baseline": c["real"].sum() / c["base"].sum() if len(c) else np.nan,
    }
    return days_frame, scores


def _check(result_days: pd.DataFrame, scores: dict, days: pd.DataFrame, expected: dict) -> None:
    mine = result_days.dropna(subset=["realised_usd"]).reset_index(drop=True)
    assert mine["day"].tolist() == days["day"].tolist()
    for col in days.columns.drop("day"):
        np.testing.assert_allclose(
            mine[col].to_numpy("float64"), days[col].to_numpy("float64"), rtol=1e-9, equal_nan=True
        )
    for name, value in expected.items():
        got = scores[name]
        if np.isnan(value):
            assert got is None, name
        else:
            assert got == pytest.approx(value, rel=1e-9), name


def test_scores_match_an_independent_computation_on_the_demo_store(
    demo_store: Store, article_market: DemoMarket
) -> None:
    ds = Dataset.open(str(demo_store.root), START, END)
    r = backtest_map(ds)
    tables = article_market.tables()
    days = list(pd.date_range(START, END, freq="D", inclusive="left"))
    expected_days, expected = independent_scores(
        tables["liquidations"], tables["ohlcv"], tables["open_interest"], days
    )
    assert len(expected_days) >= 5
    _check(r.days, r.scores, expected_days, expected)
    assert r.scores["levels_crossed"] and r.scores["levels_crossed"] > 0
    figures = {f.name: f for f in backtest_figures(r)}
    assert figures["backtest_rank_corr_map"].value == pytest.approx(expected["rank_corr_map"])
    assert {f.kind for f in figures.values()} == {"estimated"}


@pytest.mark.realdata
def test_backtest_runs_on_real_binance_liquidations(realdata: Path, tmp_path: Path) -> None:
    """Real BTCUSDT force orders of 2025-06-23 against Binance's real 4 h price bars: no open
    interest, so the map's shape is scored and its calibration is missing."""
    src = pd.read_csv(realdata / "binance_usdm_forceOrder_samples.csv")
    src = src[src["symbol"] == "BTCUSDT"]
    events = pd.DataFrame(
        {
            "ts": pd.to_datetime(src["trade_time_ms"], unit="ms", utc=True),
            "exchange": "binanceusdm",
            "symbol": "BTC/USDT:USDT",
            "base": "BTC",
            "side": src["liquidated_position"].to_numpy(),
            "price": src["average_price"].fillna(src["price"]).to_numpy(),
            "amount": src["filled_accumulated_quantity"].to_numpy(),
            "notional_usd": src["notional_usd"].to_numpy(),
            "source": "binance:forceorder",
            "event_id": [f"real-{i}" for i in range(len(src))],
        }
    )
    bars = pd.read_csv(realdata / "coinglass_binance_BTCUSDT_perp_ohlc_4h.csv")
    ohlcv = pd.DataFrame(
        {
            "ts": pd.to_datetime(bars["time_utc"], utc=True),
            "interval": "4h",
            "exchange": "binanceusdm",
            "symbol": "BTC/USDT:USDT",
            "open": bars["open"],
            "high": bars["high"],
            "low": bars["low"],
            "close": bars["close"],
            "volume": bars["volume_usd"] / bars["close"],  # base units, for entry weights only
            "source": "coinglass",
        }
    )
    start, end = pd.Timestamp("2025-06-21", tz="UTC"), pd.Timestamp("2025-06-26", tz="UTC")
    ohlcv = ohlcv[(ohlcv["ts"] >= start - pd.Timedelta("72h")) & (ohlcv["ts"] < end)]
    store = Store(tmp_path / "store")
    store.write("liquidations", events)
    store.write("ohlcv", ohlcv)
    assert len(store.read("liquidations")) == len(events) and len(store.read("ohlcv")) == len(ohlcv)
    ds = Dataset.open(str(store.root), str(start), str(end), interval="4h")
    r = backtest_map(ds)
    days = list(pd.date_range(start, end, freq="D", inclusive="left"))
    expected_days, expected = independent_scores(events, ohlcv, None, days, interval="4h")
    assert expected_days["day"].tolist() == [pd.Timestamp("2025-06-23", tz="UTC")]
    _check(r.days, r.scores, expected_days, expected)
    assert r.scores["calibration_map"] is None and r.days["estimated_usd"].isna().all()
    assert not ds.simulated


def test_distance_baseline_keeps_each_side_total_and_thins_with_distance() -> None:
    est = pd.DataFrame(
        {"long_usd": [10.0, 20.0, 0.0, 0.0], "short_usd": [0.0, 0.0, 0.0, 30.0]},
        index=pd.Index([96, 98, 100, 103], name="bin"),
    ).assign(total_usd=lambda f: f["long_usd"] + f["short_usd"])
    base = distance_baseline(est, p0=100 * W + 1, bin_width=W)
    assert base["long_usd"].sum() == pytest.approx(30.0)
    assert base["short_usd"].sum() == pytest.approx(30.0)
    assert base.index.min() == 96 and base.index.max() == 103
    longs = base.loc[96:100, "long_usd"].to_numpy()
    assert longs[-1] / longs[-2] == pytest.approx(2.0)  # 1/1 against 1/2
    assert (np.diff(longs) > 0).all() and base.loc[101:, "long_usd"].eq(0).all()


def test_rank_correlation_and_top_share_edge_cases() -> None:
    flat = pd.Series([1.0, 1.0, 1.0, 1.0])
    ramp = pd.Series([1.0, 2.0, 3.0, 4.0])
    assert np.isnan(rank_correlation(flat, ramp))
    assert rank_correlation(ramp, ramp[::-1].reset_index(drop=True)) == pytest.approx(-1.0)
    assert np.isnan(top_share(ramp, pd.Series([0.0] * 4), 2))
    assert top_share(ramp, pd.Series([5.0, 0.0, 0.0, 5.0]), 1) == pytest.approx(0.5)


def test_verdict_says_plainly_when_the_map_is_no_better() -> None:
    worse = {"days_scored": 3.0, "rank_corr_map": 0.1, "rank_corr_baseline": 0.3,
             "top_share_map": 0.2, "top_share_baseline": 0.4,
             "calibration_map": None, "calibration_baseline": None}  # fmt: skip
    assert verdict(worse).startswith("The ESTIMATED map does no better than the naive")
    mixed = worse | {"rank_corr_map": 0.5}
    assert "beats" in verdict(mixed) and "no better on top-bin share" in verdict(mixed)
    assert "nothing to score" in verdict({"days_scored": 0.0})
    over = mixed | {"calibration_map": 0.1, "calibration_baseline": 0.05}
    assert verdict(over).endswith("overstate what was realised below crossed breaks about 10x.")
    assert "understate" in verdict(mixed | {"calibration_map": 3.0, "calibration_baseline": 9.0})
    assert "stat" not in verdict(mixed | {"calibration_map": 1.5, "calibration_baseline": 9.0})


@pytest.fixture
def backtest_cli(run_helpers):
    """``python -m helpers backtest-map *args`` (in this process)."""
    return lambda *args: run_helpers("backtest-map", *args)


def test_cli_prints_scores_and_writes_json(demo_store: Store, tmp_path: Path, backtest_cli) -> None:
    out = tmp_path / "bt.json"
    done = backtest_cli(
        "--data-dir", str(demo_store.root), "--start", START, "--end", END, "--json", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("SIMULATED data. ESTIMATED BTC liquidation map")
    saved = json.loads(out.read_text())
    ds = Dataset.open(str(demo_store.root), START, END)
    assert saved["scores"] == pytest.approx(backtest_map(ds, bin_width=saved["bin_width"]).scores)
    assert saved["days"][0]["p0"] is None  # the first day has no price history: null, not 0
    assert saved["simulated"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data-dir", "/nonexistent/store"], "no store at /nonexistent/store"),
        (["--bin-width", "-5"], "bin width must be a positive price step"),
    ],
)
def test_cli_bad_input_is_one_line(
    demo_store: Store, args: list[str], message: str, backtest_cli
) -> None:
    base = ["--data-dir", str(demo_store.root), "--start", START, "--end", END]
    done = backtest_cli(*base, *args)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and message in done.stderr


def test_a_cheap_coin_gets_bins_that_fit_its_price(
    demo_store: Store, tmp_path: Path, backtest_cli
) -> None:
    """SOL at ~$150 on the default $250 BTC bins would sit in one bin: every score trivial.
    With no bin width the CLI picks one from the window's price range."""
    out = tmp_path / "sol.json"
    args = ["--start", START, "--end", END, "--base", "SOL", "--json", str(out)]
    done = backtest_cli("--data-dir", str(demo_store.root), *args)
    assert done.returncode == 0, done.stderr
    saved = json.loads(out.read_text())
    assert 0 < saved["bin_width"] <= 5
    assert saved["scores"]["rank_corr_map"] is not None
    assert f"${saved['bin_width']:,.6g} price bins" in done.stdout


def test_a_traded_range_no_wider_than_the_top_bins_has_no_top_share() -> None:
    est = pd.DataFrame({"long_usd": [5.0, 1.0], "short_usd": [0.0, 2.0]}, index=[10, 11])
    est = est.assign(total_usd=est["long_usd"] + est["short_usd"])
    real = est * 0.5
    scores = day_scores(est, est, real, np.arange(10, 12), top=5)
    assert np.isnan(scores["top_share_map"]) and np.isnan(scores["top_share_baseline"])
