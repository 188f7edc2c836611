"""Venue quirks in one table keyed by ccxt id: what each venue's API needs that ccxt does not
smooth over, and how its liquidation records are read. Each entry's facts and their sources
are in ``docs/venue-rules.md``.

Two kinds of fact live here. Request quirks (page sizes, windows, paging and request style,
live stream) are read by :mod:`helpers.sources.ccxt_rest` and :mod:`helpers.sources.live`.
Liquidation rules (the wire format, which raw field carries the side and whether it is the
ORDER or the POSITION side, and the size unit when markets are not loaded) are read by
:mod:`helpers.sources.normalize`, whose parsers are keyed by format name, not by venue.

Long/short ratio rules (``long_short_ratio``: the periods each venue publishes, how a window
is asked for, how far back it keeps them, which raw field is the long share) are read by
:mod:`helpers.sources.ccxt_rest` for the ``long_short_ratio`` table.

A third kind, rate-limit answers (``rate_limits``: the codes and messages that mean "slow
down" or "overloaded", the headers and body texts that say until when), is read by
:mod:`helpers.sources.rate_limits`.

Times are epoch milliseconds; page sizes are rows per request (a larger ``limit`` is refused
by the venue, not truncated, so these are its documented maxima). Sides are the liquidated
POSITION: ``long`` = a long position force-closed (a forced sell).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

PAGE_LIMITS: Mapping[str, int] = {
    "liquidations": 500,
    "ohlcv": 1000,
    "open_interest": 500,
    "funding": 1000,
    "long_short_ratio": 500,
}
"""Rows per request for a venue with no stated maximum of its own."""

LiquidationRequest = Literal["since_until", "seconds_from_to", "oldest_first", "search_back"]
"""How ``fetch_liquidations`` is asked for ``[lo, hi)``: ``since_until`` (ccxt's own
``since`` + ``until``), ``seconds_from_to`` (Gate: ``from``/``to`` in SECONDS),
``oldest_first`` (Bitfinex: ``sort=1``, the venue defaults to newest first), ``search_back``
(Deribit: ``search_start_timestamp`` is the LATEST time searched back from)."""

ParserFix = Literal["oi_history_time_at_index_0"]
"""A mend for a ccxt parser that drops a field the venue sends
(:func:`helpers.sources.ccxt_rest.checks.install_parser_fixes`):
``oi_history_time_at_index_0``: open-interest history rows carry their time at index 0, where
ccxt's ``parse_open_interest`` reads index 1 (Bitfinex ``status/deriv/{key}/hist``)."""

LiveStream = Literal["per_symbol", "all_swaps", "all_markets"]
"""How a venue's liquidation stream is watched: one subscription per symbol (Bybit), every
swap at once (OKX), or the all-market stream (Binance USD-M and COIN-M ``!forceOrder@arr``)."""

LiquidationFormat = Literal[
    "binance_force_order",
    "bybit_liquidation",
    "okx_liquidation_orders",
    "gate_liq_orders",
    "htx_liquidation_orders",
    "bitfinex_liquidations_hist",
    "deribit_settlements",
    "hyperliquid_fills",
]
"""The wire format of a venue's liquidation records (the raw ``info`` of ccxt's items), one
parser each in :mod:`helpers.sources.normalize.formats`: Binance ``forceOrder`` ``o``, Bybit
``allLiquidation``/``liquidation``, OKX ``liquidation-orders`` (a ``details`` list per
instrument), Gate ``liq_orders``, HTX ``liquidation_orders`` (linear v5 and coin-margined),
Bitfinex ``liquidations/hist`` (a positional list), Deribit bankruptcy settlements, and
Hyperliquid fills carrying a ``liquidation`` object."""

SideConvention = Literal["order", "position", "position_buy_sell", "position_sign"]
"""What a raw side field says, read as the liquidated POSITION:

* ``order``: the liquidation ORDER side; sell/ask/``A`` = long liquidated, buy/bid/``B`` =
  short (Binance ``S``, OKX net-mode ``side``, HTX ``direction``, a Hyperliquid fill);
* ``position``: the position named outright, ``long``/``short`` (OKX ``posSide``, HTX
  ``position_side``);
* ``position_buy_sell``: the POSITION as Buy/Sell, ``Buy`` = long liquidated, the opposite of
  ``order`` (Bybit ``S``);
* ``position_sign``: a signed position size, positive = long (Gate ``size``, Bitfinex
  ``AMOUNT``)."""


