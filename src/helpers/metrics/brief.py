"""Each notebook's analysis in one call, and the key figures it reports.

A notebook calls ``<question>_analysis(ds, ...)`` to get every table it shows, then
``<question>_figures(result)`` for the numbers that go to its key-figures table and to the
report's ``summary.json``. The summary notebook calls the same functions, so the brief and
the detail pages can never disagree. Money is in US dollars; shares are fractions reported
in percent points (``%``) in key figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from helpers.dataset import Dataset
from helpers.metrics import imbalance, marketmap, venues
from helpers.present import KeyFigure


def _num(value: float | None) -> float | None:
    """None for missing (NaN/None) so it is shown and stored as missing, never 0."""
    if value is None:
        return None
    v = float(value)
    return None if math.isnan(v) else v


def _pct(fraction: float | None) -> float | None:
    v = _num(fraction)
    return None if v is None else v * 100


# ---- 01 imbalance ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ImbalanceResult:
    """Per-bar long/short table, running totals, window totals, worst bar and spike bars."""

    table: pd.DataFrame
    cumulative: pd.DataFrame
    totals: imbalance.WindowTotals
    worst: imbalance.WorstBar | None
    headline: imbalance.Headline | None
    spikes: pd.DataFrame
    spike_k: float
    spike_window: int


def imbalance_analysis(
    ds: Dataset, spike_k: float = 5.0, spike_window: int = 24
) -> ImbalanceResult:
    """The imbalance notebook's tables. Spike tests use ``spike_window`` bars of history
    before ``start`` too, so the first bars of the window can be tested."""
    table = imbalance.imbalance_table(ds.bars(), ds.start, ds.end, ds.interval, ds.exchanges)
    history = ds.extended(spike_window)
    long_table = imbalance.imbalance_table(
        history.bars(), history.start, history.end, ds.interval, ds.exchanges
    )
    spikes = imbalance.spike_bars(long_table, k=spike_k, window=spike_window)
    spikes = spikes[spikes.index >= ds.start]
    return ImbalanceResult(
        table=table,
        cumulative=imbalance.cumulative_sides(table),
        totals=imbalance.window_totals(table),
        worst=imbalance.worst_bar(table),
        headline=imbalance.headline(table, ds.interval),
        spikes=spikes,
        spike_k=spike_k,
        spike_window=spike_window,
    )


def imbalance_figures(r: ImbalanceResult) -> list[KeyFigure]:
    w, t = r.worst, r.totals
    ratio = None if w is None else (w.ratio if math.isfinite(w.ratio) else math.inf)
    return [
        KeyFigure(
            "worst_bar_ts",
            None if w is None else w.ts.isoformat(),
            "UTC",
            "Worst bar (most long USD liquidated), open time",
            "info",
        ),
        KeyFigure(
            "worst_bar_long_usd",
            None if w is None else w.long_usd,
            "USD",
            "Longs liquidated in the worst bar",
            "realised",
        ),
        KeyFigure(
            "worst_bar_short_usd",
            None if w is None else w.short_usd,
            "USD",
            "Shorts liquidated in the worst bar",
            "realised",
        ),
        KeyFigure(
            "worst_bar_long_short_ratio",
            ratio,
            "ratio",
            "Long / short in the worst bar (inf: no shorts)",
            "realised",
        ),
        KeyFigure(
            "window_long_usd",
            _num(t.long_usd),
            "USD",
            "Longs liquidated over the window",
            "realised",
        ),
        KeyFigure(
            "window_short_usd",
            _num(t.short_usd),
            "USD",
            "Shorts liquidated over the window",
            "realised",
        ),
        KeyFigure(
            "window_long_dominance_pct",
            _pct(t.long_share),
            "%",
            "Long dominance L/(L+S) over the window",
            "realised",
        ),
        KeyFigure(
            "spike_bars",
            len(r.spikes),
            "count",
            f"Spike bars (median + {r.spike_k:g} x MAD, trailing {r.spike_window} bars)",
            "realised",
        ),
        KeyFigure(
            "missing_bars", t.missing_bars, "count", "Bars with no data from any venue", "info"
        ),
        KeyFigure(
            "partial_bars", t.partial_bars, "count", "Bars with data from only some venues", "info"
        ),
    ]


# ---- 02 venues ------------------------------------------------------------------------------
@dataclass(frozen=True)
class VenueResult:
    """Per-venue totals over the window and inside spike bars, hourly per venue, coverage."""

    totals: pd.DataFrame
    spike_totals: pd.DataFrame
    hourly: pd.DataFrame
    gap_mask: pd.DataFrame
    coverage: pd.DataFrame
    spike_bars: int


def venue_analysis(ds: Dataset, spikes: pd.DataFrame) -> VenueResult:
    """The venue notebook's tables; ``spikes`` is :attr:`ImbalanceResult.spikes`."""
    bars, gaps = ds.bars(), ds.gaps()
    args = (ds.start, ds.end, ds.interval, ds.exchanges)
    return VenueResult(
        totals=venues.venue_totals(bars, *args),
        spike_totals=venues.venue_totals(bars, *args, at=spikes.index),
        hourly=venues.venue_hourly(bars, *args),
        gap_mask=venues.venue_gap_mask(gaps, *args, ds.symbols),
        coverage=venues.venue_coverage(bars, gaps, *args, ds.symbols),
        spike_bars=len(spikes),
    )


