"""Notebook 04's backtest section and ``backtest-map``: the ESTIMATED map scored day by day on
a :class:`~helpers.dataset.Dataset` (scoring rules: :mod:`helpers.metrics.map_backtest`), and
the key figures ``summary.json`` carries.

Money in US dollars; shares as fractions; missing is None/NaN, never 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from helpers.dataset import Dataset
from helpers.metrics import clusters, liquidation_map
from helpers.metrics.figures import rows_of_base
from helpers.metrics.liquidation_map import LongShare
from helpers.metrics.map_backtest import (
    BREAK_FRACTIONS,
    CALIBRATION_COLUMNS,
    DAY_COLUMNS,
    HORIZON,
    TOP_BINS,
    BacktestResult,
    calibration_rows,
    day_scores,
    distance_baseline,
    map_bins,
    realised_bins,
    scored_days,
    traded_bins,
    typed_rows,
    verdict,
    window_scores,
)
from helpers.metrics.parameters import ClusterParameters
from helpers.metrics.price_heatmap import nice_bin_width
from helpers.present import KeyFigure

_D = ClusterParameters()
AUTO_BINS = 40
"""Bins over the window's price range when no bin width is given."""


def backtest_map(
    ds: Dataset,
    base: str = _D.base,
    bin_width: float | None = _D.bin_width,
    leverage_weights: Mapping[float, float] | None = None,
    long_share: float | LongShare | None = _D.long_share,
    mmr: float = _D.mmr,
    lookback: str = _D.lookback,
    break_depth: float = _D.break_depth,
    top_bins: int = TOP_BINS,
    fractions: Sequence[float] = BREAK_FRACTIONS,
) -> BacktestResult:
    """Score the ESTIMATED map of ``base`` day by day over ``ds``'s window (module docstring).

    The price path is the reference venue's bars (:func:`clusters.reference_bars`) read from
    ``lookback`` before the window, so the first day's map has its entry history.
    ``bin_width`` None picks a round width cutting the window's price range into about
    :data:`AUTO_BINS` bins (:func:`helpers.metrics.price_heatmap.nice_bin_width`), so a coin
    at $150 is not scored on $250 bins. ``long_share`` None takes, for each day, the long
    share of the realised liquidations in the ``lookback`` before it
    (:func:`day_long_share`): known at 00:00, nothing after it.
    """
    weights = dict(leverage_weights or _D.leverage_weights)
    hours = int(pd.Timedelta(lookback) / ds.window.step)
    history = ds.extended(hours)
    ohlcv = rows_of_base(history.ohlcv(), base)
    oi = rows_of_base(history.open_interest(), base)
    bars = rows_of_base(history.bars(), base)
    stated = LongShare(0.5, "") if long_share is None else long_share
    assumptions = liquidation_map.describe_model(
        float("nan"), ds.start, weights, lookback=lookback, long_share=stated, mmr=mmr
    ).split("; ", 1)[1]
    if long_share is None:
        assumptions = assumptions.replace(
            LongShare(0.5, "").text(),
            f"long share of open interest = the long share of realised liquidations in the "
            f"{lookback} before each day (50/50 when none)",
        )
    model = (
        "Model, not observed: built at each day's 00:00 UTC from the open interest then; "
        + assumptions
    )
    day_rows: list[dict[str, object]] = []
    cal_rows: list[dict[str, object]] = []
    if len(ohlcv):
        ref = clusters.reference_bars(ohlcv, history.window)
        grid = clusters.price_grid(ref, history.window)
        if bin_width is None:
            inside = grid[grid["ts"] >= ds.start]
            bin_width = nice_bin_width(
                float(inside["low"].min()), float(inside["high"].max()), AUTO_BINS
            )
        for day in scored_days(ds.start, ds.end):
            row, cal = _score_day(
                ds, grid, oi, day, base, bin_width, weights,
                day_long_share(long_share, bars, day, lookback), mmr, lookback,
                break_depth, top_bins, fractions,
            )  # fmt: skip
            day_rows.append(row)
            cal_rows.extend(cal)
    days = typed_rows(pd.DataFrame(day_rows, columns=DAY_COLUMNS))
    calibration = typed_rows(pd.DataFrame(cal_rows, columns=CALIBRATION_COLUMNS))
    scores = window_scores(days, calibration)
    return BacktestResult(
        base,
        days,
        calibration,
        scores,
        verdict(scores),
        model,
        top_bins,
        tuple(fractions),
        bin_width=float("nan") if bin_width is None else float(bin_width),
    )


