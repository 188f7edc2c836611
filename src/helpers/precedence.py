"""One source per venue, per bar: which stored bars :func:`helpers.aggregate.load_bars` keeps.

The store may hold several sources' bars for the same venue and bar: bars built from events
the collector recorded or a fetch pulled, a vendor's per-contract bars (Coinalyze), a
vendor's FAMILY AGGREGATE (CoinGlass "Binance" BTC, every Binance futures market of BTC in
one row, :mod:`helpers.venues`). Adding them would count the same liquidations twice, so
loading keeps exactly one source for each piece of the market in each bar:

1. **Per contract and bar.** For each (venue family, ``symbol``, ``ts``) the row of the
   highest-precedence source that observed that bar is kept and every other source's row
   dropped. The choice is made bar by bar: where recorded events cover two hours of a day a
   vendor covers whole, those two hours come from the events and the rest from the vendor.
   A contract stored under two ccxt ids of one family (``binance`` and ``binanceusdm``, both
   ``BTC/USDT:USDT``) is one contract: one of its rows is kept, never both.
2. **Per family and bar.** For each (``base``, ``ts``) a family aggregate and the contracts
   of the family it covers are never both kept. The side whose best source ranks higher
   wins the bar: the aggregate when its source outranks every source of the family's
   contracts in that bar, the contracts otherwise. A tie goes to the contracts, because
   they keep what the aggregate has lost (which contract, USDⓈ-M or COIN-M, and the event
   counts). With the default precedence CoinGlass ranks last, so its aggregate fills only
   the bars in which no contract of the family was observed. An aggregate over several
   families (``binance+okx+bybit``) competes with each of them and is kept only where it
   wins against all of them; when kept, none of those families' rows are.

Precedence is a list of source names or :mod:`fnmatch` patterns, most trusted first
(``precedence:`` in ``config/sources.yaml``, default
:data:`helpers.config.DEFAULT_PRECEDENCE`): a source's rank is the first entry it matches;
a source no entry matches ranks after all of them; sources of equal rank are ordered by
name. Every kept row keeps its ``source``, and :func:`source_shares` says which source
supplied what share of each venue's (and symbol's) bars. ``docs/sources.md`` explains the
rule for readers of the reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

import pandas as pd

from helpers.config import DEFAULT_PRECEDENCE
from helpers.venues import covered_families, family, is_family_aggregate

__all__ = [
    "DEFAULT_PRECEDENCE",
    "one_source_per_bar",
    "source_name",
    "source_rank",
    "source_shares",
]

_BAR = ["interval", "base", "ts"]
_CONTRACT = ["ts", "interval", "_family", "symbol"]
"""One contract in one bar: a unified symbol within a venue FAMILY, so the same contract
stored under two ccxt ids of one family (``binance`` and ``binanceusdm``, both
``BTC/USDT:USDT``) is one contract, kept once."""


SOURCE_NAMES: tuple[tuple[str, str], ...] = (
    ("demo", "SIMULATED (demo)"),
    ("ccxt.pro:*", "recorded stream events"),
    ("ccxt:*", "exchange REST history"),
    ("tardis", "Tardis.dev"),
    ("hyperliquid*", "Hyperliquid archive"),
    ("coinalyze (approx*", "Coinalyze (approx. USD: base x close)"),
    ("coinalyze", "Coinalyze"),
    ("coinglass", "CoinGlass"),
    ("coingecko:history", "CoinGecko history"),
    ("coingecko", "CoinGecko snapshot"),
)
"""(pattern, name) pairs: how a page names a ``source``; the first pattern it matches wins.
A page says per venue where its numbers came from, so the name of an exchange's own data
(``ccxt:gate``, ``ccxt.pro:binanceusdm``) does not repeat the exchange."""


def source_name(source: str) -> str:
    """The name a page gives ``source`` (``coinalyze`` -> "Coinalyze", ``ccxt:gate`` ->
    "exchange REST history", ``demo`` -> "SIMULATED (demo)"); an unlisted source as is."""
    for pattern, name in SOURCE_NAMES:
        if fnmatchcase(source, pattern):
            return name
    return source


def source_rank(source: str, precedence: Sequence[str] = DEFAULT_PRECEDENCE) -> int:
    """The index of the first entry of ``precedence`` that ``source`` matches (an exact name
    or an :func:`fnmatch.fnmatchcase` pattern such as ``ccxt.pro:*``); ``len(precedence)``
    when none does. Lower wins."""
    for i, pattern in enumerate(precedence):
        if fnmatchcase(source, pattern):
            return i
    return len(precedence)


def one_source_per_bar(
    bars: pd.DataFrame, precedence: Sequence[str] = DEFAULT_PRECEDENCE
) -> pd.DataFrame:
    """``bars`` (``liquidation_bars`` rows) with one source per contract and bar and never a
    family aggregate next to its own components (the rule in the module docstring), sorted
    by ``ts``, ``exchange``, ``symbol``."""
    if bars.empty:
        return bars.reset_index(drop=True)
    ranks = {s: source_rank(str(s), precedence) for s in bars["source"].dropna().unique()}
    families = {e: family(str(e)) for e in bars["exchange"].unique()}
    ranked = bars.assign(
        _rank=bars["source"].map(ranks).astype("int64"),
        _family=bars["exchange"].map(families),
    )
    ranked = ranked.sort_values(["_rank", "source"], kind="stable")
    kept = _one_side_per_family(ranked.drop_duplicates(_CONTRACT, keep="first"))
    out = kept.drop(columns=["_rank", "_family"])
    out = out.sort_values(["ts", "exchange", "symbol"], kind="stable")
    return out.reset_index(drop=True)


def _claims_of(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (exchange, symbol) of ``rows``: ``_aggregate`` (1 for a family aggregate), the
    ``_families`` it speaks for and its ``_claim`` (``contracts:<family>`` or
    ``aggregate:<exchange>``)."""
    kinds = rows[["exchange", "symbol"]].drop_duplicates()
    pairs = [(str(e), str(s)) for e, s in kinds.itertuples(index=False, name=None)]
    aggregate = [is_family_aggregate(e, s) for e, s in pairs]
    families = [covered_families(e, s) for e, s in pairs]
    claims = [
        f"aggregate:{e}" if a else f"contracts:{f[0]}"
        for (e, _), a, f in zip(pairs, aggregate, families, strict=True)
    ]
    return kinds.assign(
        _aggregate=pd.Series(aggregate, index=kinds.index).astype("int64"),
        _families=pd.Series(families, index=kinds.index, dtype=object),
        _claim=claims,
    )


