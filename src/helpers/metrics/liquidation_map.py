"""The ESTIMATED open liquidation map: where leverage may still sit, modelled, not observed.

Levels are modelled from open interest, an explicit leverage distribution, a long share (by
default the observed long share of the window's realised liquidations,
:func:`resolve_long_share`; a positioning ratio can be passed instead as a
:class:`LongShare`) and a maintenance-margin rate (:func:`open_liquidation_levels`,
:func:`estimated_liquidation_map`, :func:`exposed_notional`). Every frame carries
``kind = "estimated"`` and is never summed with the REALISED liquidations of
:mod:`helpers.metrics.clusters`.

Prices are in the symbol's quote currency (read as US dollars); ``*_usd`` columns are US
dollars. ``side`` is the liquidated POSITION: a long is liquidated when price falls to its
level, a short when price rises to it. Fractions (``mmr``, ``long_share``) are 0..1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.errors import UserError
from helpers.metrics.clusters import ESTIMATED, _bin_notional, _with_kind, require_one_base
from helpers.metrics.parameters import ClusterParameters
from helpers.timegrid import as_utc

_D = ClusterParameters()
"""Defaults of the knobs (:mod:`helpers.metrics.parameters`)."""


def liquidation_price(
    entry: float | np.ndarray, leverage: float | np.ndarray, side: str, mmr: float
) -> float | np.ndarray:
    """Isolated-margin liquidation price of a position opened at ``entry``.

    Long: ``entry * (1 - 1/leverage + mmr)``; short: ``entry * (1 + 1/leverage - mmr)``;
    ``mmr`` is the maintenance margin rate as a fraction of notional.
    """
    if side == "long":
        return entry * (1 - 1 / leverage + mmr)
    if side == "short":
        return entry * (1 + 1 / leverage - mmr)
    raise UserError(f"side must be 'long' or 'short', got {side!r}")


def oi_on_grid(
    open_interest: pd.DataFrame,
    times: pd.DatetimeIndex,
    max_age: pd.Timedelta | str = "15min",
    exchanges: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Open interest (USD) per venue at each of ``times``.

    Per (exchange, symbol) the last sample at or before each time and no older than
    ``max_age``, else NaN; a venue's value is the sum over its symbols (e.g. BTC/USDT:USDT
    and BTC/USDC:USDC), NaN if any of them is missing. Venues: ``exchanges``, default every
    exchange in the frame. Columns: ``ts``, ``exchange``, ``oi_usd``.
    """
    venues = sorted(open_interest["exchange"].unique()) if exchanges is None else sorted(exchanges)
    pairs = open_interest[["exchange", "symbol"]].drop_duplicates()
    pairs = pairs[pairs["exchange"].isin(venues)]
    times = pd.DatetimeIndex(times).tz_convert("UTC").as_unit("us")
    left = pd.DataFrame({"ts": times})
    open_interest = open_interest.astype({"ts": "datetime64[us, UTC]"})
    parts = []
    for exchange, symbol in pairs.itertuples(index=False):
        samples = open_interest[
            (open_interest["exchange"] == exchange) & (open_interest["symbol"] == symbol)
        ].sort_values("ts")
        matched = pd.merge_asof(
            left, samples[["ts", "oi_usd"]], on="ts", tolerance=pd.Timedelta(max_age)
        )
        parts.append(matched.assign(exchange=exchange))
    full = pd.MultiIndex.from_product([times, venues], names=["ts", "exchange"])
    if parts:
        joined = pd.concat(parts, ignore_index=True)
        per_venue = joined.groupby(["ts", "exchange"])["oi_usd"].sum(skipna=False)
    else:
        per_venue = pd.Series(dtype="float64", name="oi_usd")
    out = per_venue.reindex(full).astype("float64").reset_index()
    return out.astype({"exchange": "string"})


def open_interest_at(
    open_interest: pd.DataFrame,
    at: pd.Timestamp | str,
    max_age: pd.Timedelta | str = "1h",
) -> pd.Series:
    """Open interest (USD) per exchange at time ``at`` (as :func:`oi_on_grid`), by exchange.

    The default ``max_age`` of one hour accepts the last hourly sample when ``at`` is the
    end of a window. One base currency only (else :class:`UserError`).
    """
    require_one_base(open_interest, "open interest")
    per_venue = oi_on_grid(open_interest, pd.DatetimeIndex([as_utc(at)]), max_age)
    return per_venue.set_index("exchange")["oi_usd"].rename_axis("exchange")


