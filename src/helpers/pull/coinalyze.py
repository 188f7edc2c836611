"""The Coinalyze step of a pull: hourly (the window's interval) liquidation bars, in US
dollars, for the venues whose liquidations the ccxt REST step did not serve (Binance USD-M and
COIN-M, Bybit, OKX, Hyperliquid, ...), chosen from Coinalyze's market catalog for the
window's coins; open interest and funding too where ccxt did not serve them and the calls fit
in one minute of the key's budget (so the pull never waits on the rate limit for them)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from helpers.config import Config, secret
from helpers.errors import UserError
from helpers.pull.status import SourceStatus, State, one_line
from helpers.sources import coinalyze as cz
from helpers.sources.http import JsonClient
from helpers.store import Store
from helpers.timegrid import Window

NAME = "coinalyze"
EXTRA_TABLES = ("open_interest", "funding")


def pull_coinalyze(
    store: Store,
    config: Config,
    window: Window,
    coins: Sequence[str],
    covered: Mapping[str, set[str]],
    http: Callable[[str, tuple[str, ...]], JsonClient],
    now: pd.Timestamp,
) -> SourceStatus:
    """Fetch and store Coinalyze bars for ``window``; ``covered`` maps a table to the ccxt ids
    already served for it, ``http(name, secrets)`` makes the HTTP client. Skipped without
    ``COINALYZE_API_KEY``; the key is never part of the status."""
    key = secret(cz.API_KEY_ENV)
    if key is None:
        return SourceStatus(NAME, "skipped", f"no key ({cz.API_KEY_ENV} not set)")
    settings = config.vendor("coinalyze")
    client_http = http(NAME, (key,))
    try:
        client = cz.Coinalyze(
            key,
            base_url=str(settings.get("base_url", cz.BASE_URL)),
            budget=cz.CallBudget(int(settings.get("calls_per_minute", cz.CALLS_PER_MINUTE))),
            http=client_http,
        )
        markets = _markets(client, store, config, settings, window, coins, covered, now)
        if not markets:
            return SourceStatus(NAME, "skipped", "every venue's liquidations came from ccxt")
        return _fetch(client, store, window, markets, covered, now)
    except UserError as exc:
        return SourceStatus(NAME, "failed", client_http.redact(one_line(exc)))
    except Exception as exc:  # a source's failure is its status line, never the run's end
        text = client_http.redact(one_line(f"{type(exc).__name__}: {exc}"))
        return SourceStatus(NAME, "failed", text)


def _markets(
    client: cz.Coinalyze,
    store: Store,
    config: Config,
    settings: Mapping[str, object],
    window: Window,
    coins: Sequence[str],
    covered: Mapping[str, set[str]],
    now: pd.Timestamp,
) -> dict[str, cz.Market]:
    catalog = cz.load_catalog(client, store.root, max_age=cz.catalog_max_age(settings), now=now)
    bases = list(coins) or sorted({s.split("/")[0] for s in window.symbols or ()})
    chosen = cz.resolve_markets((), settings, config, catalog, coins=bases)
    served = covered.get("liquidations", set())
    return {
        sym: m
        for sym, m in chosen.items()
        if m.exchange not in served
        and (window.exchanges is None or m.exchange in window.exchanges)
        and (window.symbols is None or m.symbol in window.symbols)
    }


def _fetch(
    client: cz.Coinalyze,
    store: Store,
    window: Window,
    markets: dict[str, cz.Market],
    covered: Mapping[str, set[str]],
    now: pd.Timestamp,
) -> SourceStatus:
    s, e, interval = window.start, window.end, window.interval
    retained = cz.check_retention(interval, s, now)
    bars = cz.liquidation_bars(client, markets, interval, s, e)
    store.write("liquidation_bars", bars)
    per_venue = Counter(bars["exchange"])
    venues = {m.exchange for m in markets.values()}
    parts = [
        "liquidation bars "
        + (", ".join(f"{ex} {n}" for ex, n in sorted(per_venue.items())) or "none returned")
        + f" ({len(markets)} perpetuals on {len(venues)} venues)"
    ]
    if not retained:
        parts.append(f"bars older than the ~{cz.INTRADAY_POINTS_KEPT} Coinalyze keeps stay missing")
    state: State = "ok"
    extras = {t: _uncovered(markets, covered.get(t, set())) for t in EXTRA_TABLES}
    calls = _calls(window, len(markets)) + sum(_calls(window, len(m)) for m in extras.values())
    if calls > client.budget.per_minute:
        parts.append(f"open interest and funding not asked ({calls} calls > a minute's budget)")
        extras = {}
    fetchers = {"open_interest": cz.open_interest, "funding": cz.funding}
    for table, chosen in extras.items():
        if not chosen:
            continue
        try:
            frame = fetchers[table](client, chosen, interval, s, e)
        except Exception as exc:  # the bars are stored: this table's failure is a note
            parts.append(f"FAILED {table}: {client.http.redact(one_line(exc))}")
            state = "partial"
            continue
        store.write(table, frame)
        parts.append(f"{table} {len(frame)} rows")
    return SourceStatus(NAME, state, "; ".join(parts), dict(per_venue))


def _uncovered(markets: dict[str, cz.Market], served: set[str]) -> dict[str, cz.Market]:
    return {sym: m for sym, m in markets.items() if m.exchange not in served}


def _calls(window: Window, n_markets: int) -> int:
    """Calls a history request of ``n_markets`` symbols over the window costs."""
    bars = math.ceil((window.end - window.start) / window.step)
    return n_markets * math.ceil(bars / cz.POINTS_PER_REQUEST)
