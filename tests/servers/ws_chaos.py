"""Binance-style stream venues that misbehave at random (seeded), for the collector's soak test:
they publish liquidations every 10-50 ms and, between healthy stretches of 0.3-1 s, inflict a
fault on the subscribed connection, cycling through every kind in a shuffled order:

* ``drop``: cut the connection (no close frame);
* ``drop_after_frame``: send one more event and cut in the same step, so ccxt handles the
  close between two ``watch`` calls and reconnects on its own;
* ``corrupt``: send a cut-off JSON frame (ccxt's receive loop dies on it), then nothing more on
  that connection;
* ``stall``: go mute on the connection: no events, no pongs, no replies;
* ``refuse``: cut the connection and answer websocket upgrades with HTTP 503 for 0.5-2 s.

The server logs what it did, by wall-clock time: ``published`` (event ``T`` in ms, each one
distinct), ``delivered`` (those sent on a healthy subscribed connection) and ``outages``
(fault time to the next subscription, in s).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from servers.ws_base import Frame, StreamVenue
from servers.ws_venues import BinanceCoinmStream, BinanceStream, coinm_force_order, force_order

KINDS = ("drop", "drop_after_frame", "corrupt", "stall", "refuse")


@dataclass
class Outage:
    """A fault the server caused: from ``start`` to the next subscription ``end`` (s)."""

    kind: str
    start: float
    end: float | None = None


class Chaos(StreamVenue):
    """Publishing and faults over a Binance-style venue (mixed in before it)."""

    def __init__(self, seed: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.rng = random.Random(seed)
        self.published: list[int] = []
        self.delivered: list[int] = []
        self.outages: list[Outage] = []
        self.muted: set[web.WebSocketResponse] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._last_ms = 0

    # ---- controls --------------------------------------------------------------------------
    def start_chaos(self) -> None:
        """Start publishing and inflicting faults (on the server's loop)."""
        self.thread.call(self._start())

    def stop_chaos(self) -> None:
        """Stop faults and publishing; connections stay as they are."""
        self.thread.call(self._stop())

    def wait_recovered(self, timeout: float = 30.0) -> None:
        """Block until every outage has ended (a connection subscribed after it)."""
        self.thread.call(self._wait(self._recovered, timeout), timeout + 1)

    def _recovered(self) -> bool:
        return all(o.end is not None for o in self.outages) and bool(self.sockets)

    def event(self, t_ms: int) -> Frame:
        raise NotImplementedError

    # ---- loops -----------------------------------------------------------------------------
    async def _start(self) -> None:
        self._tasks = [
            asyncio.ensure_future(self._publish()),
            asyncio.ensure_future(self._faults()),
        ]

    async def _stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _publish(self) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(0.01, 0.05))
            await self._publish_one()

    async def _publish_one(self) -> None:
        t_ms = self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
        text = json.dumps(self.event(t_ms))
        self.published.append(t_ms)
        sent = False
        for ws in list(self.sockets):
            try:
                await ws.send_str(text)
                sent = True
            except (ConnectionError, RuntimeError):
                self._forget(ws)
        if sent:
            self.delivered.append(t_ms)

    async def _faults(self) -> None:
        while True:
            kinds = list(KINDS)
            self.rng.shuffle(kinds)
            for kind in kinds:
                await self._wait(self._recovered, 60)
                await asyncio.sleep(self.rng.uniform(0.3, 1.0))
                await self._inflict(kind)

    async def _inflict(self, kind: str) -> None:
        sockets = list(self.sockets)
        if not sockets:
            return
        self.outages.append(Outage(kind, time.time()))
        if kind == "drop_after_frame":
            await self._publish_one()
        for ws in sockets:
            if kind == "corrupt":
                await ws.send_str('{"e":"forceOrder","E":17224704')
                self._mute(ws)
            elif kind == "stall":
                self._mute(ws)
            else:
                self._cut(ws)
        if kind == "refuse":
            self.refuse(self.rng.uniform(0.5, 2.0))

    def _mute(self, ws: web.WebSocketResponse) -> None:
        self.sockets.discard(ws)
        self.muted.add(ws)

    # ---- venue hooks -----------------------------------------------------------------------
    async def _on_text(self, ws: web.WebSocketResponse, text: str) -> None:
        if ws in self.muted:
            return
        await super()._on_text(ws, text)
        if ws in self.sockets and self.outages and self.outages[-1].end is None:
            self.outages[-1].end = self.subscribed_at[-1]

    async def _on_ping(self, ws: web.WebSocketResponse, data: bytes) -> None:
        if ws not in self.muted:
            await super()._on_ping(ws, data)

    def _forget(self, ws: web.WebSocketResponse) -> None:
        super()._forget(ws)
        self.muted.discard(ws)


class ChaosBinance(Chaos, BinanceStream):
    """Binance USD-M ``!forceOrder@arr`` with faults: BTCUSDT and ETHUSDT events."""

    def event(self, t_ms: int) -> Frame:
        symbol, price = self.rng.choice([("BTCUSDT", 60000), ("ETHUSDT", 3000)])
        qty = f"{self.rng.randint(1, 999) / 1000:.3f}"
        return force_order(symbol, self.rng.choice(["BUY", "SELL"]), qty, str(price), t_ms)


class ChaosCoinm(Chaos, BinanceCoinmStream):
    """Binance COIN-M ``!forceOrder@arr`` with faults: BTCUSD_PERP and ETHUSD_PERP events."""

    def event(self, t_ms: int) -> Frame:
        symbol, price = self.rng.choice([("BTCUSD_PERP", 60000), ("ETHUSD_PERP", 3000)])
        side = self.rng.choice(["BUY", "SELL"])
        return coinm_force_order(symbol, side, str(self.rng.randint(1, 50)), str(price), t_ms)
