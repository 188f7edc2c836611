"""The analyses' own tables as pages show them: spike bars (notebook 01), venue coverage
(02), the largest price clusters (04), liquidations against open interest and funding (05).

Each takes the frame its metric returns (the docstring names it) and gives a
:class:`helpers.present_downloads.Table`: readable headers, US dollars with thousands
separators, fractions in percent, UTC times, "—" for missing (never 0), no index column, in
a box that scrolls rather than overflow the page. A table that can grow long (one row per
bar) shows its top rows and links the full table as CSV beside the page
(:func:`helpers.present_downloads.with_download`). No metric is computed here.
"""

from __future__ import annotations

from functools import partial

import pandas as pd

from helpers.metrics.outlook.liquidations import TOTAL
from helpers.present_downloads import Table, csv_name, table, with_download
from helpers.present_tables import (
    MISSING,
    Formatter,
    count_text,
    level_text,
    percent_text,
    signed_percent_text,
    signed_usd_text,
    sources_text,
    spikes_venue_table,
    styled_table,
    time_text,
)
from helpers.venues import market_name

TOP_ROWS = 10
"""How many rows a long table shows on the page (the rest is in its CSV download)."""
SPIKE_ROWS = 25
"""How many spike bars the spike table shows before it is cut to the largest."""


def _fired(flag: object) -> bool:
    return flag is not pd.NA and bool(flag)


def spike_frame(spikes: pd.DataFrame) -> pd.DataFrame:
    """:func:`helpers.metrics.imbalance.spike_bars` with readable headers, one row per spike
    bar in time order: bar open (UTC), longs, shorts, long share (fraction), the two
    thresholds (USD), which rule fired, venues reporting (``2 of 3``). Numbers stay numbers
    (:func:`spike_table` formats them)."""
    rules = [
        " + ".join(name for name, hit in (("long", lg), ("total", tt)) if _fired(hit)) or MISSING
        for lg, tt in zip(spikes["long_spike"], spikes["total_spike"], strict=True)
    ]
    return pd.DataFrame(
        {
            "Bar open (UTC)": [time_text(t) for t in pd.DatetimeIndex(spikes.index)],
            "Longs": spikes["long_usd"].to_numpy(),
            "Shorts": spikes["short_usd"].to_numpy(),
            "Long share": spikes["long_dominance"].to_numpy(dtype="float64", na_value=float("nan")),
            "Long threshold": spikes["long_threshold"].to_numpy(),
            "Total threshold": spikes["total_threshold"].to_numpy(),
            "Rule fired": rules,
            "Venues reporting": [
                f"{r} of {e}"
                for r, e in zip(spikes["venues_reporting"], spikes["venues_expected"], strict=True)
            ],
        }
    )


def spike_table(spikes: pd.DataFrame, page: str, top: int = SPIKE_ROWS) -> Table:
    """The spike bars (:func:`spike_frame`); more than ``top`` of them are cut to the ``top``
    with the most longs (still in time order), the full :func:`spike_bars` frame a CSV
    download named after ``page`` (the notebook's stem)."""
    shown = spikes
    if len(spikes) > top:
        shown = spikes.loc[spikes["long_usd"].nlargest(top).index].sort_index()
    money = ["Longs", "Shorts", "Long threshold", "Total threshold"]
    styler = styled_table(spike_frame(shown), money=money, percent=["Long share"])
    full = spikes.rename_axis("ts").reset_index()
    return with_download(
        styler, full, csv_name(page, "spike_bars"), len(shown), "the spike bars with most longs"
    )


def spikes_by_venue_table(spikes: pd.DataFrame, page: str, top: int = SPIKE_ROWS) -> Table:
    """:func:`helpers.present_tables.spikes_venue_table` (spike bar x venue,
    :func:`helpers.metrics.worst_hour.spikes_by_venue`) in its box; more than ``top`` spike
    bars are cut to the ``top`` with the most longs across venues (in time order), the whole
    frame a CSV download named after ``page`` (one ``<venue>_<side>`` column each)."""
    shown = spikes
    if len(spikes) > top:
        longs = pd.DataFrame(spikes.xs("long_usd", axis=1, level=1)).sum(axis=1, min_count=1)
        shown = spikes.loc[longs.nlargest(top).index].sort_index()
    full = spikes.copy()
    full.columns = pd.Index(["_".join(map(str, col)) for col in spikes.columns])
    full = full.rename_axis("ts").reset_index()
    what = "the spike bars with most longs"
    name = csv_name(page, "spike_bars_by_venue")
    return with_download(spikes_venue_table(shown), full, name, len(shown), what)