def _top_venue(totals: pd.DataFrame, column: str) -> tuple[str | None, float | None]:
    col = totals[column].dropna()
    if col.empty or col.max() <= 0:
        return None, None
    return str(col.idxmax()), float(col.max())


def venue_figures(r: VenueResult) -> list[KeyFigure]:
    figs: list[KeyFigure] = []
    top_name, top_usd = _top_venue(r.totals, "long_usd")
    top_share = None if top_name is None else _pct(r.totals.loc[top_name, "long_share"])
    figs += [
        KeyFigure("top_long_venue", top_name, "", "Venue with the most longs liquidated", "info"),
        KeyFigure("top_long_venue_usd", top_usd, "USD", "Its longs liquidated", "realised"),
        KeyFigure("top_long_venue_share_pct", top_share, "%", "Its share of all longs", "realised"),
    ]
    for venue in r.totals.index:
        figs.append(
            KeyFigure(
                f"long_usd_{venue}",
                _num(r.totals.loc[venue, "long_usd"]),
                "USD",
                f"Longs liquidated on {venue}",
                "realised",
            )
        )
    spike_short = r.spike_totals["short_usd"].sum(min_count=1) if r.spike_bars else math.nan
    spike_long = r.spike_totals["long_usd"].sum(min_count=1) if r.spike_bars else math.nan
    figs += [
        KeyFigure(
            "spike_long_usd",
            _num(spike_long),
            "USD",
            "Longs liquidated inside spike bars, all venues",
            "realised",
        ),
        KeyFigure(
            "spike_short_usd",
            _num(spike_short),
            "USD",
            "Shorts liquidated inside spike bars, all venues",
            "realised",
        ),
        KeyFigure(
            "venues_with_no_data_bars",
            int((r.coverage["no_data_bars"] > 0).sum()),
            "count",
            "Venues with bars of no data in the window",
            "info",
        ),
    ]
    return figs


# ---- 03 market map -------------------------------------------------------------------------
@dataclass(frozen=True)
class MarketResult:
    """The top ``n`` coins of the last snapshot in the window and the lines a note quotes."""

    top: pd.DataFrame
    lines: marketmap.MarketLines
    sources: tuple[str, ...]


def market_analysis(ds: Dataset, top_n: int = 30) -> MarketResult:
    caps = ds.market_caps()
    snapshot = marketmap.latest_snapshot(caps, ds.end - pd.Timedelta(microseconds=1))
    top = marketmap.top_by_cap(snapshot, top_n)
    sources = tuple(sorted(top["source"].dropna().unique())) if len(top) else ()
    return MarketResult(top, marketmap.market_lines(top), sources)


