"""Spike bars: a bar far above the trailing median of the bars before it (median + k x MAD).

Reads an :func:`helpers.metrics.imbalance.imbalance_table`; missing bars are never tested
and never count as history. Money is in US dollars.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal, get_args

import numpy as np
import pandas as pd

from helpers.errors import UserError
from helpers.metrics.parameters import SpikeParameters

_D = SpikeParameters()
"""Defaults of the knobs (:mod:`helpers.metrics.parameters`)."""

SpikeRule = Literal["both", "long", "total", "either"]
SPIKE_RULES: tuple[str, ...] = get_args(SpikeRule)

MAD_NORMAL_SCALE = 1.4826
"""MAD x 1.4826 estimates the standard deviation of normally distributed data."""


def trailing_median_mad(
    values: pd.Series, window: int, mad_scale: float = MAD_NORMAL_SCALE
) -> pd.DataFrame:
    """Median, MAD x ``mad_scale`` and observed count of the ``window`` values BEFORE each one.

    The current value is excluded; NaN (missing) values in the trailing window are skipped and
    not counted. ``mad_scale`` = 1.4826 (default) makes the MAD comparable to a standard
    deviation; pass 1.0 for the raw median absolute deviation.
    """
    if window < 1:
        raise UserError(f"spike window must be at least 1 bar, got {window}")
    x = values.to_numpy(dtype="float64")
    padded = np.concatenate([np.full(window, np.nan), x])
    trailing = np.lib.stride_tricks.sliding_window_view(padded, window)[: len(x)]
    history = (~np.isnan(trailing)).sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(trailing, axis=1) if len(x) else np.empty(0)
        mad = np.nanmedian(np.abs(trailing - median[:, None]), axis=1) if len(x) else np.empty(0)
    return pd.DataFrame(
        {"history": history, "median": median, "mad": mad * mad_scale}, index=values.index
    )


def spike_scores(
    table: pd.DataFrame,
    k: float = _D.spike_k,
    window: int = _D.spike_window,
    min_history: int | None = None,
    mad_scale: float = MAD_NORMAL_SCALE,
    min_usd: float = 0.0,
    rule: SpikeRule = "both",
) -> pd.DataFrame:
    """The spike test for every bar of an :func:`helpers.metrics.imbalance.imbalance_table`.

    Test, for ``long_usd`` and for ``total_usd`` separately: the value is greater than
    median + ``k`` x MAD of the observed values in the ``window`` bars before it (the bar
    itself excluded; MAD scaled by ``mad_scale``, 1.4826 by default) AND greater than
    ``min_usd``. When every trailing value is equal the MAD is 0 and any value above the
    median passes; ``min_usd`` guards against calling a small bar after a flat stretch a spike.

    ``rule`` says which tests make a bar a spike: ``"both"`` (default: long AND total, a long
    liquidation spike that is also a spike of all liquidations), ``"long"``, ``"total"`` or
    ``"either"``.

    A bar is only tested when at least ``min_history`` of its trailing bars were observed
    (default: half the window, rounded up); otherwise its flags are <NA> and its ``status`` is
    ``"insufficient history"``. Missing bars have status ``"missing"``. To test the first bars
    of a window, build ``table`` from ``start - window x interval`` and slice the result.

    Columns: ``history`` (observed trailing bars), ``{long,total}_median``, ``..._mad``,
    ``..._threshold`` (USD), ``long_spike``, ``total_spike`` (nullable boolean) and
    ``status`` (``spike``, ``no spike``, ``insufficient history``, ``missing``).
    """
    if rule not in SPIKE_RULES:
        raise UserError(f"spike rule must be one of {SPIKE_RULES}, got {rule!r}")
    need = math.ceil(window / 2) if min_history is None else min_history
    if not 1 <= need <= window:
        raise UserError(f"min_history must be between 1 and the window ({window}), got {need}")
    out = pd.DataFrame(index=table.index)
    out["history"] = trailing_median_mad(table["total_usd"], window, mad_scale)["history"]
    tested = (out["history"] >= need) & ~table["missing"]
    for col in ("long", "total"):
        value = table[f"{col}_usd"]
        base = trailing_median_mad(value, window, mad_scale)
        threshold = base["median"] + k * base["mad"]
        hit = (value > threshold) & (value > min_usd)
        out[f"{col}_median"] = base["median"]
        out[f"{col}_mad"] = base["mad"]
        out[f"{col}_threshold"] = threshold
        out[f"{col}_spike"] = pd.array(
            hit.where(tested, pd.NA),  # type: ignore[call-overload]  # stubs: where() takes pd.NA
            dtype="boolean",
        )
    long_hit, total_hit = out["long_spike"].fillna(False), out["total_spike"].fillna(False)
    is_spike = {
        "both": long_hit & total_hit,
        "long": long_hit,
        "total": total_hit,
        "either": long_hit | total_hit,
    }[rule]
    status = np.select(
        [table["missing"].to_numpy(), ~tested.to_numpy(), is_spike.to_numpy()],
        ["missing", "insufficient history", "spike"],
        default="no spike",
    )
    out["status"] = pd.array(status, dtype="string")
    return out


def spike_bars(
    table: pd.DataFrame,
    k: float = _D.spike_k,
    window: int = _D.spike_window,
    min_history: int | None = None,
    mad_scale: float = MAD_NORMAL_SCALE,
    min_usd: float = 0.0,
    rule: SpikeRule = "both",
) -> pd.DataFrame:
    """The spike bars of :func:`spike_scores` as a table, one row per spike bar in time order.

    Columns: ``long_usd``, ``short_usd``, ``total_usd``, ``long_dominance`` (from ``table``),
    ``long_threshold``, ``total_threshold`` (USD), ``long_spike``, ``total_spike`` (which rule
    fired), ``history``, ``venues_reporting``, ``venues_expected``, ``pairs_reporting``,
    ``pairs_expected``, ``partial``.
    """
    scores = spike_scores(table, k, window, min_history, mad_scale, min_usd, rule)
    hit = scores["status"] == "spike"
    cols = ["long_usd", "short_usd", "total_usd", "long_dominance"]
    coverage = [
        "venues_reporting",
        "venues_expected",
        "pairs_reporting",
        "pairs_expected",
        "partial",
    ]
    fired = ["long_threshold", "total_threshold", "long_spike", "total_spike", "history"]
    parts = [table.loc[hit, cols], scores.loc[hit, fired], table.loc[hit, coverage]]
    return pd.concat(parts, axis=1)
