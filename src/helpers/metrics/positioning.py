"""Positioning: the venues' published long/short ACCOUNT ratio per bar, beside the
liquidation imbalance.

Input is the canonical ``long_short_ratio`` table (:mod:`helpers.schema`): per venue, symbol
and period, the ratio of accounts net long to accounts net short (all traders; not position
size, not top traders) and, where the venue publishes it, ``long_account``, the share of
accounts net long (a fraction). A ratio above 1 means more accounts hold longs than shorts;
it says nothing about how LARGE the positions are.

Laid on the window grid (the liquidation bars' open times, ``start <= ts < end``), each bar
of each (venue, symbol) series takes the LAST ratio the venue stamped inside the bar
``[ts, ts + interval)``; where the store holds the venue's ratio of the window's own
interval (``period == interval``) only that period is used, else every period it holds. A
bar with no ratio stays NaN (no data), never 0 and never carried forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.timegrid import Window

COLUMNS = ["ts", "exchange", "symbol", "long_short_ratio", "long_account", "period", "source"]


def series_label(exchange: str, symbol: str) -> str:
    """``binanceusdm BTC/USDT:USDT``: how one ratio series is named in tables and legends."""
    return f"{exchange} {symbol}"


def hourly_ratio(rows: pd.DataFrame, window: Window) -> pd.DataFrame:
    """The ratio per bar of the window grid and per (exchange, symbol) series in ``rows``.

    Columns: ``ts`` (bar open, UTC), ``exchange``, ``symbol``, ``long_short_ratio`` (accounts
    long / accounts short, NaN where the venue published nothing in the bar),
    ``long_account`` (share of accounts long, 0..1, NaN where not published), ``period``
    (the venue period used) and ``source`` (NA where none). Every grid bar appears once per
    series; no series at all (an empty table) gives an empty frame."""
    grid = window.grid()
    rows = rows[(rows["ts"] >= window.start) & (rows["ts"] < window.end)]
    frames = []
    for (exchange, symbol), one in rows.groupby(["exchange", "symbol"], sort=True):
        own = one[one["period"] == window.interval]
        one = own if len(own) else one
        bar = one["ts"].dt.floor(window.step)
        last = one.assign(bar=bar).sort_values("ts").groupby("bar").last()
        frame = pd.DataFrame(index=grid)
        for col in ("long_short_ratio", "long_account"):
            frame[col] = last[col].astype("float64").reindex(grid)
        for col in ("period", "source"):
            frame[col] = last[col].astype("string").reindex(grid)
        frames.append(frame.reset_index().assign(exchange=str(exchange), symbol=str(symbol)))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=_DTYPES[c]) for c in COLUMNS})
    out = pd.concat(frames, ignore_index=True)[COLUMNS]
    return out.astype(_DTYPES)


_DTYPES = {
    "ts": "datetime64[us, UTC]",
    "exchange": "string",
    "symbol": "string",
    "long_short_ratio": "float64",
    "long_account": "float64",
    "period": "string",
    "source": "string",
}


def ratio_wide(hourly: pd.DataFrame) -> pd.DataFrame:
    """:func:`hourly_ratio` as one column per series (:func:`series_label`), indexed by bar
    open time; NaN where the series has no ratio in a bar."""
    if hourly.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="ts"))
    labels = [series_label(e, s) for e, s in zip(hourly["exchange"], hourly["symbol"], strict=True)]
    wide = hourly.assign(series=labels).pivot(
        index="ts", columns="series", values="long_short_ratio"
    )
    wide.columns.name = None
    return wide


@dataclass(frozen=True)
class RatioSummary:
    """One series over the window: its first and last published ratio (and their bars), the
    lowest and highest, bars with a ratio out of all bars, and the ratio at ``at`` (a bar
    such as the worst liquidation bar) and ``after`` bars later; None where not published."""

    exchange: str
    symbol: str
    first: float | None
    last: float | None
    low: float | None
    high: float | None
    observed_bars: int
    bars: int
    at: float | None = None
    after: float | None = None


def _value(x: object) -> float | None:
    """A finite float, or None for a missing value."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if np.isnan(v) else v


def summarise(
    hourly: pd.DataFrame, at: pd.Timestamp | None = None, after_bars: int = 24
) -> list[RatioSummary]:
    """Per series of :func:`hourly_ratio`: :class:`RatioSummary`, the ratio at bar ``at``
    and ``after_bars`` bars later (None when that bar has no ratio or is past the window)."""
    out = []
    for (exchange, symbol), one in hourly.groupby(["exchange", "symbol"], sort=True):
        one = one.sort_values("ts").reset_index(drop=True)
        seen = one["long_short_ratio"].dropna()
        at_v = after_v = None
        if at is not None:
            hit = np.flatnonzero((one["ts"] == at).to_numpy())
            if len(hit):
                i = int(hit[0])
                at_v = _value(one["long_short_ratio"].iloc[i])
                j = i + after_bars
                after_v = _value(one["long_short_ratio"].iloc[j]) if j < len(one) else None
        out.append(
            RatioSummary(
                str(exchange),
                str(symbol),
                _value(seen.iloc[0]) if len(seen) else None,
                _value(seen.iloc[-1]) if len(seen) else None,
                _value(seen.min()) if len(seen) else None,
                _value(seen.max()) if len(seen) else None,
                int(len(seen)),
                int(len(one)),
                at_v,
                after_v,
            )
        )
    return out


def _r(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def ratio_sentence(
    summaries: list[RatioSummary],
    at: pd.Timestamp | None = None,
    after_bars: int = 24,
    simulated: bool = False,
) -> str:
    """One sentence per series for a caption: the ratio at the first and last bar it was
    published, its range, and (with ``at``, e.g. the worst liquidation bar) the ratio in
    that bar and ``after_bars`` bars later; "—" where the venue published nothing. Says
    "no data" when there is no series, and SIMULATED when the ratio is."""
    if not summaries:
        return (
            "No data: the store holds no long/short account ratio for this window (Binance, "
            "Bybit, OKX and Bitget publish one: python -m helpers fetch --tables "
            "long_short_ratio)."
        )
    kind = "SIMULATED account" if simulated else "Account"
    parts = []
    for s in summaries:
        text = f"{series_label(s.exchange, s.symbol)} {_r(s.first)} to {_r(s.last)}"
        text += f" (range {_r(s.low)}-{_r(s.high)}"
        if s.observed_bars < s.bars:
            text += f"; {s.observed_bars} of {s.bars} bars published"
        text += ")"
        if at is not None:
            text += f", worst bar {_r(s.at)}, {after_bars} bars later {_r(s.after)}"
        parts.append(text)
    head = f"{kind} long/short ratio (accounts long / accounts short) over the window: "
    return head + "; ".join(parts) + "."
