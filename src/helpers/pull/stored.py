"""What the store already holds for a window: events the live collector recorded (nothing to
fetch, only counted) and all liquidation data per venue after a pull. Counted in DuckDB over
the Parquet files; rows are never loaded."""

from __future__ import annotations

from typing import Any

from helpers.duck import connect_utc
from helpers.pull.status import Held, SourceStatus
from helpers.rollup import finer_intervals
from helpers.sources.live import source_label
from helpers.store import Store
from helpers.timegrid import Window

NAME = "collector"
_LIVE_SOURCES = source_label("%")
"""``ccxt.pro:%``: the LIKE pattern of every streamed event's ``source``."""


def count_by_exchange(
    store: Store, table: str, window: Window, where: str = "", params: tuple[Any, ...] = ()
) -> dict[str, int]:
    """Rows of ``table`` per exchange with ``start <= ts < end`` on the window's selection,
    and ``where`` (SQL, ``?`` placeholders filled from ``params``) when given."""
    if not store.has_data(table):
        return {}
    sql = (
        f"SELECT exchange, count(*) FROM {store.scan(table)} "
        "WHERE date >= ?::DATE AND date <= ?::DATE AND ts >= ? AND ts < ?"
    )
    args: list[Any] = [
        window.start.strftime("%Y-%m-%d"),
        window.end.strftime("%Y-%m-%d"),
        window.start.to_pydatetime(),
        window.end.to_pydatetime(),
    ]
    if window.exchanges is not None:
        sql += " AND list_contains(?, exchange)"
        args.append(list(window.exchanges))
    if window.symbols is not None:
        sql += " AND list_contains(?, symbol)"
        args.append(list(window.symbols))
    if where:
        sql += f" AND ({where})"
        args.extend(params)
    con = connect_utc()
    try:
        rows = con.execute(sql + " GROUP BY exchange ORDER BY exchange", args).fetchall()
    finally:
        con.close()
    return {str(ex): int(n) for ex, n in rows}


def collector_status(store: Store, window: Window) -> SourceStatus:
    """``ok`` with the events the collector recorded in the window per venue, else
    ``skipped``."""
    counts = count_by_exchange(store, "liquidations", window, "source LIKE ?", (_LIVE_SOURCES,))
    if not counts:
        return SourceStatus(
            NAME, "skipped", "no events recorded in the window (python -m helpers collect)"
        )
    detail = "recorded events " + ", ".join(f"{ex} {n}" for ex, n in counts.items())
    return SourceStatus(NAME, "ok", detail, counts)


def held(store: Store, window: Window) -> dict[str, Held]:
    """Per venue: liquidation events (any source) and bars (any source) the store holds for
    the window, bars of its interval or of a finer one that rolls up to it
    (:mod:`helpers.rollup`)."""
    events = count_by_exchange(store, "liquidations", window)
    intervals = [window.interval, *finer_intervals(window.interval)]
    bars = count_by_exchange(
        store, "liquidation_bars", window, "list_contains(?, interval)", (intervals,)
    )
    return {ex: Held(events.get(ex, 0), bars.get(ex, 0)) for ex in sorted({*events, *bars})}