@dataclass(frozen=True)
class SideField:
    """One raw field of a liquidation record that may carry the liquidated side."""

    keys: tuple[str, ...]
    """The field's names, aliases across API versions: the first present in the record is
    read (e.g. Bybit ``S`` on ``allLiquidation``, ``side`` on the older ``liquidation``)."""
    convention: SideConvention
    """Whether the value is the ORDER side, the POSITION, or a signed position size."""


@dataclass(frozen=True)
class RateLimitRules:
    """How a venue says "slow down" or "overloaded, come back later", whatever ccxt class and
    HTTP status its answer arrives with (sources in ``docs/venue-rules.md``, "Rate limits and
    bans"). Read by :mod:`helpers.sources.rate_limits`."""

    codes: tuple[str, ...] = ()
    """Error codes, labels or messages, each matched as a whole JSON value in the error body
    (``"code":-1003``, ``"label":"TOO_MANY_REQUESTS"``, ``["error",11010,...]``)."""
    messages: tuple[str, ...] = ()
    """Fragments matched case-insensitively anywhere in the error text (a plain-text or HTML
    answer, or a message that carries a time)."""
    reset_headers: tuple[str, ...] = ()
    """Response headers holding the epoch time (seconds or milliseconds) the limit resets;
    read only on a rate-limit answer."""
    ban_until: str | None = None
    """A regular expression whose first group is the epoch time (seconds or milliseconds) a
    ban ends, searched in the error text."""
    ban_seconds: Mapping[int, float] = field(default_factory=dict)
    """HTTP status -> the shortest ban (seconds) the venue documents for it, for an answer that
    carries no time of its own."""


RatioWindow = Literal["since_until", "start_end_params", "latest_only"]
"""How a long/short ratio history request is given its window: ``since_until`` (ccxt sends
``since`` and ``until``: Binance ``startTime``/``endTime``, OKX ``begin``/``end``),
``start_end_params`` (ccxt sends neither; the venue's own ``startTime``/``endTime`` go in
the params: Bybit), ``latest_only`` (the venue takes no time at all and returns its latest
rows: Bitget)."""


@dataclass(frozen=True)
class RatioRules:
    """A venue's ALL-ACCOUNTS long/short ratio history as ccxt's
    ``fetchLongShortRatioHistory`` reaches it (sources in ``docs/venue-rules.md``, "Long/short
    ratio"). Read by :mod:`helpers.sources.ccxt_rest`."""

    periods: Mapping[str, str]
    """Canonical interval -> the ``timeframe`` given to ccxt (ccxt passes Binance, Bybit and
    Bitget's on as they are and maps OKX's, ``1h`` -> ``1H``); an interval not listed is
    not published."""
    window: RatioWindow = "since_until"
    history_ms: int | None = None
    """How far back the venue keeps the ratio (Binance: 30 days); None: not documented."""
    long_share_key: str | None = None
    """The raw field holding the share of accounts net long (0..1); None: the venue gives the
    ratio only (OKX), so ``long_account`` stays missing."""


_DAY_MS = 86_400_000


