"""Backtest of the ESTIMATED liquidation map against the REALISED liquidations that followed.

For each UTC day ``D`` whose next ``horizon`` (24 h) lies inside the window, the map of
:mod:`helpers.metrics.liquidation_map` is built with only what was known at ``D``: the
reference price bars before ``D`` (entry cohorts over the model's lookback), the open interest
at ``D`` and the model's leverage assumptions. It is then compared, price bin by price bin,
with the liquidation events of ``[D, D + horizon)``:

* **rank correlation** (Spearman) of estimated and realised notional over the bins the price
  actually traded through in the horizon (a level the price never reached cannot be hit);
* **top-bin share**: the share of the realised notional that fell in the map's ``top_bins``
  largest bins of that traded range (missing when the range has no more bins than that: a
  share of 1 would be trivial);
* **calibration** of "exposed below S": for each break level ``S = p0 * (1 - f)`` the price
  crossed (``p0`` the last close before ``D``), the estimated long notional in the bins from
  ``S`` down to ``max(S * (1 - depth), low)`` against the long notional realised there.

The same scores are computed for a naive **distance baseline**: each side's estimated total
spread over the bins on its side of ``p0``, out to the map's farthest bin, with weight ``1/k``
for the ``k``-th bin from the price (liquidations decreasing with distance from price). The
map earns its keep only where it beats that baseline, and the verdict says so plainly.

Money is US dollars; prices are in the quote currency. ``side`` is the liquidated position:
longs sit below the price, shorts above. Everything built from the model is ESTIMATED,
everything built from events REALISED; missing is NaN, never 0. When the open interest at
``D`` is missing the map's SHAPE is still scored (rank correlation and top-bin share do not
depend on its scale) but its calibration is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.metrics import clusters
from helpers.metrics.figures import num_or_none
from helpers.metrics.parameters import ClusterParameters

if TYPE_CHECKING:
    pass

_D = ClusterParameters()
HORIZON = pd.Timedelta("24h")
"""How far ahead a day's map is scored."""
TOP_BINS = 5
"""Bins of the map counted as its "top" buckets."""
BREAK_FRACTIONS: tuple[float, ...] = (0.01, 0.02, 0.03, 0.05)
"""Break levels ``S`` below the day's opening price, as fractions of it."""

DAY_COLUMNS = [
    "day", "p0", "low", "high", "oi_usd", "long_share", "realised_usd", "estimated_usd", "bins",
    "rank_corr_map", "rank_corr_baseline", "top_share_map", "top_share_baseline",
]  # fmt: skip
CALIBRATION_COLUMNS = [
    "day", "fraction", "level", "crossed", "price_low", "estimated_usd", "baseline_usd",
    "realised_usd",
]  # fmt: skip


@dataclass(frozen=True)
class BacktestResult:
    """Per-day scores (``days``), per break level calibration (``calibration``) and the
    window's scores (``scores``: name -> number or None), with the verdict in words."""

    base: str
    days: pd.DataFrame
    calibration: pd.DataFrame
    scores: dict[str, float | None]
    verdict: str
    model: str
    top_bins: int = TOP_BINS
    fractions: tuple[float, ...] = field(default=BREAK_FRACTIONS)
    bin_width: float = float("nan")
    """Price bin (quote currency) the scores were computed on."""


def scored_days(start: pd.Timestamp, end: pd.Timestamp, horizon: pd.Timedelta = HORIZON) -> list:
    """UTC midnights ``D`` with ``start <= D`` and ``D + horizon <= end``."""
    first = start.ceil("D")
    return [d for d in pd.date_range(first, end, freq="D") if d + horizon <= end]


def bin_of(price: float | np.ndarray, bin_width: float) -> np.ndarray:
    """Bin index ``floor(price / bin_width)`` as :mod:`helpers.metrics.clusters` bins prices."""
    return clusters._bin_index(np.atleast_1d(np.asarray(price, "float64")), bin_width, 0.0)


def traded_bins(low: float, high: float, bin_width: float) -> np.ndarray:
    """Every bin index from the one holding ``low`` to the one holding ``high``."""
    lo, hi = bin_of(low, bin_width)[0], bin_of(high, bin_width)[0]
    return np.arange(lo, hi + 1, dtype="int64")