def _one_side_per_family(rows: pd.DataFrame) -> pd.DataFrame:
    """Rule 2: per (interval, base, ts), drop the contracts of every family whose aggregate
    won, or the aggregate that lost. Each row belongs to a CLAIM: the contracts of one family
    together, or one aggregate row; claims are taken best first (rank, contracts before
    aggregates, fewer families, name) unless one of their families is taken already."""
    kinds = _claims_of(rows)
    if not kinds["_aggregate"].any():
        return rows
    extra = ["_aggregate", "_families", "_claim"]
    rows = rows.merge(kinds, on=["exchange", "symbol"], how="left")
    contested = rows.groupby(_BAR, observed=True)["_aggregate"].transform("max").astype(bool)
    if not contested.any():
        return rows.drop(columns=extra)
    claims = (
        rows[contested]
        .groupby([*_BAR, "_claim"], observed=True)
        .agg(
            rank=("_rank", "min"), aggregate=("_aggregate", "max"), families=("_families", "first")
        )
        .reset_index()
    )
    claims["width"] = claims["families"].map(len)
    key = [*_BAR, "_claim"]
    winners = rows[contested].merge(_take_claims(claims)[key], on=key, how="inner")
    return pd.concat([rows[~contested], winners], ignore_index=True).drop(columns=extra)


def _take_claims(claims: pd.DataFrame) -> pd.DataFrame:
    """The claims a greedy pass in claim order accepts, per (interval, base, ts): a claim is
    accepted when none of its families is held by a claim accepted before it. Computed in
    rounds: a claim that is the best remaining for each of its families is accepted, and
    every claim sharing a family with an accepted one is dropped."""
    order = ["rank", "aggregate", "width", "_claim"]
    remaining = claims.explode("families").rename(columns={"families": "family"})
    remaining = remaining.sort_values(order, kind="stable")
    key = [*_BAR, "_claim"]
    accepted = []
    while not remaining.empty:
        best = remaining.drop_duplicates([*_BAR, "family"], keep="first")
        best_of = best.assign(best=True)[[*key, "family", "best"]]
        marked = remaining.merge(best_of, on=[*key, "family"], how="left")
        wins = marked["best"].notna().groupby([marked[k] for k in key], observed=True).all()
        taken = wins[wins].reset_index()[key]
        accepted.append(taken)
        held = remaining.merge(taken, on=key, how="inner")[[*_BAR, "family"]].drop_duplicates()
        touched = remaining.merge(held, on=[*_BAR, "family"], how="inner")[key].drop_duplicates()
        gone = remaining.merge(touched.assign(_gone=True), on=key, how="left")["_gone"]
        remaining = remaining[gone.isna().to_numpy()]
    return pd.concat(accepted, ignore_index=True)


def source_shares(bars: pd.DataFrame, by: Sequence[str] = ("exchange", "symbol")) -> pd.DataFrame:
    """Which sources each venue's (``by=("exchange",)``) or each contract's (default) bars
    came from: one row per group and source with ``bars`` (the group's rows from that
    source) and ``share`` (of the group's rows, a fraction; a group's shares sum to 1),
    largest share first within a group. Apply it to loaded bars (one source per bar), so
    each bar row is one source's."""
    cols = list(by)
    if bars.empty:
        empty = {c: pd.Series(dtype="string") for c in [*cols, "source"]}
        return pd.DataFrame(
            {**empty, "bars": pd.Series(dtype="int64"), "share": pd.Series(dtype="float64")}
        )
    counts = bars.groupby([*cols, "source"], observed=True).size().rename("bars").reset_index()
    totals = counts.groupby(cols, observed=True)["bars"].transform("sum")
    counts["share"] = counts["bars"] / totals
    counts["bars"] = counts["bars"].astype("int64")
    counts = counts.sort_values(
        [*cols, "bars", "source"], ascending=[*[True] * len(cols), False, True]
    )
    return counts.reset_index(drop=True)
