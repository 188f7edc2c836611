"""The :class:`Collector`: runs every stream (watch, reconnect with backoff, silence
detection, and healing of the connection under it, :mod:`.healing`), buffers the normalised
events, opens and closes coverage gaps, and flushes events and gaps to the store, leaving a
heartbeat after each flush (the next run records the time between as a ``stopped`` gap,
:mod:`.downtime`); :meth:`Collector.summary` is what the command prints per exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import pandas as pd
from ccxt.base.errors import NetworkError

from helpers import schema
from helpers.sources.live import healing
from helpers.sources.live.coverage import Gap, Stats, StreamState
from helpers.sources.live.downtime import downtime_gaps, write_heartbeat
from helpers.sources.live.streams import (
    CACHE_LIMIT,
    SINCE_MARGIN_MS,
    TABLE,
    Stream,
    Watch,
    source_label,
    watcher,
)
from helpers.sources.normalize import normalize_liquidations
from helpers.sources.retry import is_transient
from helpers.store import Store

log = logging.getLogger("helpers.sources.live")  # the name the collect command has always logged


def _now() -> pd.Timestamp:
    return pd.Timestamp(time.time(), unit="s", tz="UTC")


class Collector:
    """Runs the streams, buffers normalised events and flushes them (and gaps) to the store."""

    def __init__(
        self,
        store: Store,
        exchanges: dict[str, Any],
        streams: Sequence[Stream],
        flush_seconds: float = 5.0,
        flush_events: int = 500,
        silence_seconds: float | dict[str, float] = 300.0,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        probe_seconds: float = 10.0,
        cache_limit: int = CACHE_LIMIT,
    ) -> None:
        self.store = store
        self.exchanges = exchanges
        self.streams = list(streams)
        self.flush_seconds = flush_seconds
        self.flush_events = flush_events
        self.silence = silence_seconds
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.probe_seconds = probe_seconds
        self.cache_limit = cache_limit
        self.states: dict[Stream, StreamState] = {}
        self._closing: set[asyncio.Task[Any]] = set()
        self.buffer: list[pd.DataFrame] = []
        self.buffered = 0
        self.open_gaps: dict[Stream, Gap] = {}
        self.closed_gaps: list[Gap] = []
        self.stats: dict[str, Stats] = {ex: Stats() for ex in exchanges}
        self.failures: dict[Stream, str] = {}
        self._stop = asyncio.Event()
        self._flush_now = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._stopped_at: pd.Timestamp | None = None

    # ---- control ---------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask every stream to stop; :meth:`run` then flushes and returns."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run(self, seconds: float | None = None) -> None:
        """Collect until :meth:`stop` (or for ``seconds``), then flush and close."""
        self._record_downtime(_now())
        loop = asyncio.get_running_loop()
        previous = loop.get_exception_handler()
        loop.set_exception_handler(healing.receive_errors_handler(previous))
        for ex in self.exchanges.values():
            ex.newUpdates = False
            ex.options["liquidationsLimit"] = self.cache_limit
        tasks = [asyncio.create_task(self._stream(s), name=s.label) for s in self.streams]
        flusher = asyncio.create_task(self._flusher(), name="flusher")
        timer = None
        if seconds is not None:
            timer = loop.call_later(seconds, self.stop)
        try:
            await asyncio.gather(*tasks)
        finally:
            self.stop()
            if timer is not None:
                timer.cancel()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            end = self._stopped_at = _now()
            for gap in list(self.open_gaps.values()):
                self._close_gap(gap.stream, end)
            self._flush_now.set()
            await asyncio.gather(flusher, return_exceptions=True)
            await self.flush()
            for ex in self.exchanges.values():
                with contextlib.suppress(Exception):
                    await ex.close()
            for closing in list(self._closing):
                closing.cancel()
            await asyncio.gather(*self._closing, return_exceptions=True)
            loop.set_exception_handler(previous)

    # ---- one stream ------------------------------------------------------------------------
    def _silence_for(self, stream: Stream) -> float:
        if isinstance(self.silence, dict):
            return float(self.silence.get(stream.exchange, 300.0))
        return float(self.silence)

    async def _stream(self, stream: Stream) -> None:
        ex = self.exchanges[stream.exchange]
        watch = watcher(stream)
        silence = self._silence_for(stream)
        poll = max(0.02, min(0.25, silence / 4))
        st = self.states[stream] = StreamState(last_message=_now())
        while not self.stopping:
            task = asyncio.ensure_future(self._watch_once(ex, watch, st.since))
            while not task.done():
                await asyncio.wait({task}, timeout=poll)
                if self.stopping:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    if self._cached_news(ex, st):
                        self._take_cached(stream, ex, st)
                    return
                self._check_link(stream, ex, st)
                if task.done():
                    break
                if self._cached_news(ex, st) and self._take_cached(stream, ex, st):
                    self._received(stream, st)
                await self._check_silence(stream, ex, st, silence)
                st.awake = time.time()
            exc = self._failure(task)
            if exc is None:
                self._check_link(stream, ex, st)
                if st.reconnecting and st.url is None:  # no earlier connection it came from
                    self._reconnected(stream, st)
                self._received(stream, st)
                self._take(stream, ex, task.result(), st)
                st.awake = time.time()
                continue
            if not is_transient(exc):
                self.failures[stream] = f"{type(exc).__name__}: {exc}"
                log.error("%s: stopped: %s", stream.label, self.failures[stream])
                self._close_gap(stream, _now())
                self._open_gap(stream, _now(), f"failed: {type(exc).__name__}")
                return
            st.failures += 1
            self._lose(stream, ex, st, f"dropped: {type(exc).__name__}")
            wait = min(self.backoff * 2 ** (st.failures - 1), self.max_backoff)
            log.warning(
                "%s: %s: %s; reconnecting in %.2f s",
                stream.label,
                type(exc).__name__,
                str(exc)[:200],
                wait,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), wait)

    @staticmethod
    def _failure(task: asyncio.Future[Any]) -> BaseException | None:
        """What ended a watch call: its exception, a NetworkError for a call cancelled under
        it (its client was closed), None for a result."""
        if task.cancelled():
            return NetworkError("watch call cancelled: its connection was closed")
        return task.exception()

    def _received(self, stream: Stream, st: StreamState) -> None:
        """A message arrived: a silent stretch ends now (a lost connection's gap ends only
        when the next connection carries a frame, :meth:`_check_link`)."""
        now = _now()
        if stream in self.open_gaps and not st.reconnecting:
            self._close_gap(stream, now)
            log.info("%s: messages again", stream.label)
        st.last_message = now

    # ---- the connection under a stream (:mod:`.healing`) ----------------------------------
    def _check_link(self, stream: Stream, ex: Any, st: StreamState) -> None:
        """Compare the stream's connection with ccxt's current one: a connection closed or
        replaced (also by ccxt on its own, between two watch calls) opens a ``dropped`` gap
        from its last frame; the next connection's first frame closes it."""
        st.url = st.url or healing.find_url(ex, stream)
        if st.url is None:
            return
        current = healing.Link.current(ex, st.url)
        if st.link is not None and not st.link.same_as(current):
            self._lose(stream, ex, st, f"dropped: {st.link.failure()}")
        if st.link is None and current is not None:
            st.link = current
        if st.link is not None and st.link.failed():
            self._lose(stream, ex, st, f"dropped: {st.link.failure()}")
        if st.reconnecting and st.link is not None and st.link.heard():
            self._reconnected(stream, st)

    def _reconnected(self, stream: Stream, st: StreamState) -> None:
        now = _now()
        self._close_gap(stream, now)
        log.info("%s: reconnected", stream.label)
        st.reconnecting, st.failures, st.last_message = False, 0, now

    def _lose(self, stream: Stream, ex: Any, st: StreamState, reason: str) -> None:
        """The stream's connection is gone or useless: reset its client (the next watch
        dials afresh) and, unless already reconnecting, open a gap from its last frame
        (:meth:`healing.Link.lost_since`)."""
        link, st.link = st.link, None
        if link is not None:
            healing.reset(ex, link, f"{stream.label}: {reason}", self._closing)
        if st.reconnecting:
            return
        now = _now()
        if link is not None:
            since = link.lost_since(st.awake, st.newest_ms, self._silence_for(stream))
        else:  # lost before its connection was seen: from the stream's own last message
            since = min(st.last_message.timestamp(), st.awake) - healing.LATENCY_ALLOWANCE_S
        start = min(pd.Timestamp(since, unit="s", tz="UTC"), now)
        self._close_gap(stream, now)
        self._open_gap(stream, start, reason)
        st.reconnecting = True
        log.warning("%s: %s (gap recorded)", stream.label, reason)

    async def _check_silence(
        self, stream: Stream, ex: Any, st: StreamState, silence: float
    ) -> None:
        """No message for ``silence`` s: record a ``silent`` gap, then ping the connection;
        one that answers nothing within the probe time is reset."""
        now = _now()
        if (now - st.last_message).total_seconds() < silence:
            return
        if stream not in self.open_gaps:
            self._open_gap(stream, st.last_message, f"silent: no message for {silence:g} s")
            log.warning("%s: silent for %g s (gap recorded)", stream.label, silence)
        if st.link is None:
            return
        probe = min(silence, self.probe_seconds)
        if await st.link.health(time.time(), silence, probe) == "dead":
            self._lose(stream, ex, st, f"dropped: no answer to a ping in {probe:g} s")

    @staticmethod
    async def _watch_once(ex: Any, watch: Watch, since: int | None) -> list[dict[str, Any]]:
        if ex.markets is None:
            await ex.load_markets()
        return await watch(ex, since)

    @staticmethod
    def _cached_news(ex: Any, st: StreamState) -> bool:
        """Whether ccxt's liquidation cache holds an item newer than the last one taken (a
        message handled while no watch call was pending resolves nothing, but is cached)."""
        cache = getattr(ex, "liquidations", None)
        if not cache:
            return False
        return cache[-1] is not st.last_item

    def _take_cached(self, stream: Stream, ex: Any, st: StreamState) -> int:
        """Take the stream's items from ccxt's cache directly (since ``st.since``); returns
        how many new events that buffered."""
        cache = ex.liquidations
        last = cache[-1]
        symbols = [stream.symbol] if stream.symbol else None
        items = ex.filter_by_symbols_since_limit(cache, symbols, st.since, None, True)
        n = self._take(stream, ex, items, st)
        st.last_item = last
        return n

    def _take(self, stream: Stream, ex: Any, items: list[dict[str, Any]], st: StreamState) -> int:
        """Buffer the events among ``items`` not seen yet and move ``st.since`` on; returns
        how many were new."""
        if items:
            st.last_item = items[-1]
        frame = normalize_liquidations(
            stream.exchange, items, ex.markets, source_label(stream.exchange)
        )
        if frame.empty:
            return 0
        fresh = frame[~frame["event_id"].isin(list(st.seen))]
        stamps = [int(t.timestamp() * 1000) for t in frame["ts"].dropna()]
        for eid, ts in zip(frame["event_id"], frame["ts"], strict=True):
            st.seen[str(eid)] = int(ts.timestamp() * 1000) if not pd.isna(ts) else 0
        if stamps:
            newest = max(stamps)
            horizon = newest - 2 * SINCE_MARGIN_MS
            for eid in [k for k, v in st.seen.items() if v < horizon]:
                del st.seen[eid]
            st.since = max(st.since or 0, newest - SINCE_MARGIN_MS)
            st.newest_ms = max(st.newest_ms or 0, newest)
        if len(fresh):
            self.buffer.append(fresh)
            self.buffered += len(fresh)
            log.info("%s: +%d events (%d buffered)", stream.label, len(fresh), self.buffered)
            if self.buffered >= self.flush_events:
                self._flush_now.set()
        return len(fresh)

    # ---- gaps ------------------------------------------------------------------------------
    def _record_downtime(self, start: pd.Timestamp) -> None:
        """Queue a ``stopped`` gap per stream of the previous run, from its heartbeat to
        ``start``."""
        for ex_id in self.exchanges:
            gaps = downtime_gaps(self.store.root, ex_id, start)
            if gaps:
                log.warning(
                    "%s: collector not running from %s to %s (gap recorded)",
                    ex_id,
                    f"{gaps[0].start:%Y-%m-%d %H:%M:%S}",
                    f"{start:%Y-%m-%d %H:%M:%S} UTC",
                )
            self.closed_gaps.extend(gaps)
            self.stats[ex_id].gaps.extend(gaps)

    def _open_gap(self, stream: Stream, start: pd.Timestamp, reason: str) -> None:
        if stream not in self.open_gaps:
            self.open_gaps[stream] = Gap(stream, start, reason)

    def _close_gap(self, stream: Stream, end: pd.Timestamp) -> None:
        gap = self.open_gaps.pop(stream, None)
        if gap is not None:
            gap.end = max(end, gap.start)
            self.closed_gaps.append(gap)
            self.stats[stream.exchange].gaps.append(gap)

    # ---- flushing --------------------------------------------------------------------------
    async def _flusher(self) -> None:
        while not self.stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush_now.wait(), self.flush_seconds)
            self._flush_now.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write the buffered events, the closed gaps and the open gaps (end = now), then the
        heartbeat of every exchange: stored up to now (at shutdown, the time the streams
        stopped)."""
        async with self._flush_lock:
            frames, self.buffer, self.buffered = self.buffer, [], 0
            closed, self.closed_gaps = self.closed_gaps, []
            now = _now()
            gap_rows = [g.row(now) for g in closed] + [g.row(now) for g in self.open_gaps.values()]
            if frames:
                events = pd.concat(frames, ignore_index=True)
                for ex_id, rows in events.groupby("exchange", sort=True):
                    result = await asyncio.to_thread(self.store.write, TABLE, rows)
                    log.info("flushed %s: %s", ex_id, result)
                    stats = self.stats[str(ex_id)]
                    stats.events += result.written
                    stats.add(rows["ts"])
            if gap_rows:
                gaps = pd.DataFrame(gap_rows, columns=schema.table("gaps").column_names)
                await asyncio.to_thread(self.store.write, "gaps", gaps)
            alive = now if self._stopped_at is None else self._stopped_at
            for ex_id in self.exchanges:
                await asyncio.to_thread(
                    write_heartbeat, self.store.root, ex_id, self.streams, alive
                )

    # ---- summary ---------------------------------------------------------------------------
    def summary(self) -> str:
        lines = []
        for ex_id, st in self.stats.items():
            span = (
                f"{st.first:%Y-%m-%d %H:%M:%S} to {st.last:%Y-%m-%d %H:%M:%S} UTC"
                if st.first is not None
                else "no events"
            )
            down = sum(((g.end or g.start) - g.start).total_seconds() for g in st.gaps)
            lines.append(
                f"{ex_id}: {st.events} new liquidations stored, {span}; "
                f"{len(st.gaps)} gaps ({down:.0f} s)"
            )
        for stream, why in self.failures.items():
            lines.append(f"{stream.label}: FAILED {why}")
        return "\n".join(lines)
