"""The websocket under each stream: which ccxt.pro client carries it, whether that connection
is still the one the stream was on, whether it still answers, and resetting it.

ccxt.pro keeps one ``Client`` per URL in ``exchange.clients``; a client holds one connection
for life. When the venue closes a connection while no ``watch`` call is pending, ccxt drops
the client without raising anything and the next call dials a new one, so a reconnect is seen
only by comparing the client and its connection with the ones the stream was on (a
:class:`Link`). A frame ccxt cannot parse raises inside its receive loop's callback, and the
loop is never rescheduled: the connection stays open and deaf. :func:`receive_errors_handler`
catches that exception on the event loop, logs it in one line and marks the client as failed
(``client.error``), so the stream drops it at once; failing that, a ping that gets no frame
back within the probe time tells a deaf or dead connection from a quiet market. :func:`reset`
takes the client out of ``exchange.clients`` (so the next ``watch`` dials afresh), rejects its
pending calls and closes it.

A lost connection's gap starts :data:`LATENCY_ALLOWANCE_S` before the last frame it carried
(or before the collector's last poll, if the loop stalled since), and no later than the newest
event's own time: events the venue stamped while that frame was in flight, or while it waited
in our socket, never arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ccxt.base.errors import NetworkError

from helpers.sources.live.streams import Stream

log = logging.getLogger("helpers.sources.live")

LATENCY_ALLOWANCE_S = 1.0
"""Seconds a lost connection's gap starts before its last frame: a bound on link latency and
venue clock skew."""
LOOP_LAG_S = 10.0
"""How far behind the venue's event times a lagging collector loop may handle frames (s): a
lost connection's gap starts no later than its newest event when that event is this recent."""
CLOSE_TIMEOUT_S = 5.0
"""How long a reset connection may take to close (a dead peer never answers the close)."""

Health = Literal["alive", "waiting", "dead"]


def message_hash(stream: Stream) -> str:
    """The key ccxt.pro resolves a stream's liquidations under: ``liquidations`` for an
    all-market stream, ``liquidations::<symbol>`` per symbol (Binance, OKX, Bybit alike)."""
    return "liquidations" if stream.symbol is None else f"liquidations::{stream.symbol}"


def find_url(ex: Any, stream: Stream) -> str | None:
    """The URL of the client carrying ``stream``: the one with a pending call for its
    :func:`message_hash`, else the exchange's only client; None while unknown."""
    clients = dict(getattr(ex, "clients", None) or {})
    key = message_hash(stream)
    for url, client in clients.items():
        if key in client.futures:
            return str(url)
    return str(next(iter(clients))) if len(clients) == 1 else None


