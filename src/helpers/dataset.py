"""What a notebook works on: one window of the store, read once per table.

A :class:`Dataset` turns the plain notebook parameters (``start``, ``end``, ``exchanges``,
``symbols``, ``interval``, ``data_dir``) into checked values and reads the canonical tables
for that window. Bars come pre-aggregated from the store (one source per venue and bar, see
:func:`helpers.aggregate.load_bars`); raw events are read only when a notebook asks for them
(price clusters), and then only for one base asset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import pandas as pd

from helpers.aggregate import load_bars, price_bins
from helpers.store import Store
from helpers.timegrid import Window, interval_timedelta


@dataclass(frozen=True)
class Dataset:
    """The window ``[start, end)`` on ``exchanges`` / ``symbols`` (None = all) of a store."""

    store: Store
    start: pd.Timestamp
    end: pd.Timestamp
    exchanges: tuple[str, ...] | None
    symbols: tuple[str, ...] | None
    interval: str = "1h"
    precedence: tuple[str, ...] | None = None
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def open(
        cls,
        data_dir: str,
        start: str,
        end: str,
        exchanges: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
        interval: str = "1h",
        precedence: Sequence[str] | None = None,
    ) -> Dataset:
        """Check the parameters (one-line :class:`UserError` when wrong) and open the store.
        ``precedence``: which source wins a bar (None: ``config/sources.yaml``)."""
        w = Window.of(start, end, exchanges, symbols, interval)
        ranks = None if precedence is None else tuple(precedence)
        return cls(Store(data_dir), w.start, w.end, w.exchanges, w.symbols, w.interval, ranks)

    def extended(self, bars: int) -> Dataset:
        """The same selection starting ``bars`` intervals earlier (history for trailing tests)."""
        return replace(self, start=self.start - bars * interval_timedelta(self.interval), _cache={})

    def _read(self, table: str, where: str | None = None) -> pd.DataFrame:
        key = f"{table}|{where}"
        if key not in self._cache:
            self._cache[key] = self.store.read(
                table, self.start, self.end, self.exchanges, self.symbols, where=where
            )
        return self._cache[key]

    def bars(self) -> pd.DataFrame:
        """Liquidation bars of ``interval``, one source per venue and bar
        (:func:`helpers.aggregate.load_bars`); each row keeps its ``source``."""
        key = f"bars|{self.interval}"
        if key not in self._cache:
            self._cache[key] = load_bars(
                self.store,
                self.start,
                self.end,
                self.exchanges,
                self.symbols,
                self.interval,
                self.precedence,
            )
        return self._cache[key]

    def events(self, base: str | None = None) -> pd.DataFrame:
        """Liquidation events, optionally of one base asset (``"BTC"``)."""
        return self._read("liquidations", None if base is None else f"base = '{_sql(base)}'")

    def price_bins(self, base: str, bin_width: float) -> pd.DataFrame:
        """Liquidated USD of ``base`` per price bin and side, aggregated in the store
        (:func:`helpers.aggregate.price_bins`); the events are not loaded."""
        return price_bins(
            self.store, base, bin_width, self.start, self.end, self.exchanges, self.symbols
        )

    def ohlcv(self, interval: str | None = None) -> pd.DataFrame:
        return self._read("ohlcv", f"interval = '{_sql(interval or self.interval)}'")

    def open_interest(self) -> pd.DataFrame:
        return self._read("open_interest")

    def funding(self) -> pd.DataFrame:
        return self._read("funding")

    def long_short_ratio(self) -> pd.DataFrame:
        """The venues' published account long/short ratio rows in the window (every period)."""
        return self._read("long_short_ratio")

    def gaps(self) -> pd.DataFrame:
        """Recorded outages that overlap the window (any table); one without an ``end`` is
        still open."""
        gaps = self.store.read("gaps", end=self.end, exchanges=self.exchanges)
        reaching = gaps["end"].isna() | (gaps["end"] > self.start)
        return gaps[reaching.fillna(False).astype(bool)].reset_index(drop=True)

    def market_caps(self) -> pd.DataFrame:
        """Market-cap snapshots taken inside the window (not filtered by exchange)."""
        key = "market_caps"
        if key not in self._cache:
            self._cache[key] = self.store.read("market_caps", self.start, self.end)
        return self._cache[key]

    @cached_property
    def sources(self) -> tuple[str, ...]:
        """Sources of the liquidation bars in the window (``('demo',)`` for the simulator)."""
        return tuple(sorted(self.bars()["source"].dropna().unique()))

    @property
    def simulated(self) -> bool:
        return "demo" in self.sources

    @property
    def window(self) -> Window:
        """The window, selection, interval and sources of this dataset: the context that
        metric and plot functions take."""
        return Window(
            self.start, self.end, self.exchanges, self.symbols, self.interval, self.sources
        )

    def venues(self) -> list[str]:
        """The requested exchanges, or every exchange with bars in the window."""
        if self.exchanges is not None:
            return sorted(self.exchanges)
        return sorted(self.bars()["exchange"].dropna().unique())


def _sql(text: str) -> str:
    return str(text).replace("'", "''")
