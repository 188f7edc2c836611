"""Tables as a page shows them: pandas Stylers with readable headers, US dollars with
thousands separators (``$36,012,345``), shares in percent, no index column, and missing shown
as "—", never 0. No metric is computed here; every table takes the frames of
:mod:`helpers.metrics.worst_hour`, :mod:`helpers.metrics.totals` or
:mod:`helpers.event_queries` and names venues as analysts do (:mod:`helpers.venues`) and
sources as pages do (:func:`helpers.precedence.source_name`). Text cells and headers are
HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

if TYPE_CHECKING:
    from pandas.io.formats.style_render import CSSDict

from helpers.metrics.totals import ALL
from helpers.precedence import source_name
from helpers.venues import display_name, market_name

MISSING = "\u2014"
"""What a cell with no data shows (an em dash)."""
TABLE_CLASS = "liqnb-table"


def usd_text(value: object) -> str:
    """``$36,012,345`` (whole US dollars, thousands separators); "—" for missing."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return MISSING
    return f"${float(value):,.0f}"  # type: ignore[arg-type]


def percent_text(value: object, digits: int = 1) -> str:
    """A fraction as ``93.4%``; "—" for missing."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return MISSING
    return f"{float(value) * 100:,.{digits}f}%"  # type: ignore[arg-type]


def price_text(value: object) -> str:
    """A price with thousands separators and up to 4 decimals below 100 (``$88,345.82``,
    ``$0.2451``); "—" for missing."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return MISSING
    v = float(value)  # type: ignore[arg-type]
    return f"${v:,.2f}" if abs(v) >= 100 else f"${v:,.4f}"


def level_text(value: object) -> str:
    """A price level in whole dollars from $1,000 up (``$86,500``), else :func:`price_text`;
    "—" for missing."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return MISSING
    v = float(value)  # type: ignore[arg-type]
    return f"${v:,.0f}" if abs(v) >= 1000 else price_text(v)


def signed_usd_text(value: object) -> str:
    """A signed amount of US dollars in whole dollars: ``+$3,305``, ``-$195``; "—" for
    missing."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return MISSING
    v = float(value)  # type: ignore[arg-type]
    return f"{'-' if v < 0 else '+'}${abs(v):,.0f}"