def total_open_interest_at(
    open_interest: pd.DataFrame,
    at: pd.Timestamp | str,
    max_age: pd.Timedelta | str = "1h",
) -> float:
    """Open interest (USD) over all venues at ``at``; NaN if any venue has no fresh sample."""
    return float(open_interest_at(open_interest, at, max_age).sum(skipna=False))


def entry_prices(
    grid: pd.DataFrame, at: pd.Timestamp | str, lookback: pd.Timedelta | str = "72h"
) -> pd.DataFrame:
    """Where the open positions are assumed to have been entered: a volume-weighted mix.

    Each observed bar with open time in ``[at - lookback, at)`` is one entry cohort at the
    bar's typical price ``(high + low + close) / 3``, weighted by its share of the lookback's
    volume (so the mix averages to the lookback VWAP). Missing bars carry no weight. Columns:
    ``ts``, ``entry_price`` (quote currency), ``weight`` (sums to 1). Empty if no bar traded;
    raises :class:`UserError` if bars exist but none has positive volume.
    """
    at = as_utc(at)
    inside = grid[(grid["ts"] >= at - pd.Timedelta(lookback)) & (grid["ts"] < at)]
    inside = inside.dropna(subset=["high", "low", "close", "volume"])
    total = inside["volume"].sum()
    if len(inside) and not total > 0:
        raise UserError("no traded volume in the entry-price lookback; cannot weight entries")
    return pd.DataFrame(
        {
            "ts": inside["ts"],
            "entry_price": (inside["high"] + inside["low"] + inside["close"]) / 3,
            "weight": inside["volume"] / total if len(inside) else inside["volume"],
        }
    ).reset_index(drop=True)


FALLBACK_LONG_SHARE = 0.5
"""The long share assumed when the data cannot give one (no realised liquidation in the
window); the model sentence then says so."""


@dataclass(frozen=True)
class LongShare:
    """The long share of open interest the estimated map assumes, and where it comes from.

    ``share`` is a fraction (0..1); ``basis`` is the clause the model sentence quotes
    (``"observed long share of realised liquidations in the window"``). A future
    positioning input (a venue's long/short account ratio) becomes one more
    :class:`LongShare` with its own ``basis``, passed as ``long_share`` to
    :func:`open_liquidation_levels`.
    """

    share: float
    basis: str

    def text(self) -> str:
        """``longs 83% / shorts 17% (observed long share of ...)``."""
        return f"longs {self.share:.0%} / shorts {1 - self.share:.0%} ({self.basis})"


def observed_long_share(bars: pd.DataFrame) -> float:
    """The long fraction of the realised liquidation notional in ``bars`` (liquidation bars
    or events with ``long_usd`` / ``short_usd`` in US dollars): sum(long) / sum(long +
    short); NaN when nothing was liquidated."""
    longs = float(bars["long_usd"].sum()) if len(bars) else 0.0
    shorts = float(bars["short_usd"].sum()) if len(bars) else 0.0
    total = longs + shorts
    return longs / total if total > 0 else float("nan")


def resolve_long_share(long_share: float | LongShare | None, observed: float) -> LongShare:
    """The long share the map uses: ``long_share`` as given (a number is "set by
    parameter"), else ``observed`` (:func:`observed_long_share` of the window's realised
    liquidations), else :data:`FALLBACK_LONG_SHARE` with a basis saying no liquidation was
    observed."""
    if isinstance(long_share, LongShare):
        return long_share
    if long_share is not None:
        return LongShare(float(long_share), "set by parameter")
    if pd.isna(observed):
        return LongShare(FALLBACK_LONG_SHARE, "assumed: no realised liquidation in the window")
    return LongShare(float(observed), "observed long share of realised liquidations in the window")


def _normalised_leverage(leverage_weights: Mapping[float, float]) -> pd.Series:
    w = pd.Series({float(k): float(v) for k, v in leverage_weights.items()}, dtype="float64")
    if w.empty or (w < 0).any() or not w.sum() > 0:
        raise UserError("leverage weights must be non-negative with a positive total")
    if (w.index <= 1).any():
        raise UserError(f"leverage must be above 1x, got {sorted(w.index)}")
    return w / w.sum()


