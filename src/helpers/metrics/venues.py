"""Which venues carry the liquidations, and how well each venue is covered.

Input is the canonical ``liquidation_bars`` table (see :mod:`helpers.metrics.imbalance` for the
observed / missing convention) and, for coverage, the ``gaps`` table. A venue bar with no row
is MISSING and stays NaN in every per-venue table here, never zero. Coverage counts each
venue's symbols too (:mod:`helpers.metrics.coverage`): a venue that reported ETH and not BTC
in a bar is partial there. Sides are the liquidated POSITION; money is in US dollars.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from helpers import schema
from helpers.metrics.coverage import (
    bars_in_window,
    expected_pairs,
    expected_venues,
    pairs_observed,
)
from helpers.timegrid import Window, require_utc

GAP_TABLES = ("liquidations", "liquidation_bars")
"""``gaps.table_name`` values that concern liquidation coverage."""

_FORCE_ORDER = (
    "forceOrder stream publishes at most one liquidation per symbol per second (the latest), "
    "so sums are lower bounds"
)

KNOWN_UNDERCOUNTS: dict[str, str] = {
    "binanceusdm": _FORCE_ORDER,
    "binancecoinm": _FORCE_ORDER,
    "binance": _FORCE_ORDER,
    "bybit": (
        "the legacy 'liquidation' websocket topic publishes at most one liquidation per symbol "
        "per second, so sums from it are lower bounds ('allLiquidation' publishes all)"
    ),
}
"""Known reasons a venue's liquidation sums are lower bounds, by ccxt exchange id.