def market_figures(r: MarketResult) -> list[KeyFigure]:
    ln = r.lines
    return [
        KeyFigure(
            "snapshot_ts",
            None if ln.ts is None else ln.ts.isoformat(),
            "UTC",
            "Market-cap snapshot time",
            "info",
        ),
        KeyFigure("btc_market_cap_usd", _num(ln.btc_cap_usd), "USD", "BTC market cap", "realised"),
        KeyFigure("eth_market_cap_usd", _num(ln.eth_cap_usd), "USD", "ETH market cap", "realised"),
        KeyFigure("top_n", ln.n, "count", "Coins in the map", "info"),
        KeyFigure(
            "red_count", ln.red if ln.n else None, "count", "Coins down over 24 h", "realised"
        ),
        KeyFigure(
            "green_count", ln.green if ln.n else None, "count", "Coins up over 24 h", "realised"
        ),
        KeyFigure(
            "cap_weighted_change_pct",
            _num(ln.cap_weighted_change_pct),
            "%",
            "Cap-weighted 24 h change (coins with a known change)",
            "realised",
        ),
    ]


def _of_base(frame: pd.DataFrame, base: str) -> pd.DataFrame:
    """Rows whose ccxt unified symbol has base ``base`` (``BTC/USDT:USDT`` -> ``BTC``)."""
    return frame[frame["symbol"].str.split("/").str[0] == base].reset_index(drop=True)


# ---- 04 clusters and support -----------------------------------------------------------------
@dataclass(frozen=True)
class ClusterResult:
    """REALISED clusters by price beside the price path, supports, and the ESTIMATED map."""

    base: str
    reference: str | None
    grid: pd.DataFrame
    by_price: pd.DataFrame
    lows: pd.DataFrame
    supports: pd.DataFrame
    last_price: float | None
    clusters: pd.DataFrame
    oi_usd: float | None
    levels: pd.DataFrame | None
    estimated_map: pd.DataFrame | None
    exposure: object | None
    model: str
    break_depth: float


def cluster_analysis(
    ds: Dataset,
    base: str = "BTC",
    bin_width: float = 250.0,
    swing_window: int = 3,
    zone_tolerance: float = 0.005,
    leverage_weights: dict[float, float] | None = None,
    long_share: float = 0.5,
    mmr: float = 0.005,
    lookback: str = "72h",
    break_depth: float = 0.03,
) -> ClusterResult:
    """Clusters for one base asset; the estimated map is built at the window's end."""
    from helpers.metrics import clusters, liquidation_map

    weights = leverage_weights or {5: 0.2, 10: 0.3, 20: 0.3, 50: 0.2}
    ohlcv = _of_base(ds.ohlcv(), base)
    by_price = clusters.realised_by_price(ds.price_bins(base, bin_width), bin_width)
    if ohlcv.empty:
        empty = pd.DataFrame()
        return ClusterResult(
            base,
            None,
            empty,
            by_price,
            empty,
            empty,
            None,
            empty,
            None,
            None,
            None,
            None,
            "no price data in the window",
            break_depth,
        )
    ref = clusters.reference_bars(ohlcv, interval=ds.interval)
    reference = str(ref["exchange"].iloc[0])
    grid = clusters.price_grid(ref, ds.start, ds.end, ds.interval)
    closes = grid["close"].dropna()
    last_price = float(closes.iloc[-1]) if len(closes) else None
    lows = clusters.swing_lows(grid, swing_window)
    supports = clusters.support_zones(lows, zone_tolerance)
    top = (
        clusters.largest_clusters(by_price, last_price, supports)
        if last_price is not None and len(by_price)
        else pd.DataFrame()
    )
    oi = _of_base(ds.open_interest(), base)
    at = ds.end
    oi_usd = _num(liquidation_map.total_open_interest_at(oi, at - pd.Timedelta(hours=1)))
    levels = est_map = exposure = None
    model = "no open interest at the window end: no estimated map"
    if oi_usd is not None and last_price is not None:
        kw = dict(lookback=lookback, long_share=long_share, mmr=mmr)
        levels = liquidation_map.open_liquidation_levels(oi_usd, grid, at, weights, **kw)
        est_map = liquidation_map.estimated_liquidation_map(levels, bin_width, last_price)
        model = liquidation_map.describe_model(oi_usd, at, weights, **kw)
        level = float(supports["level"].iloc[-1]) if len(supports) else last_price
        below = supports[supports["level"] < last_price] if len(supports) else supports
        if len(below):
            level = float(below["level"].max())
        exposure = liquidation_map.exposed_notional(levels, level, break_depth, "long")
    return ClusterResult(
        base,
        reference,
        grid,
        by_price,
        lows,
        supports,
        last_price,
        top,
        oi_usd,
        levels,
        est_map,
        exposure,
        model,
        break_depth,
    )


