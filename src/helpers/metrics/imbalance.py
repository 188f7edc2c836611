"""How one-sided liquidations are: long vs short US dollars per bar across venues.

Input is the canonical ``liquidation_bars`` table (:mod:`helpers.schema`): one row per
(ts, exchange, symbol) that was OBSERVED, a row of zeros when a venue was observed with no
liquidations, and no row at all when it was not observed. Laid on the window grid
(``start <= ts < end`` in steps of ``interval``), a bar where no requested venue has a row is
MISSING (NaN), never zero; a bar where only some venues reported is PARTIAL, and every table
here carries ``venues_reporting`` so the reader can see it.

Sides are the liquidated POSITION: ``long_usd`` is longs force-sold, ``short_usd`` shorts
force-bought. Money is in US dollars.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from helpers.errors import UserError
from helpers.timegrid import require_utc, window_grid

SpikeRule = Literal["both", "long", "total", "either"]
SPIKE_RULES: tuple[str, ...] = get_args(SpikeRule)

MAD_NORMAL_SCALE = 1.4826
"""MAD x 1.4826 estimates the standard deviation of normally distributed data."""


# ---- the window grid ----------------------------------------------------------------------
def bars_in_window(
    bars: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    interval: str = "1h",
    exchanges: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows of ``bars`` with this ``interval``, inside ``[start, end)``, on ``exchanges``.

    Rows of other intervals are ignored. A row whose ``ts`` is not a bar open time of the grid
    is an error (it would otherwise be silently dropped).
    """
    grid = window_grid(start, end, interval)
    s, e = grid[0], require_utc(end, "end")
    ts = bars["ts"]
    keep = (bars["interval"] == interval) & (ts >= s) & (ts < e)
    if exchanges is not None:
        keep &= bars["exchange"].isin(list(exchanges))
    rows = bars[keep.fillna(False).astype(bool)]
    off_grid = ~rows["ts"].isin(grid)
    if off_grid.any():
        first = rows.loc[off_grid, "ts"].iloc[0]
        raise ValueError(f"liquidation bar at {first} is not on the {interval} grid from {s}")
    return rows


def expected_venues(
    bars: pd.DataFrame, exchanges: Sequence[str] | None, interval: str | None = None
) -> list[str]:
    """The venues a window is expected to cover, sorted: ``exchanges`` if given, else every
    venue with a row in ``bars`` (of this ``interval`` when given), inside the window or not."""
    if exchanges is not None:
        return sorted(dict.fromkeys(exchanges))
    if interval is not None:
        bars = bars[(bars["interval"] == interval).fillna(False).astype(bool)]
    return sorted(str(x) for x in bars["exchange"].dropna().unique())


