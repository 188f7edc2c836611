"""Where liquidations happened by price, where support is, and where leverage may still sit.

Two kinds of output, never summed together:

* ``realised``: liquidation events that happened (:func:`liquidations_by_price`).
* ``estimated``: liquidation levels that may still be open, modelled from open interest, an
  explicit leverage distribution and maintenance margin (:func:`open_liquidation_levels`,
  :func:`estimated_liquidation_map`, :func:`exposed_notional`).

Every frame carries a ``kind`` column and ``attrs["kind"]`` saying which one it is.

Prices are in the symbol's quote currency (USDT/USDC, read as US dollars); columns ending in
``_usd`` are US dollars. ``side`` is the liquidated POSITION: a long is liquidated when price
falls to its level, a short when price rises to it. Relative distances (``*_rel``) and
tolerances are fractions (``0.01`` = 1%).

Bar inputs ("bars") are OHLCV rows of ONE series (one exchange, one symbol, one interval) with
a ``ts`` column, as returned by :func:`reference_bars`; :func:`price_grid` puts them on the
window's regular grid so a missing bar is a row of NaN, never a zero or a skipped step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.errors import UserError
from helpers.timegrid import as_utc, window_grid

REALISED = "realised"
ESTIMATED = "estimated"

_BAR_COLUMNS = ["open", "high", "low", "close", "volume"]
MAX_BINS = 100_000
_BIN_COLUMNS = ["bin_low", "bin_high", "bin_mid", "long_usd", "short_usd", "total_usd"]


def reference_bars(
    ohlcv: pd.DataFrame, exchange: str | None = None, interval: str = "1h"
) -> pd.DataFrame:
    """The OHLCV bars of one venue, used as THE price path of a report.

    ``exchange=None`` picks the venue with the most ``interval`` bars (ties: alphabetical
    first). Raises :class:`UserError` if that venue has several symbols or duplicate bars.
    Returns the canonical ``ohlcv`` columns sorted by ``ts`` (empty if there are no bars).
    """
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


def price_grid(
    bars: pd.DataFrame,
    start: pd.Timestamp | str,
    end: pd.Timestamp | str,
    interval: str = "1h",
) -> pd.DataFrame:
    """``bars`` on the window grid: one row per bar open time, NaN prices for a missing bar.

    Columns: ``ts``, ``open``, ``high``, ``low``, ``close`` (quote currency) and ``volume``
    (base units).
    """
    grid = window_grid(start, end, interval)
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


def swing_lows(grid: pd.DataFrame, window: int = 3) -> pd.DataFrame:
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
    lows: pd.DataFrame, tolerance: float | None = 0.005, confirmed_only: bool = True
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


# ---- estimated open liquidation levels --------------------------------------------------------


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
    long_share: float = 0.5,
    mmr: float = 0.005,
    drop_crossed: bool = True,
) -> pd.DataFrame:
    """ESTIMATED liquidation levels of the open interest ``oi_usd`` (USD) at time ``at``.

    The model, every part a parameter:

    * longs hold ``long_share`` of the open interest, shorts the rest (default 50/50);
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
    if not 0 <= long_share <= 1:
        raise UserError(f"long share must be between 0 and 1, got {long_share}")
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
    for side, share in (("long", long_share), ("short", 1 - long_share)):
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
        parts.append(rows.assign(notional_usd=oi_usd * share * rows["weight"]))
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
        long_share=long_share,
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
    long_share: float,
    mmr: float,
    drop_crossed: bool = True,
) -> str:
    """One sentence stating every assumption of the estimated map, for captions."""
    lev = _normalised_leverage(leverage_weights)
    mix = ", ".join(f"{k:g}x {v:.0%}" for k, v in lev.items())
    oi = "missing" if pd.isna(oi_usd) else f"${oi_usd / 1e6:,.1f}M"
    hours = pd.Timedelta(lookback) / pd.Timedelta("1h")
    return (
        f"Model, not observed: open interest {oi} at {as_utc(at):%Y-%m-%d %H:%M} UTC; "
        f"longs {long_share:.0%} / shorts {1 - long_share:.0%}; leverage {mix}; "
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
