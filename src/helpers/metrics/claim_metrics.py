"""The metrics a claim can test (:mod:`helpers.metrics.claims`), each read from the analysis
of the page that shows it, never computed another way.

============================================  ========  =========  ======================
metric                                        unit      kind       page
============================================  ========  =========  ======================
``worst_bar.longs_usd``                       USD       realised   01_liquidation_imbalance
``worst_bar.shorts_usd``                      USD       realised   01_liquidation_imbalance
``worst_bar.venue_longs_usd[venue]``          USD       realised   02_venue_breakdown
``worst_bar.venue_shorts_usd[venue]``         USD       realised   02_venue_breakdown
``window.longs_usd``                          USD       realised   01_liquidation_imbalance
``window.shorts_usd``                         USD       realised   01_liquidation_imbalance
``window.long_share``                         fraction  realised   01_liquidation_imbalance
``window.venue_longs_usd[venue]``             USD       realised   02_venue_breakdown
``window.venue_shorts_usd[venue]``            USD       realised   02_venue_breakdown
``market_cap_usd[coin]``                      USD       realised   03_market_heatmap
``caps.red_share[top=N]``                     fraction  realised   03_market_heatmap
``caps.red_count[top=N]``                     count     realised   03_market_heatmap
``support.exposed_longs_usd``                 USD       estimated  04_clusters_support
============================================  ========  =========  ======================

* The WORST BAR is :func:`helpers.metrics.imbalance.worst_bar`: the bar with the most long
  USD liquidated over all venues (``worst_hour.*`` names it on an hourly report). Its
  sides are summed over every venue and symbol of the window.
* ``[venue]`` is a venue family id (``binance``, ``hyperliquid``: every contract of the
  family, as the venue page's table) or a ccxt id that is one part of a family
  (``binanceusdm``: that part alone). A venue with no row in the bars asked about is no
  data, never 0.
* ``market_cap_usd[coin]`` is the coin's cap (by symbol, ``BTC``) in the last market-cap
  snapshot of the window, the one the heatmap shows.
* ``caps.red_share[top=N]``: the fraction of the N largest coins of that snapshot whose 24 h
  change is below 0, out of the non-stablecoins with a known change (stablecoins,
  :data:`helpers.metrics.marketmap.STABLECOINS`, are never red); ``caps.red_count`` counts them.
  Without ``[top=N]`` the heatmap's ``top_n`` coins.
* ``support.exposed_longs_usd``: the ESTIMATED long notional liquidated if the cluster
  page's base coin breaks its nearest support by ``break_depth``.

Money is US dollars; fractions are fractions (0.5 = 50 %).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, cast

import pandas as pd

from helpers.metrics import marketmap, venues
from helpers.metrics.families import family_rows, family_window
from helpers.venues import family, is_family_part, market_name

if TYPE_CHECKING:
    from helpers.dataset import Dataset
    from helpers.metrics.clusters_analysis import ClusterResult
    from helpers.metrics.imbalance import WorstBar
    from helpers.metrics.imbalance_analysis import ImbalanceResult
    from helpers.metrics.marketmap_analysis import MarketResult
    from helpers.metrics.venues_analysis import VenueResult

Unit = Literal["USD", "fraction", "count"]
Kind = Literal["realised", "estimated"]
ArgKind = Literal["venue", "coin", "top"]

IMBALANCE_PAGE = "01_liquidation_imbalance"
VENUE_PAGE = "02_venue_breakdown"
MARKET_PAGE = "03_market_heatmap"
CLUSTER_PAGE = "04_clusters_support"


@dataclass(frozen=True)
class ClaimInputs:
    """The analyses the summary notebook ran for the window; metrics read these."""

    ds: Dataset
    imbalance: ImbalanceResult
    venues: VenueResult
    market: MarketResult
    clusters: ClusterResult | None = None


@dataclass(frozen=True)
class Measurement:
    """A metric's value in its unit (None: no data, never 0) and what it was measured on."""

    value: float | None
    note: str = ""


Measure = Callable[[ClaimInputs, str | None], Measurement]


@dataclass(frozen=True)
class Metric:
    """One entry of the vocabulary: its ``unit``, whether it is ``realised`` or
    ``estimated``, the ``page`` (notebook stem) that shows it, the kind of bracketed
    argument it takes (None: none) and how it is measured."""

    name: str
    unit: Unit
    kind: Kind
    page: str
    arg: ArgKind | None
    label: str
    measure: Measure


