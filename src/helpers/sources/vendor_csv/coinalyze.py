"""Coinalyze liquidation exports (long or wide layout) -> ``liquidation_bars``: USD columns as
they are, base units converted with the bar's close and marked approximate (see
:mod:`helpers.sources.vendor_csv`); symbols mapped with
:func:`helpers.sources.coinalyze.parse_symbol`."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.errors import UserError
from helpers.sources import coinalyze as coinalyze_api
from helpers.sources.vendor_csv.checks import (
    Imported,
    _dedupe,
    _drop_empty,
    _flag,
    _pick,
    _pick_pair,
    check_grid,
    infer_interval,
    non_negative_numbers,
    read_csv,
    utc_times,
)

_COINALYZE_TIME = ("time_utc_inferred", "time_utc", "ts_utc", "t", "time", "timestamp", "date")
_COINALYZE_USD = (("long_liq_usd", "short_liq_usd"), ("long_usd", "short_usd"))
_COINALYZE_BASE = (("long_liq_base", "short_liq_base"), ("long_base", "short_base"))
_COINALYZE_UNSTATED = (("long_liquidations", "short_liquidations"), ("l", "s"))
_LOCAL_TIME = ("ts_recorded",)
_WIDE = re.compile(r"^(?P<sym>.+\.[0-9A-Za-z])_(?P<kind>longliq|shortliq|close)$")


def read_coinalyze(
    path: str | Path,
    prices: str | Path | None = None,
    interval: str | None = None,
    units: str = "auto",
) -> Imported:
    """``liquidation_bars`` from a Coinalyze export (long or wide layout, see
    :mod:`helpers.sources.vendor_csv`)."""
    where = Path(path).name
    df = read_csv(path)
    if _pick(df, ("symbol",)) is not None:
        return _coinalyze_long(df, where, interval, units)
    if any(_WIDE.match(c) for c in df.columns):
        return _coinalyze_wide(df, where, prices, interval, units)
    raise UserError(
        f"{where}: not a Coinalyze export (no 'symbol' column and no <SYMBOL>_longliq columns)"
    )


def _coinalyze_long(df: pd.DataFrame, where: str, interval: str | None, units: str) -> Imported:
    time_col = _pick(df, _COINALYZE_TIME)
    if time_col is None:
        local = _pick(df, _LOCAL_TIME)
        why = f" ({local!r} is the collector's local time, not UTC)" if local else ""
        raise UserError(f"{where}: no UTC time column{why}")
    usd_pair = _pick_pair(df, _COINALYZE_USD)
    base_pair = _pick_pair(df, _COINALYZE_BASE)
    plain_pair = _pick_pair(df, _COINALYZE_UNSTATED)
    if units == "usd":
        usd_pair = usd_pair or plain_pair
    elif units == "base":
        usd_pair, base_pair = None, base_pair or plain_pair
    elif usd_pair is None and base_pair is None and plain_pair is not None:
        raise UserError(f"{where}: the liquidation columns do not state units; pass --units")
    if usd_pair is None and base_pair is None:
        raise UserError(f"{where}: no long/short liquidation columns")
    notes = []
    symbols = df[_pick(df, ("symbol",))].astype("string").str.strip()
    markets = {s: coinalyze_api.parse_symbol(s) for s in symbols.dropna().unique()}
    ts = utc_times(df[time_col], time_col, where)
    interval = interval or infer_interval(ts, [symbols], where)
    if "liq_row_missing" in df.columns:
        gone = _flag(df["liq_row_missing"])
        if gone.any():
            notes.append(f"{int(gone.sum())} bars flagged liq_row_missing left missing")
        df = df[~gone].reset_index(drop=True)
        symbols = symbols[~gone].reset_index(drop=True)
        ts = ts[~gone].reset_index(drop=True)
    if usd_pair is not None:
        long_v = non_negative_numbers(df[usd_pair[0]], usd_pair[0], where)
        short_v = non_negative_numbers(df[usd_pair[1]], usd_pair[1], where)
        source, units_text = coinalyze_api.SOURCE, "USD"
    else:
        assert base_pair is not None  # one pair is set: both None was rejected above
        close_col = _pick(df, ("close", "c"))
        if close_col is None:
            raise UserError(f"{where}: base-unit liquidations need a 'close' column to convert")
        close = non_negative_numbers(df[close_col], close_col, where)
        long_v = non_negative_numbers(df[base_pair[0]], base_pair[0], where) * close
        short_v = non_negative_numbers(df[base_pair[1]], base_pair[1], where) * close
        source = coinalyze_api.SOURCE_APPROX
        units_text = "base units, converted with the bar's close (approximate)"
    frame = pd.DataFrame({"coinalyze": symbols, "ts": ts, "long": long_v, "short": short_v})
    return _coinalyze_bars(frame, markets, where, interval, source, units_text, notes)


def _coinalyze_wide(
    df: pd.DataFrame, where: str, prices: str | Path | None, interval: str | None, units: str
) -> Imported:
    time_col = _pick(df, ("t", "time", "date", "time_utc", "timestamp")) or df.columns[0]
    ts = utc_times(df[time_col], time_col, where)
    cols: dict[str, dict[str, str]] = {}
    for c in df.columns:
        m = _WIDE.match(c)
        if m:
            cols.setdefault(m["sym"].upper(), {})[m["kind"]] = c
    pairs = {s: k for s, k in cols.items() if "longliq" in k and "shortliq" in k}
    if not pairs:
        raise UserError(f"{where}: no <SYMBOL>_longliq / <SYMBOL>_shortliq column pairs")
    markets = {s: coinalyze_api.parse_symbol(s) for s in pairs}
    long_rows = []
    for sym, kinds in pairs.items():
        long_rows.append(
            pd.DataFrame(
                {
                    "coinalyze": sym,
                    "ts": ts,
                    "long": non_negative_numbers(df[kinds["longliq"]], kinds["longliq"], where),
                    "short": non_negative_numbers(df[kinds["shortliq"]], kinds["shortliq"], where),
                }
            )
        )
    frame = pd.concat(long_rows, ignore_index=True)
    notes: list[str] = []
    if units == "usd":
        return _coinalyze_bars(frame, markets, where, interval, coinalyze_api.SOURCE, "USD", notes)
    closes = _wide_closes(df, ts, cols, where)
    if prices is not None:
        pdf = read_csv(prices)
        p_where = Path(prices).name
        p_time = _pick(pdf, ("t", "time", "date", "time_utc", "timestamp")) or pdf.columns[0]
        p_cols: dict[str, dict[str, str]] = {}
        for c in pdf.columns:
            m = _WIDE.match(c)
            if m:
                p_cols.setdefault(m["sym"].upper(), {})[m["kind"]] = c
        more = _wide_closes(pdf, utc_times(pdf[p_time], p_time, p_where), p_cols, p_where)
        closes = pd.concat([closes, more]).drop_duplicates(["coinalyze", "ts"], keep="first")
    frame = frame.merge(closes, on=["coinalyze", "ts"], how="left")
    no_close = frame["close"].isna() & (frame["long"].notna() | frame["short"].notna())
    if no_close.all():
        raise UserError(
            f"{where}: liquidations are in base units and no close prices were found; "
            "pass --prices FILE with <SYMBOL>_close columns (or --units usd)"
        )
    if no_close.any():
        notes.append(f"{int(no_close.sum())} bars without a close price left missing")
    frame = frame[~no_close]
    frame = frame.assign(long=frame["long"] * frame["close"], short=frame["short"] * frame["close"])
    units_text = "base units, converted with the bar's close (approximate)"
    return _coinalyze_bars(
        frame, markets, where, interval, coinalyze_api.SOURCE_APPROX, units_text, notes
    )


def _wide_closes(
    df: pd.DataFrame, ts: pd.Series, cols: dict[str, dict[str, str]], where: str
) -> pd.DataFrame:
    frames = [
        pd.DataFrame(
            {
                "coinalyze": sym,
                "ts": ts,
                "close": non_negative_numbers(df[k["close"]], k["close"], where),
            }
        )
        for sym, k in cols.items()
        if "close" in k
    ]
    if not frames:
        return pd.DataFrame({"coinalyze": [], "ts": pd.Series(dtype=ts.dtype), "close": []})
    out = pd.concat(frames, ignore_index=True)
    out.loc[out["close"] <= 0, "close"] = np.nan
    return out


def _coinalyze_bars(
    frame: pd.DataFrame,
    markets: dict[str, coinalyze_api.Market],
    where: str,
    interval: str | None,
    source: str,
    units_text: str,
    notes: list[str],
) -> Imported:
    frame = frame.reset_index(drop=True)
    interval = interval or infer_interval(frame["ts"], [frame["coinalyze"]], where)
    check_grid(frame["ts"], interval, where)
    m = frame["coinalyze"].map(markets)
    bars = pd.DataFrame(
        {
            "ts": frame["ts"],
            "interval": interval,
            "exchange": pd.array([x.exchange for x in m], dtype="string"),
            "symbol": pd.array([x.symbol for x in m], dtype="string"),
            "base": pd.array([x.base for x in m], dtype="string"),
            "long_usd": frame["long"].astype("float64"),
            "short_usd": frame["short"].astype("float64"),
            "long_count": pd.array([pd.NA] * len(frame), dtype="Int64"),
            "short_count": pd.array([pd.NA] * len(frame), dtype="Int64"),
            "source": source,
        }
    )
    return Imported(_dedupe(_drop_empty(bars, notes), where), units_text, notes)
