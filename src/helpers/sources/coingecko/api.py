"""How to reach CoinGecko: the root URL and key header of the plan, a client-side budget of
calls per minute, and the history horizon of the plan (sources in ``docs/venue-rules.md``).

* Keyless and Demo keys use ``https://api.coingecko.com/api/v3`` and the Demo key goes in the
  ``x-cg-demo-api-key`` header; paid (Pro) keys use ``https://pro-api.coingecko.com/api/v3``
  and ``x-cg-pro-api-key``. A key sent to the other root is refused (error 10010/10011).
* The key is read from ``COINGECKO_API_KEY`` only (never the config file) and is redacted
  from every log line and error; ``vendors.coingecko.plan`` says which plan it belongs to.
* Keyless and Demo requests reach at most :data:`PUBLIC_HISTORY_DAYS` days back (error
  10012, HTTP 401, otherwise); :func:`check_history_horizon` refuses such a request before
  any call is spent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from helpers.errors import UserError
from helpers.sources.call_budget import CallBudget
from helpers.sources.http import JsonClient

BASE_URL = "https://api.coingecko.com/api/v3"
PRO_BASE_URL = "https://pro-api.coingecko.com/api/v3"
API_KEY_ENV = "COINGECKO_API_KEY"
PLANS = ("demo", "pro")
KEY_HEADERS = {"demo": "x-cg-demo-api-key", "pro": "x-cg-pro-api-key"}
CALLS_PER_MINUTE = {"keyless": 5, "demo": 30, "pro": 250}
"""Default budgets: conservative ends of what CoinGecko states per plan (calls a minute)."""
PUBLIC_HISTORY_DAYS = 365


@dataclass(frozen=True)
class Access:
    """One plan's way in: root URL, key header (empty when keyless), call budget, and how
    many days of history it serves (None: no limit)."""

    tier: str
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    budget: CallBudget = field(default_factory=lambda: CallBudget(CALLS_PER_MINUTE["keyless"]))
    history_days: int | None = PUBLIC_HISTORY_DAYS

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"


def access_from(settings: Mapping[str, Any], key: str | None) -> Access:
    """The :class:`Access` for the ``vendors.coingecko`` settings (``plan``: ``demo`` (the
    default) or ``pro``; ``base_url``; ``calls_per_minute``) and the key, if any."""
    plan = str(settings.get("plan", "demo")).lower()
    if plan not in PLANS:
        raise UserError(f"vendors.coingecko.plan: expected one of {PLANS}, got {plan!r}")
    if plan == "pro" and not key:
        raise UserError(f"vendors.coingecko.plan is pro but {API_KEY_ENV} is not set")
    tier = plan if key else "keyless"
    default_url = PRO_BASE_URL if plan == "pro" else BASE_URL
    per_minute = int(settings.get("calls_per_minute", CALLS_PER_MINUTE[tier]))
    if per_minute < 1:
        raise UserError(f"vendors.coingecko.calls_per_minute must be at least 1, got {per_minute}")
    return Access(
        tier=tier,
        base_url=str(settings.get("base_url", default_url)),
        headers={KEY_HEADERS[plan]: key} if key else {},
        budget=CallBudget(per_minute),
        history_days=None if plan == "pro" else PUBLIC_HISTORY_DAYS,
    )


def keyless(
    base_url: str = BASE_URL, calls_per_minute: int = CALLS_PER_MINUTE["keyless"]
) -> Access:
    """Keyless access to ``base_url``."""
    return Access("keyless", base_url, {}, CallBudget(calls_per_minute))


def get_json(
    client: JsonClient, access: Access, path: str, params: Mapping[str, str] | None = None
) -> Any:
    """One budgeted GET of ``path`` under the plan's root, with the key header when set.
    Retries of a 429 (after its ``Retry-After``) or a 5xx happen inside ``client``."""
    access.budget.spend(1)
    return client.get_json(access.url(path), params=params, headers=access.headers)


def check_history_horizon(access: Access, since: pd.Timestamp, now: pd.Timestamp) -> None:
    """A :class:`UserError` when ``since`` is older than the plan's history horizon."""
    if access.history_days is None:
        return
    oldest = now - pd.Timedelta(days=access.history_days)
    if since < oldest:
        raise UserError(
            f"CoinGecko's {access.tier} API serves history for the past {access.history_days} "
            f"days only (back to {oldest:%Y-%m-%d}); {since:%Y-%m-%d %H:%M} UTC needs a paid "
            f"key ({API_KEY_ENV} with vendors.coingecko.plan: pro)"
        )