@dataclass(frozen=True)
class VenueQuirks:
    """One venue's quirks; the defaults are ccxt's ordinary behaviour and no verified
    liquidation rule."""

    page_limits: Mapping[str, int] = field(default_factory=dict)
    """Rows per request, per table, where below :data:`PAGE_LIMITS`."""
    liquidation_window_ms: int | None = None
    """The longest time window the venue's liquidation query accepts."""
    time_resolution_ms: int = 1
    """Resolution of the venue's liquidation timestamps and time filters."""
    global_liquidation_feed: bool = False
    """The liquidation endpoint lists every market at once (ccxt keeps the symbol's rows)."""
    liquidation_request: LiquidationRequest = "since_until"
    funding_end_param: Literal["until", "after"] = "until"
    """How a funding window's end is sent: ccxt's ``until`` (inclusive), or OKX's own
    ``after`` (exclusive), since ccxt sends OKX's ``since`` as ``before`` only."""
    oi_value_in_usd: bool = False
    """Open-interest history carries a USD value even for inverse (coin-margined) contracts."""
    live_stream: LiveStream | None = None
    """The venue's ccxt.pro liquidation stream, when it has one."""
    parser_fixes: tuple[ParserFix, ...] = ()
    """ccxt parsers mended for this venue (:data:`ParserFix`)."""
    liquidation_format: LiquidationFormat | None = None
    """The wire format of the venue's liquidation records; None: no verified rule, so rows
    keep ``side`` None (quarantined) and sizes come from ccxt's unified fields."""
    liquidation_side: tuple[SideField, ...] = ()
    """Where a liquidation record carries the liquidated side, tried in order until one
    gives ``long``/``short`` (OKX: in each ``details`` element; Bitfinex: the entry's named
    positions; Hyperliquid: the liquidated user's fill, a counterparty's gives the
    opposite). Empty: the records carry no side (Deribit), rows keep ``side`` None."""
    linear_contract_size: float | None = None
    """BASE units per contract of a linear liquidation quantity when ``exchange.markets`` is
    not loaded: 1.0 where the venue gives the quantity in base units (Binance USD-M, Bybit
    linear, Bitfinex, Hyperliquid); None where it is in contracts only the market sizes
    (OKX ``ctVal``, Gate ``quanto_multiplier``, HTX), so ``amount`` stays NaN. A loaded
    market's ``contractSize`` always wins."""
    inverse_contract_usd: float | None = None
    """USD per contract of an inverse (coin-margined) liquidation quantity without markets:
    1.0 for Bybit (``v`` in USD); None elsewhere (Binance COIN-M 100 or 10 USD, OKX and HTX
    100 USD: from the market)."""
    rate_limits: RateLimitRules = field(default_factory=RateLimitRules)
    """The venue's "slow down" answers and where it says until when (:class:`RateLimitRules`)."""
    long_short_ratio: RatioRules | None = None
    """How the venue's account long/short ratio history is fetched; None: no verified rule,
    the table is skipped for it."""

    def page_limit(self, table: str) -> int:
        return self.page_limits.get(table, PAGE_LIMITS[table])


_BINANCE_RATIO = RatioRules(
    periods={p: p for p in ("5m", "15m", "1h", "4h", "1d")},
    history_ms=30 * _DAY_MS,
    long_share_key="longAccount",
)
_BINANCE = VenueQuirks(
    liquidation_format="binance_force_order",
    liquidation_side=(SideField(("S",), "order"),),
    linear_contract_size=1.0,
    rate_limits=RateLimitRules(
        codes=("-1003", "-1008", "-1015"), ban_until=r"banned until (\d{10,13})"
    ),
)
_GATE = VenueQuirks(
    page_limits={"liquidations": 1000},
    liquidation_window_ms=3_600_000,
    time_resolution_ms=1000,
    liquidation_request="seconds_from_to",
    oi_value_in_usd=True,
    liquidation_format="gate_liq_orders",
    liquidation_side=(SideField(("size",), "position_sign"),),
    rate_limits=RateLimitRules(
        codes=("TOO_MANY_REQUESTS",), reset_headers=("x-gate-ratelimit-reset-timestamp",)
    ),
)
_HTX_LIQUIDATIONS = VenueQuirks(
    liquidation_format="htx_liquidation_orders",
    liquidation_side=(
        SideField(("position_side",), "position"),
        SideField(("direction", "side"), "order"),
    ),
    rate_limits=RateLimitRules(
        codes=("base-request-exceed-frequency-limit", "rate-too-many-requests", "request limit")
    ),
)

