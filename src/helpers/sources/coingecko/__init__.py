"""CoinGecko market caps -> the ``market_caps`` table: the live ``/coins/markets`` snapshot,
or, for a window that ended in the past, each coin's cap and price at the window's end from
``/coins/{id}/market_chart/range``.

* :mod:`.api`: root URL and key header per plan (``COINGECKO_API_KEY``, never logged;
  ``vendors.coingecko.plan``: ``demo`` or ``pro``), a budget of
  ``vendors.coingecko.calls_per_minute``, the 365-day history horizon of keyless/Demo use.
* :mod:`.snapshot`: the live snapshot, one ``ts`` for every row, ``source`` ``coingecko``
  (or a label saying the prices were converted from another currency via tether).
* :mod:`.history`: the last point strictly before the end (at most 2 h old) per coin and
  the 24 h price change from the point ~24 h before it; ``ts`` is the point's time,
  ``source`` ``coingecko:history``; a coin without such a point is missing, never zero.
* :mod:`.window_end`: :func:`fetch_market_caps_at` picks the snapshot when the window ends
  within an hour of now, the history otherwise.

``coin`` is CoinGecko's id (``bitcoin``), ``symbol`` the upper-case ticker, caps and prices
US dollars, ``change_24h_pct`` a percent. API facts and their sources: ``docs/venue-rules.md``.
"""

from helpers.sources.coingecko import api, history, snapshot, window_end
from helpers.sources.coingecko.api import (
    API_KEY_ENV,
    BASE_URL,
    PRO_BASE_URL,
    Access,
    access_from,
)
from helpers.sources.coingecko.history import SOURCE as HISTORY_SOURCE
from helpers.sources.coingecko.snapshot import (
    PER_PAGE_MAX,
    SOURCE,
    TETHER_ID,
    check_markets,
    fetch_markets,
    load_file,
    markets_frame,
    snapshot_time,
    source_label,
)
from helpers.sources.coingecko.window_end import CapsAtEnd, fetch_market_caps_at, use_live_snapshot

__all__ = [
    "API_KEY_ENV",
    "BASE_URL",
    "HISTORY_SOURCE",
    "PER_PAGE_MAX",
    "PRO_BASE_URL",
    "SOURCE",
    "TETHER_ID",
    "Access",
    "CapsAtEnd",
    "access_from",
    "api",
    "check_markets",
    "fetch_market_caps_at",
    "fetch_markets",
    "history",
    "load_file",
    "markets_frame",
    "snapshot",
    "snapshot_time",
    "source_label",
    "use_live_snapshot",
    "window_end",
]
