"""The Coinalyze HTTP client: the key in a header, reference lists (``/future-markets``,
``/exchanges``), history requests in batches of 20 symbols and windows of
:data:`POINTS_PER_REQUEST` bars, a client-side budget of calls per minute, and the intraday
retention horizon."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd

from helpers.errors import UserError
from helpers.sources.call_budget import CallBudget
from helpers.sources.http import JsonClient
from helpers.timegrid import INTERVAL_SECONDS

log = logging.getLogger(__name__)

BASE_URL = "https://api.coinalyze.net/v1"
API_KEY_ENV = "COINALYZE_API_KEY"
MAX_SYMBOLS_PER_REQUEST = 20
CALLS_PER_MINUTE = 40
INTRADAY_POINTS_KEPT = 1500
"""Coinalyze keeps ~1,500-2,000 intraday points; the lower figure is the safe horizon."""
POINTS_PER_REQUEST = 1000

INTERVALS: dict[str, str] = {
    "1m": "1min",
    "5m": "5min",
    "15m": "15min",
    "1h": "1hour",
    "4h": "4hour",
    "1d": "daily",
}
"""Canonical interval -> Coinalyze interval name."""


# ---- client -------------------------------------------------------------------------------


class Coinalyze:
    """A Coinalyze API client: history endpoints, batched and rate-limited."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str = BASE_URL,
        budget: CallBudget | None = None,
        http: JsonClient | None = None,
    ) -> None:
        if not api_key:
            raise UserError(
                f"Coinalyze needs an API key: set the {API_KEY_ENV} environment variable "
                "(free at coinalyze.net)"
            )
        self.base_url = base_url.rstrip("/")
        self.budget = budget or CallBudget(CALLS_PER_MINUTE)
        self.http = http or JsonClient("coinalyze")
        if api_key not in self.http.secrets:
            self.http.secrets = (*self.http.secrets, api_key)
        self._headers = {"api_key": api_key}

    def reference(self, endpoint: str) -> Any:
        """The parsed JSON of a reference list without parameters (``future-markets``,
        ``exchanges``); counted as one call of the budget."""
        self.budget.spend(1)
        return self.http.get_json(f"{self.base_url}/{endpoint}", headers=self._headers)

    def history(
        self,
        endpoint: str,
        symbols: Sequence[str],
        interval: str,
        start: pd.Timestamp,
        end: pd.Timestamp,
        **params: str,
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """(symbol, history entries) for every symbol, ``start <= t < end`` (UTC), fetched in
        windows of at most :data:`POINTS_PER_REQUEST` bars and batches of 20 symbols."""
        step = INTERVAL_SECONDS[interval]
        lo, hi = _epoch_s(start), _epoch_s(end)
        window = POINTS_PER_REQUEST * step
        for batch in _batches(list(symbols), MAX_SYMBOLS_PER_REQUEST):
            for w_lo in range(lo, hi, window):
                w_hi = min(w_lo + window, hi) - 1
                self.budget.spend(len(batch))
                query = {
                    "symbols": ",".join(batch),
                    "interval": INTERVALS[interval],
                    "from": str(w_lo),
                    "to": str(w_hi),
                    **params,
                }
                body = self.http.get_json(
                    f"{self.base_url}/{endpoint}", params=query, headers=self._headers
                )
                for sym, entries in _parse_history(body, endpoint):
                    yield sym, [e for e in entries if lo <= e["t"] < hi]


def _parse_history(body: Any, endpoint: str) -> list[tuple[str, list[dict[str, Any]]]]:
    if not isinstance(body, list):
        raise UserError(f"coinalyze {endpoint}: expected a JSON list, got {type(body).__name__}")
    out = []
    for item in body:
        if not isinstance(item, dict) or "symbol" not in item:
            raise UserError(f"coinalyze {endpoint}: an entry has no 'symbol'")
        entries = item.get("history") or []
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("t"), int | float) for e in entries
        ):
            raise UserError(f"coinalyze {endpoint}: malformed history for {item['symbol']}")
        out.append((str(item["symbol"]), entries))
    return out


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _epoch_s(t: pd.Timestamp) -> int:
    return int(pd.Timestamp(t).timestamp())


def check_retention(interval: str, start: pd.Timestamp, now: pd.Timestamp | None = None) -> bool:
    """False (and a warning) when an intraday request starts before the ~1,500 most recent
    bars Coinalyze keeps: older bars will not come back and stay missing."""
    if interval == "1d":
        return True
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    horizon = now - pd.Timedelta(seconds=INTRADAY_POINTS_KEPT * INTERVAL_SECONDS[interval])
    if start < horizon:
        log.warning(
            "coinalyze keeps only the last ~%d %s bars (since about %s); earlier bars will be "
            "missing",
            INTRADAY_POINTS_KEPT,
            interval,
            horizon.strftime("%Y-%m-%d %H:%M UTC"),
        )
        return False
    return True