@dataclass
class Link:
    """A stream's connection: the ccxt client at ``url`` and its websocket at one time."""

    url: str
    client: Any
    connection: Any
    probe_sent: float | None = None
    """Wall-clock time (s) of an unanswered ping, if one is out."""

    @classmethod
    def current(cls, ex: Any, url: str) -> Link | None:
        """The client at ``url`` if its connection is open, else None."""
        client = (getattr(ex, "clients", None) or {}).get(url)
        connection = getattr(client, "connection", None)
        if connection is None or connection.closed:
            return None
        return cls(url, client, connection)

    def same_as(self, other: Link | None) -> bool:
        """Whether ``other`` is this very connection, still open."""
        return (
            other is not None
            and other.client is self.client
            and other.connection is self.connection
            and not self.connection.closed
        )

    def failed(self) -> bool:
        """Whether the client recorded an error (its receive loop died, ccxt gave up on it)."""
        return self.client.error is not None

    def failure(self) -> str:
        """Why the connection is gone, for a gap's reason: the client's error, if any."""
        error = self.client.error
        return str(error)[:80] if error is not None else "connection lost"

    def last_frame(self) -> float | None:
        """Wall-clock time (s) of the last frame of any kind (data, ack, pong) received."""
        ms = getattr(self.client, "last_message_at", None)
        return ms / 1000 if ms is not None else None

    def heard(self) -> bool:
        """Whether the connection has carried a frame (on a fresh one: the subscription ack)."""
        return self.last_frame() is not None

    def opened(self) -> float | None:
        """Wall-clock time (s) the connection was established."""
        ms = getattr(self.client, "connectionEstablished", None)
        return ms / 1000 if ms is not None else None

    def lost_since(self, awake: float, newest_ms: int | None, silence: float) -> float:
        """Where a gap for this lost connection starts (s): the earliest of its last frame
        (or the time it opened) and ``awake``, less :data:`LATENCY_ALLOWANCE_S`, and of the
        newest event's own time ``newest_ms`` (the venue's clock) if it lies within
        :data:`LOOP_LAG_S` (or ``silence``) of the last frame. ``awake`` is the last time the
        collector's loop is known to have run: a loop that stalls, or lags under load, handles
        frames late (ccxt's frame clock then runs seconds behind the venue, 1.6 s seen in the
        soak test), but they were sent by their events' time."""
        last = self.last_frame() or self.opened() or time.time()
        start = min(last, awake) - LATENCY_ALLOWANCE_S
        if newest_ms is not None and last - newest_ms / 1000 < max(silence, LOOP_LAG_S):
            start = min(start, newest_ms / 1000)
        return start

    async def ping(self) -> None:
        """Send the venue's own ping (OKX text ``ping``, Bybit ``{"op": "ping"}``), else a
        websocket ping frame; either is answered by a frame ccxt records."""
        if self.client.ping is not None:
            await self.client.send(self.client.ping(self.client))
        else:
            await self.connection.ping()

    async def health(self, now: float, window: float, timeout: float) -> Health:
        """``alive`` while a frame came (a ping's answer included) or the connection opened
        within ``window`` s; ``dead`` when a ping got nothing back in ``timeout`` s or could
        not be sent; else ``waiting``. The ping goes out once the connection has been quiet
        for ``window`` s."""
        last = self.last_frame() or self.opened()
        if last is not None and now - last < window:
            self.probe_sent = None
            return "alive"
        if self.probe_sent is None:
            self.probe_sent = now
            try:
                await self.ping()
            except Exception as exc:
                log.warning("%s: ping failed: %s: %s", self.url, type(exc).__name__, exc)
                return "dead"
            return "waiting"
        return "dead" if now - self.probe_sent >= timeout else "waiting"


def reset(ex: Any, link: Link, why: str, closing: set[asyncio.Task[Any]]) -> None:
    """Take ``link``'s client out of ``ex.clients`` (the next ``watch`` dials a new one),
    reject its pending calls with ``NetworkError(why)`` and close it in the background
    (tracked in ``closing``)."""
    clients = getattr(ex, "clients", None) or {}
    if clients.get(link.url) is link.client:
        del clients[link.url]
    error = NetworkError(why)
    if link.client.error is None:
        link.client.error = error  # ccxt's on_close then leaves ``ex.clients`` alone
    link.client.reset(error)
    task = asyncio.ensure_future(_close(link.client))
    closing.add(task)
    task.add_done_callback(closing.discard)


async def _close(client: Any) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.close(), CLOSE_TIMEOUT_S)


Handler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]


def receive_errors_handler(previous: Handler | None) -> Handler:
    """An event-loop exception handler: an exception that killed a ccxt client's receive loop
    is logged in one line and recorded as the client's ``error`` (its stream then drops it);
    anything else goes to ``previous`` (or the loop's default handler)."""

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        client = _receiving_client(context.get("handle"))
        if exc is None or client is None:
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        log.warning(
            "%s: receive loop died on %s: %s; reconnecting",
            client.url,
            type(exc).__name__,
            str(exc)[:200],
        )
        if client.error is None:
            client.error = NetworkError(f"receive loop died: {type(exc).__name__}")

    return handler


def _receiving_client(handle: Any) -> Any:
    """The ccxt client whose receive-loop callback ``handle`` ran, if it is one."""
    callback = getattr(handle, "_callback", None)
    if not callable(callback) or "Client.receive_loop" not in getattr(callback, "__qualname__", ""):
        return None
    with contextlib.suppress(TypeError, ValueError):
        return inspect.getclosurevars(callback).nonlocals.get("self")
    return None