def map_bins(est_map: pd.DataFrame, bin_width: float) -> pd.DataFrame:
    """An ESTIMATED map (:func:`liquidation_map.estimated_liquidation_map`) indexed by bin:
    columns ``long_usd``, ``short_usd``, ``total_usd``."""
    idx = bin_of(est_map["bin_mid"].to_numpy("float64"), bin_width)
    return est_map.set_index(pd.Index(idx, name="bin"))[["long_usd", "short_usd", "total_usd"]]


def distance_baseline(est: pd.DataFrame, p0: float, bin_width: float) -> pd.DataFrame:
    """The naive baseline beside a map indexed by bin (:func:`map_bins`): each side's total
    spread over the bins on its side of ``p0`` out to the map's farthest bin, weight ``1/k``
    for the ``k``-th bin away from the price (``k = 1`` for the bin holding ``p0``)."""
    here = int(bin_of(p0, bin_width)[0])
    lo, hi = min(int(est.index.min()), here), max(int(est.index.max()), here)
    bins = np.arange(lo, hi + 1, dtype="int64")
    out = pd.DataFrame(0.0, index=pd.Index(bins, name="bin"), columns=["long_usd", "short_usd"])
    for col, side_bins in (("long_usd", bins[bins <= here]), ("short_usd", bins[bins >= here])):
        weight = 1.0 / (np.abs(side_bins - here) + 1.0)
        out.loc[side_bins, col] = float(est[col].sum(skipna=False)) * weight / weight.sum()
    return out.assign(total_usd=out["long_usd"] + out["short_usd"])


def realised_bins(binned: pd.DataFrame) -> pd.DataFrame:
    """Per-bin REALISED notional from per-(bin, side) sums (:func:`helpers.aggregate.price_bins`):
    columns ``long_usd``, ``short_usd``, ``total_usd`` indexed by ``bin``."""
    wide = binned.pivot_table(index="bin", columns="side", values="usd", aggfunc="sum")
    wide = wide.reindex(columns=["long", "short"]).fillna(0.0)
    wide.columns = ["long_usd", "short_usd"]
    return wide.assign(total_usd=wide["long_usd"] + wide["short_usd"]).rename_axis("bin")


def rank_correlation(estimated: pd.Series, realised: pd.Series) -> float:
    """Spearman rank correlation of two per-bin series on the same bins; NaN when either is
    constant (nothing to rank) or there are fewer than three bins. (scipy.stats is imported
    here: it takes a second, which every ``python -m helpers`` command paid at start.)"""
    from scipy.stats import spearmanr

    if len(estimated) < 3 or estimated.nunique() < 2 or realised.nunique() < 2:
        return float("nan")
    return float(spearmanr(estimated.to_numpy(), realised.to_numpy()).statistic)


def top_share(estimated: pd.Series, realised: pd.Series, top: int) -> float:
    """Share of the realised notional in the ``top`` bins of ``estimated`` (ties: the lower
    bin first); NaN when nothing was realised."""
    total = float(realised.sum())
    if not total > 0:
        return float("nan")
    order = estimated.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    return float(realised.reindex(order.index[:top]).sum()) / total


def day_scores(
    est: pd.DataFrame, base: pd.DataFrame, real: pd.DataFrame, traded: np.ndarray, top: int
) -> dict[str, float]:
    on = pd.Index(traded, name="bin")
    e = est["total_usd"].reindex(on, fill_value=0.0)
    b = base["total_usd"].reindex(on, fill_value=0.0)
    r = real["total_usd"].reindex(on, fill_value=0.0)
    return {
        "estimated_usd": float(e.sum()),
        "bins": float(len(on)),
        "rank_corr_map": rank_correlation(e, r),
        "rank_corr_baseline": rank_correlation(b, r),
        "top_share_map": top_share(e, r, top) if len(on) > top else np.nan,
        "top_share_baseline": top_share(b, r, top) if len(on) > top else np.nan,
    }