def cluster_figures(r: ClusterResult) -> list[KeyFigure]:
    total_long = float(r.by_price["long_usd"].sum()) if len(r.by_price) else None
    biggest = r.clusters.iloc[0] if len(r.clusters) else None
    ex = r.exposure
    return [
        KeyFigure("base", r.base, "", "Asset analysed", "info"),
        KeyFigure("last_price", r.last_price, "USD", f"Last price ({r.reference})", "realised"),
        KeyFigure(
            "realised_long_usd",
            total_long,
            "USD",
            f"{r.base} longs liquidated in the window (binned by price)",
            "realised",
        ),
        KeyFigure(
            "largest_cluster_price",
            None if biggest is None else float(biggest["bin_mid"]),
            "USD",
            "Largest realised cluster, bin mid price",
            "realised",
        ),
        KeyFigure(
            "largest_cluster_usd",
            None if biggest is None else float(biggest["notional_usd"]),
            "USD",
            "Largest realised cluster, notional",
            "realised",
        ),
        KeyFigure(
            "supports_found",
            int(len(r.supports)),
            "count",
            "Support zones (merged confirmed swing lows)",
            "realised",
        ),
        KeyFigure(
            "nearest_support_below",
            None if ex is None else float(ex.level),
            "USD",
            "Nearest support below the last price",
            "realised",
        ),
        KeyFigure(
            "open_interest_usd",
            r.oi_usd,
            "USD",
            f"{r.base} open interest at the window end",
            "realised",
        ),
        KeyFigure(
            "exposed_long_usd_below_support",
            None if ex is None else float(ex.notional_usd),
            "USD",
            "ESTIMATED long notional liquidated if price breaks the support by "
            f"{r.break_depth * 100:g}%",
            "estimated",
        ),
    ]


# ---- 05 what to watch ------------------------------------------------------------------------
@dataclass(frozen=True)
class OutlookResult:
    """Rolling liquidations vs range, stress flag, concentration, liquidations/OI, regimes,
    funding."""

    base: str
    window: int
    vs_range: pd.DataFrame
    concentration: object
    to_oi: pd.DataFrame
    regimes: pd.DataFrame
    funding: pd.DataFrame
    funding_rows: pd.DataFrame


