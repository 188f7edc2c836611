"""Window and gap boundaries, to the millisecond, without Dask.

Every window is half-open, ``start <= ts < end``; a bar ``[t, t + interval)`` is stamped at
its open ``t``; a gap ``[gap.start, gap.end)`` makes a bar missing when the two overlap:
``gap.start < t + interval`` and ``gap.end > t`` (an empty ``end``: still open). These
tests put a row exactly at the start, 1 ms before it, exactly at the end and 1 ms before
it, at midnight (where the date partitions are pruned), and gaps that end exactly at a
bar's open or 1 ms after it, through every reader a report goes through: :meth:`Store.read`,
:func:`helpers.aggregate.load_bars` and the bars built from events
(:func:`~helpers.aggregate.build_bars`), the notebooks' :class:`helpers.dataset.Dataset`,
the window grid and coverage (:mod:`helpers.metrics.coverage`, :mod:`helpers.metrics.venues`),
and the report's date.
"""

from __future__ import annotations

import pandas as pd
import pytest
from factories import liquidation_bars, win

from helpers import schema
from helpers.aggregate import aggregate_store, bars_from_events, build_bars, load_bars
from helpers.dataset import Dataset
from helpers.metrics.coverage import bars_in_window, pair_coverage
from helpers.metrics.venues import venue_coverage, venue_gap_mask, venue_hourly
from helpers.report.plan import report_date
from helpers.store import Store

MS = pd.Timedelta(milliseconds=1)
H = pd.Timedelta(hours=1)
MINUTE = pd.Timedelta(minutes=1)
START = pd.Timestamp("2025-01-01 22:00", tz="UTC")
END = pd.Timestamp("2025-01-02 00:00", tz="UTC")  # midnight: a date partition boundary


def events(times: list[pd.Timestamp], exchange: str = "okx") -> pd.DataFrame:
    """One long liquidation of 100 USD at each of ``times``, ids ``e0``, ``e1``..."""
    return pd.DataFrame(
        {
            "ts": times,
            "exchange": exchange,
            "symbol": "BTC/USDT:USDT",
            "base": "BTC",
            "side": "long",
            "price": 100.0,
            "amount": 1.0,
            "notional_usd": 100.0,
            "source": "test",
            "event_id": [f"e{i}" for i in range(len(times))],
        }
    )


def gaps(spans: list[tuple[pd.Timestamp, pd.Timestamp | None]], exchange: str = "okx"):
    """Canonical liquidation gaps of the whole venue, one per (start, end or None)."""
    df = pd.DataFrame(
        {
            "start": [a for a, _ in spans],
            "end": pd.Series([b for _, b in spans], dtype="datetime64[us, UTC]"),
            "exchange": exchange,
            "symbol": pd.Series([None] * len(spans), dtype="string"),
            "table_name": "liquidations",
            "reason": "stream silent",
            "ts": [a for a, _ in spans],
        }
    )
    good, bad = schema.validate("gaps", df)
    assert bad.empty, bad
    return good


AROUND = [START - MS, START, START + 30 * MINUTE, END - MS, END, END + MS]
"""1 ms before the start, the start, inside, 1 ms before the end, the end, 1 ms after."""


# ---- Store.read -----------------------------------------------------------------------------


def test_store_read_keeps_the_start_and_drops_the_end(tmp_path):
    store = Store(tmp_path)
    store.write("liquidations", events(AROUND))
    got = store.read("liquidations", START, END)["ts"].tolist()
    assert got == [START, START + 30 * MINUTE, END - MS]


def test_store_read_just_past_midnight_reads_the_next_days_partition(tmp_path):
    """An end 1 ms past midnight keeps the event at midnight (the 2025-01-02 partition); a
    start 1 ms before midnight keeps the 23:59:59.999 event (2025-01-01)."""
    store = Store(tmp_path)
    store.write("liquidations", events(AROUND))
    assert store.read("liquidations", START, END + MS)["ts"].iloc[-1] == END
    assert store.read("liquidations", END - MS, END + pd.Timedelta(days=1))["ts"].tolist() == [
        END - MS,
        END,
        END + MS,
    ]


# ---- bars: load_bars, the notebooks' Dataset, bars built from events ------------------------


def stored_bars(tmp_path) -> Store:
    """Hourly okx bars from 20:00 to 01:00 (across the window 22:00..00:00 and past it)."""
    store = Store(tmp_path)
    hours = [-2, -1, 0, 1, 2, 3]  # from START: 20:00 .. 01:00
    store.write(
        "liquidation_bars",
        liquidation_bars([(k, "okx", 10.0 * (k + 3), 1.0) for k in hours], t0=START),
    )
    return store


def test_load_bars_keeps_the_first_and_the_last_hour_of_the_window(tmp_path):
    store = stored_bars(tmp_path)
    bars = load_bars(store, START, END, precedence=())
    assert bars["ts"].tolist() == [START, END - H]  # 22:00 and 23:00, not 00:00
    assert bars["long_usd"].tolist() == [30.0, 40.0]
    assert load_bars(store, START + MS, END + MS, precedence=())["ts"].tolist() == [END - H, END]


def test_the_notebooks_window_has_its_last_hour(tmp_path):
    store = stored_bars(tmp_path)
    ds = Dataset.open(str(tmp_path), START.isoformat(), END.isoformat(), precedence=[])
    assert ds.bars()["ts"].tolist() == [START, END - H]
    window = ds.window
    assert window.grid().tolist() == [START, END - H]
    assert bars_in_window(ds.bars(), window)["ts"].tolist() == [START, END - H]
    hourly = venue_hourly(store.read("liquidation_bars"), window)
    assert hourly["okx"].tolist() == [31.0, 41.0]  # long + short of 22:00 and 23:00
    cov = pair_coverage(store.read("liquidation_bars"), window)
    assert cov.loc[("okx", "BTC/USDT:USDT"), ["bars", "missing_bars"]].tolist() == [2, 0]


