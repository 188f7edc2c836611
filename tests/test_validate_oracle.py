"""``schema.validate`` computes every rejection in one numpy pass per check; this compares it
with the row-by-row mask version it replaced (kept here, verbatim, as the oracle) on hostile
frames of every table: the same accepted rows in the same dtypes, the same rejected rows
and the same first reason for each."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from helpers import schema
from helpers.schema import (
    _TS,
    IDENTIFIERS,
    INTERVALS,
    NOT_AN_IDENTIFIER,
    SIDES,
    Identifier,
    _shown,
    table,
)

# ---- the implementation before vectorisation (the oracle) ---------------------------------


def _old_parse_utc(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    reasons = pd.Series(pd.NA, index=values.index, dtype="string")
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        reasons[values.isna()] = "missing timestamp"
        return values.dt.tz_convert("UTC").astype(_TS), reasons
    if pd.api.types.is_datetime64_dtype(values.dtype):
        reasons[:] = "naive timestamp (no timezone)"
        return pd.Series(pd.NaT, index=values.index, dtype=_TS), reasons
    parsed = pd.Series(pd.NaT, index=values.index, dtype=_TS)
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
            reasons.iloc[i] = "missing timestamp"
            continue
        try:
            t = pd.Timestamp(v)
        except (ValueError, TypeError):
            reasons.iloc[i] = "unparseable timestamp"
            continue
        if t is pd.NaT:
            reasons.iloc[i] = "missing timestamp"
        elif t.tzinfo is None:
            reasons.iloc[i] = "naive timestamp (no timezone)"
        else:
            parsed.iloc[i] = t.tz_convert("UTC")
    return parsed, reasons


def _old_not_identifiers(values: pd.Series, ident: Identifier) -> list[str]:
    return [v for v in values.dropna().unique() if v != "" and not ident.matches(str(v))]


def old_validate(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:  # noqa: C901
    t = table(name)
    df = df.reset_index(drop=True)
    reason = pd.Series(pd.NA, index=df.index, dtype="string")

    def reject(mask: pd.Series, why: str) -> None:
        fresh = mask.fillna(False).astype(bool) & reason.isna()
        reason[fresh] = why

    out = pd.DataFrame(index=df.index)
    vals: pd.Series
    for col, dtype in t.columns.items():
        if dtype == _TS:
            parsed, why = _old_parse_utc(df[col])
            if col in t.nullable_times:
                why = why.mask(why == "missing timestamp")
            for r in why.dropna().unique():
                reject(why == r, f"{col}: {r}")
            out[col] = parsed
        elif dtype == "float64":
            vals = pd.to_numeric(df[col], errors="coerce").astype("float64")
            bad = vals.isna() & df[col].notna()
            reject(bad, f"{col}: not a number")
            if col in t.positive:
                reject(vals.isna(), f"{col}: missing")
                reject(~((vals > 0) & (vals < float("inf"))), f"{col}: must be positive and finite")
            out[col] = vals
        elif dtype == "Int64":
            vals = pd.to_numeric(df[col], errors="coerce")
            reject(vals < 0, f"{col}: negative count")
            out[col] = vals.round().astype("Int64")
        else:
            vals = df[col].astype("string").str.strip()
            if col in t.required:
                reject(vals.isna() | (vals == ""), f"{col}: missing")
            out[col] = vals
    if "side" in t.columns:
        message = "side: must be 'long' or 'short' (the liquidated position)"
        reject(~out["side"].isin(SIDES), message)
    if "interval" in t.columns:
        reject(~out["interval"].isin(INTERVALS), f"interval: must be one of {INTERVALS}")
    if "period" in t.columns:
        reject(~out["period"].isin(INTERVALS), f"period: must be one of {INTERVALS}")
    if "long_account" in t.columns:
        share = out["long_account"]
        reject(share.notna() & ~share.between(0.0, 1.0), "long_account: must be a fraction 0..1")
    if name == "ohlcv":
        reject(out["high"] < out["low"], "high below low")
    for col, ident in IDENTIFIERS.items():
        if col in t.columns:
            for value in _old_not_identifiers(out[col], ident):
                reject(out[col] == value, f"{col}: {NOT_AN_IDENTIFIER}: {_shown(value)!r}")

    bad = reason.notna()
    rejected = df[bad].astype("string").assign(reason=reason[bad])
    return out[~bad].reset_index(drop=True), rejected.reset_index(drop=True)


# ---- hostile frames -----------------------------------------------------------------------

TIMES: list[object] = [
    pd.Timestamp("2025-11-10T01:00Z"),
    pd.Timestamp("2025-11-10T03:00+02:00"),
    "2025-11-10T01:00:00Z",
    "2025-11-10 01:00",  # naive
    pd.Timestamp("2025-11-10T01:00"),  # naive
    "not a time",
    "",
    None,
    float("nan"),
    pd.NaT,
    12,
]
NUMBERS: list[object] = [1.5, 2, "3.25", " 4 ", "abc", "", None, float("nan"), -1.0, 0.0,
                         float("inf"), -float("inf"), "1e400", 0.5, 1.0, True]  # fmt: skip
COUNTS: list[object] = [0, 3, "7", -2, "-1", 2.6, None, float("nan"), "x"]
TEXT: dict[str, list[object]] = {
    "exchange": ["okx", "binanceusdm", " bybit ", "OKX", "binance+okx", "<img>", "", None, 5],
    "symbol": ["BTC/USDT:USDT", "ETH/USD:ETH-250328", "BTC", "a/b/c", "$x", " ", None, "kPEPE"],
    "base": ["BTC", "1000PEPE", "ビット", "_x", "", None, "B" * 70],
    "side": ["long", "short", "LONG", "buy", "", None, " long "],
    "source": ["coinalyze", "ccxt.pro:okx", "demo", "Demo", "x (EUR converted)", None, ""],
    "event_id": ["e1", "e2", "e1", "", None, " e3 "],
    "interval": ["1h", "1m", "2h", "", None, "1d"],
    "period": ["5m", "1h", "7m", None],
    "coin": ["bitcoin", "avalanche-2", "-x", "", None],
    "name": ["Bitcoin", "Lido Staked Ether", "<b>", "", None, "x" * 150],
    "table_name": ["liquidations", "Liq", "", None],
    "reason": ["stream dropped", "", None, "<x>"],
}


def hostile(name: str, n: int, seed: int) -> pd.DataFrame:
    """``n`` rows of ``name`` whose every cell is drawn from values valid and not, so rows
    fail several checks at once (the first reason must win), in object columns."""
    rng = np.random.default_rng(seed)
    t = table(name)
    cols: dict[str, list[object]] = {}
    for col, dtype in t.columns.items():
        pool = (
            TIMES
            if dtype == _TS
            else NUMBERS
            if dtype == "float64"
            else COUNTS
            if dtype == "Int64"
            else TEXT.get(col, ["x", "", None])
        )
        cols[col] = [pool[i] for i in rng.integers(0, len(pool), n)]
    return pd.DataFrame(cols, dtype=object)


def typed(name: str, n: int, seed: int) -> pd.DataFrame:
    """Mostly valid rows in typed columns (tz-aware times, float64 and nullable numbers,
    text with NA), as sources build them, with some invalid values mixed in."""
    rng = np.random.default_rng(seed)
    t = table(name)
    cols: dict[str, object] = {}
    for col, dtype in t.columns.items():
        if dtype == _TS:
            ts = pd.Series(
                pd.Timestamp("2025-11-10T00:00Z")
                + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
            )
            cols[col] = ts.where(rng.random(n) > 0.05)
        elif dtype == "float64":
            cols[col] = np.where(rng.random(n) > 0.05, rng.uniform(0.0, 2.0, n), np.nan)
        elif dtype == "Int64":
            cols[col] = pd.array(rng.integers(-1, 5, n), dtype="Int64")
        else:
            pool = [v for v in TEXT.get(col, ["x"]) if isinstance(v, str)]
            values = [
                pool[i] if rng.random() > 0.05 else None for i in rng.integers(0, len(pool), n)
            ]
            cols[col] = pd.array(values, dtype="string")
    return pd.DataFrame(cols)  # fmt: skip


def assert_same(name: str, df: pd.DataFrame) -> None:
    good, bad = schema.validate(name, df)
    old_good, old_bad = old_validate(name, df)
    assert_frame_equal(good, old_good)
    assert_frame_equal(bad, old_bad)


@pytest.mark.parametrize("name", sorted(schema.TABLES))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hostile_frames_validate_as_before(name: str, seed: int) -> None:
    df = hostile(name, 300, seed)
    _, bad = schema.validate(name, df)
    assert len(bad) > 0 and bad["reason"].nunique() > 3  # the frame does exercise the checks
    assert_same(name, df)


@pytest.mark.parametrize("name", sorted(schema.TABLES))
def test_typed_frames_validate_as_before(name: str) -> None:
    df = typed(name, 400, 5)
    good, _ = schema.validate(name, df)
    assert len(good) > 0
    assert_same(name, df)


def test_naive_datetime_column_and_an_index_validate_as_before() -> None:
    df = typed("liquidations", 50, 9)
    df["ts"] = df["ts"].dt.tz_localize(None)  # a naive datetime64 column: every row rejected
    assert_same("liquidations", df.set_index(np.arange(100, 150)))


@pytest.mark.parametrize("name", sorted(schema.TABLES))
def test_all_valid_and_empty_frames_validate_as_before(name: str) -> None:
    df = typed(name, 200, 11)
    good, _ = schema.validate(name, df)
    assert_same(name, good)  # every row valid: no rejects
    assert_same(name, good.iloc[:0])
