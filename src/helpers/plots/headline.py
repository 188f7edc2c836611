"""The summary page's headline chart: longs and shorts liquidated per bar, mirrored, with the
worst bar and the spike bars marked, and the caption that reads it.

Long = a long position liquidated (a forced sell), drawn up in red; short = a short position
liquidated (a forced buy), drawn down in green; money is notional US dollars summed over the
window's venues and symbols. The chart is :func:`helpers.plots.imbalance.plot_mirrored_bars`
marked by :func:`helpers.plots.annotate.mark_worst_and_spikes`, the same as page 01's, so the
brief and the page it links to show one picture.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from helpers.metrics.imbalance_analysis import ImbalanceResult
from helpers.plots import annotate, imbalance
from helpers.timegrid import Window
from helpers.units import fmt_usd_sig


def plot_headline(result: ImbalanceResult, window: Window) -> Figure:
    """Mirrored long/short bars of ``result.table`` with the worst bar (black, labelled with
    its time in UTC and both sides in US dollars) and the spike bars (purple) marked."""
    worst = result.worst
    mark = None if worst is None else (worst.ts, worst.long_usd, worst.short_usd)
    figure = imbalance.plot_mirrored_bars(result.table, window)
    return annotate.mark_worst_and_spikes(figure, window, mark, result.spikes)


def headline_caption(result: ImbalanceResult, interval: str) -> str:
    """What the headline chart shows, in words: the window's longs and shorts, the worst bar
    (time in UTC, longs and shorts in US dollars) and how many other spike bars are marked."""
    word = annotate.bar_word(interval)
    t = result.totals
    text = (
        f"Longs liquidated per {word} drawn up (red), shorts down (green), all selected venues "
        f"and symbols: {fmt_usd_sig(t.long_usd)} of longs and {fmt_usd_sig(t.short_usd)} of shorts "
        f"over the window."
    )
    w = result.worst
    if w is None:
        return f"{text} No long liquidations were observed, so no worst {word} is marked."
    others = int((result.spikes.index != w.ts).sum())
    marked = f"{others} other spike {word}{'' if others == 1 else 's'}"
    return (
        f"{text} Marked: the worst {word}, {w.ts:%Y-%m-%d %H:%M} UTC (longs "
        f"{fmt_usd_sig(w.long_usd)}, shorts {fmt_usd_sig(w.short_usd)}), and {marked} (purple)."
    )
