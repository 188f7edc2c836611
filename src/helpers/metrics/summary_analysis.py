"""Notebook 00, the brief: its headline figures, taken from each notebook's own key figures,
and the final thoughts generated from every analysis.

Conventions (missing is None, never 0; money in US dollars; shares as fractions, reported in
percent points in key figures): :mod:`helpers.metrics.figures`.
"""

from __future__ import annotations

import math

import pandas as pd

from helpers.metrics.clusters_analysis import ClusterResult, cluster_figures
from helpers.metrics.imbalance_analysis import ImbalanceResult, imbalance_figures
from helpers.metrics.marketmap_analysis import MarketResult, market_figures
from helpers.metrics.outlook_analysis import OutlookResult, outlook_figures
from helpers.metrics.venues_analysis import VenueResult, top_venue, venue_figures
from helpers.present import KeyFigure
from helpers.venues import display_name

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
    top_id, usd = top_venue(ven.totals, "long_usd")
    if top_id is not None:
        name = display_name(top_id)
        top2 = ven.totals["long_share"].dropna().nlargest(2)
        if len(top2) < 2:
            bullets.append(f"{name} is the only venue with long liquidations ({fmt_usd(usd)}).")
        else:
            both = ", ".join(display_name(str(v)) for v in top2.index)
            bullets.append(
                f"{name} carried the most longs ({fmt_usd(usd)}, {fmt_pct(top2.iloc[0])}); the "
                f"top two venues ({both}) carried {fmt_pct(top2.sum())}."
            )
    ln = mkt.lines
    if ln.n:
        mood = (
            "the broad market was risk-off"
            if ln.red > ln.counted / 2 and ln.cap_weighted_change_pct < 0
            else "the broad market was not uniformly risk-off"
        )
        bullets.append(
            f"{ln.red_text} over 24 h (cap-weighted {ln.cap_weighted_change_pct:+.2f}%): {mood}."
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
