"""Fetch history over ccxt REST into the store: liquidations, OHLCV, open interest, funding.

``python -m helpers fetch [--config PATH] [--exchanges a,b] [--symbols BTC,ETH/USDT:USDT]
[--tables liquidations,ohlcv,open_interest,funding] [--start T] [--end T] [--interval 1h]``

* **Liquidations** only where the ccxt class has public ``fetchLiquidations`` (gate, htx,
  bitfinex, deribit); binanceusdm, bybit and okx publish liquidations on streams only (see
  ``python -m helpers collect``). Rows go through :mod:`helpers.sources.normalize`.
* **OHLCV** bars of ``--interval`` (stamped at their OPEN; the still-open bar is not stored),
  **open interest** history (``oi_usd``: the venue's USD value; where a venue gives only the
  base amount it is valued at the open of the store's bar containing that time, an
  estimate) and **funding** rate history (``rate`` per funding period, as a fraction).

Every (table, exchange, symbol[, interval]) keeps the time ranges already fetched in
``<data_dir>/_state/resume.json`` (written atomically, advanced only after the rows of a
page are stored), so a rerun fetches only what is missing and an interrupted run resumes
without gaps; the store drops duplicates on its keys.

Responses are checked before anything is stored: an HTTP 200 whose body is not JSON (an
HTML page, truncated JSON), a payload that is not a list, or rows without timestamps or
prices are rejected (retried, then reported), never stored. Transient failures (429, 418,
5xx, timeouts) are retried with exponential backoff (:mod:`helpers.sources.retry`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from helpers import schema
from helpers.config import FETCH_TABLES, Config, make_exchange
from helpers.errors import UserError
from helpers.files import exclusive_lock, write_text_atomic
from helpers.sources import normalize
from helpers.sources.retry import JunkResponse, RetryPolicy, call_with_retry
from helpers.sources.venue_rules import quirks
from helpers.store import Store

log = logging.getLogger(__name__)

DEFAULT_DAYS = 7
STATE_DIR = "_state"
STATE_FILE = "resume.json"

UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}


# ---- command line --------------------------------------------------------------------------


def fetch_window(
    store: Store,
    config: Config,
    start: pd.Timestamp,
    end: pd.Timestamp,
    exchanges: Sequence[str] = (),
    symbols: Sequence[str] = (),
    tables: Sequence[str] = (),
    interval: str | None = None,
    policy: RetryPolicy | None = None,
) -> Summary:
    """Fetch the half-open window ``[start, end)`` (UTC timestamps) for the configured or
    given exchanges, symbols and tables into ``store``; the summary says what failed."""
    interval = interval or config.interval
    if interval not in schema.INTERVALS:
        raise UserError(f"--interval {interval!r}: expected one of {schema.INTERVALS}")
    bad = [t for t in tables if t not in FETCH_TABLES]
    if bad:
        raise UserError(f"--tables: unknown {bad}; expected some of {FETCH_TABLES}")
    exchanges = list(exchanges) or config.enabled_exchanges
    if not exchanges:
        raise UserError("no exchanges to fetch: none enabled in the config and no --exchanges")
    fetcher = Fetcher(store, config, policy or RetryPolicy(), interval)
    start_ms, end_ms = _ms(start), _ms(end)
    for ex_id in exchanges:
        fetcher.fetch_exchange(ex_id, list(symbols), list(tables), start_ms, end_ms)
    return fetcher.summary


def _ms(t: pd.Timestamp) -> int:
    return int(t.value // 1_000_000)


def interval_ms(interval: str) -> int:
    """Length of a bar interval (``1m`` ... ``1d``) in milliseconds."""
    return int(interval[:-1]) * UNIT_MS[interval[-1]]


# ---- resume state --------------------------------------------------------------------------


class ResumeState:
    """Time ranges already fetched per task, kept as merged ``[start_ms, end_ms)`` lists in
    ``<data_dir>/_state/resume.json``. Every :meth:`add` rewrites the file atomically."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.path = Path(data_dir) / STATE_DIR / STATE_FILE

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, list[list[int]]]]:
        with exclusive_lock(self.path.with_suffix(".lock")):
            covered = self._read()
            yield covered
            self._write(covered)

    def _read(self) -> dict[str, list[list[int]]]:
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            raise UserError(
                f"{self.path}: resume state is not valid JSON; delete it to refetch"
            ) from None
        return {k: [[int(a), int(b)] for a, b in v] for k, v in raw.get("covered", {}).items()}

    def _write(self, covered: Mapping[str, list[list[int]]]) -> None:
        text = json.dumps({"version": 1, "covered": covered}, indent=1, sort_keys=True)
        write_text_atomic(self.path, text)

    def covered(self, key: str) -> list[list[int]]:
        return self._read().get(key, [])

    def add(self, key: str, start: int, end: int) -> None:
        """Mark ``[start, end)`` of ``key`` as fetched and stored."""
        if end <= start:
            return
        with self._locked() as covered:
            covered[key] = merge_ranges([*covered.get(key, []), [start, end]])

    def missing(self, key: str, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of ``[start, end)`` not yet fetched for ``key``, in time order."""
        return subtract_ranges(start, end, self.covered(key))


def merge_ranges(ranges: Sequence[Sequence[int]]) -> list[list[int]]:
    """Union of half-open ranges, touching ones joined, sorted."""
    out: list[list[int]] = []
    for a, b in sorted((int(a), int(b)) for a, b in ranges if b > a):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def subtract_ranges(
    start: int, end: int, covered: Sequence[Sequence[int]]
) -> list[tuple[int, int]]:
    """``[start, end)`` minus the ``covered`` ranges."""
    out: list[tuple[int, int]] = []
    cursor = start
    for a, b in merge_ranges(covered):
        if b <= cursor or a >= end:
            continue
        if a > cursor:
            out.append((cursor, min(a, end)))
        cursor = max(cursor, b)
    if cursor < end:
        out.append((cursor, end))
    return out


def task_key(table: str, exchange_id: str, symbol: str, interval: str | None) -> str:
    return "|".join([table, exchange_id, symbol] + ([interval] if interval else []))


# ---- summary -------------------------------------------------------------------------------


@dataclass
class TaskResult:
    table: str
    exchange: str
    symbol: str
    written: int = 0
    offered: int = 0
    quarantined: int = 0
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    gaps: int = 0
    note: str = ""


@dataclass
class Summary:
    """Rows written per table and venue, span covered, gaps and failures of one run."""

    results: list[TaskResult] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def render(self) -> str:
        lines = ["fetch summary:"]
        for r in self.results:
            span = (
                f"{r.first:%Y-%m-%d %H:%M} .. {r.last:%Y-%m-%d %H:%M} UTC"
                if r.first is not None and r.last is not None
                else "no rows"
            )
            extra = [f"{r.quarantined} quarantined"] if r.quarantined else []
            extra += [f"{r.gaps} gap(s) recorded"] if r.gaps else []
            extra += [r.note] if r.note else []
            tail = f" ({'; '.join(extra)})" if extra else ""
            lines.append(
                f"  {r.table:<14} {r.exchange:<12} {r.symbol:<16} {r.written:>7} new of "
                f"{r.offered:>7} rows, {span}{tail}"
            )
        for what, why in self.skipped:
            lines.append(f"  skipped {what}: {why}")
        for what, err in self.failures:
            lines.append(f"  FAILED {what}: {err}")
        if len(lines) == 1:
            lines.append("  nothing to fetch")
        return "\n".join(lines)


# ---- fetching ------------------------------------------------------------------------------


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
            self._call(exchange.load_markets, what=f"{exchange_id} load_markets")
        except Exception as exc:
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
            for symbol in resolved:
                self._fetch_task(exchange, table, symbol, start, end)

    def _fetch_task(self, exchange: Any, table: str, symbol: str, start: int, end: int) -> None:
        ex_id = exchange.id
        interval = self.interval if table in ("ohlcv", "open_interest") else None
        key = task_key(table, ex_id, symbol, interval)
        end = min(end, _now_ms())
        if interval:
            end -= end % interval_ms(interval)
        result = TaskResult(table, ex_id, symbol)
        self.summary.results.append(result)
        segments = self.state.missing(key, start, end)
        if not segments:
            result.note = "already up to date"
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
        else:
            yield from self._forward_pages(exchange, table, symbol, a, b)

    def _call(self, fn: Callable[..., Any], *args: Any, what: str, **kwargs: Any) -> Any:
        return call_with_retry(fn, *args, policy=self.policy, what=what, **kwargs)

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
        between two bars, or a hole between the bars of one page, is recorded as a gap."""
        step = interval_ms(self.interval) if table in ("ohlcv", "open_interest") else 1
        limit = self._page_limit(exchange.id, table)
        stack = [_Window(a, b)]
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
        else:
            fn = exchange.fetch_funding_rate_history
            args = (symbol, since, limit, params)

        def fetch() -> list[Any]:
            exchange.last_json_response = None
            rows = check_rows(table, fn(*args), what)
            check_empty_payload(exchange, rows, what)
            return rows

        return self._call(fetch, what=what)

    def _to_frame(self, exchange: Any, table: str, symbol: str, rows: list[Any]) -> pd.DataFrame:
        ex_id = exchange.id
        if table == "ohlcv":
            return ohlcv_frame(rows, ex_id, symbol, self.interval)
        if table == "funding":
            return funding_frame(rows, ex_id, symbol)
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
            exchange.last_json_response = None
            rows = exchange.fetch_liquidations(symbol, since, limit, params)
            rows = check_rows("liquidations", rows, what)
            check_empty_payload(exchange, rows, what)
            return rows, venue_row_stamps(exchange, rows)

        return self._call(fetch, what=what)


@dataclass(frozen=True)
class _Window:
    """A time window still to fetch; the flags say whether a row is already known just
    before ``lo`` and at ``hi`` (for bars, an empty window between two is a gap)."""

    lo: int
    hi: int
    row_before: bool = False
    row_at_end: bool = False


def _reject_outside_window(
    exchange_id: str, table: str, symbol: str, stamps: Sequence[int], w: _Window
) -> None:
    """Raise :class:`JunkResponse` when the venue ignored the window: rows all before its
    start, or, for the first request of a range, all at or after its end (a venue that
    returns its latest rows whatever the window). A later window's rows past its end are
    those of a venue paging forward past an empty stretch: the window is empty."""
    if max(stamps) < w.lo:
        where = f"before the requested start {_iso(w.lo)}"
    elif min(stamps) >= w.hi and not (w.row_before or w.row_at_end):
        where = f"at or after the requested end {_iso(w.hi)}"
    else:
        return
    raise JunkResponse(
        f"{exchange_id} {table} {symbol}: rows all {where} (the venue ignored the time window)"
    )


def split_window(a: int, b: int, longest: int | None) -> list[tuple[int, int]]:
    """``[a, b)`` cut into consecutive windows of at most ``longest`` ms (whole when None)."""
    if not longest:
        return [(a, b)]
    return [(t, min(t + longest, b)) for t in range(a, b, longest)]


def venue_row_stamps(exchange: Any, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Timestamps of every liquidation in the venue's last response: ``rows`` themselves,
    except for a feed of every market (``global_liquidation_feed`` in
    :mod:`~helpers.sources.venue_rules`), whose whole
    payload is parsed again without ccxt's filter on the symbol."""
    if not quirks(exchange.id).global_liquidation_feed:
        return [int(r["timestamp"]) for r in rows]
    payload = exchange.last_json_response
    every = exchange.parse_liquidations(exchange.to_array(payload)) if payload else []
    return [int(r["timestamp"]) for r in every]


FETCH_METHOD = {
    "liquidations": ("fetchLiquidations", "fetch_liquidations"),
    "ohlcv": ("fetchOHLCV", "fetch_ohlcv"),
    "open_interest": ("fetchOpenInterestHistory", "fetch_open_interest_history"),
    "funding": ("fetchFundingRateHistory", "fetch_funding_rate_history"),
}


def forward_request(exchange_id: str, table: str, hi: int) -> dict[str, Any]:
    """Params for ccxt's OHLCV, open-interest and funding fetches of a window ending at
    ``hi`` ms (exclusive): ``until`` = ``hi - 1`` (inclusive). okx funding: ccxt sends
    ``since`` as ``before`` only, and OKX then returns its latest records whatever the
    window, so the end is passed as OKX's own ``after`` (exclusive)."""
    if table == "funding" and quirks(exchange_id).funding_end_param == "after":
        return {"after": hi}
    return {"until": hi - 1}


def liquidation_request(exchange_id: str, lo: int, hi: int) -> tuple[int | None, dict[str, Any]]:
    """(``since``, params) for ccxt ``fetch_liquidations`` over ``[lo, hi)`` ms.

    gate: ccxt sends ``since`` unchanged as ``from``, but Gate's ``from``/``to`` are
    SECONDS, so the window is passed as seconds directly. bitfinex: ``sort=1`` (oldest
    first; the venue's default is newest first). deribit: ``search_start_timestamp`` is the
    LATEST time searched back from, so the window end is passed there."""
    style = quirks(exchange_id).liquidation_request
    if style == "seconds_from_to":
        return None, {"from": lo // 1000, "to": (hi - 1) // 1000}
    if style == "oldest_first":
        return lo, {"until": hi - 1, "sort": 1}
    if style == "search_back":
        return None, {"search_start_timestamp": hi - 1}
    return lo, {"until": hi - 1}


# ---- response checks -----------------------------------------------------------------------


def install_parser_fixes(exchange: Any) -> None:
    """Mend ccxt 4.5.90 parsers that drop a field the venue sends.

    bitfinex: ``parse_open_interest`` reads the time at index 1, but the rows of
    ``status/deriv/{key}/hist`` (23 fields, no key) have it at index 0 (bitfinex.py line
    3538); every history row would come back without a timestamp."""
    if exchange.id != "bitfinex":
        return
    original = exchange.parse_open_interest

    def parse_open_interest(interest: Any, market: Any = None) -> Any:
        parsed = original(interest, market)
        if isinstance(interest, list) and len(interest) == 23 and parsed["timestamp"] is None:
            parsed["timestamp"] = exchange.safe_integer(interest, 0)
            parsed["datetime"] = exchange.iso8601(parsed["timestamp"])
        return parsed

    exchange.parse_open_interest = parse_open_interest


def install_response_check(exchange: Any) -> None:
    """Make ``exchange`` refuse junk instead of passing it on silently.

    * any HTTP 2xx whose body is not JSON (an HTML page, truncated JSON) raises
      :class:`JunkResponse` before ccxt's parsers see the text;
    * ccxt's since-filters drop parsed rows without a timestamp without a word: they now
      raise :class:`JunkResponse` instead;
    * the last JSON body is kept, so an empty result can be told apart from a payload of the
      wrong shape (see :func:`check_empty_payload`).
    """
    original = exchange.on_rest_response
    exchange.enableLastJsonResponse = True

    def on_rest_response(
        code: Any, reason: Any, url: str, method: str, headers: Any, body: Any, *rest: Any
    ) -> Any:
        body = original(code, reason, url, method, headers, body, *rest)
        status = int(code) if code is not None else 0
        if 200 <= status < 300:
            try:
                json.loads(body)
            except (TypeError, ValueError):
                start = " ".join(str(body)[:60].split())
                raise JunkResponse(
                    f"{exchange.id} {method} {url}: HTTP {status} body is not JSON "
                    f"(starts {start!r})"
                ) from None
        return body

    def checked(filter_fn: Callable[..., Any], key_arg: int) -> Callable[..., Any]:
        def run(array: Any, *args: Any, **kwargs: Any) -> Any:
            key = kwargs.get("key", args[key_arg] if len(args) > key_arg else "timestamp")
            for entry in exchange.to_array(array) if array is not None else []:
                value = entry[key] if isinstance(entry, list) else exchange.safe_value(entry, key)
                if not _is_ts(value):
                    raise JunkResponse(f"{exchange.id}: a parsed row has no timestamp: {entry}")
            return filter_fn(array, *args, **kwargs)

        return run

    exchange.on_rest_response = on_rest_response
    exchange.filter_by_since_limit = checked(exchange.filter_by_since_limit, 2)
    exchange.filter_by_value_since_limit = checked(exchange.filter_by_value_since_limit, 4)


def check_empty_payload(exchange: Any, rows: list[Any], what: str) -> None:
    """An empty result must come from an empty list in the venue's JSON (``[]``,
    ``{"data": []}``...); a payload with no list at all is the wrong shape."""
    if not rows and not _has_list(getattr(exchange, "last_json_response", None)):
        body = " ".join(json.dumps(exchange.last_json_response, default=str)[:80].split())
        raise JunkResponse(f"{what}: expected a list of rows, got {body}")


def _has_list(payload: Any) -> bool:
    if isinstance(payload, list):
        return True
    if isinstance(payload, Mapping):
        return any(_has_list(v) for v in payload.values())
    return False


def check_rows(table: str, rows: Any, what: str) -> list[Any]:
    """``rows`` if every row has what ``table`` needs, else :class:`JunkResponse`.

    ohlcv: ``[ts, open, high, low, close, volume]`` with an integer timestamp and positive
    finite prices; funding: a timestamp and a numeric ``fundingRate``; open_interest: a
    timestamp and an amount or value; liquidations: a timestamp and the raw ``info``."""
    if not isinstance(rows, list):
        raise JunkResponse(f"{what}: expected a list of rows, got {type(rows).__name__}")
    for i, row in enumerate(rows):
        problem = _row_problem(table, row)
        if problem:
            raise JunkResponse(f"{what}: row {i} {problem}; response rejected")
    return rows


def _row_problem(table: str, row: Any) -> str | None:
    if table == "ohlcv":
        if not isinstance(row, list | tuple) or len(row) < 6:
            return "is not [ts, open, high, low, close, volume]"
        if not _is_ts(row[0]):
            return "has no timestamp"
        if not all(_finite(v) and float(v) > 0 for v in row[1:5]):
            return "has a missing or non-positive price"
        return None
    if not isinstance(row, Mapping):
        return f"is a {type(row).__name__}, not a record"
    if not _is_ts(row.get("timestamp")):
        return "has no timestamp"
    if table == "funding" and not _finite(row.get("fundingRate")):
        return "has no funding rate"
    if table == "open_interest" and not (
        _finite(row.get("openInterestValue")) or _finite(row.get("openInterestAmount"))
    ):
        return "has neither open-interest amount nor value"
    if table == "liquidations" and row.get("info") is None:
        return "has no raw info"
    return None


def _is_ts(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _row_ts(table: str, row: Any) -> int:
    return int(row[0]) if table == "ohlcv" else int(row["timestamp"])


# ---- canonical frames ----------------------------------------------------------------------


def _ts_col(stamps: Sequence[int]) -> pd.Series:
    return pd.to_datetime(pd.Series(stamps, dtype="int64"), unit="ms", utc=True).astype(
        "datetime64[us, UTC]"
    )


def ohlcv_frame(
    rows: Sequence[Sequence[Any]], exchange_id: str, symbol: str, interval: str
) -> pd.DataFrame:
    """Canonical ``ohlcv`` rows from ccxt candles ``[ts_open_ms, o, h, l, c, volume]``."""
    df = pd.DataFrame(
        [list(r[:6]) for r in rows], columns=["t", "open", "high", "low", "close", "volume"]
    )
    out = pd.DataFrame({"ts": _ts_col(df["t"].astype("int64"))})
    out["interval"] = interval
    out["exchange"] = exchange_id
    out["symbol"] = symbol
    out["source"] = f"ccxt:{exchange_id}"
    for col in ("open", "high", "low", "close", "volume"):
        out[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    return out


def funding_frame(rows: Sequence[Mapping[str, Any]], exchange_id: str, symbol: str) -> pd.DataFrame:
    """Canonical ``funding`` rows (``rate`` = the period's funding rate as a fraction)."""
    out = pd.DataFrame({"ts": _ts_col([int(r["timestamp"]) for r in rows])})
    out["exchange"] = exchange_id
    out["symbol"] = symbol
    out["source"] = f"ccxt:{exchange_id}"
    out["rate"] = [float(r["fundingRate"]) for r in rows]
    return out


"""Venues whose ccxt ``openInterestValue`` on inverse markets is in USD (Bybit: the USD
contract count; OKX: ``oiUsd``; Gate: ``open_interest_usd``)."""


def open_interest_frame(
    rows: Sequence[Mapping[str, Any]],
    exchange_id: str,
    symbol: str,
    market: Mapping[str, Any],
    bar_opens: pd.Series | None = None,
) -> pd.DataFrame:
    """Canonical ``open_interest`` rows; ``oi_usd`` in US dollars.

    Linear markets quoted in USD or a USD stablecoin: ccxt's ``openInterestValue``, else
    the base ``openInterestAmount`` times ``bar_opens`` at the row's time (the fetcher
    gives the open of the stored bar containing it), an estimate. Inverse markets: the
    value where the venue gives it in USD (``oi_value_in_usd`` in
    :mod:`~helpers.sources.venue_rules`), else the
    contract count times the USD contract size (Binance COIN-M's ``openInterestValue`` is
    in the base coin and is not used). NaN when none applies (the store then quarantines
    the row)."""
    opens = bar_opens if bar_opens is not None else pd.Series(dtype="float64")
    values = [_oi_usd(r, exchange_id, market, opens) for r in rows]
    out = pd.DataFrame({"ts": _ts_col([int(r["timestamp"]) for r in rows])})
    out["exchange"] = exchange_id
    out["symbol"] = symbol
    out["source"] = f"ccxt:{exchange_id}"
    out["oi_usd"] = pd.Series(values, dtype="float64")
    return out


def _oi_usd(
    row: Mapping[str, Any], exchange_id: str, market: Mapping[str, Any], opens: pd.Series
) -> float:
    value = _float_or_none(row.get("openInterestValue"))
    amount = _float_or_none(row.get("openInterestAmount"))
    if market.get("quote") not in normalize.USD_QUOTES:
        return math.nan
    if market.get("inverse"):
        if value is not None and quirks(exchange_id).oi_value_in_usd:
            return value
        size = _float_or_none(market.get("contractSize"))
        return amount * size if amount is not None and size is not None else math.nan
    if value is not None:
        return value
    t = pd.Timestamp(int(row["timestamp"]), unit="ms", tz="UTC")
    price = _float_or_none(opens.get(t)) if len(opens) else None
    return amount * price if amount is not None and price is not None else math.nan


def _float_or_none(value: Any) -> float | None:
    return float(value) if _finite(value) else None


def bar_gaps(
    stamps: Sequence[int],
    step: int,
    exchange_id: str,
    symbol: str,
    table: str,
    previous_last: int | None = None,
) -> pd.DataFrame:
    """``gaps`` rows for missing bars between consecutive bar times (and after
    ``previous_last``, the last bar of the previous page)."""
    times = sorted(stamps)
    if previous_last is not None:
        times = [previous_last, *times]
    holes = [(a + step, b) for a, b in zip(times, times[1:], strict=False) if b - a > step]
    if not holes:
        return schema.empty("gaps")
    start = _ts_col([a for a, _ in holes])
    return pd.DataFrame(
        {
            "start": start,
            "end": _ts_col([b for _, b in holes]),
            "exchange": exchange_id,
            "symbol": symbol,
            "table_name": table,
            "reason": "venue returned no bars",
            "ts": start,
        }
    )


# ---- symbols -------------------------------------------------------------------------------


def resolve_symbol(exchange: Any, wanted: str) -> str:
    """A unified symbol of ``exchange``: ``wanted`` itself when it is one, else for a base
    coin (``BTC``) its USD-margined perpetual, preferring USDT, then USDC, then USD."""
    markets = exchange.markets or {}
    if wanted in markets:
        return wanted
    if "/" in wanted:
        raise UserError(f"{exchange.id}: unknown symbol {wanted!r}")
    base = wanted.upper()
    candidates = [
        m
        for m in markets.values()
        if m.get("swap") and m.get("base") == base and m.get("active", True) is not False
    ]
    for settle in ("USDT", "USDC", "USD"):
        for m in candidates:
            if m.get("settle") == settle and m.get("quote") in normalize.USD_QUOTES:
                return str(m["symbol"])
    raise UserError(f"{exchange.id}: no USD-margined perpetual for {wanted!r}")


def _now_ms() -> int:
    return _ms(pd.Timestamp.now(tz="UTC"))


def _iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _err(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:400]