Binance (USD-M and COIN-M) documents that its ``<symbol>@forceOrder`` stream pushes only the
latest liquidation per symbol in each 1000 ms. Bybit documents the same limit for its older
``liquidation.<symbol>`` topic, replaced by ``allLiquidation.<symbol>``."""

SIDE_COLUMNS = ("long_usd", "short_usd", "total_usd")


def venue_hourly(bars: pd.DataFrame, window: Window, value: str = "total_usd") -> pd.DataFrame:
    """US dollars per bar and venue, summed over symbols: index ``ts`` (the window grid, UTC),
    one column per venue. ``value`` is ``long_usd``, ``short_usd`` or ``total_usd``
    (long + short). A venue bar with no row is NaN (not observed), never zero. Columns are
    the window's ``exchanges`` if given, else every venue with a row of its interval in
    ``bars``."""
    if value not in SIDE_COLUMNS:
        raise ValueError(f"value must be one of {SIDE_COLUMNS}, got {value!r}")
    grid = window.grid()
    rows = bars_in_window(bars, window)
    venues = expected_venues(bars, window.exchanges, window.interval)
    rows = rows.assign(total_usd=rows["long_usd"] + rows["short_usd"])
    wide = rows.pivot_table(
        index="ts", columns="exchange", values=value, aggfunc="sum", observed=True
    )
    wide = wide.reindex(index=grid, columns=venues).astype("float64")
    wide.index.name = "ts"
    wide.columns = pd.Index(venues, name="exchange", dtype="string")
    return wide


def _check_bars_on_grid(when: Iterable[pd.Timestamp], grid: pd.DatetimeIndex) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex([require_utc(t, "bar time") for t in when]).as_unit("us")
    outside = idx[~idx.isin(grid)]
    if len(outside):
        raise ValueError(f"bar time {outside[0]} is not a bar of the window grid")
    return idx.unique().sort_values()


def venue_totals(
    bars: pd.DataFrame, window: Window, at: Iterable[pd.Timestamp] | None = None
) -> pd.DataFrame:
    """Long and short US dollars per venue over the window, or only over the bars ``at``.

    ``at`` is a set of bar open times on the window grid (for example the index of
    :func:`helpers.metrics.imbalance.spike_bars`); None means every bar of the window. Index
    ``exchange``; columns:

    * ``long_usd``, ``short_usd``, ``total_usd``: sums over the venue's OBSERVED bars; NaN
      when the venue was observed in none of them.
    * ``long_share``, ``short_share``: the venue's fraction of the long (short) sum over all
      venues with data; NaN when that sum is 0 or the venue has no data.
    * ``observed_bars`` of ``bars`` (the bars asked about): a venue with fewer observed bars
      is partial and its sums are lower bounds.
    """
    grid = window.grid()
    selected = grid if at is None else _check_bars_on_grid(at, grid)
    wide = {
        side: venue_hourly(bars, window, side).loc[selected] for side in ("long_usd", "short_usd")
    }
    totals = pd.DataFrame({side: w.sum(min_count=1) for side, w in wide.items()})
    totals["total_usd"] = totals["long_usd"] + totals["short_usd"]
    for side in ("long", "short"):
        col = totals[f"{side}_usd"]
        whole = col.sum()
        totals[f"{side}_share"] = col / whole if whole > 0 else np.nan
    totals["observed_bars"] = wide["long_usd"].notna().sum().astype("int64")
    totals["bars"] = len(selected)
    totals.index.name = "exchange"
    return totals


def venue_gap_mask(gaps: pd.DataFrame | None, window: Window) -> pd.DataFrame:
    """True where a bar of the window grid overlaps a recorded gap of the venue.

    Index ``ts`` (grid), one boolean column per venue: the window's ``exchanges``, else every
    venue with a gap. Only gaps of :data:`GAP_TABLES` count; when the window names
    ``symbols``, only gaps of those symbols or of the whole venue (``symbol`` missing).
    A gap ``[gap.start, gap.end)`` overlaps bar ``[t, t + interval)`` when
    ``gap.start < t + interval`` and ``gap.end > t``; a missing ``end`` means still open.
    ``gaps`` None means no gap was recorded.
    """
    gaps = _gaps_or_empty(gaps)
    grid = window.grid()
    step = window.step
    relevant = gaps[gaps["table_name"].isin(GAP_TABLES).fillna(False).astype(bool)]
    if window.symbols is not None:
        sym = relevant["symbol"]
        relevant = relevant[(sym.isna() | sym.isin(list(window.symbols))).astype(bool)]
    venues = expected_venues(relevant, window.exchanges)
    mask = pd.DataFrame(False, index=grid, columns=pd.Index(venues, name="exchange"))
    bar_close = grid + step
    overlapping = relevant[relevant["exchange"].isin(venues)]
    for exchange, start, end in overlapping[["exchange", "start", "end"]].itertuples(
        index=False, name=None
    ):
        gap_end = end if pd.notna(end) else bar_close[-1]
        hit = np.asarray((bar_close > start) & (grid < gap_end))
        mask[exchange] = mask[exchange].to_numpy() | hit
    mask.index.name = "ts"
    return mask


def venue_coverage(bars: pd.DataFrame, gaps: pd.DataFrame | None, window: Window) -> pd.DataFrame:
    """How well each venue is covered in the window, one row per venue (index ``exchange``).

    Columns:

    * ``source``: the source(s) of the venue's rows (``demo`` is simulated data); the share
      of bars each supplied is :func:`helpers.precedence.source_shares`.
    * ``first_ts``, ``last_ts``: first and last bar open time with a row (NaT when none).
    * ``bars``: bars in the window grid; ``observed_bars``: bars in which at least one of
      the venue's symbols was observed (by its own row or its family's aggregate,
      :func:`helpers.metrics.coverage.pairs_observed`).
    * ``no_data_bars``: bars in which none was (shown as missing, never zero).
    * ``symbols``: the venue's expected (venue, symbol) pairs
      (:func:`helpers.metrics.coverage.expected_pairs`; a venue that reported nothing has one
      placeholder); ``partial_bars``: bars in which some but not all of them were observed;
      ``cells`` = symbols x bars, ``missing_cells`` the (symbol, bar) cells not observed, and
      ``observed_share`` = 1 - missing / cells (a fraction; NaN without cells).
    * ``gap_bars``: bars overlapping a recorded gap (:func:`venue_gap_mask`).
    * ``unexplained_no_data_bars``: bars with no row and no recorded gap.
    * ``gap_reasons``: the distinct reasons of the venue's gaps in the window, ``; ``-joined.
    * ``known_undercount``: the note from :data:`KNOWN_UNDERCOUNTS`, empty when none is known.

    Venues are the window's ``exchanges`` if given, else every venue with bars of its interval
    in ``bars`` or gaps in the window; when the window names ``symbols``, only rows of those
    symbols count (and gaps as in :func:`venue_gap_mask`).
    ``gaps`` None means no gap was recorded.
    """
    gaps = _gaps_or_empty(gaps)
    rows = bars_in_window(bars, window)
    if window.symbols is not None:
        rows = rows[rows["symbol"].isin(list(window.symbols))]
    gap_mask = venue_gap_mask(gaps, window)
    if window.exchanges is None:
        gapped = gap_mask.columns[gap_mask.any()]
        venues = sorted(set(expected_venues(bars, None, window.interval)) | set(gapped))
    else:
        venues = expected_venues(bars, window.exchanges)
    pairs = expected_pairs(bars, tuple(venues), window.symbols, window.interval)
    observed = pairs_observed(bars, replace(window, exchanges=tuple(venues)), pairs)
    gap_mask = gap_mask.reindex(columns=venues, fill_value=False)
    reasons = _gap_reasons(gaps, window, venues)
    records = []
    for venue in venues:
        mine = rows[rows["exchange"] == venue]
        cells = observed.loc[:, observed.columns.get_level_values("exchange") == venue]
        seen, in_gap = cells.any(axis=1), gap_mask[venue]
        n_cells = int(cells.size)
        missing_cells = n_cells - int(cells.to_numpy().sum())
        records.append(
            {
                "exchange": venue,
                "source": ", ".join(sorted(str(s) for s in mine["source"].dropna().unique())),
                "first_ts": mine["ts"].min() if len(mine) else pd.NaT,
                "last_ts": mine["ts"].max() if len(mine) else pd.NaT,
                "bars": len(seen),
                "observed_bars": int(seen.sum()),
                "no_data_bars": int((~seen).sum()),
                "symbols": int(cells.shape[1]),
                "partial_bars": int((seen & ~cells.all(axis=1)).sum()),
                "cells": n_cells,
                "missing_cells": missing_cells,
                "observed_share": 1 - missing_cells / n_cells if n_cells else np.nan,
                "gap_bars": int(in_gap.sum()),
                "unexplained_no_data_bars": int((~seen & ~in_gap).sum()),
                "gap_reasons": reasons.get(venue, ""),
                "known_undercount": KNOWN_UNDERCOUNTS.get(venue, ""),
            }
        )
    columns = [
        "exchange",
        "source",
        "first_ts",
        "last_ts",
        "bars",
        "observed_bars",
        "no_data_bars",
        "symbols",
        "partial_bars",
        "cells",
        "missing_cells",
        "observed_share",
        "gap_bars",
        "unexplained_no_data_bars",
        "gap_reasons",
        "known_undercount",
    ]
    out = pd.DataFrame.from_records(records, columns=columns).set_index("exchange")
    for col in ("first_ts", "last_ts"):
        out[col] = pd.to_datetime(out[col], utc=True).astype("datetime64[us, UTC]")
    for col in ("source", "gap_reasons", "known_undercount"):
        out[col] = out[col].astype("string")
    return out


def _gaps_or_empty(gaps: pd.DataFrame | None) -> pd.DataFrame:
    return schema.empty("gaps") if gaps is None else gaps


def _gap_reasons(gaps: pd.DataFrame, window: Window, venues: Sequence[str]) -> dict[str, str]:
    s, e = window.start, window.end
    inside = (
        gaps["table_name"].isin(GAP_TABLES)
        & gaps["exchange"].isin(list(venues))
        & (gaps["start"] < e)
        & (gaps["end"].isna() | (gaps["end"] > s))
    )
    hit = gaps[inside.fillna(False).astype(bool)]
    return {
        str(venue): "; ".join(sorted({str(r) for r in group["reason"].dropna()}))
        for venue, group in hit.groupby("exchange")
    }
