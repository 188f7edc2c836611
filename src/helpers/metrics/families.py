"""Tables by venue FAMILY: the same rows with each ccxt exchange id replaced by its family id.

A report groups by venue as analysts name it (:mod:`helpers.venues`): Binance is USD-M
futures (``binanceusdm``) plus COIN-M futures (``binancecoinm``). Relabelling a table's
``exchange`` column to family ids lets every per-venue metric (:mod:`helpers.metrics.venues`,
:mod:`helpers.metrics.coverage`) sum and count a family's contracts as one venue. The
relabelled bars are the loaded bars, one source per contract and bar
(:func:`helpers.aggregate.load_bars`), in which a family aggregate and its components are
never both present in a bar, so a family's total never adds an aggregate to its own
contracts. A (family, symbol) pair stays one contract's pair, because a family's contracts
have distinct unified symbols (``BTC/USDT:USDT`` on USD-M, ``BTC/USD:BTC`` on COIN-M).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from helpers.timegrid import Window
from helpers.venues import family


def family_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (any table with an ``exchange`` column: bars, gaps...) with each exchange
    id replaced by its family id (``binancecoinm`` -> ``binance``); other columns as they
    were. Missing exchanges stay missing."""
    if frame.empty or "exchange" not in frame:
        return frame
    ex = frame["exchange"]
    mapping = {e: family(str(e)) for e in ex.dropna().unique()}
    if all(k == v for k, v in mapping.items()):
        return frame
    return frame.assign(exchange=ex.map(mapping).astype(ex.dtype))


def family_window(window: Window) -> Window:
    """``window`` with its requested exchanges replaced by their families, each once, in
    order (``binanceusdm, binancecoinm, okx`` -> ``binance, okx``); None stays None."""
    if window.exchanges is None:
        return window
    return replace(window, exchanges=tuple(dict.fromkeys(family(e) for e in window.exchanges)))
