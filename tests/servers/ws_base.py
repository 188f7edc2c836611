"""The websocket venue every local stream server builds on (:mod:`servers.ws_venues`,
:mod:`servers.ws_chaos`): a REST market list and a websocket endpoint on every other path,
served on 127.0.0.1 from its own thread, with the faults a test inflicts on connections.

Faults: :meth:`StreamVenue.drop` cuts every connection without a close frame (a network
drop); :meth:`StreamVenue.push_then_drop` sends frames and cuts in the same step, so the client
sees the close while it handles the frames (between two ``watch`` calls);
:meth:`StreamVenue.send_raw` sends text as is (a cut-off JSON frame); :meth:`StreamVenue.refuse`
answers websocket upgrades with HTTP 503 for a while. ``subscribed_at`` logs the wall-clock
time (s) of every subscription.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from servers.vendors import AppThread

Frame = dict[str, Any]


class StreamVenue:
    """One venue: REST market list + a websocket endpoint on every other path."""

    name = "venue"

    def __init__(self, on_subscribe: list[Frame] | None = None) -> None:
        self.on_subscribe = list(on_subscribe or [])
        self.sockets: set[web.WebSocketResponse] = set()
        self.subscriptions: list[Any] = []
        self.subscribed_at: list[float] = []
        self.connections = 0
        self.refused = 0
        self.refuse_until = 0.0
        self.app = web.Application()
        self.app.router.add_route("GET", "/{tail:.*}", self._route)
        self.thread = AppThread(self.app)

    # ---- test controls ---------------------------------------------------------------------
    def __enter__(self) -> StreamVenue:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.thread.call(self._close_all(), 5)
        self.thread.stop()

    @property
    def http(self) -> str:
        return self.thread.base_url

    @property
    def ws(self) -> str:
        return self.thread.ws_url

    def push(self, *frames: Frame) -> None:
        """Send ``frames`` to every subscribed connection."""
        self.thread.call(self._send_all(list(frames)))

    def drop(self) -> None:
        """Close every connection abruptly (a dropped stream)."""
        self.thread.call(self._close_all())

    def push_then_drop(self, *frames: Frame) -> None:
        """Send ``frames`` and cut every connection right after, in one step."""
        self.thread.call(self._send_then_cut([json.dumps(f) for f in frames]))

    def send_raw(self, text: str) -> None:
        """Send ``text`` unchanged to every subscribed connection (e.g. cut-off JSON)."""
        self.thread.call(self._send_text(text))

    def refuse(self, seconds: float) -> None:
        """Answer websocket upgrades with HTTP 503 for ``seconds`` from now."""
        self.refuse_until = time.time() + seconds

    def wait_subscribed(self, n: int = 1, timeout: float = 10.0) -> None:
        """Block until ``n`` subscriptions have been made in total."""
        self.thread.call(self._wait(lambda: len(self.subscriptions) >= n, timeout), timeout + 1)

    def wait_connections(self, n: int, timeout: float = 10.0) -> None:
        """Block until ``n`` connections have been opened in total."""
        self.thread.call(self._wait(lambda: self.connections >= n, timeout), timeout + 1)

    def ccxt_options(self) -> dict[str, Any]:
        raise NotImplementedError

    # ---- venue specifics -------------------------------------------------------------------
    def rest(self, request: web.Request) -> Any:
        raise NotImplementedError

    def answer(self, msg: str) -> tuple[list[Any], bool]:
        """Replies to a client message and whether it was a subscription."""
        raise NotImplementedError

    # ---- plumbing --------------------------------------------------------------------------
    async def _route(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            if time.time() < self.refuse_until:
                self.refused += 1
                return web.Response(status=503, text="refusing connections")
            return await self._socket(request)
        payload = self.rest(request)
        if payload is None:
            return web.json_response({"msg": "not found"}, status=404)
        return web.json_response(payload)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        self.connections += 1
        try:
            async for msg in ws:
                if msg.type == WSMsgType.PING:
                    await self._on_ping(ws, msg.data)
                elif msg.type == WSMsgType.TEXT:
                    await self._on_text(ws, msg.data)
        finally:
            self._forget(ws)
        return ws

    async def _on_ping(self, ws: web.WebSocketResponse, data: bytes) -> None:
        await ws.pong(data)

    async def _on_text(self, ws: web.WebSocketResponse, text: str) -> None:
        replies, subscribed = self.answer(text)
        if subscribed:
            self.sockets.add(ws)
            self.subscribed_at.append(time.time())
        for r in replies:
            await ws.send_str(r if isinstance(r, str) else json.dumps(r))
        if subscribed:
            for frame in self.on_subscribe:
                await ws.send_str(json.dumps(frame))

    def _forget(self, ws: web.WebSocketResponse) -> None:
        self.sockets.discard(ws)

    async def _send_all(self, frames: list[Frame]) -> None:
        for ws in list(self.sockets):
            for f in frames:
                await ws.send_str(json.dumps(f))

    async def _send_text(self, text: str) -> None:
        for ws in list(self.sockets):
            await ws.send_str(text)

    async def _send_then_cut(self, texts: list[str]) -> None:
        for ws in list(self.sockets):
            for t in texts:
                await ws.send_str(t)
            self._cut(ws)

    async def _close_all(self) -> None:
        """Cut every subscribed connection without a close frame, as a network drop does."""
        for ws in list(self.sockets):
            if not self._cut(ws):
                await ws.close()

    def _cut(self, ws: web.WebSocketResponse) -> bool:
        """Close ``ws``'s transport (frames already written go out first); False when it has
        none."""
        self._forget(ws)
        transport = ws._writer.transport if ws._writer is not None else None
        if transport is None:
            return False
        transport.close()
        return True

    @staticmethod
    async def _wait(cond: Callable[[], bool], timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not cond():
            if loop.time() > deadline:
                raise TimeoutError("condition not met")
            await asyncio.sleep(0.02)
