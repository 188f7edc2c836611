from __future__ import annotations

import pandas as pd
import pytest

from helpers import timegrid as tg
from helpers.errors import UserError

T0 = pd.Timestamp("2025-11-10", tz="UTC")
H = pd.Timedelta(hours=1)


def test_window_grid_is_half_open_and_utc():
    grid = tg.window_grid(T0, T0 + 3 * H, "1h")
    assert list(grid) == [T0, T0 + H, T0 + 2 * H]
    assert str(grid.tz) == "UTC"
    assert len(tg.window_grid(T0, T0 + 8 * H, "4h")) == 2
    assert list(tg.window_grid(T0, T0 + H)) == [T0]
    assert list(tg.window_grid(T0, T0 + 2 * H, "1d")) == [T0]


def test_window_grid_rejects_naive_empty_off_grid_and_unknown():
    with pytest.raises(UserError, match="timezone"):
        tg.window_grid(pd.Timestamp("2025-11-10"), T0 + 2 * H)
    with pytest.raises(UserError, match="empty window"):
        tg.window_grid(T0 + 2 * H, T0 + 2 * H)
    with pytest.raises(UserError, match="not on the 1h grid"):
        tg.window_grid(T0 + H / 2, T0 + 2 * H)
    with pytest.raises(UserError, match="unknown interval"):
        tg.window_grid(T0, T0 + 2 * H, "2h")


def test_one_minute_is_a_minute_not_a_month():
    assert tg.interval_timedelta("1m") == pd.Timedelta(minutes=1)
    assert tg.interval_timedelta("1d") == pd.Timedelta(days=1)


def test_as_utc_takes_naive_as_utc_and_converts_offsets():
    assert tg.as_utc("2025-11-10 01:00") == T0 + H
    assert tg.as_utc("2025-11-10T03:00:00+02:00") == T0 + H


def test_window_of_checks_bounds_and_interval_and_converts_to_utc():
    w = tg.Window.of("2025-11-10T01:00:00+01:00", "2025-11-10T03:00", ["okx"], None, "1h")
    assert w.start == pd.Timestamp("2025-11-10T00:00", tz="UTC")
    assert w.end == pd.Timestamp("2025-11-10T03:00", tz="UTC")
    assert w.exchanges == ("okx",) and w.symbols is None
    assert list(w.grid()) == list(pd.date_range("2025-11-10", periods=3, freq="h", tz="UTC"))
    for bad in [("2025-11-10", "2025-11-10"), ("2025-11-11", "2025-11-10"), ("soon", "later")]:
        with pytest.raises(UserError):
            tg.Window.of(*bad)
    with pytest.raises(UserError, match="interval"):
        tg.Window.of("2025-11-10", "2025-11-11", interval="7m")


def test_window_extended_and_sources():
    w = tg.Window.of("2025-11-10T06:00Z", "2025-11-10T08:00Z", interval="1h")
    assert w.extended(3).start == pd.Timestamp("2025-11-10T03:00", tz="UTC")
    assert w.extended(3).end == w.end
    assert not w.simulated
    shown = w.with_sources(["demo", "ccxt:okx", "demo"])
    assert shown.sources == ("ccxt:okx", "demo") and shown.simulated


def test_dataset_window_carries_its_selection_and_sources(demo_store):
    from helpers.dataset import Dataset

    ds = Dataset.open(str(demo_store.root), "2025-11-12", "2025-11-13", ["okx"], None, "1h")
    w = ds.window
    assert (w.start, w.end, w.exchanges, w.interval) == (ds.start, ds.end, ("okx",), "1h")
    assert w.sources == ("demo",) and w.simulated