def outlook_analysis(
    ds: Dataset,
    base: str = "BTC",
    window: int = 6,
    rising_steps: int = 3,
    single_share: float = 0.5,
    deadband: float = 0.001,
) -> OutlookResult:
    from helpers.metrics import clusters, outlook

    bars = ds.bars()
    args = (ds.start, ds.end, ds.interval, ds.exchanges)
    hourly = outlook.hourly_liquidations(bars, *args)
    ohlcv = _of_base(ds.ohlcv(), base)
    if ohlcv.empty:
        grid = pd.DataFrame()
        vs_range = pd.DataFrame()
        regimes = pd.DataFrame()
    else:
        grid = clusters.price_grid(
            clusters.reference_bars(ohlcv, interval=ds.interval), ds.start, ds.end, ds.interval
        )
        vs_range = outlook.flag_stress_without_relief(
            outlook.liquidations_vs_range(hourly, grid, window), rising_steps
        )
        later = ds.store.read(
            "open_interest", ds.start, ds.end + pd.Timedelta(hours=1), ds.exchanges, ds.symbols
        )
        regimes = outlook.oi_price_regimes(
            _of_base(later, base), grid, ds.interval, deadband, exchanges=ds.exchanges
        )
    per_venue = outlook.liquidations_on_grid(bars, *args)
    funding = ds.funding()
    return OutlookResult(
        base=base,
        window=window,
        vs_range=vs_range,
        concentration=outlook.concentration(hourly, "long_usd", single_share),
        to_oi=outlook.liquidations_to_oi(per_venue, ds.open_interest()),
        regimes=regimes,
        funding=outlook.funding_summary(funding) if len(funding) else pd.DataFrame(),
        funding_rows=outlook.annualised_funding(funding) if len(funding) else funding,
    )


def outlook_figures(r: OutlookResult) -> list[KeyFigure]:
    c = r.concentration
    flags = r.vs_range["stress_flag"] if "stress_flag" in r.vs_range else pd.Series(dtype=bool)
    flagged = int(flags.fillna(False).astype(bool).sum())
    last_flag = (
        None if flags.empty or pd.isna(flags.iloc[-1]) else ("yes" if flags.iloc[-1] else "no")
    )
    regime_counts = r.regimes["regime"].value_counts() if "regime" in r.regimes else pd.Series()
    funding_mean = (
        _pct(r.funding["mean_annualised"].mean()) if "mean_annualised" in r.funding else None
    )
    return [
        KeyFigure("deleveraging_shape", c.shape, "", "Single capitulation or staged", "realised"),
        KeyFigure(
            "top_bar_share_pct",
            _pct(c.top_share),
            "%",
            "Share of the window's long liquidations in its top bar",
            "realised",
        ),
        KeyFigure(
            "effective_bars",
            _num(c.effective_hours),
            "bars",
            "Effective number of bars (1/HHI)",
            "realised",
        ),
        KeyFigure(
            "stress_flag_bars",
            flagged,
            "count",
            "Bars flagged: longs rising, range narrowing, no recovery",
            "realised",
        ),
        KeyFigure("stress_flag_last_bar", last_flag, "", "Flag on the last bar", "realised"),
        KeyFigure(
            "long_capitulation_bars",
            int(regime_counts.get("long capitulation", 0)),
            "count",
            f"{r.base} bars with OI down and price down",
            "realised",
        ),
        KeyFigure(
            "new_shorts_bars",
            int(regime_counts.get("new shorts", 0)),
            "count",
            f"{r.base} bars with OI up and price down",
            "realised",
        ),
        KeyFigure(
            "mean_funding_annualised_pct",
            funding_mean,
            "%",
            "Mean funding, annualised (simple), across venues and symbols",
            "realised",
        ),
    ]


# ---- 00 summary ------------------------------------------------------------------------------
LONG_HEAVY = 0.6
"""Long dominance above which the brief calls liquidations long-heavy (below 1 - this:
short-heavy)."""