def calibration_rows(
    day: pd.Timestamp,
    est: pd.DataFrame,
    base: pd.DataFrame,
    real: pd.DataFrame,
    p0: float,
    low: float,
    bin_width: float,
    fractions: Sequence[float] = BREAK_FRACTIONS,
    depth: float = _D.break_depth,
    scaled: bool = True,
) -> list[dict[str, object]]:
    """One row per break level ``S = p0 * (1 - f)``: ``crossed`` when the horizon's low went
    below ``S``; then the long notional ESTIMATED (map and baseline) and REALISED in the
    bins from ``max(S * (1 - depth), low)`` up to ``S``. Not crossed, or a map without a
    scale (``scaled=False``: open interest missing): NaN."""
    rows: list[dict[str, object]] = []
    for f in fractions:
        level = p0 * (1 - f)
        crossed = bool(low < level)
        floor = max(level * (1 - depth), low)
        bins = np.arange(bin_of(floor, bin_width)[0], bin_of(level, bin_width)[0] + 1)
        on = pd.Index(bins, name="bin")
        keep = crossed and scaled
        rows.append(
            {
                "day": day,
                "fraction": f,
                "level": level,
                "crossed": crossed,
                "price_low": floor if crossed else np.nan,
                "estimated_usd": est["long_usd"].reindex(on, fill_value=0.0).sum()
                if keep
                else np.nan,
                "baseline_usd": base["long_usd"].reindex(on, fill_value=0.0).sum()
                if keep
                else np.nan,
                "realised_usd": real["long_usd"].reindex(on, fill_value=0.0).sum()
                if crossed
                else np.nan,
            }
        )
    return rows


def window_scores(days: pd.DataFrame, calibration: pd.DataFrame) -> dict[str, float | None]:
    """The window's scores from per-day rows: mean rank correlations over the days that have
    one, realised-weighted top-bin shares, and calibration ratios (sum realised / sum
    estimated over crossed break levels; 1 is perfect) for map and baseline."""
    scored = days[days["realised_usd"] > 0]
    out: dict[str, float | None] = {"days_scored": float(len(scored))}
    for who in ("map", "baseline"):
        out[f"rank_corr_{who}"] = num_or_none(scored[f"rank_corr_{who}"].mean())
        weights = scored["realised_usd"]
        share = (
            (scored[f"top_share_{who}"] * weights).sum() / weights.sum() if len(scored) else np.nan
        )
        out[f"top_share_{who}"] = num_or_none(share)
    crossed = calibration.dropna(subset=["estimated_usd", "realised_usd"])
    for who, col in (("map", "estimated_usd"), ("baseline", "baseline_usd")):
        est = crossed[col].sum()
        out[f"calibration_{who}"] = num_or_none(
            crossed["realised_usd"].sum() / est if est > 0 else np.nan
        )
    out["levels_crossed"] = float(len(crossed))
    return out


def verdict(scores: Mapping[str, float | None]) -> str:
    """The plain sentence under the scores: where the map beats the distance baseline, and
    where it does not."""
    if not scores.get("days_scored"):
        return (
            "No day of the window has both a map and realised liquidation events: nothing to score."
        )
    wins: list[str] = []
    losses: list[str] = []
    for name, label in (("rank_corr", "rank correlation"), ("top_share", "top-bin share")):
        m, b = scores.get(f"{name}_map"), scores.get(f"{name}_baseline")
        if m is None or b is None:
            continue
        (wins if m > b else losses).append(label)
    m, b = scores.get("calibration_map"), scores.get("calibration_baseline")
    if m is not None and b is not None and m > 0 and b > 0:
        (wins if abs(np.log(m)) < abs(np.log(b)) else losses).append("calibration")
    if not wins and not losses:
        return "Too little overlap between the maps and the realised liquidations to compare."
    if not wins:
        text = (
            "The ESTIMATED map does no better than the naive distance baseline "
            f"({', '.join(losses)})."
        )
    elif not losses:
        text = f"The ESTIMATED map beats the naive distance baseline on {', '.join(wins)}."
    else:
        text = (
            f"The ESTIMATED map beats the naive distance baseline on {', '.join(wins)}, "
            f"but does no better on {', '.join(losses)}."
        )
    return text + _scale_note(m)


def _scale_note(ratio: float | None) -> str:
    """Where the map's dollars are off by more than 2x: by how much, in words."""
    if ratio is None or not ratio > 0 or 0.5 <= ratio <= 2:
        return ""
    how, times = ("overstate", 1 / ratio) if ratio < 1 else ("understate", ratio)
    return f" Its dollars {how} what was realised below crossed breaks about {times:,.0f}x."


def typed_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``day`` as UTC timestamps, ``crossed`` as booleans, every other column as floats, so an
    empty result has the same dtypes as a full one."""
    types = {c: "float64" for c in frame.columns if c not in ("day", "crossed")}
    types["day"] = "datetime64[us, UTC]"
    if "crossed" in frame.columns:
        types["crossed"] = "bool"
    return frame.astype(types)
