"""How one-sided liquidations are: long vs short US dollars per bar across venues.

Input is the canonical ``liquidation_bars`` table (:mod:`helpers.schema`): one row per
(ts, exchange, symbol) that was OBSERVED, a row of zeros when a venue was observed with no
liquidations, and no row at all when it was not observed. Laid on the window grid
(``start <= ts < end`` in steps of ``interval``), a bar where no requested venue has a row is
MISSING (NaN), never zero; a bar where only some of the expected (venue, symbol) pairs
reported is PARTIAL, even when every venue reported some symbol
(:mod:`helpers.metrics.coverage`), and every table here carries ``venues_reporting`` and
``pairs_reporting`` so the reader can see it.

Sides are the liquidated POSITION: ``long_usd`` is longs force-sold, ``short_usd`` shorts
force-bought. Money is in US dollars.

* :mod:`~helpers.metrics.imbalance.table`: the per-bar table, running totals, window totals
  and the worst bar;
* :mod:`~helpers.metrics.imbalance.headline`: the worst bar rounded for a sentence;
* :mod:`~helpers.metrics.imbalance.spikes`: spike bars (trailing median + k x MAD).
"""

from __future__ import annotations

from helpers.metrics.imbalance.headline import (
    Headline,
    headline,
    round_down_sig,
    round_up_sig,
    usd_sig,
)
from helpers.metrics.imbalance.spikes import (
    MAD_NORMAL_SCALE,
    SPIKE_RULES,
    SpikeRule,
    spike_bars,
    spike_scores,
    trailing_median_mad,
)
from helpers.metrics.imbalance.table import (
    WindowTotals,
    WorstBar,
    bars_in_window,
    cumulative_sides,
    expected_pairs,
    expected_venues,
    imbalance_table,
    window_totals,
    worst_bar,
)

__all__ = [
    "MAD_NORMAL_SCALE",
    "SPIKE_RULES",
    "Headline",
    "SpikeRule",
    "WindowTotals",
    "WorstBar",
    "bars_in_window",
    "cumulative_sides",
    "expected_pairs",
    "expected_venues",
    "headline",
    "imbalance_table",
    "round_down_sig",
    "round_up_sig",
    "spike_bars",
    "spike_scores",
    "trailing_median_mad",
    "usd_sig",
    "window_totals",
    "worst_bar",
]
