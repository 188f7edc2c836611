"""The market-cap step of a pull: CoinGecko's live ``/coins/markets`` snapshot when the window
ends within :data:`LIVE_WITHIN` of now (or later); a past window's caps need CoinGecko's
per-coin history, which :func:`past_window_caps` will fetch (until then it skips, saying so)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from helpers.config import Config
from helpers.errors import UserError
from helpers.pull.status import SourceStatus, one_line
from helpers.sources import coingecko
from helpers.sources.http import JsonClient
from helpers.store import Store
from helpers.timegrid import Window

NAME = "market caps"
LIVE_WITHIN = pd.Timedelta(hours=1)
SNAPSHOT_TOP = 100
"""Coins of the live snapshot (one request)."""


def use_live_snapshot(end: pd.Timestamp, now: pd.Timestamp) -> bool:
    """Whether a window ending at ``end`` is served by a snapshot taken ``now``."""
    return end >= now - LIVE_WITHIN


def pull_market_caps(
    store: Store,
    config: Config,
    window: Window,
    http: Callable[[str, tuple[str, ...]], JsonClient],
    now: pd.Timestamp,
) -> SourceStatus:
    """Store ``market_caps`` for the window's end; the status says which kind they are."""
    if not use_live_snapshot(window.end, now):
        return past_window_caps(store, config, window, http, now)
    client = http("coingecko", ())
    base_url = str(config.vendor("coingecko").get("base_url", coingecko.BASE_URL))
    try:
        rows = coingecko.fetch_markets(client, SNAPSHOT_TOP, "usd", base_url)
        frame = coingecko.markets_frame(rows, "usd", now)
    except UserError as exc:
        return SourceStatus(NAME, "failed", one_line(exc))
    store.write("market_caps", frame)
    when = f"{frame['ts'].max():%Y-%m-%d %H:%M} UTC" if len(frame) else "no rows"
    return SourceStatus(NAME, "ok", f"live snapshot at {when}, {len(frame)} coins (coingecko)")


def past_window_caps(
    store: Store,
    config: Config,
    window: Window,
    http: Callable[[str, tuple[str, ...]], JsonClient],
    now: pd.Timestamp,
) -> SourceStatus:
    """Market caps at the end of a window that ended before ``now - LIVE_WITHIN``: the one
    call to replace once CoinGecko's per-coin history is available."""
    return SourceStatus(NAME, "skipped", "history for a past window not available")
