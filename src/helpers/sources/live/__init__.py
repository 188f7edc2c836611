"""Live liquidation collector: ccxt.pro streams appended to the store in small batches.

``python -m helpers collect [--exchanges binanceusdm,binancecoinm,okx,bybit] [--seconds N]``

Streams (the venues publish liquidations on websockets only):

* ``binanceusdm`` and ``binancecoinm``: ``watchLiquidationsForSymbols`` with no symbols, i.e.
  the all-market ``!forceOrder@arr`` stream of USD-M (fstream) and COIN-M (dstream; sizes in
  contracts of 100 USD for BTC, 10 USD otherwise, from the market's ``contractSize``); at most
  one liquidation per symbol per second: a lower bound;
* ``okx``: ``watchLiquidationsForSymbols`` on every swap (``liquidation-orders``, SWAP);
* ``bybit``: ``watchLiquidations`` per symbol (``allLiquidation.<id>``), the symbols of the
  config's ``exchanges.bybit.symbols`` (or ``collect.symbols``).

Every item goes through :func:`helpers.sources.normalize.normalize_liquidations` (``side`` =
the liquidated POSITION, ``amount`` in base units, ``notional_usd`` in US dollars) with
``source='ccxt.pro:<exchange>'`` and is buffered; the buffer is written to ``liquidations``
every ``--flush-seconds`` or ``--flush-events`` events, whichever comes first. The store
drops an event it already has (key: exchange, event_id), so a replay after a reconnect adds
nothing.

Coverage is recorded in ``gaps`` (``table_name='liquidations'``; ``symbol`` empty for an
all-market stream), so reports show missing data as missing:

* **dropped**: the connection under the stream failed, closed, or was replaced, also when
  ccxt reconnected on its own between two watch calls (seen by comparing ccxt's client and
  connection with the ones the stream was on, :mod:`.healing`). The gap runs from the last
  frame that connection carried (less one second of latency allowance) to the first frame on
  the next one; reconnection waits ``1, 2, 4 ... --max-backoff`` seconds, and the failed
  client is closed and taken out of ccxt's ``clients`` so the next watch dials afresh.
* **silent**: no message for ``--silence-seconds``. The gap runs from the last message to the
  next one. A quiet market also triggers it, which overstates missing data rather than
  passing an outage off as "no liquidations"; choose the threshold accordingly. The
  connection is then pinged: one that sends nothing back within ``min(silence, 10 s)`` (its
  receive loop died on a malformed frame, or the peer is gone) is reset as **dropped**, so a
  stream never stays dead.
* **stopped**: the collector was not running (crashed, restarted, upgraded). Each run leaves
  a heartbeat in ``<data_dir>/_state/collector-<exchange>.json`` after every flush; the next
  run records the stretch from it to its own start for every stream the last run had
  (:mod:`.downtime`).
* a gap still open at a flush is written with ``end`` = now and rewritten when it closes
  (same key); at shutdown it is closed at the shutdown time.

SIGTERM and SIGINT stop the streams, flush everything buffered and open gaps, then exit 0
(what ``systemctl stop`` does to ``deploy/liqnb-collector.service``).
Per-exchange settings can go in the config under ``exchanges.<id>.collect``:
``symbols`` (bybit), ``silence_seconds``.

ccxt.pro resolves a ``watch*`` call with the message that woke it; events arriving while no
call is pending would be lost, so the exchanges run with ``newUpdates = False`` and each call
returns the cached liquidations ``since`` the last one (minus a margin), deduplicated by
``event_id``.
"""

from __future__ import annotations

from helpers.sources.live import downtime, healing
from helpers.sources.live.collector import Collector
from helpers.sources.live.coverage import Gap, Stats, StreamState
from helpers.sources.live.streams import (
    CACHE_LIMIT,
    LIVE_EXCHANGES,
    SINCE_MARGIN_MS,
    TABLE,
    Stream,
    Watch,
    source_label,
    streams_for,
    watcher,
)

__all__ = [
    "CACHE_LIMIT",
    "LIVE_EXCHANGES",
    "SINCE_MARGIN_MS",
    "TABLE",
    "Collector",
    "Gap",
    "Stats",
    "Stream",
    "StreamState",
    "Watch",
    "downtime",
    "healing",
    "source_label",
    "streams_for",
    "watcher",
]
