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