def coverage_table(coverage: pd.DataFrame) -> Table:
    """:func:`helpers.metrics.venues.venue_coverage` (one row per venue): its sources, first
    and last bar, bars observed, with no data and partial, symbols, the share of (symbol,
    bar) cells observed, bars in recorded gaps, bars with no data and no recorded gap, the
    gaps' reasons and any known undercount."""
    venues = [market_name(str(v)) for v in coverage.index]

    def column(name: str, default: object = float("nan")) -> list[object]:
        return list(coverage[name]) if name in coverage.columns else [default] * len(coverage)

    def words(values: list[object], empty: str) -> list[str]:
        return [str(v) if pd.notna(v) and str(v).strip() else empty for v in values]  # type: ignore[call-overload]

    out = pd.DataFrame(
        {
            "Venue": venues,
            "Source": [sources_text(s) for s in column("source", None)],
            "First bar (UTC)": column("first_ts", pd.NaT),
            "Last bar (UTC)": column("last_ts", pd.NaT),
            "Bars": column("bars"),
            "Observed bars": column("observed_bars"),
            "No-data bars": column("no_data_bars"),
            "Partial bars": column("partial_bars"),
            "Symbols": column("symbols"),
            "Observed share": column("observed_share"),
            "Bars in recorded gaps": column("gap_bars"),
            "No data, no recorded gap": column("unexplained_no_data_bars"),
            "Gap reasons": words(column("gap_reasons", ""), "none"),
            "Known undercount": words(column("known_undercount", ""), "none known"),
        }
    )
    counts = [
        "Bars",
        "Observed bars",
        "No-data bars",
        "Partial bars",
        "Symbols",
        "Bars in recorded gaps",
        "No data, no recorded gap",
    ]
    formats: dict[str, Formatter] = {c: count_text for c in counts}
    formats |= {"First bar (UTC)": time_text, "Last bar (UTC)": time_text}
    return table(styled_table(out, percent=["Observed share"], formats=formats))


def clusters_table(clusters: pd.DataFrame) -> Table:
    """:func:`helpers.metrics.clusters.largest_clusters`: rank, price bin, liquidated USD
    (total, longs, shorts), the bin's distance from the last price (USD and percent, negative
    below), and the nearest support below and above with the bin's distance from each (in
    percent of the support level)."""
    out = pd.DataFrame(
        {
            "Rank": clusters["rank"].to_numpy(),
            "Price bin": [
                f"{level_text(lo)}\u00a0–\u00a0{level_text(hi)}"
                for lo, hi in zip(clusters["bin_low"], clusters["bin_high"], strict=True)
            ],
            "Liquidated": clusters["notional_usd"].to_numpy(),
            "Longs": clusters["long_usd"].to_numpy(),
            "Shorts": clusters["short_usd"].to_numpy(),
            "From last price": clusters["distance_abs"].to_numpy(),
            "From last price (%)": clusters["distance_rel"].to_numpy(),
            "Support below": clusters["support_below"].to_numpy(),
            "Bin vs support below": clusters["to_support_below_rel"].to_numpy(),
            "Support above": clusters["support_above"].to_numpy(),
            "Bin vs support above": clusters["to_support_above_rel"].to_numpy(),
        }
    )
    formats: dict[str, Formatter] = {
        "Rank": count_text,
        "From last price": signed_usd_text,
        "From last price (%)": signed_percent_text,
        "Support below": level_text,
        "Bin vs support below": signed_percent_text,
        "Support above": level_text,
        "Bin vs support above": signed_percent_text,
    }
    return table(styled_table(out, money=["Liquidated", "Longs", "Shorts"], formats=formats))


def _venue(exchange: object) -> str:
    return "All venues" if str(exchange) == TOTAL else market_name(str(exchange))


def to_oi_table(to_oi: pd.DataFrame, page: str, top: int = TOP_ROWS) -> Table:
    """:func:`helpers.metrics.outlook.liquidations_to_oi` (one row per bar and venue, and
    "All venues"): the ``top`` rows with the highest liquidated / open interest ratio, the
    whole table a CSV download named after ``page``."""
    ranked = to_oi.sort_values(
        ["ratio", "ts", "exchange"], ascending=[False, True, True], na_position="last"
    )
    shown = ranked.head(top)
    out = pd.DataFrame(
        {
            "Bar open (UTC)": [time_text(t) for t in shown["ts"]],
            "Venue": [_venue(e) for e in shown["exchange"]],
            "Liquidated (longs + shorts)": shown["liquidations_usd"].to_numpy(),
            "Open interest at the bar's open": shown["oi_usd"].to_numpy(),
            "Liquidated / open interest": shown["ratio"].to_numpy(),
        }
    )
    styler = styled_table(
        out,
        money=["Liquidated (longs + shorts)", "Open interest at the bar's open"],
        formats={"Liquidated / open interest": partial(percent_text, digits=2)},
    )
    what = "the bars and venues with the highest liquidated / open interest"
    return with_download(styler, to_oi, csv_name(page, "liquidations_to_oi"), len(shown), what)


def funding_table(funding: pd.DataFrame) -> Table:
    """:func:`helpers.metrics.outlook.funding_summary` (one row per venue and symbol):
    observations, first and last funding time, the funding period, the mean and last rate
    per period (percent, 4 decimals) and both annualised (simple, percent)."""
    rate = partial(percent_text, digits=4)
    out = pd.DataFrame(
        {
            "Venue": [market_name(str(e)) for e in funding["exchange"]],
            "Symbol": [str(s) for s in funding["symbol"]],
            "Funding times": funding["observations"].to_numpy(),
            "First (UTC)": list(funding["first_ts"]),
            "Last (UTC)": list(funding["last_ts"]),
            "Period": [
                MISSING if pd.isna(h) else f"{float(h):g} h" for h in funding["period_hours"]
            ],
            "Mean rate per period": funding["mean_rate"].to_numpy(),
            "Last rate per period": funding["last_rate"].to_numpy(),
            "Mean, annualised": funding["mean_annualised"].to_numpy(),
            "Last, annualised": funding["last_annualised"].to_numpy(),
        }
    )
    formats: dict[str, Formatter] = {
        "Funding times": count_text,
        "First (UTC)": time_text,
        "Last (UTC)": time_text,
        "Mean rate per period": rate,
        "Last rate per period": rate,
    }
    pct = ["Mean, annualised", "Last, annualised"]
    return table(styled_table(out, percent=pct, formats=formats))
