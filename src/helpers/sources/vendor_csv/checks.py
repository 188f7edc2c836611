"""The checks every vendor CSV goes through: a readable file, UTC bar times, non-negative
numbers, one canonical interval on its UTC grid, no conflicting duplicate bars; each failure
is one :class:`UserError` naming the file (``where``) and, where it can, the row."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

import numpy as np
import pandas as pd

from helpers.errors import UserError
from helpers.sources.vendor_csv.shape import check_shape
from helpers.timegrid import INTERVAL_SECONDS

_OFFSET = re.compile(r"(?:Z|[+-]\d\d(?::?\d\d)?)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d\d-\d\d$")

MISSING_MARKERS = frozenset(
    {"", "n/a", "na", "#n/a", "-", "--", "\u2013", "\u2014", "null", "nan", "none", "<na>"}
)
"""Cell texts (stripped, lower case) that mean "no value": blank, ``n/a``, ``-``, an en or em
dash, ``null``, ``NaN``, ``none``... A missing value is never zero and never stored over a
number (:mod:`helpers.store`)."""

VALUE_COLUMNS = ("long_usd", "short_usd")


@dataclass
class Imported:
    """Bars read from a vendor file, the units they were given in, and what was dropped."""

    bars: pd.DataFrame
    units: str
    notes: list[str] = field(default_factory=list)

    @property
    def missing(self) -> int:
        """Value cells (long or short USD) of the bars that the file left missing."""
        return int(self.bars[list(VALUE_COLUMNS)].isna().sum().sum())


def read_csv(path: str | Path) -> pd.DataFrame:
    """The file as a frame with stripped column names; a :class:`UserError` when it is not a
    readable, non-empty CSV or its shape is wrong (a cut last line, ragged rows, a second
    header: :mod:`helpers.sources.vendor_csv.shape`)."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: file not found")
    with open(p, "rb") as fh:
        head = fh.read(512).lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"{", b"[")):
        raise UserError(f"{p.name}: an HTML/XML/JSON document, not a CSV file")
    check_shape(p)
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{p.name}: not a readable CSV file ({first})") from None
    if df.empty:
        raise UserError(f"{p.name}: no data rows")
    df.columns = [str(c).strip() for c in df.columns]
    return df


def utc_times(values: pd.Series, column: str, where: str) -> pd.Series:
    """Bar times as UTC. Numbers are epoch seconds or milliseconds (by magnitude); strings
    must carry an offset unless ``column`` says UTC or the values are plain dates."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        x = pd.to_numeric(values, errors="coerce")
        if x.isna().any():
            raise UserError(f"{where}: column {column!r} has empty times")
        unit: Literal["ms", "s"] = "ms" if float(x.abs().max()) > 1e11 else "s"
        return pd.to_datetime(x.astype("int64"), unit=unit, utc=True).astype("datetime64[us, UTC]")
    text = values.astype("string").str.strip()
    if text.isna().any() or (text == "").any():
        raise UserError(f"{where}: column {column!r} has empty times")
    has_offset = text.str.contains(_OFFSET)
    if not has_offset.all():
        date_only = text.str.fullmatch(_DATE_ONLY).all()
        if not (date_only or "utc" in column.lower()):
            bad = text[~has_offset].iloc[0]
            raise UserError(
                f"{where}: time {bad!r} in column {column!r} has no timezone; give UTC times "
                "with an offset (or a column named *_utc)"
            )
        if has_offset.any():
            raise UserError(f"{where}: column {column!r} mixes times with and without offsets")
    try:
        parsed = pd.to_datetime(text, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        for i, v in text.items():
            try:
                pd.Timestamp(v)
            except (ValueError, TypeError):
                raise UserError(
                    f"{where}: unparseable time {v!r} in column {column!r} (row {cast(int, i) + 2})"
                ) from None
        raise UserError(f"{where}: unparseable times in column {column!r}") from None
    return parsed.astype("datetime64[us, UTC]")


def non_negative_numbers(values: pd.Series, column: str, where: str) -> pd.Series:
    """Non-negative numbers, NaN where missing (:data:`MISSING_MARKERS`); a :class:`UserError`
    naming the first bad row."""
    text = values.astype("string").str.strip().str.lower()
    missing = (values.isna() | text.isin(MISSING_MARKERS)).fillna(True).astype(bool)
    x = pd.to_numeric(values.mask(missing), errors="coerce").astype("float64")
    bad = (x.isna() & ~missing) | (x < 0)
    bad |= np.isinf(x)
    if bad.any():
        i = cast(int, bad.idxmax())  # the row label of a frame from read_csv
        raise UserError(
            f"{where}: column {column!r} row {i + 2}: {str(values[i])!r} is not a non-negative "
            "number"
        )
    return x


def infer_interval(ts: pd.Series, groups: list[pd.Series], where: str) -> str:
    """The canonical interval of bars: the most common spacing between consecutive bars of
    each group, which must be one of the canonical sizes."""
    key = pd.DataFrame({"ts": ts, **{f"g{i}": g for i, g in enumerate(groups)}})
    diffs = (
        key.sort_values(list(key.columns[1:]) + ["ts"])
        .groupby(list(key.columns[1:]), sort=False)["ts"]
        .diff()
        .dropna()
        .dt.total_seconds()
    )
    diffs = diffs[diffs > 0]
    if diffs.empty:
        raise UserError(f"{where}: a single bar per series; pass --interval")
    step = int(diffs.mode().iloc[0])
    for name, secs in INTERVAL_SECONDS.items():
        if secs == step:
            return name
    raise UserError(
        f"{where}: bars are {step} s apart, not one of {list(INTERVAL_SECONDS)}; pass --interval"
    )


def check_grid(ts: pd.Series, interval: str, where: str) -> None:
    """Every bar must start on the interval's UTC grid (bars are stamped at their open)."""
    secs = INTERVAL_SECONDS[interval]
    epoch = ts.astype("int64") // 1_000_000
    off = epoch % secs != 0
    if off.any():
        raise UserError(
            f"{where}: bar {ts[off].iloc[0].isoformat()} does not start on the {interval} UTC "
            "grid; is the time column local time?"
        )


def _pick(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in df.columns}
    for n in names:
        if n in lower:
            return lower[n]
    return None


def _pick_pair(df: pd.DataFrame, pairs: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    for long_, short_ in pairs:
        a, b = _pick(df, (long_,)), _pick(df, (short_,))
        if a and b:
            return a, b
    return None


def _flag(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.lower()
    return text.isin(["true", "1", "yes"]).fillna(False).astype(bool)


def _drop_empty(bars: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    empty = bars["long_usd"].isna() & bars["short_usd"].isna()
    if empty.any():
        notes.append(f"{int(empty.sum())} rows with neither side given left missing")
    return bars[~empty].reset_index(drop=True)


def _dedupe(bars: pd.DataFrame, where: str) -> pd.DataFrame:
    bars = bars.drop_duplicates().reset_index(drop=True)
    key = ["ts", "interval", "exchange", "symbol", "source"]
    clash = bars.duplicated(key, keep=False)
    if clash.any():
        row = bars[clash].iloc[0]
        raise UserError(
            f"{where}: two different bars for {row['exchange']} {row['symbol']} at "
            f"{row['ts'].isoformat()}"
        )
    return bars.sort_values(["ts", "exchange", "symbol"], kind="stable").reset_index(drop=True)