def open_liquidation_levels(
    oi_usd: float,
    grid: pd.DataFrame,
    at: pd.Timestamp | str,
    leverage_weights: Mapping[float, float],
    *,
    lookback: pd.Timedelta | str = "72h",
    long_share: float | LongShare = FALLBACK_LONG_SHARE,
    mmr: float = _D.mmr,
    drop_crossed: bool = True,
) -> pd.DataFrame:
    """ESTIMATED liquidation levels of the open interest ``oi_usd`` (USD) at time ``at``.

    The model, every part a parameter:

    * longs hold ``long_share`` of the open interest, shorts the rest (a fraction, or a
      :class:`LongShare` carrying where it came from; :func:`resolve_long_share` builds one
      from the data);
    * entries are the cohorts of :func:`entry_prices` over ``lookback`` (volume-weighted);
    * each cohort is split over ``leverage_weights`` (leverage -> weight, normalised to 1);
    * a cohort's level is :func:`liquidation_price` with maintenance margin ``mmr``.

    With ``drop_crossed``, a cohort whose level was reached by a LATER bar before ``at`` (a
    low at or below a long's level, a high at or above a short's) is already liquidated and
    dropped (a missing bar cannot drop a cohort); the side's open interest is then spread
    over its surviving cohorts in proportion to their weights, so each side still sums to
    its share of ``oi_usd``. If no cohort of a side survives, that side has no rows. A
    missing ``oi_usd`` (NaN) gives the levels with NaN notional. Columns: ``entry_ts``,
    ``entry_price``, ``leverage``, ``side``, ``liq_price`` (quote currency), ``weight``
    (within side), ``notional_usd``,
    ``kind`` = ``'estimated'``.
    """
    basis, share = (
        (long_share, long_share.share)
        if isinstance(long_share, LongShare)
        else (None, float(long_share))
    )
    if not 0 <= share <= 1:
        raise UserError(f"long share must be between 0 and 1, got {share}")
    if not 0 <= mmr < 1:
        raise UserError(f"maintenance margin rate must be a fraction in [0, 1), got {mmr}")
    at = as_utc(at)
    lev = _normalised_leverage(leverage_weights)
    entries = entry_prices(grid, at, lookback)
    later_low, later_high = _later_extremes(grid[grid["ts"] < at], entries["ts"])
    cohorts = entries.assign(later_low=later_low, later_high=later_high).merge(
        pd.DataFrame({"leverage": lev.index, "lev_weight": lev.to_numpy()}), how="cross"
    )
    parts = []
    for side, side_share in (("long", share), ("short", 1 - share)):
        rows = cohorts.assign(
            side=side,
            liq_price=liquidation_price(
                cohorts["entry_price"].to_numpy(), cohorts["leverage"].to_numpy(), side, mmr
            ),
        )
        if drop_crossed:
            crossed = (
                rows["later_low"] <= rows["liq_price"]
                if side == "long"
                else rows["later_high"] >= rows["liq_price"]
            )
            rows = rows[~crossed]
        w = rows["weight"] * rows["lev_weight"]
        rows = rows.assign(weight=w / w.sum() if len(rows) else w)
        parts.append(rows.assign(notional_usd=oi_usd * side_share * rows["weight"]))
    out = pd.concat(parts, ignore_index=True).rename(columns={"ts": "entry_ts"})
    out = out[
        ["entry_ts", "entry_price", "leverage", "side", "liq_price", "weight", "notional_usd"]
    ]
    out = out.astype({"side": "string", "notional_usd": "float64", "weight": "float64"})
    out = _with_kind(out.reset_index(drop=True), ESTIMATED)
    out.attrs["model"] = describe_model(
        oi_usd,
        at,
        leverage_weights,
        lookback=lookback,
        long_share=basis if basis is not None else share,
        mmr=mmr,
        drop_crossed=drop_crossed,
    )
    return out


