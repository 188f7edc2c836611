"""One pull for a window, from every source that can serve it.

``python -m helpers pull --start T --end T [--exchanges a,b] [--coins BTC,ETH]``, and what a
report with ``fetch: true`` runs first. For the window (:class:`~helpers.timegrid.Window`:
half-open UTC ``[start, end)``, its exchanges, symbols and bar interval), in this order:

1. **ccxt REST** (:mod:`.rest`), per configured exchange: liquidation events where the venue
   has public history (gate, htx, bitfinex, deribit), OHLCV, open interest and funding, as
   ``python -m helpers fetch`` does (resumable; rows already fetched are not asked again).
2. **Coinalyze** (:mod:`.coinalyze`) when ``COINALYZE_API_KEY`` is set: liquidation bars in
   US dollars for every perpetual its market catalog lists on the window's coins, on the
   venues step 1 did not serve liquidations for (Binance USD-M and COIN-M, Bybit, OKX,
   Hyperliquid, ...); open interest and funding where step 1 did not serve them and the calls
   fit in one minute's budget.
3. **Collector** (:mod:`.stored`): nothing to fetch; the events ``python -m helpers collect``
   recorded in the window, counted per venue.
4. **Market caps** (:mod:`.caps`) for the window's end: CoinGecko's live snapshot when the
   window ends within an hour of now; a past window is skipped until per-coin history lands.

Each source ends in one :class:`SourceStatus`: ``ok`` (with counts), ``partial`` (some
requests failed), ``skipped`` (not configured, or no key: one line why) or ``failed`` (one
line error). No source is required and a failing one never stops the others. Keys come from
environment variables only and never appear in a status, a log line or an error.

:class:`PullReport` renders one line per source and what the store then holds for the
window; :meth:`PullReport.problem` says why a window cannot be reported (every source
failed, or no liquidation data at all), which makes the command exit with
:data:`EXIT_NO_DATA`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import pandas as pd

from helpers.config import Config
from helpers.pull.caps import pull_market_caps
from helpers.pull.coinalyze import pull_coinalyze
from helpers.pull.rest import pull_rest
from helpers.pull.status import EXIT_NO_DATA, Held, PullReport, SourceStatus, one_line
from helpers.pull.stored import collector_status, held
from helpers.sources.http import JsonClient
from helpers.sources.retry import RetryPolicy
from helpers.store import Store
from helpers.timegrid import Window, require_utc

__all__ = ["EXIT_NO_DATA", "Held", "PullReport", "SourceStatus", "pull_window"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 30.0


def pull_window(
    store: Store,
    config: Config,
    window: Window,
    *,
    now: pd.Timestamp,
    coins: Sequence[str] = (),
    policy: RetryPolicy | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> PullReport:
    """Pull ``window`` from every source into ``store`` (see the module docstring).

    ``now`` (UTC) decides whether the window's end gets the live market-cap snapshot and
    dates the Coinalyze catalog cache; ``coins`` (base assets such as ``BTC``) narrows every
    source to those coins (default: the window's symbols, else the config's coins);
    ``policy`` is the retry policy of every request (default :class:`RetryPolicy`) and
    ``timeout`` the seconds a vendor request may take.
    """
    now = require_utc(now, "now")
    policy = policy or RetryPolicy()
    coins = [c.strip().upper() for c in coins if c.strip()]

    def http(name: str, secrets: tuple[str, ...]) -> JsonClient:
        return JsonClient(
            name,
            timeout=timeout,
            retries=max(0, policy.attempts - 1),
            backoff=policy.base_delay,
            max_backoff=policy.max_delay,
            secrets=secrets,
            max_wait=policy.max_wait,
        )

    rest = pull_rest(store, config, window, coins, policy)
    statuses, covered = list(rest.statuses), rest.covered
    steps: list[tuple[str, Callable[[], SourceStatus]]] = [
        ("coinalyze", lambda: pull_coinalyze(store, config, window, coins, covered, http, now)),
        ("collector", lambda: collector_status(store, window)),
        ("market caps", lambda: pull_market_caps(store, config, window, http, now)),
    ]
    statuses += [_guarded(name, step) for name, step in steps]
    report = PullReport(window, tuple(statuses), held(store, window))
    for s in report.sources:
        log.debug("pull %s", s.line())
    return report


def _guarded(name: str, step: Callable[[], SourceStatus]) -> SourceStatus:
    """``step()``, or a ``failed`` status when it raises (no source stops the pull)."""
    try:
        return step()
    except Exception as exc:
        log.debug("pull step %s failed", name, exc_info=True)
        return SourceStatus(name, "failed", one_line(f"{type(exc).__name__}: {exc}"))