def _when(ts: pd.Timestamp) -> str:
    return ts.tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")


def _worst(inputs: ClaimInputs) -> WorstBar | None:
    return inputs.imbalance.worst


def _no_worst_bar() -> Measurement:
    return Measurement(None, "no bar with long liquidations in the window")


def _worst_note(w: WorstBar) -> str:
    note = f"worst bar {_when(w.ts)}"
    if w.partial:
        note += f"; partial: {w.pairs_reporting} of {w.pairs_expected} venue/symbol pairs reported"
    return note


def _worst_side(side: str) -> Measure:
    def measure(inputs: ClaimInputs, _: str | None) -> Measurement:
        w = _worst(inputs)
        if w is None:
            return _no_worst_bar()
        return Measurement(w.long_usd if side == "long" else w.short_usd, _worst_note(w))

    return measure


def venue_key(venue: str) -> str:
    """The row a venue argument names: a family part's own id (``binanceusdm``), else its
    family id (``binance``, ``gateio`` -> ``gate``)."""
    return venue if is_family_part(venue) else family(venue)


def _venue_totals(ds: Dataset, key: str, at: list[pd.Timestamp]) -> pd.DataFrame:
    """:func:`helpers.metrics.venues.venue_totals` in the bars ``at``, per part for a family
    part, else per family (as the venue page's tables)."""
    if is_family_part(key):
        return venues.venue_totals(ds.bars(), ds.window, at=at)
    return venues.venue_totals(family_rows(ds.bars()), family_window(ds.window), at=at)


def _venue_value(totals: pd.DataFrame, key: str, column: str, where: str) -> Measurement:
    name = market_name(key)
    if key not in totals.index:
        return Measurement(None, f"{name} has no data in the window")
    value = cast(float, totals.loc[key, column])
    if pd.isna(value):
        return Measurement(None, f"{name} was not observed in {where}")
    return Measurement(float(value), f"{name}, {where}")


def _worst_venue(side: str) -> Measure:
    def measure(inputs: ClaimInputs, venue: str | None) -> Measurement:
        w, key = _worst(inputs), venue_key(str(venue))
        if w is None:
            return _no_worst_bar()
        totals = _venue_totals(inputs.ds, key, [w.ts])
        return _venue_value(totals, key, f"{side}_usd", f"the worst bar {_when(w.ts)}")

    return measure


def _window_side(side: str) -> Measure:
    def measure(inputs: ClaimInputs, _: str | None) -> Measurement:
        t = inputs.imbalance.totals
        value = t.long_usd if side == "long" else t.short_usd
        return Measurement(value, _coverage_note(inputs))

    return measure


def _coverage_note(inputs: ClaimInputs) -> str:
    t = inputs.imbalance.totals
    if t.observed_bars == 0:
        return "no bar of the window was observed"
    note = f"{t.observed_bars} of {t.bars} bars observed"
    return note + (f", {t.partial_bars} partial" if t.partial_bars else "")


def _window_long_share(inputs: ClaimInputs, _: str | None) -> Measurement:
    return Measurement(inputs.imbalance.totals.long_share, _coverage_note(inputs))


def _window_venue(side: str) -> Measure:
    def measure(inputs: ClaimInputs, venue: str | None) -> Measurement:
        key = venue_key(str(venue))
        r = inputs.venues
        totals = r.part_totals if is_family_part(key) else r.totals
        return _venue_value(totals, key, f"{side}_usd", "the window")

    return measure


def _snapshot(inputs: ClaimInputs, top: str | None) -> MarketResult:
    """The heatmap's analysis (the notebook's own ``top_n`` unless ``top`` says how many)."""
    if top is None or int(top) == len(inputs.market.top):
        return inputs.market
    from helpers.metrics.marketmap_analysis import market_analysis

    return market_analysis(inputs.ds, top_n=int(top))


def _market_cap(inputs: ClaimInputs, coin: str | None) -> Measurement:
    every_coin = max(1, len(inputs.ds.market_caps()))
    r = _snapshot(inputs, str(every_coin))
    if r.lines.ts is None:
        return Measurement(None, "no market-cap snapshot in the window")
    cap = marketmap.cap_of(r.top, str(coin))
    where = f"snapshot {_when(r.lines.ts)}"
    if math.isnan(cap):
        return Measurement(None, f"{coin} is not in the {where}")
    return Measurement(cap, where)


