"""Market caps for a window's end: the live snapshot when the window ends about now, the
per-coin history when it ended in the past; the rows' ``source`` says which.

A window ending at most :data:`LIVE_WITHIN` before now (or later) gets the live
``/coins/markets`` snapshot (``source`` ``coingecko``, ``ts`` its ``last_updated``); an
older end gets :mod:`.history` (``source`` ``coingecko:history``, ``ts`` per coin the time
of the point used).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from helpers.errors import UserError
from helpers.sources.coingecko import api, history, snapshot
from helpers.sources.http import JsonClient
from helpers.store import Store, WriteResult
from helpers.timegrid import require_utc

LIVE_WITHIN = pd.Timedelta(hours=1)
HISTORY_TOP = 30
"""Coins the history takes by default: one call each, so far fewer than a snapshot page."""
SNAPSHOT_TOP = 100


@dataclass(frozen=True)
class CapsAtEnd:
    """What :func:`fetch_market_caps_at` stored: ``kind`` is ``snapshot`` or ``history``;
    ``missing`` the coin ids the history had no usable point for."""

    kind: str
    end: pd.Timestamp
    frame: pd.DataFrame
    result: WriteResult
    missing: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line: which source was used, the time(s) of the data, coins and the write."""
        n = len(self.frame)
        if self.kind == "snapshot":
            when = f"{self.frame['ts'].max():%Y-%m-%d %H:%M} UTC" if n else "no rows"
            return (
                f"coingecko: live snapshot (/coins/markets) at {when} for the window end "
                f"{self.end:%Y-%m-%d %H:%M} UTC, {n} coins; {self.result}"
            )
        span = (
            f"points {self.frame['ts'].min():%Y-%m-%d %H:%M} to "
            f"{self.frame['ts'].max():%Y-%m-%d %H:%M} UTC"
            if n
            else "no points"
        )
        miss = f"; missing: {', '.join(self.missing)}" if self.missing else ""
        return (
            f"coingecko: history (/coins/{{id}}/market_chart/range) for the window end "
            f"{self.end:%Y-%m-%d %H:%M} UTC, {n} of {n + len(self.missing)} coins, "
            f"{span}{miss}; {self.result}"
        )


def use_live_snapshot(end: pd.Timestamp, now: pd.Timestamp) -> bool:
    """Whether a window ending at ``end`` is served by the live snapshot taken ``now``."""
    return end >= now - LIVE_WITHIN


def fetch_market_caps_at(
    store: Store,
    end: pd.Timestamp,
    *,
    client: JsonClient,
    access: api.Access,
    now: pd.Timestamp | None = None,
    top: int | None = None,
    coins: Sequence[str] = (),
    vs_currency: str = "usd",
) -> CapsAtEnd:
    """Fetch and store ``market_caps`` for the window ending at ``end`` (UTC).

    The live snapshot (``top`` coins, default :data:`SNAPSHOT_TOP`, prices quoted in
    ``vs_currency`` and converted to USD) when ``end`` is within :data:`LIVE_WITHIN` of
    ``now`` or later; else the history at ``end`` of the ``coins`` ids, or of the ``top``
    (default :data:`HISTORY_TOP`) coins by current cap, in USD only.
    """
    end = require_utc(end, "end")
    now = require_utc(now, "now") if now is not None else pd.Timestamp.now(tz="UTC")
    if use_live_snapshot(end, now):
        rows = snapshot.fetch_markets(client, top or SNAPSHOT_TOP, vs_currency, access=access)
        frame = snapshot.markets_frame(rows, vs_currency, now)
        return CapsAtEnd("snapshot", end, frame, store.write("market_caps", frame))
    if vs_currency.lower() != "usd":
        raise UserError("CoinGecko history is fetched in USD only; drop --vs-currency")
    history.check_reach(access, end, now)
    wanted = (
        history.named_coins(client, access, list(coins))
        if coins
        else history.top_coins(client, access, top or HISTORY_TOP)
    )
    got = history.fetch_history(client, access, wanted, end, now)
    return CapsAtEnd("history", end, got.frame, store.write("market_caps", got.frame), got.missing)
