"""What the store holds, and what to change when a window matches nothing.

:func:`store_inventory` lists, per table, venue and bar interval, the span of the stored
rows (first and last ``ts``), their count and symbols, in one DuckDB aggregate over the
Parquet files (no row reaches pandas). :func:`no_data_lines` turns it into the few lines a
page and the ``report`` command print when a window, interval or venue selection matches no
liquidation data: what was asked, what the store does hold (tables, venues, intervals, date
span per table) and what to change, e.g. "the store holds liquidation_bars at 4h for
Binance 2025-10-08..2025-10-13" and "ask for interval=4h or a window inside 2025-10-08..
2025-10-13". A bar interval serves a request for the same interval and for every coarser
one it divides (:func:`helpers.aggregate.load_bars` rolls finer bars up); stored events
serve any interval once bars are built from them (``python -m helpers aggregate``, which
``python -m helpers report`` runs for its window).

Venues are named as analysts name them (:func:`helpers.venues.market_name`); a change to
the ``exchanges`` parameter is given with its ccxt ids, the values to type.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from helpers.duck import connect_utc
from helpers.store import Store
from helpers.timegrid import INTERVAL_SECONDS, Window
from helpers.venues import market_name

LIQUIDATION_TABLES = ("liquidation_bars", "liquidations")
OTHER_TABLES = ("ohlcv", "open_interest", "funding", "market_caps")
_LISTED = 6
"""Venues or symbols named in one line before the rest are counted."""


@dataclass(frozen=True)
class Holding:
    """Rows of one ``table`` on one ``exchange`` (None for ``market_caps``) at one bar
    ``interval`` (None for tables without one: events, open interest, funding, caps):
    ``first`` and ``last`` are the first and last ``ts`` (UTC), ``rows`` their count."""

    table: str
    exchange: str | None
    interval: str | None
    first: pd.Timestamp
    last: pd.Timestamp
    rows: int
    symbols: tuple[str, ...]

    @property
    def span(self) -> str:
        """``2025-10-08..2025-10-13``: the UTC dates of the first and last row."""
        return f"{self.first:%Y-%m-%d}..{self.last:%Y-%m-%d}"

    def serves(self, interval: str) -> bool:
        """True when these rows can give bars of ``interval``: events always; bars of the
        same interval or of a finer one that divides it."""
        if self.table == "liquidations":
            return True
        if self.interval is None or self.interval not in INTERVAL_SECONDS:
            return False
        return INTERVAL_SECONDS[interval] % INTERVAL_SECONDS[self.interval] == 0

    def overlaps(self, window: Window) -> bool:
        """True when the rows' span reaches into ``[start, end)`` of ``window``."""
        return bool(self.first < window.end and self.last >= window.start)


def store_inventory(store: Store, tables: Sequence[str] = LIQUIDATION_TABLES) -> list[Holding]:
    """Per table of ``tables`` with data, one :class:`Holding` per (exchange, interval),
    sorted by table (in the order given), exchange, interval."""
    held: list[Holding] = []
    con = connect_utc()
    try:
        for table in tables:
            if not store.has_data(table):
                continue
            interval = "interval" if table in ("liquidation_bars", "ohlcv") else "NULL"
            exchange = "NULL" if table == "market_caps" else "exchange"
            sql = (
                f"SELECT {exchange} AS ex, {interval} AS iv, min(ts), max(ts), count(*), "
                f"list(DISTINCT symbol ORDER BY symbol) FROM {store.scan(table)} "
                "GROUP BY ALL ORDER BY ex, iv"
            )
            for ex, iv, first, last, n, symbols in con.execute(sql).fetchall():
                held.append(
                    Holding(
                        table,
                        None if ex is None else str(ex),
                        None if iv is None else str(iv),
                        pd.Timestamp(first).tz_convert("UTC"),
                        pd.Timestamp(last).tz_convert("UTC"),
                        int(n),
                        tuple(str(s) for s in symbols or ()),
                    )
                )
    finally:
        con.close()
    return held


# ---- the lines a page and the command print ----------------------------------------------
def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_LISTED])
    return shown + (f" and {len(items) - _LISTED} more" if len(items) > _LISTED else "")


def _venues_with_spans(held: Iterable[Holding]) -> str:
    parts: dict[str, list[str]] = {}
    for h in held:
        name = "all coins" if h.exchange is None else market_name(h.exchange)
        parts.setdefault(h.span, []).append(name)
    return "; ".join(f"{_listed(sorted(set(names)))} {span}" for span, names in parts.items())


def holdings_lines(held: Sequence[Holding]) -> list[str]:
    """The liquidation data the store holds, one line per table: ``liquidation_bars at 1h
    for Binance USD-M, OKX 2024-06-19..2024-08-19``; intervals of one table are joined by
    ``;``. Other tables are :func:`other_tables_line`."""
    lines = []
    for table in dict.fromkeys(h.table for h in held if h.table in LIQUIDATION_TABLES):
        mine = [h for h in held if h.table == table]
        by_interval: dict[str | None, list[Holding]] = {}
        for h in mine:
            by_interval.setdefault(h.interval, []).append(h)
        parts = [
            (f"at {iv} for " if iv is not None else "for ") + _venues_with_spans(hs)
            for iv, hs in sorted(by_interval.items(), key=lambda kv: _seconds(kv[0]))
        ]
        what = "liquidation events" if table == "liquidations" else table
        lines.append(f"{what} {'; '.join(parts)}")
    return lines