def signed_percent_text(value: object, digits: int = 2) -> str:
    """A signed fraction in percent: ``+3.97%``, ``-0.23%``; "—" for missing."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return MISSING
    return f"{float(value) * 100:+,.{digits}f}%"  # type: ignore[arg-type]


def time_text(value: object, seconds: bool = False) -> str:
    """A time in UTC as ``2025-11-13 14:00`` (``:SS`` with ``seconds``); "—" for missing."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return MISSING
    ts = pd.Timestamp(value)  # type: ignore[arg-type]
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def count_text(value: object) -> str:
    """A whole count with thousands separators (``1,008``); "—" for missing."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return MISSING
    return f"{int(value):,}"  # type: ignore[call-overload]


Formatter = Callable[[object], str]


def styled_table(
    frame: pd.DataFrame,
    money: Iterable[object] = (),
    percent: Iterable[object] = (),
    prices: Iterable[object] = (),
    caption: str | None = None,
    formats: Mapping[Any, Formatter] | None = None,
) -> Styler:
    """``frame`` as a Styler: ``money`` columns as :func:`usd_text`, ``percent`` columns
    (fractions) as :func:`percent_text`, ``prices`` as :func:`price_text`, any column of
    ``formats`` by its formatter, other numbers with thousands separators and at most 2
    decimals (never scientific notation); missing "—"; no index column; headers and text
    cells HTML-escaped. Formatted (number) columns are right-aligned and never wrap; text
    columns wrap."""
    st = frame.style.format(na_rep=MISSING, escape="html", precision=2, thousands=",")
    shown: list[object] = []
    columns: list[tuple[Iterable[object], Formatter]] = [
        (money, usd_text),
        (percent, percent_text),
        (prices, price_text),
    ]
    columns += [([c], f) for c, f in (formats or {}).items()]
    for cols, fmt in columns:
        subset = [c for c in cols if c in frame.columns]
        if subset:
            st = st.format(fmt, subset=subset, na_rep=MISSING)
            shown += subset
    numbers = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    aligned = list(dict.fromkeys([*shown, *numbers]))
    if aligned:
        st = st.set_properties(subset=aligned, **{"text-align": "right", "white-space": "nowrap"})
        at = [i for i, c in enumerate(frame.columns) if c in set(aligned)]
        heads: list[CSSDict] = [
            {"selector": f"th.col_heading.col{i}", "props": "text-align:right"} for i in at
        ]
        st = st.set_table_styles(heads, overwrite=False)
    st = st.format_index(escape="html", axis=1).hide(axis="index")
    st = st.set_table_attributes(f'class="{TABLE_CLASS}"')
    return st.set_caption(html.escape(caption)) if caption else st


def sources_text(sources: object) -> str:
    """``demo, ccxt:gate`` as ``SIMULATED (demo), exchange REST history``; "—" for none."""
    if sources is None or pd.isna(sources) or not str(sources).strip():  # type: ignore[call-overload]
        return MISSING
    return ", ".join(dict.fromkeys(source_name(s.strip()) for s in str(sources).split(",")))


def _key_names(index: pd.Index) -> list[str]:
    if index.name == "venue":
        return ["All venues" if str(k) == ALL else display_name(str(k)) for k in index]
    return ["All coins" if str(k) == ALL else str(k) for k in index]


def split_table(split: pd.DataFrame, what: str = "longs") -> Styler:
    """A :func:`helpers.metrics.worst_hour.side_split` (by venue or coin) with an "All
    venues" / "All coins" row summing the keys with data; ``what`` names the share column
    (``share of the hour's longs``)."""
    key = "Venue" if split.index.name == "venue" else "Coin"
    longs = split["long_usd"].sum(min_count=1)
    shorts = split["short_usd"].sum(min_count=1)
    total = longs + shorts
    out = pd.DataFrame(
        {
            key: _key_names(split.index),
            "Longs": split["long_usd"].to_numpy(),
            "Shorts": split["short_usd"].to_numpy(),
            "Total": split["total_usd"].to_numpy(),
            "Long share": split["long_share"].to_numpy(),
            f"Share of {what}": split["share_of_longs"].to_numpy(),
            "Source": [sources_text(s) for s in split["source"]],
        }
    )
    every = "All venues with data" if key == "Venue" else "All coins with data"
    row = {key: every, "Longs": longs, "Shorts": shorts, "Total": total}
    row |= {"Long share": longs / total if total > 0 else float("nan")}
    row |= {f"Share of {what}": 1.0 if longs > 0 else float("nan"), "Source": ""}
    out = pd.concat([out, pd.DataFrame([row])], ignore_index=True)
    return styled_table(
        out, money=["Longs", "Shorts", "Total"], percent=["Long share", f"Share of {what}"]
    )


def spikes_venue_table(spikes: pd.DataFrame) -> Styler:
    """Spike bar x venue (:func:`helpers.metrics.worst_hour.spikes_by_venue`): one row per
    spike bar, a "Longs" and a "Shorts" column under each venue's name; "—" where the venue
    has no data in that bar."""
    columns: list[tuple[str, str]] = [("Spike bar open (UTC)", "")]
    data: dict[tuple[str, str], Sequence[object] | np.ndarray] = {
        columns[0]: list(pd.DatetimeIndex(spikes.index).strftime("%Y-%m-%d %H:%M"))
    }
    money = []
    for venue in dict.fromkeys(spikes.columns.get_level_values(0)):
        for side, label in (("long_usd", "Longs"), ("short_usd", "Shorts")):
            col = (display_name(str(venue)), label)
            data[col] = spikes[(venue, side)].to_numpy()
            columns.append(col)
            money.append(col)
    out = pd.DataFrame(data, columns=pd.MultiIndex.from_tuples(columns))
    return styled_table(out, money=money)


def coin_table(window_split: pd.DataFrame, worst_split: pd.DataFrame) -> Styler:
    """Longs and shorts per coin over the window and in the worst bar, from two
    :func:`helpers.metrics.worst_hour.side_split` by coin (the worst one may be empty)."""
    worst = worst_split.reindex(window_split.index)
    out = pd.DataFrame(
        {
            "Coin": [str(c) for c in window_split.index],
            "Window longs": window_split["long_usd"].to_numpy(),
            "Window shorts": window_split["short_usd"].to_numpy(),
            "Window long share": window_split["long_share"].to_numpy(),
            "Worst-bar longs": worst["long_usd"].to_numpy(),
            "Worst-bar shorts": worst["short_usd"].to_numpy(),
            "Share of worst-bar longs": worst["share_of_longs"].to_numpy(),
        }
    )
    money = ["Window longs", "Window shorts", "Worst-bar longs", "Worst-bar shorts"]
    return styled_table(out, money=money, percent=["Window long share", "Share of worst-bar longs"])


def horizon_totals_table(totals: pd.DataFrame) -> Styler:
    """:func:`helpers.metrics.totals.horizon_totals` as CoinGlass lays it out: one row per
    venue (or coin) and "All", and under each horizon ("Last 4h") its longs, shorts and long
    share. A partial horizon (a key observed in fewer bars than the horizon has) is listed
    in a last column, "Partial", shown only when some horizon is partial."""
    by = str(totals.index.names[1])
    horizons = list(dict.fromkeys(totals.index.get_level_values("horizon")))
    keys = list(dict.fromkeys(totals.index.get_level_values(by)))
    key_index = pd.Index(keys, name=by)
    label = "Venue" if by == "venue" else "Coin"
    data: dict[tuple[str, str], Sequence[object] | np.ndarray] = {
        (label, ""): _key_names(key_index)
    }
    money, pct = [], []
    partial: list[list[str]] = [[] for _ in keys]
    for h in horizons:
        part = totals.xs(h, level="horizon").reindex(keys)
        top = f"Last {h}"
        for col, name in (("long_usd", "Longs"), ("short_usd", "Shorts")):
            data[(top, name)] = part[col].to_numpy()
            money.append((top, name))
        data[(top, "Long share")] = part["long_share"].to_numpy()
        pct.append((top, "Long share"))
        for i, (seen, n) in enumerate(zip(part["observed_bars"], part["bars"], strict=True)):
            if pd.notna(seen) and pd.notna(n) and 0 < seen < n:
                partial[i].append(f"{h}: {int(seen)} of {int(n)} bars")
    if any(partial):
        data[("Partial", "")] = ["; ".join(p) for p in partial]
    out = pd.DataFrame(data, columns=pd.MultiIndex.from_tuples(list(data)))
    return styled_table(out, money=money, percent=pct)


def largest_events_table(events: pd.DataFrame) -> Styler:
    """The largest single liquidations (:func:`helpers.event_queries.largest_events`): time
    (UTC), venue (the market's name, ``Binance USD-M``), symbol, liquidated side, US dollars
    and price."""
    out = pd.DataFrame(
        {
            "Time (UTC)": list(pd.DatetimeIndex(events["ts"]).strftime("%Y-%m-%d %H:%M:%S")),
            "Venue": [market_name(str(e)) for e in events["exchange"]],
            "Symbol": [str(s) for s in events["symbol"]],
            "Side": [f"{s} liquidated" for s in events["side"]],
            "USD": events["notional_usd"].to_numpy(),
            "Price": events["price"].to_numpy(),
        }
    )
    return styled_table(out, money=["USD"], prices=["Price"])


def backtest_days_table(days: pd.DataFrame, top_bins: int) -> Styler:
    """Per-day backtest rows (:func:`helpers.metrics.map_backtest.backtest_map`) for a page:
    day, opening price, REALISED and ESTIMATED notional over the traded range, and the four
    scores; missing "—"."""
    table = pd.DataFrame(
        {
            "Day (UTC)": days["day"].dt.strftime("%Y-%m-%d"),
            "Price at 00:00": days["p0"],
            "REALISED next 24 h": days["realised_usd"],
            "ESTIMATED in traded range": days["estimated_usd"],
            "Rank corr. map": days["rank_corr_map"].round(2),
            "Rank corr. baseline": days["rank_corr_baseline"].round(2),
            f"Top {top_bins} share map": days["top_share_map"],
            f"Top {top_bins} share baseline": days["top_share_baseline"],
        }
    )
    return styled_table(
        table,
        money=["REALISED next 24 h", "ESTIMATED in traded range"],
        percent=[f"Top {top_bins} share map", f"Top {top_bins} share baseline"],
        prices=["Price at 00:00"],
    ).format("{:.2f}", subset=["Rank corr. map", "Rank corr. baseline"], na_rep=MISSING)