VENUES: Mapping[str, VenueQuirks] = {
    "binanceusdm": replace(_BINANCE, live_stream="all_markets", long_short_ratio=_BINANCE_RATIO),
    "binance": _BINANCE,
    "binancecoinm": replace(
        _BINANCE,
        linear_contract_size=None,
        live_stream="all_markets",
        long_short_ratio=_BINANCE_RATIO,
    ),
    "okx": VenueQuirks(
        page_limits={"funding": 100, "long_short_ratio": 100},
        funding_end_param="after",
        oi_value_in_usd=True,
        live_stream="all_swaps",
        liquidation_format="okx_liquidation_orders",
        liquidation_side=(SideField(("posSide",), "position"), SideField(("side",), "order")),
        rate_limits=RateLimitRules(codes=("50011", "50061", "50013")),
        long_short_ratio=RatioRules(periods={p: p for p in ("5m", "15m", "1h", "4h", "1d")}),
    ),
    "bybit": VenueQuirks(
        page_limits={"funding": 200, "open_interest": 200},
        oi_value_in_usd=True,
        live_stream="per_symbol",
        liquidation_format="bybit_liquidation",
        liquidation_side=(SideField(("S", "side"), "position_buy_sell"),),
        linear_contract_size=1.0,
        inverse_contract_usd=1.0,
        rate_limits=RateLimitRules(
            codes=("10006", "10018", "10016"),
            messages=("access too frequent",),
            reset_headers=("x-bapi-limit-reset-timestamp",),
            ban_seconds={403: 600.0},
        ),
        long_short_ratio=RatioRules(
            periods={"5m": "5min", "15m": "15min", "1h": "1h", "4h": "4h", "1d": "1d"},
            window="start_end_params",
            long_share_key="buyRatio",
        ),
    ),
    "gate": _GATE,
    "gateio": _GATE,
    "htx": replace(
        _HTX_LIQUIDATIONS, page_limits={"liquidations": 100}, liquidation_window_ms=2 * 3_600_000
    ),
    "huobi": _HTX_LIQUIDATIONS,
    "bitfinex": VenueQuirks(
        page_limits={"liquidations": 500},
        global_liquidation_feed=True,
        liquidation_request="oldest_first",
        parser_fixes=("oi_history_time_at_index_0",),
        liquidation_format="bitfinex_liquidations_hist",
        liquidation_side=(SideField(("AMOUNT",), "position_sign"),),
        linear_contract_size=1.0,
        rate_limits=RateLimitRules(codes=("ERR_RATE_LIMIT", "11010")),
    ),
    "deribit": VenueQuirks(
        page_limits={"liquidations": 100},
        liquidation_request="search_back",
        liquidation_format="deribit_settlements",
        rate_limits=RateLimitRules(codes=("10028",)),
    ),
    "hyperliquid": VenueQuirks(
        liquidation_format="hyperliquid_fills",
        liquidation_side=(SideField(("side",), "order"),),
        linear_contract_size=1.0,
    ),
    "bitget": VenueQuirks(
        rate_limits=RateLimitRules(codes=("429", "1001", "30014", "30026", "50009")),
        long_short_ratio=RatioRules(
            periods={p: p for p in ("5m", "15m", "1h", "4h", "1d")},
            window="latest_only",
            long_share_key="longAccountRatio",
        ),
    ),
    "bitmex": VenueQuirks(
        rate_limits=RateLimitRules(reset_headers=("x-ratelimit-reset",), ban_seconds={403: 3600.0})
    ),
    "kraken": VenueQuirks(
        rate_limits=RateLimitRules(
            codes=("EAPI:Rate limit exceeded", "EGeneral:Too many requests"),
            messages=("Throttled",),
            ban_until=r"Throttled: ?\[?(\d{10,13})",
        )
    ),
    "krakenfutures": VenueQuirks(rate_limits=RateLimitRules(codes=("apiLimitExceeded",))),
}
"""Every venue with a quirk, by ccxt id; any other venue gets :class:`VenueQuirks` defaults."""

_ORDINARY = VenueQuirks()


def quirks(exchange_id: str) -> VenueQuirks:
    """The quirks of ``exchange_id`` (ccxt id); defaults for a venue not in :data:`VENUES`."""
    return VENUES.get(exchange_id, _ORDINARY)


def liquidation_venues() -> tuple[str, ...]:
    """ccxt ids of the venues with a verified liquidation rule (a wire format), sorted."""
    return tuple(sorted(ex for ex, q in VENUES.items() if q.liquidation_format is not None))


def ratio_venues() -> tuple[str, ...]:
    """ccxt ids of the venues with a verified long/short ratio rule, in table order."""
    return tuple(ex for ex, q in VENUES.items() if q.long_short_ratio is not None)


def live_venues() -> tuple[str, ...]:
    """ccxt ids of the venues with a liquidation stream, in table order."""
    return tuple(ex for ex, q in VENUES.items() if q.live_stream is not None)
