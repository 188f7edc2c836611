"""Where liquidations happened by price (REALISED), and where support is.

* ``realised``: liquidation events that happened (:func:`liquidations_by_price`), binned by
  price; local lows (:func:`swing_lows`) merged into support zones (:func:`support_zones`).
* The ESTIMATED open liquidation map lives in :mod:`helpers.metrics.liquidation_map`; the two
  are never summed together. Every frame carries a ``kind`` column and ``attrs["kind"]``
  saying which one it is.

Prices are in the symbol's quote currency (USDT/USDC, read as US dollars); columns ending in
``_usd`` are US dollars. ``side`` is the liquidated POSITION: a long is liquidated when price
falls to its level, a short when price rises to it. Relative distances (``*_rel``) and
tolerances are fractions (``0.01`` = 1%).

Bar inputs ("bars") are OHLCV rows of ONE series (one exchange, one symbol, one interval) with
a ``ts`` column, as returned by :func:`reference_bars`; :func:`price_grid` puts them on the
window's regular grid so a missing bar is a row of NaN, never a zero or a skipped step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.errors import UserError
from helpers.metrics.parameters import ClusterParameters
from helpers.timegrid import Window

_D = ClusterParameters()
"""Defaults of the knobs (:mod:`helpers.metrics.parameters`)."""

REALISED = "realised"
ESTIMATED = "estimated"

_BAR_COLUMNS = ["open", "high", "low", "close", "volume"]
MAX_BINS = 100_000
_BIN_COLUMNS = ["bin_low", "bin_high", "bin_mid", "long_usd", "short_usd", "total_usd"]


def reference_bars(
    ohlcv: pd.DataFrame, window: Window, exchange: str | None = None
) -> pd.DataFrame:
    """The OHLCV bars of one venue in the window's interval, used as THE price path of a
    report.

    ``exchange=None`` picks the venue with the most such bars (ties: alphabetical first).
    Raises :class:`UserError` if that venue has several symbols or duplicate bars.
    Returns the canonical ``ohlcv`` columns sorted by ``ts`` (empty if there are no bars).
    """
    interval = window.interval
    bars = ohlcv[ohlcv["interval"] == interval]
    if exchange is None and len(bars):
        counts = bars.groupby("exchange").size()
        exchange = str(sorted(counts[counts == counts.max()].index)[0])
    bars = bars[bars["exchange"] == exchange] if exchange is not None else bars.iloc[0:0]
    if bars["symbol"].nunique() > 1:
        raise UserError(
            f"{exchange}: several symbols {sorted(bars['symbol'].unique())}; pass one symbol"
        )
    if bars["ts"].duplicated().any():
        raise UserError(f"{exchange}: duplicate {interval} bars")
    return bars.sort_values("ts").reset_index(drop=True)


def price_grid(bars: pd.DataFrame, window: Window) -> pd.DataFrame:
    """``bars`` on the window grid: one row per bar open time, NaN prices for a missing bar.

    Columns: ``ts``, ``open``, ``high``, ``low``, ``close`` (quote currency) and ``volume``
    (base units).
    """
    grid = window.grid()
    out = bars.set_index("ts")[_BAR_COLUMNS].astype("float64").reindex(grid)
    return out.rename_axis("ts").reset_index()


# ---- realised liquidations by price ---------------------------------------------------------


def _bin_index(prices: np.ndarray, bin_width: float, origin: float) -> np.ndarray:
    return np.floor(np.round((prices - origin) / bin_width, 9)).astype("int64")


def _check_bin_width(bin_width: float) -> None:
    if not (bin_width > 0 and np.isfinite(bin_width)):
        raise UserError(f"bin width must be a positive price step, got {bin_width!r}")


def _bin_notional(
    prices: pd.Series, sides: pd.Series, notional: pd.Series, bin_width: float, origin: float
) -> pd.DataFrame:
    """Notional and row counts per contiguous price bin and side; a bin without rows is 0."""
    _check_bin_width(bin_width)
    idx = _bin_index(prices.to_numpy("float64"), bin_width, origin)
    frame = pd.DataFrame(
        {"bin": idx, "side": sides.to_numpy(), "usd": notional.to_numpy("float64")}
    )
    grouped = frame.groupby(["bin", "side"])["usd"]
    binned = pd.DataFrame({"usd": grouped.sum(skipna=False), "n": grouped.size()}).reset_index()
    return contiguous_bins(binned, bin_width, origin)


def contiguous_bins(binned: pd.DataFrame, bin_width: float, origin: float = 0.0) -> pd.DataFrame:
    """The price-bin table from per-(bin, side) sums.

    ``binned`` has one row per occupied (``bin``, ``side``): ``bin`` is the integer
    ``floor((price - origin) / bin_width)``, ``usd`` the notional (US dollars) and ``n`` the
    number of events; :func:`helpers.aggregate.price_bins` computes it in the store. Bins run
    contiguously from the lowest to the highest occupied one; an empty bin is 0.
    """
    _check_bin_width(bin_width)
    if binned.empty:
        cols = {c: pd.Series(dtype="float64") for c in _BIN_COLUMNS}
        return pd.DataFrame(cols | {"long_count": [], "short_count": []}).astype(
            {"long_count": "int64", "short_count": "int64"}
        )
    lo, hi = int(binned["bin"].min()), int(binned["bin"].max())
    if hi - lo >= MAX_BINS:
        raise UserError(
            f"bin width {bin_width:g} gives over {MAX_BINS:,} bins from "
            f"{origin + lo * bin_width:g} to {origin + (hi + 1) * bin_width:g}; use a wider bin"
        )
    full = np.arange(lo, hi + 1)
    keyed = binned.set_index(["bin", "side"])

    def wide(column: str) -> pd.DataFrame:
        return keyed[column].unstack("side").reindex(index=full, columns=["long", "short"])

    counts = wide("n").fillna(0).astype("int64")
    usd = wide("usd").astype("float64").where(counts > 0, 0.0)
    low = origin + full * bin_width
    return pd.DataFrame(
        {
            "bin_low": low,
            "bin_high": low + bin_width,
            "bin_mid": low + bin_width / 2,
            "long_usd": usd["long"].to_numpy("float64"),
            "short_usd": usd["short"].to_numpy("float64"),
            "total_usd": (usd["long"] + usd["short"]).to_numpy("float64"),
            "long_count": counts["long"].to_numpy(),
            "short_count": counts["short"].to_numpy(),
        }
    )


def realised_by_price(binned: pd.DataFrame, bin_width: float, origin: float = 0.0) -> pd.DataFrame:
    """:func:`liquidations_by_price` from per-(bin, side) sums computed in the store, so the
    events themselves never have to be loaded (see :func:`contiguous_bins`)."""
    return _with_kind(contiguous_bins(binned, bin_width, origin), REALISED)


def require_one_base(frame: pd.DataFrame, what: str) -> None:
    """Raise :class:`UserError` unless every row of ``frame`` is about one base currency.

    The base is the ``base`` column when present, else the part of ``symbol`` before ``/``.
    Prices, price bins and open interest against price only make sense for one coin.
    """
    if "base" in frame.columns:
        bases = frame["base"]
    elif "symbol" in frame.columns:
        bases = frame["symbol"].astype("string").str.split("/").str[0]
    else:
        return
    if bases.nunique() > 1:
        raise UserError(f"{what}: several base currencies {sorted(bases.unique())}; pass one coin")


def _with_kind(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    frame = frame.assign(kind=pd.Series(kind, index=frame.index, dtype="string"))
    frame.attrs["kind"] = kind
    return frame


def liquidations_by_price(
    liquidations: pd.DataFrame, bin_width: float, origin: float = 0.0
) -> pd.DataFrame:
    """REALISED liquidation notional (USD) per price bin, long and short separately.

    Each event falls in the bin ``[origin + i*bin_width, origin + (i+1)*bin_width)`` of its
    execution price. Bins run contiguously from the lowest to the highest event price; a bin
    with no event is 0 (nothing was liquidated at that price). Events of one base currency
    only (several venues are fine). Columns: ``bin_low``, ``bin_high``, ``bin_mid`` (quote
    currency), ``long_usd``, ``short_usd``, ``total_usd``, ``long_count``, ``short_count``,
    ``kind`` = ``'realised'``. No events: an empty frame with those columns.
    """
    require_one_base(liquidations, "liquidations")
    out = _bin_notional(
        liquidations["price"],
        liquidations["side"],
        liquidations["notional_usd"],
        bin_width,
        origin,
    )
    return _with_kind(out, REALISED)


# ---- swing lows and support zones -------------------------------------------------------------


def swing_lows(grid: pd.DataFrame, window: int = _D.swing_window) -> pd.DataFrame:
    """Swing lows of a price grid (see :func:`price_grid`): local minima of the bar lows.

    A bar is a swing low when its low is below every low of the ``window`` bars before it
    and at or below every low of the ``window`` bars after it (so of equal lows the earliest
    counts). It is ``confirmed`` only when all ``2*window`` neighbours exist and are
    observed. The last ``window`` bars (and the first ``window``, and bars next to a missing
    bar) cannot be confirmed; they are returned with ``confirmed=False`` when their low is
    the minimum of the neighbours that do exist, and :func:`support_zones` ignores them by
    default. Columns: ``ts``, ``price`` (the bar low, quote currency), ``confirmed``.
    """
    if window < 1:
        raise UserError(f"swing-low window must be at least 1 bar, got {window}")
    lows = grid["low"].to_numpy("float64")
    padded = np.concatenate([np.full(window, np.nan), lows, np.full(window, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * window + 1)
    left, right = windows[:, :window], windows[:, window + 1 :]
    left_min = np.where(np.isnan(left), np.inf, left).min(axis=1)
    right_min = np.where(np.isnan(right), np.inf, right).min(axis=1)
    is_low = ~np.isnan(lows) & (lows < left_min) & (lows <= right_min)
    complete = ~np.isnan(left).any(axis=1) & ~np.isnan(right).any(axis=1)
    return pd.DataFrame(
        {
            "ts": grid["ts"].to_numpy()[is_low],
            "price": lows[is_low],
            "confirmed": complete[is_low],
        }
    ).astype({"ts": grid["ts"].dtype})


def support_zones(
    lows: pd.DataFrame, tolerance: float | None = _D.zone_tolerance, confirmed_only: bool = True
) -> pd.DataFrame:
    """Support zones: swing lows merged when within ``tolerance`` of the zone's lowest low.

    Lows are sorted by price; a low joins the current zone while it is at most
    ``zone_low * (1 + tolerance)``, otherwise it starts a new zone. ``tolerance=None`` keeps
    every low as its own zone. ``level`` is the zone's lowest low: the price whose break
    breaks the zone. Columns: ``level``, ``zone_low``, ``zone_high`` (quote currency),
    ``touches`` (number of lows), ``first_ts``, ``last_ts``; sorted by ``level``.
    """
    if tolerance is not None and tolerance < 0:
        raise UserError(f"support tolerance must be >= 0, got {tolerance}")
    lows = lows[lows["confirmed"]] if confirmed_only else lows
    lows = lows.sort_values(["price", "ts"]).reset_index(drop=True)
    zone_ids: list[int] = []
    zone, zone_low = -1, np.nan
    for price in lows["price"]:
        if tolerance is None or zone < 0 or price > zone_low * (1 + tolerance):
            zone, zone_low = zone + 1, price
        zone_ids.append(zone)
    grouped = lows.assign(zone=zone_ids).groupby("zone")
    out = pd.DataFrame(
        {
            "level": grouped["price"].min(),
            "zone_low": grouped["price"].min(),
            "zone_high": grouped["price"].max(),
            "touches": grouped.size().astype("int64"),
            "first_ts": grouped["ts"].min(),
            "last_ts": grouped["ts"].max(),
        }
    )
    if out.empty:
        ts_dtype = lows["ts"].dtype
        out = out.astype({"first_ts": ts_dtype, "last_ts": ts_dtype})
    return out.reset_index(drop=True)


def nearest_levels(prices: pd.Series | np.ndarray, levels: pd.Series | np.ndarray) -> pd.DataFrame:
    """For each price, the highest level at or below it and the lowest level above it.

    Columns ``below`` and ``above``; NaN where there is no such level.
    """
    p = np.asarray(prices, dtype="float64")
    lv = np.sort(np.asarray(levels, dtype="float64"))
    lv = lv[~np.isnan(lv)]
    padded = np.concatenate([[np.nan], lv, [np.nan]])
    at_or_below = np.searchsorted(lv, p, side="right")
    return pd.DataFrame({"below": padded[at_or_below], "above": padded[at_or_below + 1]})


def largest_clusters(
    by_price: pd.DataFrame,
    last_price: float,
    supports: pd.DataFrame | None = None,
    n: int = 5,
    side: str = "total",
) -> pd.DataFrame:
    """The ``n`` price bins with the most notional, with their distance from price and support.

    ``by_price`` is a realised (:func:`liquidations_by_price`) or estimated
    (:func:`estimated_liquidation_map`) frame; its ``kind`` is kept. ``side`` ranks by
    ``long_usd``, ``short_usd`` or ``total_usd``; bins with zero or missing notional are
    skipped; ties go to the lower price. Distances are measured from the bin mid:

    * ``distance_abs = bin_mid - last_price`` (quote currency; negative = below price),
      ``distance_rel = distance_abs / last_price``;
    * ``support_below`` / ``support_above``: the nearest support ``level`` at or below / above
      the bin mid (NaN if none), ``to_support_below_rel = bin_mid / support_below - 1`` and
      ``to_support_above_rel = bin_mid / support_above - 1`` (fractions of the support level).
    """
    if side not in ("long", "short", "total"):
        raise UserError(f"side must be 'long', 'short' or 'total', got {side!r}")
    col = f"{side}_usd"
    kind = by_price.attrs.get("kind")
    if kind is None and "kind" in by_price.columns and len(by_price):
        kind = str(by_price["kind"].iloc[0])
    ranked = by_price[by_price[col] > 0].sort_values([col, "bin_mid"], ascending=[False, True])
    top = ranked.head(n).reset_index(drop=True)
    levels = supports["level"] if supports is not None else pd.Series(dtype="float64")
    near = nearest_levels(top["bin_mid"], levels)
    out = pd.DataFrame(
        {
            "rank": np.arange(1, len(top) + 1),
            "bin_low": top["bin_low"],
            "bin_high": top["bin_high"],
            "bin_mid": top["bin_mid"],
            "notional_usd": top[col],
            "long_usd": top["long_usd"],
            "short_usd": top["short_usd"],
            "distance_abs": top["bin_mid"] - last_price,
            "distance_rel": top["bin_mid"] / last_price - 1,
            "support_below": near["below"],
            "to_support_below_rel": top["bin_mid"] / near["below"] - 1,
            "support_above": near["above"],
            "to_support_above_rel": top["bin_mid"] / near["above"] - 1,
        }
    )
    return _with_kind(out, kind) if kind is not None else out
