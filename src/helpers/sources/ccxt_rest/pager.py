"""The :class:`Fetcher`: one task per (table, exchange, symbol), each window of a task paged
whatever end the venue pages from, every page stored before its range is marked fetched
(times in ms since the epoch, windows half-open ``[lo, hi)``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from tqdm import tqdm

from helpers import schema
from helpers.config import Config, make_exchange
from helpers.errors import UserError
from helpers.sources import normalize
from helpers.sources.ccxt_rest import ratio
from helpers.sources.ccxt_rest.checks import (
    _row_ts,
    check_empty_payload,
    check_rows,
    install_parser_fixes,
    install_response_check,
)
from helpers.sources.ccxt_rest.frames import (
    bar_gaps,
    funding_frame,
    ohlcv_frame,
    open_interest_frame,
    ratio_frame,
)
from helpers.sources.ccxt_rest.resume import ResumeState, task_key
from helpers.sources.ccxt_rest.summary import Summary, TaskResult
from helpers.sources.ccxt_rest.symbols import resolve_symbol
from helpers.sources.ccxt_rest.venue_requests import (
    FETCH_METHOD,
    forward_request,
    liquidation_request,
    split_window,
    venue_row_stamps,
)
from helpers.sources.ccxt_rest.windows import (
    _err,
    _iso,
    _now_ms,
    _reject_outside_window,
    _Window,
    interval_ms,
)
from helpers.sources.rate_limits import exchange_retry, forget_last_response
from helpers.sources.retry import RateLimitBan, RetryPolicy, call_with_retry
from helpers.sources.venue_rules import quirks
from helpers.store import Store

log = logging.getLogger(__package__)

PERIODIC = ("ohlcv", "open_interest", ratio.TABLE)
"""Tables with one row per interval (the task and its paging step depend on ``--interval``)."""


@dataclass(frozen=True)
class Page:
    """Rows of one response (canonical frame) and the time range they certainly cover."""

    rows: pd.DataFrame
    covered: tuple[int, int] | None
    gaps: pd.DataFrame | None = None


class Fetcher:
    """Runs the fetch tasks of one command against one store."""

    def __init__(
        self, store: Store, config: Config, policy: RetryPolicy, interval: str = "1h"
    ) -> None:
        self.store = store
        self.config = config
        self.policy = policy
        self.interval = interval
        self.state = ResumeState(store.root)
        self.summary = Summary()
        self.bans: dict[str, RateLimitBan] = {}
        """Venues that asked for a longer wait than the policy allows: not asked again."""

    # -- per exchange
    def fetch_exchange(
        self,
        exchange_id: str,
        symbols: Sequence[str],
        tables: Sequence[str],
        start: int,
        end: int,
    ) -> None:
        """Fetch ``tables`` (default: the exchange's configured tables) for ``symbols``
        (default: its configured symbols) over ``[start, end)`` ms."""
        ex_conf = self.config.exchange(exchange_id)
        exchange = make_exchange(self.config, exchange_id)
        install_response_check(exchange)
        install_parser_fixes(exchange)
        try:
            self._call(exchange, exchange.load_markets, what=f"{exchange_id} load_markets")
        except Exception as exc:
            self._note_ban(exchange_id, exc)
            self.summary.failures.append((f"{exchange_id} markets", _err(exc)))
            return
        wanted = list(symbols) or list(ex_conf.symbols)
        if not wanted:
            raise UserError(
                f"{exchange_id}: no symbols (give --symbols or list them in the config)"
            )
        resolved = [resolve_symbol(exchange, s) for s in wanted]
        for table in list(tables) or list(ex_conf.tables):
            if not exchange.has.get(FETCH_METHOD[table][0]):
                why = (
                    "no public REST liquidation history in ccxt (streams only: "
                    "python -m helpers collect)"
                    if table == "liquidations"
                    else f"ccxt {exchange_id} has no {FETCH_METHOD[table][0]}"
                )
                self.summary.skipped.append((f"{table} {exchange_id}", why))
                continue
            unfit = ratio.skip_reason(exchange_id, self.interval) if table == ratio.TABLE else None
            if unfit:
                self.summary.skipped.append((f"{table} {exchange_id}", unfit))
                continue
            for symbol in resolved:
                self._fetch_task(exchange, table, symbol, start, end)

    def _fetch_task(self, exchange: Any, table: str, symbol: str, start: int, end: int) -> None:
        ex_id = exchange.id
        interval = self.interval if table in PERIODIC else None
        key = task_key(table, ex_id, symbol, interval)
        end = min(end, _now_ms())
        if interval:
            end -= end % interval_ms(interval)
        result = TaskResult(table, ex_id, symbol)
        if table == ratio.TABLE:
            start, result.note = ratio.earliest(ex_id, start, _now_ms(), interval_ms(self.interval))
        self.summary.results.append(result)
        if ex_id in self.bans:
            until = f"{self.bans[ex_id].until:%Y-%m-%d %H:%M:%S} UTC"
            why = f"not requested: {ex_id} is rate-limited until {until}"
            self.summary.failures.append((f"{table} {ex_id} {symbol}", why))
            return
        segments = self.state.missing(key, start, end)
        if not segments:
            result.note = "; ".join(n for n in (result.note, "already up to date") if n)
            return
        total_h = sum(b - a for a, b in segments) / 3_600_000
        bar = tqdm(
            total=round(total_h, 2),
            unit="h",
            desc=f"{table} {ex_id} {symbol}",
            file=sys.stderr,
            leave=False,
            disable=None,
        )
        try:
            for a, b in segments:
                for page in self._pages(exchange, table, symbol, a, b):
                    self._store_page(table, page, result)
                    if page.covered:
                        self.state.add(key, *page.covered)
                        bar.update(round((page.covered[1] - page.covered[0]) / 3_600_000, 2))
        except Exception as exc:
            if isinstance(exc, UserError | KeyboardInterrupt):
                raise
            self._note_ban(ex_id, exc)
            self.summary.failures.append((f"{table} {ex_id} {symbol}", _err(exc)))
            log.debug("fetch failed", exc_info=True)
        finally:
            bar.close()

    def _store_page(self, table: str, page: Page, result: TaskResult) -> None:
        if len(page.rows):
            w = self.store.write(table, page.rows)
            result.written += w.written
            result.offered += w.offered
            result.quarantined += w.quarantined
            ts = page.rows["ts"].dropna()
            if len(ts):
                result.first = ts.min() if result.first is None else min(result.first, ts.min())
                result.last = ts.max() if result.last is None else max(result.last, ts.max())
        if page.gaps is not None and len(page.gaps):
            self.store.write("gaps", page.gaps)
            result.gaps += len(page.gaps)

    def _pages(self, exchange: Any, table: str, symbol: str, a: int, b: int) -> Iterator[Page]:
        if table == "liquidations":
            yield from self._liquidation_pages(exchange, symbol, a, b)
        elif table == ratio.TABLE and ratio.latest_only(exchange.id):
            yield self._latest_ratio_page(exchange, symbol, a, b)
        else:
            yield from self._forward_pages(exchange, table, symbol, a, b)

    def _call(self, exchange: Any, fn: Callable[..., Any], *args: Any, what: str) -> Any:
        """``fn(*args)`` retried per the policy, ``exchange``'s rate-limit answers included
        (:mod:`helpers.sources.rate_limits`); each attempt starts with no last answer."""
        retry_on, wait_hint = exchange_retry(exchange)

        def attempt() -> Any:
            forget_last_response(exchange)
            return fn(*args)

        return call_with_retry(
            attempt, policy=self.policy, retry_on=retry_on, wait_hint=wait_hint, what=what
        )

    def _note_ban(self, exchange_id: str, exc: BaseException) -> None:
        if isinstance(exc, RateLimitBan):
            self.bans[exchange_id] = exc

    def _page_limit(self, exchange_id: str, table: str) -> int:
        override = self.config.exchange(exchange_id).page_limit
        if table in override:
            return override[table]
        return quirks(exchange_id).page_limit(table)

    # -- order-agnostic paging: bars, open interest and funding
    def _forward_pages(
        self, exchange: Any, table: str, symbol: str, a: int, b: int
    ) -> Iterator[Page]:
        """Fetch ``[a, b)`` whatever end of a window the venue pages from (Binance and
        Hyperliquid return the oldest rows of a window, OKX and Bybit the newest).

        A page's rows certainly cover the span from its first row to one step past its last
        (bars and open interest advance by one interval, funding by 1 ms); the part of the
        window before the first row and the part after the last are fetched again as their
        own windows, and a window with no rows is covered as it is. Bars: an empty window
        between two bars, or a hole between the bars of one page, is recorded as a gap; the
        bars next to ``[a, b)`` are looked up in the store, so a range resumed after a crash
        records the gap at its edge as the uninterrupted run did."""
        step = interval_ms(self.interval) if table in PERIODIC else 1
        limit = self._page_limit(exchange.id, table)
        edges = table == "ohlcv"
        before = edges and self._bar_stored(exchange.id, symbol, a - step)
        at_end = edges and self._bar_stored(exchange.id, symbol, b)
        stack = [_Window(a, b, row_before=before, row_at_end=at_end)]
        while stack:
            w = stack.pop()
            raw = self._fetch_rows(exchange, table, symbol, w.lo, w.hi, limit)
            stamps = [_row_ts(table, r) for r in raw]
            inside = [(t, r) for t, r in zip(stamps, raw, strict=True) if w.lo <= t < w.hi]
            if raw and not inside:
                _reject_outside_window(exchange.id, table, symbol, stamps, w)
            if not inside:
                hole = table == "ohlcv" and w.row_before and w.row_at_end
                gaps = (
                    bar_gaps([w.lo - step, w.hi], step, exchange.id, symbol, table)
                    if hole
                    else None
                )
                yield Page(schema.empty(table), (w.lo, w.hi), gaps)
                continue
            inside.sort(key=lambda tr: tr[0])
            first, last = inside[0][0], inside[-1][0]
            nxt = min(max(last + step, w.lo + 1), w.hi)
            rows = self._to_frame(exchange, table, symbol, [r for _, r in inside])
            gaps = (
                bar_gaps([t for t, _ in inside], step, exchange.id, symbol, table)
                if table == "ohlcv"
                else None
            )
            yield Page(rows, (first, nxt), gaps)
            if nxt < w.hi:
                stack.append(_Window(nxt, w.hi, row_before=True, row_at_end=w.row_at_end))
            if first > w.lo:
                stack.append(_Window(w.lo, first, row_before=w.row_before, row_at_end=True))

    def _latest_ratio_page(self, exchange: Any, symbol: str, a: int, b: int) -> Page:
        """One request to a venue that serves only its latest ratio rows (no time window):
        the rows inside ``[a, b)`` and what they certainly cover (:func:`ratio.latest_page`)."""
        rows = self._fetch_rows(
            exchange, ratio.TABLE, symbol, a, b, self._page_limit(exchange.id, ratio.TABLE)
        )
        frame, covered = ratio.latest_page(
            rows, exchange.id, symbol, self.interval, a, b, interval_ms(self.interval)
        )
        return Page(frame, covered)

    def _bar_stored(self, exchange_id: str, symbol: str, t_ms: int) -> bool:
        """Whether the store holds the bar of this interval opening at ``t_ms``."""
        t = pd.Timestamp(t_ms, unit="ms", tz="UTC")
        within = (t, t + pd.Timedelta(milliseconds=1), [exchange_id], [symbol])
        return not self.store.read("ohlcv", *within, where=f"interval = '{self.interval}'").empty

    def _fetch_rows(
        self, exchange: Any, table: str, symbol: str, since: int, until: int, limit: int
    ) -> list[Any]:
        method, _ = FETCH_METHOD[table]
        what = f"{exchange.id} {method} {symbol} from {_iso(since)}"
        params = forward_request(exchange.id, table, until)
        if table == "ohlcv":
            fn = exchange.fetch_ohlcv
            args: tuple[Any, ...] = (symbol, self.interval, since, limit, params)
        elif table == "open_interest":
            fn = exchange.fetch_open_interest_history
            args = (symbol, self.interval, since, limit, params)
        elif table == ratio.TABLE:
            fn, args = ratio.fetch_args(exchange, symbol, self.interval, since, until, limit)
        else:
            fn = exchange.fetch_funding_rate_history
            args = (symbol, since, limit, params)

        def fetch() -> list[Any]:
            rows = check_rows(table, fn(*args), what)
            check_empty_payload(exchange, rows, what)
            return rows

        return self._call(exchange, fetch, what=what)

    def _to_frame(self, exchange: Any, table: str, symbol: str, rows: list[Any]) -> pd.DataFrame:
        ex_id = exchange.id
        if table == "ohlcv":
            return ohlcv_frame(rows, ex_id, symbol, self.interval)
        if table == "funding":
            return funding_frame(rows, ex_id, symbol)
        if table == ratio.TABLE:
            return ratio_frame(rows, ex_id, symbol, self.interval)
        market = exchange.markets.get(symbol, {})
        opens = self._bar_opens(ex_id, symbol, rows)
        return open_interest_frame(rows, ex_id, symbol, market, opens)

    def _bar_opens(self, ex_id: str, symbol: str, rows: list[Any]) -> pd.Series:
        """The open of the stored bar containing each row's time, indexed by that time
        (rows between bars, such as Bitfinex's status snapshots, get their bar's open)."""
        step = interval_ms(self.interval)
        stamps = sorted({int(r["timestamp"]) for r in rows})
        starts = [t - t % step for t in stamps]
        lo = pd.Timestamp(starts[0], unit="ms", tz="UTC")
        hi = pd.Timestamp(starts[-1], unit="ms", tz="UTC") + pd.Timedelta(milliseconds=1)
        bars = self.store.read(
            "ohlcv", lo, hi, [ex_id], [symbol], where=f"interval = '{self.interval}'"
        )
        by_start = dict(zip(bars["ts"], bars["open"], strict=True))
        return pd.Series(
            [by_start.get(pd.Timestamp(s, unit="ms", tz="UTC")) for s in starts],
            index=pd.to_datetime(stamps, unit="ms", utc=True),
            dtype="float64",
        ).dropna()

    # -- liquidations: order-agnostic splitting
    def _liquidation_pages(self, exchange: Any, symbol: str, a: int, b: int) -> Iterator[Page]:
        """Fetch ``[a, b)`` whatever order the venue pages in: a page with fewer rows than
        the limit covers its window; a full page certainly covers the span strictly inside
        its first and last timestamps, and the two ends are fetched again as smaller
        windows. A full page within one time unit cannot be split and is kept as is.
        Windows longer than the venue accepts (``liquidation_window_ms`` in
        :mod:`~helpers.sources.venue_rules`) are cut
        first; for a feed of every market (``global_liquidation_feed`` in
        :mod:`~helpers.sources.venue_rules`) fullness and
        span are judged on all of the venue's rows, not only the symbol's."""
        ex_id = exchange.id
        limit = self._page_limit(ex_id, "liquidations")
        venue = quirks(ex_id)
        res = venue.time_resolution_ms
        stack = split_window(a, b, venue.liquidation_window_ms)[::-1]
        while stack:
            lo, hi = stack.pop()
            raw, stamps = self._fetch_liquidations(exchange, symbol, lo, hi, limit)
            inside = [r for r in raw if lo <= r["timestamp"] < hi]
            rows = normalize.normalize_liquidations(
                ex_id, inside, exchange.markets, source=f"ccxt:{ex_id}"
            )
            if len(stamps) < limit or hi - lo <= res:
                if len(stamps) >= limit:
                    log.warning(
                        "%s %s: %d liquidations within %d ms; page may be truncated",
                        ex_id,
                        symbol,
                        len(stamps),
                        hi - lo,
                    )
                yield Page(rows, (lo, hi))
                continue
            in_window = [t for t in stamps if lo <= t < hi]
            t_min = min(in_window) if in_window else lo
            t_max = max(in_window) if in_window else hi - res
            sure = (t_min + res, t_max)
            yield Page(rows, sure if sure[1] > sure[0] else None)
            if t_min == t_max:
                pieces = [(lo, t_min), (t_min, t_min + res), (t_min + res, hi)]
            else:
                pieces = [(lo, t_min + res), (t_max, hi)]
            stack.extend(p for p in reversed(pieces) if p[1] > p[0] and p != (lo, hi))

    def _fetch_liquidations(
        self, exchange: Any, symbol: str, lo: int, hi: int, limit: int
    ) -> tuple[list[dict[str, Any]], list[int]]:
        """ccxt's liquidations of ``symbol`` and the timestamps of every row the venue sent."""
        since, params = liquidation_request(exchange.id, lo, hi)
        what = f"{exchange.id} fetchLiquidations {symbol} {_iso(lo)}..{_iso(hi)}"

        def fetch() -> tuple[list[dict[str, Any]], list[int]]:
            rows = exchange.fetch_liquidations(symbol, since, limit, params)
            rows = check_rows("liquidations", rows, what)
            check_empty_payload(exchange, rows, what)
            return rows, venue_row_stamps(exchange, rows)

        return self._call(exchange, fetch, what=what)
