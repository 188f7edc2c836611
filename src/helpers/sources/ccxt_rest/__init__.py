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
5xx, timeouts, and each venue's own rate-limit codes whatever class ccxt raises for them) are
retried with exponential backoff, or after the wait the answer asks for (``Retry-After``, a
reset header, a ban's end); a venue banning for longer than ``--max-wait`` fails at once and
is not asked again in that run (:mod:`helpers.sources.retry`,
:mod:`helpers.sources.rate_limits`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers import schema
from helpers.config import FETCH_TABLES, Config
from helpers.errors import UserError
from helpers.sources.ccxt_rest.checks import (
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
)
from helpers.sources.ccxt_rest.pager import Fetcher, Page
from helpers.sources.ccxt_rest.resume import (
    STATE_DIR,
    STATE_FILE,
    ResumeState,
    merge_ranges,
    subtract_ranges,
    task_key,
)
from helpers.sources.ccxt_rest.summary import Summary, TaskResult
from helpers.sources.ccxt_rest.symbols import resolve_symbol
from helpers.sources.ccxt_rest.venue_requests import (
    FETCH_METHOD,
    forward_request,
    liquidation_request,
    split_window,
    venue_row_stamps,
)
from helpers.sources.ccxt_rest.windows import UNIT_MS, _ms, interval_ms
from helpers.sources.retry import RetryPolicy
from helpers.store import Store

__all__ = [
    "DEFAULT_DAYS",
    "FETCH_METHOD",
    "STATE_DIR",
    "STATE_FILE",
    "UNIT_MS",
    "Fetcher",
    "Page",
    "ResumeState",
    "Summary",
    "TaskResult",
    "bar_gaps",
    "check_empty_payload",
    "check_rows",
    "fetch_window",
    "forward_request",
    "funding_frame",
    "install_parser_fixes",
    "install_response_check",
    "interval_ms",
    "liquidation_request",
    "merge_ranges",
    "ohlcv_frame",
    "open_interest_frame",
    "resolve_symbol",
    "split_window",
    "subtract_ranges",
    "task_key",
    "venue_row_stamps",
]

DEFAULT_DAYS = 7


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