# ---- the per-bar table --------------------------------------------------------------------
def imbalance_table(
    bars: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    interval: str = "1h",
    exchanges: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Long vs short liquidations per bar, summed over venues and symbols, on the window grid.

    Indexed by bar open time ``ts`` (UTC), one row per grid bar. Columns:

    * ``long_usd``, ``short_usd``, ``total_usd`` (= long + short): US dollars, NaN when no
      venue reported in the bar.
    * ``net_usd``: long - short (positive: more longs than shorts were liquidated).
    * ``long_dominance``: long / (long + short), a fraction; NaN when long + short == 0 or the
      bar is missing.
    * ``venues_reporting``: venues with at least one row in the bar; ``venues_expected``: the
      requested ``exchanges`` (or every venue with a row of this interval anywhere in
      ``bars`` when None, so a venue silent for the whole window still counts).
    * ``missing`` (no venue reported), ``partial`` (some but not all venues reported).
    """
    grid = window_grid(start, end, interval)
    rows = bars_in_window(bars, start, end, interval, exchanges)
    expected = len(expected_venues(bars, exchanges, interval))
    by_ts = rows.groupby("ts", sort=True).agg(
        long_usd=("long_usd", "sum"),
        short_usd=("short_usd", "sum"),
        venues_reporting=("exchange", "nunique"),
    )
    out = by_ts.reindex(grid)
    out.index.name = "ts"
    out["long_usd"] = out["long_usd"].astype("float64")
    out["short_usd"] = out["short_usd"].astype("float64")
    out["venues_reporting"] = out["venues_reporting"].fillna(0).astype("int64")
    missing = out["venues_reporting"] == 0
    out.loc[missing, ["long_usd", "short_usd"]] = np.nan
    out["total_usd"] = out["long_usd"] + out["short_usd"]
    out["net_usd"] = out["long_usd"] - out["short_usd"]
    out["long_dominance"] = out["long_usd"] / out["total_usd"].where(out["total_usd"] > 0)
    out["venues_expected"] = expected
    out["missing"] = missing
    out["partial"] = (~missing) & (out["venues_reporting"] < expected)
    return out[
        [
            "long_usd",
            "short_usd",
            "total_usd",
            "net_usd",
            "long_dominance",
            "venues_reporting",
            "venues_expected",
            "missing",
            "partial",
        ]
    ]


def cumulative_sides(table: pd.DataFrame) -> pd.DataFrame:
    """Running totals of long and short US dollars over the window, from :func:`imbalance_table`.

    Missing bars add nothing: the running total is carried through them unchanged, and the
    ``missing`` column (copied from ``table``) says which bars they were. Before the first
    observed bar the running totals are NaN (nothing is known yet), not zero.
    """
    observed = ~table["missing"]
    seen = observed.cumsum() > 0
    out = pd.DataFrame(index=table.index)
    for side in ("long", "short"):
        running = table[f"{side}_usd"].fillna(0.0).cumsum()
        out[f"cum_{side}_usd"] = running.where(seen)
    out["missing"] = table["missing"]
    return out


# ---- window totals and the worst bar ------------------------------------------------------
@dataclass(frozen=True)
class WindowTotals:
    """Long and short US dollars over the observed bars of a window, with its coverage."""

    long_usd: float
    short_usd: float
    bars: int
    observed_bars: int
    partial_bars: int
    missing_bars: int
    venues_expected: int

    @property
    def total_usd(self) -> float:
        return self.long_usd + self.short_usd

    @property
    def long_share(self) -> float:
        """long / (long + short) over the window, a fraction; NaN when nothing was liquidated."""
        return self.long_usd / self.total_usd if self.total_usd > 0 else math.nan


def window_totals(table: pd.DataFrame) -> WindowTotals:
    """Sums over the observed bars of an :func:`imbalance_table`; NaN sums if none was observed."""
    observed = ~table["missing"]
    any_seen = bool(observed.any())
    return WindowTotals(
        long_usd=float(table["long_usd"].sum()) if any_seen else math.nan,
        short_usd=float(table["short_usd"].sum()) if any_seen else math.nan,
        bars=len(table),
        observed_bars=int(observed.sum()),
        partial_bars=int(table["partial"].sum()),
        missing_bars=int(table["missing"].sum()),
        venues_expected=int(table["venues_expected"].iloc[0]) if len(table) else 0,
    )


@dataclass(frozen=True)
class WorstBar:
    """The bar with the most long US dollars liquidated.

    ``ratio`` is long / short; it is ``math.inf`` when no shorts were liquidated in that bar.
    """

    ts: pd.Timestamp
    long_usd: float
    short_usd: float
    ratio: float
    venues_reporting: int
    venues_expected: int

    @property
    def partial(self) -> bool:
        return self.venues_reporting < self.venues_expected


def worst_bar(table: pd.DataFrame) -> WorstBar | None:
    """The observed bar with the largest ``long_usd`` (the earliest on ties).

    None when no bar was observed or no long was liquidated in the window (there is no worst
    bar to speak of). ``ratio`` = long / short, ``math.inf`` when short is 0.
    """
    longs = table["long_usd"].dropna()
    if longs.empty or longs.max() <= 0:
        return None
    ts = longs.idxmax()
    row = table.loc[ts]
    long_usd, short_usd = float(row["long_usd"]), float(row["short_usd"])
    return WorstBar(
        ts=ts,
        long_usd=long_usd,
        short_usd=short_usd,
        ratio=long_usd / short_usd if short_usd > 0 else math.inf,
        venues_reporting=int(row["venues_reporting"]),
        venues_expected=int(row["venues_expected"]),
    )


# ---- the headline -------------------------------------------------------------------------
def round_down_sig(value: float, sig: int) -> float:
    """``value`` rounded DOWN to ``sig`` significant figures (231.4e6, 2 -> 230e6)."""
    return _round_sig(value, sig, math.floor)


def round_up_sig(value: float, sig: int) -> float:
    """``value`` rounded UP to ``sig`` significant figures (4.3e6, 1 -> 5e6)."""
    return _round_sig(value, sig, math.ceil)


def _round_sig(value: float, sig: int, how: Callable[[float], int]) -> float:
    if value <= 0 or not math.isfinite(value):
        return value
    step = 10.0 ** (math.floor(math.log10(value)) - sig + 1)
    units = value / step
    nearest = round(units)
    if math.isclose(units, nearest, rel_tol=1e-9):
        units = nearest
    return float(how(units) * step)


def usd_sig(value: float, sig: int) -> str:
    """A round US-dollar amount with ``sig`` significant figures: ``$230M``, ``$1.2M``,
    ``$5M``, ``$400K``, ``$0``."""
    if value <= 0:
        return "$0"
    units = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
    div, suffix = next(((d, u) for d, u in units if value >= d), (1.0, ""))
    scaled = value / div
    decimals = max(0, sig - 1 - int(math.floor(math.log10(scaled))))
    return f"${scaled:,.{decimals}f}{suffix}"


@dataclass(frozen=True)
class Headline:
    """The numbers behind "more than $230M of longs against less than $5M of shorts in one hour".

    ``long_bound_usd`` is the worst bar's long USD rounded DOWN, ``short_bound_usd`` its short
    USD rounded UP, so "more than" / "less than" are true statements. A qualifier is empty when
    the rounded bound equals the value exactly (then "more than" would be false).
    """

    ts: pd.Timestamp
    interval: str
    long_usd: float
    short_usd: float
    ratio: float
    long_bound_usd: float
    short_bound_usd: float
    long_qualifier: str
    short_qualifier: str
    long_sig: int
    short_sig: int
    venues_reporting: int
    venues_expected: int

    @property
    def period(self) -> str:
        return "one hour" if self.interval == "1h" else f"one {self.interval} bar"

    def text(self) -> str:
        """The sentence fragment, e.g. ``more than $230M of longs against less than $5M of shorts
        in one hour``; ``against $0 of shorts`` when no short was liquidated."""
        long_part = " ".join(
            p for p in (self.long_qualifier, usd_sig(self.long_bound_usd, self.long_sig)) if p
        )
        if self.short_usd <= 0:
            short_part = "$0"
        else:
            short_part = " ".join(
                p
                for p in (self.short_qualifier, usd_sig(self.short_bound_usd, self.short_sig))
                if p
            )
        return f"{long_part} of longs against {short_part} of shorts in {self.period}"


def headline(
    table: pd.DataFrame, interval: str = "1h", long_sig: int = 2, short_sig: int = 1
) -> Headline | None:
    """The worst bar's numbers rounded for a sentence (see :class:`Headline`); None when there
    is no worst bar (:func:`worst_bar`). ``long_sig`` / ``short_sig``: significant figures kept
    when rounding long down and short up."""
    worst = worst_bar(table)
    if worst is None:
        return None
    long_bound = round_down_sig(worst.long_usd, long_sig)
    short_bound = round_up_sig(worst.short_usd, short_sig)
    return Headline(
        ts=worst.ts,
        interval=interval,
        long_usd=worst.long_usd,
        short_usd=worst.short_usd,
        ratio=worst.ratio,
        long_bound_usd=long_bound,
        short_bound_usd=short_bound,
        long_qualifier="more than" if long_bound < worst.long_usd else "",
        short_qualifier="less than" if short_bound > worst.short_usd else "",
        long_sig=long_sig,
        short_sig=short_sig,
        venues_reporting=worst.venues_reporting,
        venues_expected=worst.venues_expected,
    )


# ---- spikes -------------------------------------------------------------------------------
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
    k: float = 5.0,
    window: int = 24,
    min_history: int | None = None,
    mad_scale: float = MAD_NORMAL_SCALE,
    min_usd: float = 0.0,
    rule: SpikeRule = "both",
) -> pd.DataFrame:
    """The spike test for every bar of an :func:`imbalance_table`.

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
        out[f"{col}_spike"] = pd.array(hit.where(tested, pd.NA), dtype="boolean")
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
    k: float = 5.0,
    window: int = 24,
    min_history: int | None = None,
    mad_scale: float = MAD_NORMAL_SCALE,
    min_usd: float = 0.0,
    rule: SpikeRule = "both",
) -> pd.DataFrame:
    """The spike bars of :func:`spike_scores` as a table, one row per spike bar in time order.

    Columns: ``long_usd``, ``short_usd``, ``total_usd``, ``long_dominance`` (from ``table``),
    ``long_threshold``, ``total_threshold`` (USD), ``long_spike``, ``total_spike`` (which rule
    fired), ``history``, ``venues_reporting``, ``venues_expected``, ``partial``.
    """
    scores = spike_scores(table, k, window, min_history, mad_scale, min_usd, rule)
    hit = scores["status"] == "spike"
    cols = ["long_usd", "short_usd", "total_usd", "long_dominance"]
    coverage = ["venues_reporting", "venues_expected", "partial"]
    rule = ["long_threshold", "total_threshold", "long_spike", "total_spike", "history"]
    parts = [table.loc[hit, cols], scores.loc[hit, rule], table.loc[hit, coverage]]
    return pd.concat(parts, axis=1)
