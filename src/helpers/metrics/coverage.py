"""Coverage per venue AND symbol: which (venue, symbol) pairs a window expects, which of them
reported in each bar, and the summary a page's data banner shows.

A bar is counted by PAIRS, not venues: a venue that reported ETH in an hour but not BTC has a
missing BTC cell in that hour, and the bar is partial. A CELL is one (pair, bar). A pair is
observed in a bar when it has a row there, or when a row of the same base coin in that bar
speaks for its family (:mod:`helpers.venues`): for a contract, its family's aggregate (bar
loading kept the aggregate instead, :mod:`helpers.precedence`); for a family aggregate, any
row of a family it covers. Input is the canonical ``liquidation_bars`` table (see
:mod:`helpers.metrics.imbalance` for the observed / missing convention).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd

from helpers.precedence import source_shares
from helpers.timegrid import Window
from helpers.venues import covered_families, family, is_family_aggregate, symbol_base

ANY = "*"
"""Stands in a placeholder pair for the half nothing reported: ``(venue, "*")`` is a requested
venue that reported no symbol, ``("*", symbol)`` a requested symbol no venue reported."""

Pair = tuple[str, str]


# ---- the window's rows and what it expects ------------------------------------------------
def bars_in_window(bars: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Rows of ``bars`` of the window's interval, inside ``[start, end)``, on its exchanges
    (all when None); the window's ``symbols`` are not applied here.

    Rows of other intervals are ignored. A row whose ``ts`` is not a bar open time of the grid
    is an error (it would otherwise be silently dropped).
    """
    grid = window.grid()
    interval = window.interval
    s, e = grid[0], window.end
    ts = bars["ts"]
    keep = (bars["interval"] == interval) & (ts >= s) & (ts < e)
    if window.exchanges is not None:
        keep &= bars["exchange"].isin(list(window.exchanges))
    rows = bars[keep.fillna(False).astype(bool)]
    off_grid = ~rows["ts"].isin(grid)
    if off_grid.any():
        first = rows.loc[off_grid, "ts"].iloc[0]
        raise ValueError(f"liquidation bar at {first} is not on the {interval} grid from {s}")
    return rows


def _of_interval(bars: pd.DataFrame, interval: str | None) -> pd.DataFrame:
    if interval is None:
        return bars
    return bars[(bars["interval"] == interval).fillna(False).astype(bool)]


def expected_venues(
    bars: pd.DataFrame, exchanges: Sequence[str] | None, interval: str | None = None
) -> list[str]:
    """The venues a window is expected to cover, sorted: ``exchanges`` if given, else every
    venue with a row in ``bars`` (of this ``interval`` when given), inside the window or not."""
    if exchanges is not None:
        return sorted(dict.fromkeys(exchanges))
    return sorted(str(x) for x in _of_interval(bars, interval)["exchange"].dropna().unique())


def expected_pairs(
    bars: pd.DataFrame,
    exchanges: Sequence[str] | None,
    symbols: Sequence[str] | None,
    interval: str | None = None,
) -> list[Pair]:
    """The (venue, symbol) pairs a window is expected to cover, sorted.

    * ``exchanges`` and ``symbols`` both given: every pair of the two (the selection names
      them all, so a symbol a venue never reported is missing, not unasked for).
    * Otherwise every pair with a row in ``bars`` (of this ``interval`` when given), inside
      the window or not, on the given ``exchanges`` / ``symbols``; a requested venue with no
      pair at all adds ``(venue, "*")`` and a requested symbol no venue reported adds
      ``("*", symbol)`` (:data:`ANY`), placeholders that are never observed.
    """
    if exchanges is not None and symbols is not None:
        return sorted(product(dict.fromkeys(exchanges), dict.fromkeys(symbols)))
    rows = _of_interval(bars, interval)
    if exchanges is not None:
        rows = rows[rows["exchange"].isin(list(exchanges))]
    if symbols is not None:
        rows = rows[rows["symbol"].isin(list(symbols))]
    seen = rows[["exchange", "symbol"]].dropna().drop_duplicates()
    pairs = {(str(e), str(s)) for e, s in seen.itertuples(index=False)}
    for ex in exchanges or ():
        if not any(p[0] == ex for p in pairs):
            pairs.add((ex, ANY))
    for sym in symbols or ():
        if not any(p[1] == sym for p in pairs):
            pairs.add((ANY, sym))
    return sorted(pairs)