def day_long_share(
    long_share: float | LongShare | None, bars: pd.DataFrame, day: pd.Timestamp, lookback: str
) -> LongShare:
    """The long share of open interest a day's map assumes: ``long_share`` when given, else
    the long fraction of the realised liquidation bars in ``[day - lookback, day)`` (50/50,
    said so, when none)."""
    if long_share is not None:
        return liquidation_map.resolve_long_share(long_share, float("nan"))
    prior = bars[(bars["ts"] >= day - pd.Timedelta(lookback)) & (bars["ts"] < day)]
    observed = liquidation_map.observed_long_share(prior)
    if pd.isna(observed):
        return LongShare(liquidation_map.FALLBACK_LONG_SHARE, "assumed: none realised before")
    return LongShare(observed, f"observed in the {lookback} before")


def _score_day(
    ds: Dataset,
    grid: pd.DataFrame,
    oi: pd.DataFrame,
    day: pd.Timestamp,
    base: str,
    bin_width: float,
    weights: Mapping[float, float],
    long_share: LongShare,
    mmr: float,
    lookback: str,
    break_depth: float,
    top_bins: int,
    fractions: Sequence[float],
) -> tuple[dict[str, object], list[dict[str, object]]]:
    before = grid[grid["ts"] < day]
    ahead = grid[(grid["ts"] >= day) & (grid["ts"] < day + HORIZON)]
    closes = before["close"].dropna()
    row: dict[str, object] = dict.fromkeys(DAY_COLUMNS, np.nan) | {"day": day}
    if closes.empty or ahead["low"].dropna().empty:
        return row, []
    p0, low, high = float(closes.iloc[-1]), float(ahead["low"].min()), float(ahead["high"].max())
    oi_usd = liquidation_map.total_open_interest_at(oi, day) if len(oi) else np.nan
    scaled = bool(np.isfinite(oi_usd))
    levels = liquidation_map.open_liquidation_levels(
        oi_usd if scaled else 1.0, before, day, weights,
        lookback=lookback, long_share=long_share, mmr=mmr,
    )  # fmt: skip
    binned = replace(ds, start=day, end=day + HORIZON, _cache={}).price_bins(base, bin_width)
    row |= {"p0": p0, "low": low, "high": high, "oi_usd": oi_usd, "long_share": long_share.share}
    if binned.empty:
        return row, []
    realised = realised_bins(binned)
    row["realised_usd"] = float(realised["total_usd"].sum())
    if levels.empty:
        return row, []
    est = map_bins(liquidation_map.estimated_liquidation_map(levels, bin_width, p0), bin_width)
    baseline = distance_baseline(est, p0, bin_width)
    scores = day_scores(est, baseline, realised, traded_bins(low, high, bin_width), top_bins)
    if not scaled:
        scores["estimated_usd"] = np.nan
    row |= scores
    cal = calibration_rows(
        day, est, baseline, realised, p0, low, bin_width, fractions, break_depth, scaled
    )
    return row, cal


def backtest_figures(r: BacktestResult) -> list[KeyFigure]:
    """The window's backtest scores as key figures (ESTIMATED: they score a model)."""
    s = r.scores
    rows = [
        ("backtest_days", "days_scored", "count", "Backtest: days scored"),
        ("backtest_rank_corr_map", "rank_corr_map", "ratio", "Backtest: rank correlation, map"),
        ("backtest_rank_corr_baseline", "rank_corr_baseline", "ratio",
         "Backtest: rank correlation, distance baseline"),
        ("backtest_top_share_map", "top_share_map", "fraction",
         f"Backtest: REALISED share in the map's top {r.top_bins} bins"),
        ("backtest_top_share_baseline", "top_share_baseline", "fraction",
         f"Backtest: REALISED share in the baseline's top {r.top_bins} bins"),
        ("backtest_calibration_map", "calibration_map", "ratio",
         "Backtest: REALISED / ESTIMATED below crossed breaks, map (1 = calibrated)"),
        ("backtest_calibration_baseline", "calibration_baseline", "ratio",
         "Backtest: REALISED / ESTIMATED below crossed breaks, baseline"),
    ]  # fmt: skip
    figures = [KeyFigure(n, s.get(key), unit, label, "estimated") for n, key, unit, label in rows]
    return [
        *figures,
        KeyFigure("backtest_verdict", r.verdict, "text", "Backtest verdict", "estimated"),
    ]