def final_thoughts(
    imb: ImbalanceResult,
    ven: VenueResult,
    mkt: MarketResult,
    clu: ClusterResult,
    out: OutlookResult,
) -> list[str]:
    """Short bullets generated from the numbers; each one is only said when the data says it."""
    from helpers.units import fmt_pct, fmt_usd

    bullets: list[str] = []
    t = imb.totals
    if t.observed_bars == 0:
        return ["No liquidation data was observed in this window: nothing to conclude."]
    share = t.long_share
    if math.isnan(share):
        bullets.append("No liquidations were observed in the window.")
    elif share >= LONG_HEAVY:
        bullets.append(
            f"Deleveraging was long-heavy: {fmt_pct(share)} of the {fmt_usd(t.total_usd)} "
            "liquidated were long positions."
        )
    elif share <= 1 - LONG_HEAVY:
        bullets.append(
            f"Shorts were squeezed: only {fmt_pct(share)} of the {fmt_usd(t.total_usd)} "
            "liquidated were longs."
        )
    else:
        bullets.append(
            f"Liquidations were two-sided: longs were {fmt_pct(share)} of {fmt_usd(t.total_usd)}."
        )
    if imb.headline is not None:
        bullets.append(f"The worst bar saw {imb.headline.text()}.")
    name, usd = _top_venue(ven.totals, "long_usd")
    if name is not None:
        top2 = ven.totals["long_share"].dropna().nlargest(2)
        if len(top2) < 2:
            bullets.append(f"{name} is the only venue with long liquidations ({fmt_usd(usd)}).")
        else:
            bullets.append(
                f"{name} carried the most longs ({fmt_usd(usd)}, {fmt_pct(top2.iloc[0])}); the "
                f"top two venues ({', '.join(top2.index)}) carried {fmt_pct(top2.sum())}."
            )
    ln = mkt.lines
    if ln.n:
        mood = (
            "the broad market was risk-off"
            if ln.red > ln.n / 2 and ln.cap_weighted_change_pct < 0
            else "the broad market was not uniformly risk-off"
        )
        bullets.append(
            f"{ln.red} of the top {ln.n} coins were red over 24 h (cap-weighted "
            f"{ln.cap_weighted_change_pct:+.2f}%): {mood}."
        )
    ex = clu.exposure
    if ex is not None and clu.last_price:
        gap = (clu.last_price - ex.level) / clu.last_price
        bullets.append(
            f"{clu.base}'s nearest support is {ex.level:,.0f}, {fmt_pct(gap)} below the last "
            f"price; a break of {ex.depth:.0%} below it would liquidate about "
            f"{fmt_usd(ex.notional_usd)} of longs (ESTIMATED)."
        )
    c = out.concentration
    if c.shape in ("single", "staged"):
        kind = "a single capitulation" if c.shape == "single" else "staged, not one capitulation"
        bullets.append(
            f"Deleveraging was {kind}: the top bar held {fmt_pct(c.top_share)} of long "
            f"liquidations (about {c.effective_hours:.0f} effective bars)."
        )
    flags = out.vs_range["stress_flag"] if "stress_flag" in out.vs_range else pd.Series()
    if len(flags) and flags.iloc[-1] is True:
        bullets.append(
            "Watch: long liquidations are still rising while the range narrows and price has "
            "not recovered."
        )
    if t.missing_bars or t.partial_bars:
        bullets.append(
            f"Data caveat: {t.missing_bars} bars had no data and {t.partial_bars} were partial; "
            "totals cover observed bars only."
        )
    return bullets


def summary_figures(
    imb: ImbalanceResult,
    ven: VenueResult,
    mkt: MarketResult,
    clu: ClusterResult,
    out: OutlookResult,
) -> list[KeyFigure]:
    """The brief's headline numbers, taken from each notebook's own key figures."""
    picks = {
        "worst_bar_ts",
        "worst_bar_long_usd",
        "worst_bar_short_usd",
        "window_long_usd",
        "window_short_usd",
        "window_long_dominance_pct",
        "top_long_venue",
        "top_long_venue_share_pct",
        "btc_market_cap_usd",
        "eth_market_cap_usd",
        "red_count",
        "top_n",
        "nearest_support_below",
        "exposed_long_usd_below_support",
        "deleveraging_shape",
        "stress_flag_last_bar",
    }
    figures = (
        imbalance_figures(imb)
        + venue_figures(ven)
        + market_figures(mkt)
        + cluster_figures(clu)
        + outlook_figures(out)
    )
    return [f for f in figures if f.name in picks]