def _red(count: bool) -> Measure:
    def measure(inputs: ClaimInputs, top: str | None) -> Measurement:
        ln = _snapshot(inputs, top).lines
        if ln.ts is None or ln.n == 0:
            return Measurement(None, "no market-cap snapshot in the window")
        known = ln.counted
        note = f"{ln.red_text} over 24 h, snapshot {_when(ln.ts)}"
        if top is not None and ln.n < int(top):
            note += f"; the snapshot holds only {ln.n} coins"
        if known == 0:
            return Measurement(None, note)
        return Measurement(float(ln.red) if count else ln.red / known, note)

    return measure


def _exposed_longs(inputs: ClaimInputs, _: str | None) -> Measurement:
    clu = inputs.clusters
    if clu is None:
        return Measurement(None, "the cluster analysis was not given")
    ex = clu.exposure
    if ex is None:
        return Measurement(None, f"no ESTIMATED map or support for {clu.base}")
    return Measurement(
        ex.notional_usd,
        f"ESTIMATED: {clu.base} {ex.depth:.0%} below its support {ex.level:,.0f}",
    )


def _metric(
    name: str,
    unit: Unit,
    page: str,
    label: str,
    measure: Measure,
    arg: ArgKind | None = None,
    kind: Kind = "realised",
) -> Metric:
    return Metric(name, unit, kind, page, arg, label, measure)


METRICS: Mapping[str, Metric] = MappingProxyType(
    {
        m.name: m
        for m in (
            _metric(
                "worst_bar.longs_usd",
                "USD",
                IMBALANCE_PAGE,
                "Longs liquidated in the worst bar",
                _worst_side("long"),
            ),
            _metric(
                "worst_bar.shorts_usd",
                "USD",
                IMBALANCE_PAGE,
                "Shorts liquidated in the worst bar",
                _worst_side("short"),
            ),
            _metric(
                "worst_bar.venue_longs_usd",
                "USD",
                VENUE_PAGE,
                "A venue's longs liquidated in the worst bar",
                _worst_venue("long"),
                "venue",
            ),
            _metric(
                "worst_bar.venue_shorts_usd",
                "USD",
                VENUE_PAGE,
                "A venue's shorts liquidated in the worst bar",
                _worst_venue("short"),
                "venue",
            ),
            _metric(
                "window.longs_usd",
                "USD",
                IMBALANCE_PAGE,
                "Longs liquidated over the window",
                _window_side("long"),
            ),
            _metric(
                "window.shorts_usd",
                "USD",
                IMBALANCE_PAGE,
                "Shorts liquidated over the window",
                _window_side("short"),
            ),
            _metric(
                "window.long_share",
                "fraction",
                IMBALANCE_PAGE,
                "Long share L/(L+S) over the window",
                _window_long_share,
            ),
            _metric(
                "window.venue_longs_usd",
                "USD",
                VENUE_PAGE,
                "A venue's longs liquidated over the window",
                _window_venue("long"),
                "venue",
            ),
            _metric(
                "window.venue_shorts_usd",
                "USD",
                VENUE_PAGE,
                "A venue's shorts liquidated over the window",
                _window_venue("short"),
                "venue",
            ),
            _metric(
                "market_cap_usd",
                "USD",
                MARKET_PAGE,
                "A coin's market cap in the window's last snapshot",
                _market_cap,
                "coin",
            ),
            _metric(
                "caps.red_share",
                "fraction",
                MARKET_PAGE,
                "Share of the top-N coins down over 24 h",
                _red(count=False),
                "top",
            ),
            _metric(
                "caps.red_count",
                "count",
                MARKET_PAGE,
                "Top-N coins down over 24 h",
                _red(count=True),
                "top",
            ),
            _metric(
                "support.exposed_longs_usd",
                "USD",
                CLUSTER_PAGE,
                "ESTIMATED longs liquidated if the base coin breaks its support",
                _exposed_longs,
                kind="estimated",
            ),
        )
    }
)
"""Metric name -> :class:`Metric`; the vocabulary of :mod:`helpers.metrics.claims`."""