def test_bars_built_for_the_window_keep_the_start_and_drop_the_end(tmp_path):
    store = Store(tmp_path)
    store.write("liquidations", events(AROUND))
    bars = aggregate_store(store, "1h", START, END)
    # events at 22:00, 22:30 and 23:59:59.999: the 22:00 bar (2 events) and the 23:00 bar
    assert bars["ts"].tolist() == [START, END - H]
    assert bars["long_count"].tolist() == [2, 1]
    assert build_bars(store, "1h", START, END).written == 2
    assert load_bars(store, START, END, precedence=())["long_usd"].tolist() == [200.0, 100.0]
    # 1 ms past midnight: the event at 00:00 (the next day's partition) makes a third bar
    assert aggregate_store(store, "1h", START, END + MS)["ts"].tolist() == [START, END - H, END]


def test_a_full_window_of_bars_ends_with_its_last_hour():
    bars = bars_from_events(events([START + 10 * MS]), "1h", START, END)
    assert bars["ts"].tolist() == [START, END - H]
    assert bars["long_usd"].tolist() == [100.0, 0.0]


# ---- gaps -----------------------------------------------------------------------------------

EARLY, BAR = START - H, START + H
"""The 21:00 bar (before the window) and the 23:00 bar, ``[23:00, 00:00)``."""
QUIET = [EARLY + 5 * MS, END - 5 * MS]
"""Events at 21:00:00.005 and 23:59:59.995: okx is observed in the bars 21:00, 22:00, 23:00."""


@pytest.mark.parametrize(
    "gap, missing",
    [
        ((EARLY + 30 * MINUTE, START), [EARLY]),  # ends exactly at 22:00: 22:00 is observed
        ((EARLY + 30 * MINUTE, START + MS), [EARLY, START]),  # 1 ms into it: missing
        ((START, BAR), [START]),  # one whole bar
        ((START, BAR + MS), [START, BAR]),
        ((END, END + H), []),  # starts exactly at the 23:00 bar's close
        ((END - MS, END + H), [BAR]),  # starts 1 ms before it
        ((BAR + 10 * MS, None), [BAR]),  # still open (no end)
    ],
    ids=["ends-at-open", "ends-1ms-after-open", "one-bar", "one-bar-and-1ms",
         "starts-at-close", "starts-1ms-before-close", "still-open"],
)  # fmt: skip
def test_a_gap_makes_a_bar_missing_only_when_they_overlap(gap, missing):
    got = bars_from_events(events(QUIET), "1h", gaps=gaps([gap]))
    assert got["ts"].tolist() == [t for t in [EARLY, START, BAR] if t not in missing]
    mask = venue_gap_mask(gaps([gap]), win(EARLY, END, ["okx"]))["okx"]
    assert mask[mask].index.tolist() == missing


def test_the_dask_path_drops_the_same_gap_bars():
    """Only where Dask is installed (the ``bench`` extra): its gap rule is the same."""
    pytest.importorskip("dask")
    from helpers.distributed import drop_gap_bars

    bars = bars_from_events(events(QUIET), "1h")
    for gap in [(START, BAR), (START, BAR + MS), (END, END + H), (BAR + 10 * MS, None)]:
        expected = bars_from_events(events(QUIET), "1h", gaps=gaps([gap]))["ts"].tolist()
        assert drop_gap_bars(bars, gaps([gap]), 3600)["ts"].tolist() == expected, gap


def test_a_gap_ending_at_a_bars_open_leaves_it_observed_in_the_store(tmp_path):
    store = Store(tmp_path)
    store.write("liquidations", events(QUIET))
    store.write("gaps", gaps([(START, BAR)]))
    assert aggregate_store(store, "1h", EARLY, END)["ts"].tolist() == [EARLY, BAR]
    assert build_bars(store, "1h", EARLY, END).written == 2
    assert load_bars(store, START, END, precedence=())["ts"].tolist() == [BAR]
    store.write("gaps", gaps([(START, BAR + MS)]))  # the same gap (same key), 1 ms longer
    assert aggregate_store(store, "1h", EARLY, END)["ts"].tolist() == [EARLY]


def test_coverage_counts_a_gap_bar_only_when_the_gap_reaches_into_it(tmp_path):
    bars = liquidation_bars([(0, "okx", 1.0, 1.0)], t0=START)  # 23:00 has no row
    window = win(START, END, ["okx"])
    touching = venue_coverage(bars, gaps([(START + 30 * MINUTE, BAR)]), window).loc["okx"]
    assert (touching["gap_bars"], touching["unexplained_no_data_bars"]) == (1, 1)
    into = venue_coverage(bars, gaps([(START + 30 * MINUTE, BAR + MS)]), window).loc["okx"]
    assert (into["gap_bars"], into["unexplained_no_data_bars"]) == (2, 0)


def test_the_notebooks_gaps_keep_one_still_open_and_drop_one_ending_at_the_start(tmp_path):
    store = Store(tmp_path)
    store.write("liquidations", events(QUIET))
    store.write(
        "gaps",
        pd.concat(
            [gaps([(START - H, START)]), gaps([(BAR + MS, None)]), gaps([(END, None)])],
            ignore_index=True,
        ),
    )
    ds = Dataset.open(str(tmp_path), START.isoformat(), END.isoformat(), precedence=[])
    assert ds.gaps()["start"].tolist() == [BAR + MS]


# ---- the report's date ----------------------------------------------------------------------


def test_a_report_ending_at_midnight_is_dated_the_day_before():
    assert report_date(None, END) == START.date()
    assert report_date(None, END + MS) == END.date()
