"""The market-cap step of a pull: caps for the window's end, from CoinGecko's live
``/coins/markets`` snapshot when the window ends about now, else from each coin's history
(:func:`helpers.sources.coingecko.fetch_market_caps_at` decides; the status line and the rows'
``source`` say which)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from helpers.config import Config, secret
from helpers.errors import UserError
from helpers.pull.status import SourceStatus, State, one_line
from helpers.sources import coingecko
from helpers.sources.http import JsonClient
from helpers.store import Store
from helpers.timegrid import Window

NAME = "market caps"


def pull_market_caps(
    store: Store,
    config: Config,
    window: Window,
    http: Callable[[str, tuple[str, ...]], JsonClient],
    now: pd.Timestamp,
) -> SourceStatus:
    """Store ``market_caps`` for the window's end; the status says snapshot or history."""
    settings = config.vendor("coingecko")
    key = secret(coingecko.API_KEY_ENV)
    access = coingecko.access_from(settings, key)
    if not coingecko.use_live_snapshot(window.end, now):
        try:
            coingecko.history.check_reach(access, window.end, now)
        except UserError as exc:  # the plan cannot serve it: a limit of the setup, not a fault
            return SourceStatus(NAME, "skipped", one_line(exc))
    client = http("coingecko", (key,) if key else ())
    try:
        got = coingecko.fetch_market_caps_at(
            store,
            window.end,
            client=client,
            access=access,
            now=now,
            coins=[str(c) for c in settings.get("coins") or ()],
        )
    except UserError as exc:
        return SourceStatus(NAME, "failed", client.redact(one_line(exc)))
    if got.frame.empty:
        return SourceStatus(NAME, "failed", one_line(got.summary()))
    state: State = "partial" if got.missing else "ok"
    return SourceStatus(NAME, state, one_line(got.summary()))