def other_tables_line(held: Sequence[Holding]) -> str:
    """The tables besides liquidations in one line: ``ohlcv at 1m, 1h 2025-11-10..2025-11-16
    (5 venues); market_caps 2025-11-10..2025-11-16``; empty when there are none."""
    parts = []
    for table in dict.fromkeys(h.table for h in held if h.table not in LIQUIDATION_TABLES):
        mine = [h for h in held if h.table == table]
        intervals = sorted({h.interval for h in mine if h.interval}, key=_seconds)
        at = f" at {', '.join(intervals)}" if intervals else ""
        span = f"{min(h.first for h in mine):%Y-%m-%d}..{max(h.last for h in mine):%Y-%m-%d}"
        venues = {h.exchange for h in mine if h.exchange}
        count = f" ({len(venues)} venue{'s' if len(venues) != 1 else ''})" if venues else ""
        parts.append(f"{table}{at} {span}{count}")
    return "; ".join(parts)


def _seconds(interval: str | None) -> int:
    return INTERVAL_SECONDS.get(interval or "", 0)


def _asked(window: Window) -> str:
    venues = (
        "every venue"
        if window.exchanges is None
        else ", ".join(dict.fromkeys(market_name(e) for e in window.exchanges))
    )
    symbols = "" if window.symbols is None else f", symbols {', '.join(window.symbols)}"
    return (
        f"{window.interval} bars on {venues}{symbols}, "
        f"{window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC"
    )


def _selected(held: Iterable[Holding], window: Window) -> list[Holding]:
    out = []
    for h in held:
        if window.exchanges is not None and h.exchange not in window.exchanges:
            continue
        if window.symbols is not None and not set(h.symbols) & set(window.symbols):
            continue
        out.append(h)
    return out


def what_to_change(held: Sequence[Holding], window: Window) -> list[str]:
    """The changes of parameters that would give the window data, most direct first (a
    venue, symbol, interval or time span the store holds liquidation data for); empty only
    when the store holds no liquidation data at all."""
    liq = [h for h in held if h.table in LIQUIDATION_TABLES]
    if not liq:
        return []
    if window.exchanges is not None and not any(h.exchange in window.exchanges for h in liq):
        venues = sorted({str(h.exchange) for h in liq})
        return [f"exchanges=[{_listed(venues)}] (or exchanges=null for every venue)"]
    selected = _selected(liq, window)
    if not selected:
        on_venues = [h for h in liq if window.exchanges is None or h.exchange in window.exchanges]
        symbols = sorted({s for h in on_venues for s in h.symbols})
        return [f"symbols=[{_listed(symbols)}] (or symbols=null for every symbol)"]
    changes = []
    servable = [h for h in selected if h.serves(window.interval)]
    in_time = [h for h in selected if h.overlaps(window)]
    coarser = sorted({str(h.interval) for h in in_time if not h.serves(window.interval)})
    if coarser:
        changes.append(f"interval={' or '.join(sorted(coarser, key=_seconds))}")
    if servable and not any(h.overlaps(window) for h in servable):
        first = min(h.first for h in servable)
        last = max(h.last for h in servable)
        changes.append(f"a window inside {first:%Y-%m-%d}..{last:%Y-%m-%d}")
    events = [h for h in servable if h.overlaps(window) and h.table == "liquidations"]
    if events and not any(h.table == "liquidation_bars" for h in servable if h.overlaps(window)):
        changes.append(
            f"bars built from the stored events (python -m helpers aggregate --interval "
            f"{window.interval}; python -m helpers report does it for its window)"
        )
    finer = [
        h
        for h in servable
        if h.overlaps(window) and h.table == "liquidation_bars" and h.interval != window.interval
    ]
    if finer and not changes:
        intervals = sorted({str(h.interval) for h in finer}, key=_seconds)
        changes.append(
            f"interval={' or '.join(intervals)} (no {window.interval} bar has every one of "
            f"its finer bars observed)"
        )
    if not changes:
        first, last = min(h.first for h in selected), max(h.last for h in selected)
        changes.append(
            f"a window where the stored data is (it spans {first:%Y-%m-%d}..{last:%Y-%m-%d} "
            "but has nothing in this window)"
        )
    return changes


def no_data_lines(store: Store, window: Window) -> list[str]:
    """Why ``window`` shows no liquidation data, in a few lines: what was asked (first),
    what the store holds (every table, :func:`holdings_lines`) and, last, what to change
    (:func:`what_to_change`, or to pull data when the store holds none)."""
    held = store_inventory(store, (*LIQUIDATION_TABLES, *OTHER_TABLES))
    lines = [f"NO DATA: no liquidation data for {_asked(window)}."]
    if not held:
        return [*lines, "The store is empty: pull a window first (python -m helpers pull)."]
    lines += [f"The store holds {line}." for line in holdings_lines(held)]
    others = other_tables_line(held)
    if others:
        lines.append(f"Other tables: {others}.")
    changes = what_to_change(held, window)
    if changes:
        lines.append(f"Ask for {' or '.join(changes)}.")
    elif not any(h.table in LIQUIDATION_TABLES for h in held):
        lines.append("It holds no liquidation data: pull a window (python -m helpers pull).")
    return lines