# ---- which pairs reported in each bar -----------------------------------------------------
def _row_facts(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (bar row, family it speaks for): ``tsi`` (bar open, epoch microseconds),
    ``exchange``, ``symbol``, ``base``, ``family``, ``aggregate``."""
    facts = pd.DataFrame(
        {
            "tsi": pd.DatetimeIndex(rows["ts"]).as_unit("us").asi8,
            **{c: rows[c].astype(str).to_numpy() for c in ("exchange", "symbol", "base")},
        }
    )
    kinds = facts[["exchange", "symbol"]].drop_duplicates()
    pairs = list(kinds.itertuples(index=False, name=None))
    kinds = kinds.assign(
        family=pd.Series(
            [covered_families(e, s) for e, s in pairs], index=kinds.index, dtype=object
        ),
        aggregate=[is_family_aggregate(e, s) for e, s in pairs],
    )
    return facts.merge(kinds, on=["exchange", "symbol"], how="left").explode("family")


def _times(facts: pd.DataFrame, keys: list[str]) -> dict[tuple[str, ...], np.ndarray]:
    out: dict[tuple[str, ...], np.ndarray] = {}
    for k, g in facts.groupby(keys, sort=False)["tsi"]:
        parts = k if isinstance(k, tuple) else (k,)
        out[tuple(str(p) for p in parts)] = g.to_numpy(dtype="int64")
    return out


def pairs_observed(
    bars: pd.DataFrame, window: Window, pairs: Iterable[Pair] | None = None
) -> pd.DataFrame:
    """True where a pair is observed in a bar (module docstring): index ``ts`` (the window
    grid), one boolean column per pair (an ``(exchange, symbol)`` column MultiIndex), the
    ``pairs`` given or else :func:`expected_pairs` of the window's selection."""
    grid = window.grid()
    rows = bars_in_window(bars, window)
    if pairs is None:
        pairs = expected_pairs(bars, window.exchanges, window.symbols, window.interval)
    pairs = list(pairs)
    facts = _row_facts(rows)
    own = _times(facts, ["exchange", "symbol"])
    by_family = _times(facts, ["base", "family"])
    by_aggregate = _times(facts[facts["aggregate"].astype(bool)], ["base", "family"])
    base_of = dict(
        zip(zip(facts["exchange"], facts["symbol"], strict=True), facts["base"], strict=True)
    )
    none = np.array([], dtype="int64")
    observed: dict[Pair, np.ndarray] = {}
    for ex, sym in pairs:
        if ANY in (ex, sym):
            observed[(ex, sym)] = np.zeros(len(grid), dtype=bool)
            continue
        base = base_of.get((ex, sym), symbol_base(sym))
        hits = [own.get((ex, sym), none)]
        if is_family_aggregate(ex, sym):
            hits += [by_family.get((base, f), none) for f in covered_families(ex, sym)]
        else:
            hits.append(by_aggregate.get((base, family(ex)), none))
        observed[(ex, sym)] = np.isin(grid.asi8, np.concatenate(hits))
    columns = pd.MultiIndex.from_tuples(pairs, names=["exchange", "symbol"])
    frame = pd.DataFrame(
        np.column_stack([observed[p] for p in pairs]) if pairs else np.zeros((len(grid), 0), bool),
        index=grid,
        columns=columns,
    )
    frame.index.name = "ts"
    return frame


def _pair_keys(columns: pd.Index) -> list[Pair]:
    """The (exchange, symbol) tuples of a :func:`pairs_observed` column index."""
    levels = (columns.get_level_values(n) for n in ("exchange", "symbol"))
    return [(str(e), str(s)) for e, s in zip(*levels, strict=True)]


def pair_coverage(bars: pd.DataFrame, window: Window) -> pd.DataFrame:
    """How well each (venue, symbol) pair of the window is covered: index
    (``exchange``, ``symbol``) from :func:`expected_pairs`; columns ``bars`` (of the grid),
    ``observed_bars`` (:func:`pairs_observed`), ``missing_bars`` and ``observed_share``
    (observed / bars, a fraction), and ``source``: the sources of the pair's own rows,
    ``, ``-joined (empty when a family aggregate or nothing covered it)."""
    observed = pairs_observed(bars, window)
    rows = bars_in_window(bars, window)
    sources = {
        (str(e), str(s)): ", ".join(sorted(str(x) for x in g.dropna().unique()))
        for (e, s), g in rows.groupby(["exchange", "symbol"], observed=True)["source"]
    }
    n = len(observed)
    seen = observed.sum().astype("int64")
    out = pd.DataFrame(
        {
            "bars": n,
            "observed_bars": seen,
            "missing_bars": n - seen,
            "observed_share": seen / n if n else np.nan,
            "source": pd.Series(
                [sources.get((str(e), str(s)), "") for e, s in _pair_keys(observed.columns)],
                index=observed.columns,
                dtype="string",
            ),
        },
        index=observed.columns,
    )
    return out


# ---- the data banner ----------------------------------------------------------------------
@dataclass(frozen=True)
class DataBanner:
    """What a page's data banner says: the venues and sources its bars came from and how
    much of the window they cover.

    ``sources`` maps each venue to its sources with the share of the venue's bar rows each
    supplied (fractions summing to 1; :func:`helpers.precedence.source_shares`). ``cells`` =
    ``pairs`` x ``bars`` (pair, bar) cells; ``observed_share`` = observed / cells, NaN when
    there is no cell."""

    venues: tuple[str, ...]
    sources: dict[str, dict[str, float]]
    pairs: int
    bars: int
    cells: int
    observed_cells: int

    @property
    def observed_share(self) -> float:
        return self.observed_cells / self.cells if self.cells else float("nan")

    @property
    def all_sources(self) -> tuple[str, ...]:
        """Every source of the page, sorted."""
        return tuple(sorted({s for shares in self.sources.values() for s in shares}))


def data_banner(bars: pd.DataFrame, window: Window) -> DataBanner:
    """The :class:`DataBanner` of a page showing ``bars`` over ``window``: venues are
    :func:`expected_venues` of the window, sources are those of the rows inside the window
    and the cells those of :func:`pairs_observed`."""
    observed = pairs_observed(bars, window)
    rows = bars_in_window(bars, window)
    shares = source_shares(rows, by=("exchange",))
    sources: dict[str, dict[str, float]] = {}
    for ex, src, share in shares[["exchange", "source", "share"]].itertuples(index=False):
        sources.setdefault(str(ex), {})[str(src)] = float(share)
    n_pairs, n_bars = observed.shape[1], observed.shape[0]
    return DataBanner(
        venues=tuple(expected_venues(bars, window.exchanges, window.interval)),
        sources=sources,
        pairs=n_pairs,
        bars=n_bars,
        cells=n_pairs * n_bars,
        observed_cells=int(observed.to_numpy().sum()),
    )