def describe_model(
    oi_usd: float,
    at: pd.Timestamp | str,
    leverage_weights: Mapping[float, float],
    *,
    lookback: pd.Timedelta | str,
    long_share: float | LongShare,
    mmr: float,
    drop_crossed: bool = True,
) -> str:
    """One sentence stating every assumption of the estimated map, for captions; a
    :class:`LongShare` long share is stated with its basis."""
    lev = _normalised_leverage(leverage_weights)
    sides = (
        long_share.text()
        if isinstance(long_share, LongShare)
        else f"longs {long_share:.0%} / shorts {1 - long_share:.0%}"
    )
    mix = ", ".join(f"{k:g}x {v:.0%}" for k, v in lev.items())
    oi = "missing" if pd.isna(oi_usd) else f"${oi_usd / 1e6:,.1f}M"
    hours = pd.Timedelta(lookback) / pd.Timedelta("1h")
    return (
        f"Model, not observed: open interest {oi} at {as_utc(at):%Y-%m-%d %H:%M} UTC; "
        f"{sides}; leverage {mix}; "
        f"entries volume-weighted over the prior {hours:g}h; "
        f"maintenance margin {mmr:.2%}"
        + ("; cohorts already crossed by price dropped." if drop_crossed else ".")
    )


def _later_extremes(grid: pd.DataFrame, entry_ts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Lowest low and highest high of the bars strictly after each entry bar (NaN bars skipped)."""
    g = grid.sort_values("ts")
    lows = g["low"].fillna(np.inf).to_numpy("float64")
    highs = g["high"].fillna(-np.inf).to_numpy("float64")
    suffix_low = np.append(np.minimum.accumulate(lows[::-1])[::-1], np.inf)
    suffix_high = np.append(np.maximum.accumulate(highs[::-1])[::-1], -np.inf)
    after = np.searchsorted(g["ts"].to_numpy(), entry_ts.to_numpy(), side="right")
    return suffix_low[after], suffix_high[after]


def estimated_liquidation_map(
    levels: pd.DataFrame, bin_width: float, last_price: float, origin: float = 0.0
) -> pd.DataFrame:
    """ESTIMATED open liquidation notional (USD) per price bin, below and above ``last_price``.

    Bins as in :func:`liquidations_by_price` over the levels of
    :func:`open_liquidation_levels`. ``position`` is ``'below'`` when the bin mid is below
    ``last_price`` (where long levels sit) and ``'above'`` otherwise. Columns: ``bin_low``,
    ``bin_high``, ``bin_mid``, ``long_usd``, ``short_usd``, ``total_usd``, ``position``,
    ``kind`` = ``'estimated'``.
    """
    out = _bin_notional(
        levels["liq_price"], levels["side"], levels["notional_usd"], bin_width, origin
    ).drop(columns=["long_count", "short_count"])
    position = np.where(out["bin_mid"] < last_price, "below", "above")
    out = _with_kind(out.assign(position=pd.array(position, dtype="string")), ESTIMATED)
    out.attrs["last_price"] = float(last_price)
    if "model" in levels.attrs:
        out.attrs["model"] = levels.attrs["model"]
    return out


@dataclass(frozen=True)
class Exposure:
    """ESTIMATED notional (USD) whose liquidation level lies in ``[price_low, price_high]``."""

    side: str
    level: float
    depth: float
    price_low: float
    price_high: float
    notional_usd: float
    kind: str = ESTIMATED


def exposed_notional(
    levels: pd.DataFrame, level: float, depth: float, side: str = "long"
) -> Exposure:
    """If price breaks ``level``, about how much notional is liquidated within ``depth``.

    Long (a break BELOW a support ``level``): long notional with liquidation price in
    ``[level * (1 - depth), level]``. Short (a break ABOVE a resistance ``level``): short
    notional in ``[level, level * (1 + depth)]``. ``depth`` is a fraction (0.05 = 5%).
    Uses the unbinned :func:`open_liquidation_levels`; NaN if any notional in range is
    missing; 0 if no level lies in range.
    """
    if not depth > 0:
        raise UserError(f"depth must be a positive fraction of price, got {depth}")
    if side == "long":
        lo, hi = level * (1 - depth), level
    elif side == "short":
        lo, hi = level, level * (1 + depth)
    else:
        raise UserError(f"side must be 'long' or 'short', got {side!r}")
    rows = levels[
        (levels["side"] == side) & (levels["liq_price"] >= lo) & (levels["liq_price"] <= hi)
    ]
    total = float(rows["notional_usd"].sum()) if rows["notional_usd"].notna().all() else np.nan
    return Exposure(side, float(level), float(depth), float(lo), float(hi), total)
