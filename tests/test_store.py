from __future__ import annotations

import os

import pandas as pd
import pyarrow.parquet as pq
import pytest

from helpers import schema
from helpers.store import Store


def _events(**over) -> pd.DataFrame:
    base = {
        "ts": pd.to_datetime(
            ["2025-01-01 00:00:01", "2025-01-01 01:30:00", "2025-01-02 00:00:00"], utc=True
        ),
        "exchange": ["binanceusdm", "okx", "okx"],
        "symbol": ["BTC/USDT:USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"],
        "base": ["BTC", "BTC", "ETH"],
        "side": ["long", "short", "long"],
        "price": [90_000.0, 91_000.0, 3_000.0],
        "amount": [0.5, 0.1, 2.0],
        "notional_usd": [45_000.0, 9_100.0, 6_000.0],
        "source": "test",
        "event_id": ["a", "b", "c"],
    }
    base.update(over)
    return pd.DataFrame(base)


def test_write_partitions_by_exchange_and_date(tmp_path):
    store = Store(tmp_path)
    result = store.write("liquidations", _events())
    assert (result.offered, result.written, result.quarantined) == (3, 3, 0)
    parts = sorted(p.relative_to(tmp_path).as_posix() for p in store.files("liquidations"))
    assert parts == [
        "liquidations/exchange=binanceusdm/date=2025-01-01/part.parquet",
        "liquidations/exchange=okx/date=2025-01-01/part.parquet",
        "liquidations/exchange=okx/date=2025-01-02/part.parquet",
    ]


def test_write_is_idempotent_and_newest_wins(tmp_path):
    store = Store(tmp_path)
    store.write("liquidations", _events())
    again = store.write("liquidations", _events())
    assert again.written == 0
    revised = _events(notional_usd=[45_000.0, 9_999.0, 6_000.0])
    result = store.write("liquidations", revised)
    assert (result.written, result.changed, result.kept_missing) == (0, 1, 0)
    assert str(result).endswith(", 1 rows changed value")
    out = store.read("liquidations")
    assert len(out) == 3
    assert out.set_index("event_id").loc["b", "notional_usd"] == 9_999.0


def test_read_pushes_window_exchange_and_symbol_filters(tmp_path):
    store = Store(tmp_path)
    store.write("liquidations", _events())
    # half-open window [00:30, 2025-01-02 00:00) keeps only the okx BTC row at 01:30
    out = store.read("liquidations", "2025-01-01T00:30:00Z", "2025-01-02T00:00:00Z")
    assert out["event_id"].tolist() == ["b"]
    assert store.read("liquidations", exchanges=["okx"])["event_id"].tolist() == ["b", "c"]
    assert store.read("liquidations", symbols=["ETH/USDT:USDT"])["event_id"].tolist() == ["c"]
    assert store.read("liquidations", exchanges=[]).empty


def test_read_returns_canonical_dtypes(tmp_path):
    store = Store(tmp_path)
    store.write("liquidations", _events())
    out = store.read("liquidations")
    assert list(out.columns) == schema.table("liquidations").column_names
    assert str(out["ts"].dtype) == "datetime64[us, UTC]"
    assert out["ts"].iloc[0] == pd.Timestamp("2025-01-01 00:00:01", tz="UTC")


def test_read_of_empty_table_is_empty_with_columns(tmp_path):
    out = Store(tmp_path).read("ohlcv")
    assert out.empty and list(out.columns) == schema.table("ohlcv").column_names


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("price", -1.0, "price: must be positive"),
        ("price", None, "price: missing"),
        ("amount", 0.0, "amount: must be positive"),
        ("side", "sell", "side: must be 'long' or 'short'"),
        ("ts", "2025-01-01 00:00:00", "naive timestamp"),
        ("ts", "yesterday-ish", "unparseable timestamp"),
        ("exchange", "", "exchange: missing"),
    ],
)
def test_bad_rows_go_to_quarantine_with_reason(tmp_path, column, value, reason):
    store = Store(tmp_path)
    df = _events().astype({"ts": object}) if column == "ts" else _events()
    df.loc[1, column] = value
    result = store.write("liquidations", df)
    assert (result.written, result.quarantined) == (2, 1)
    [qfile] = store.quarantine_files("liquidations")
    q = pd.read_parquet(qfile)
    assert q["event_id"].tolist() == ["b"]
    assert reason in q["reason"].iloc[0]
    assert "b" not in store.read("liquidations")["event_id"].tolist()


def test_naive_datetime_column_is_rejected_whole(tmp_path):
    df = _events(ts=pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-02"]))
    result = Store(tmp_path).write("liquidations", df)
    assert (result.written, result.quarantined) == (0, 3)


def test_offset_timestamps_are_converted_to_utc(tmp_path):
    store = Store(tmp_path)
    df = _events(ts=["2025-01-01T02:00:01+02:00", "2025-01-01T01:30:00Z", "2025-01-02T00:00:00Z"])
    store.write("liquidations", df)
    first = store.read("liquidations")["ts"].iloc[0]
    assert first == pd.Timestamp("2025-01-01 00:00:01", tz="UTC")


def test_failed_write_keeps_previous_partition(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.write("liquidations", _events())
    path = store.files("liquidations")[0]
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", explode)
    with pytest.raises(OSError, match="disk full"):
        store.write("liquidations", _events(event_id=["x", "y", "z"]))
    assert path.read_bytes() == before
    leftovers = [p for p in path.parent.iterdir() if p.name != "part.parquet"]
    assert leftovers == []
    assert len(store.read("liquidations")) == 3


def test_market_caps_partition_by_date_only(tmp_path):
    store = Store(tmp_path)
    df = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2025-11-17T00:00:00Z"] * 2),
            "coin": ["bitcoin", "ethereum"],
            "symbol": ["BTC", "ETH"],
            "name": ["Bitcoin", "Ethereum"],
            "price_usd": [85_000.0, 2_800.0],
            "market_cap_usd": [1.7e12, 3.4e11],
            "change_24h_pct": [-1.0, None],
            "source": "test",
        }
    )
    assert store.write("market_caps", df).written == 2
    [f] = store.files("market_caps")
    assert f.parent.name == "date=2025-11-17"
    out = store.read("market_caps")
    assert out["change_24h_pct"].isna().tolist() == [False, True]


def test_unknown_table_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown table 'liqs'"):
        Store(tmp_path).read("liqs")


def test_partition_values_cannot_escape_the_store(tmp_path):
    result = Store(tmp_path).write("liquidations", _events(exchange=["../etc", "okx", "okx"]))
    assert (result.written, result.quarantined) == (2, 1)
    assert result.first_reason == "exchange: not an identifier: '../etc'"
    assert not os.path.exists(tmp_path.parent / "etc")
    assert Store(tmp_path).exchanges() == ["okx"]


def test_missing_time_in_a_tz_aware_column_is_quarantined(tmp_path):
    df = _events()
    df.loc[2, "ts"] = pd.NaT
    result = Store(tmp_path).write("liquidations", df)
    assert (result.written, result.quarantined) == (2, 1)
    [qfile] = Store(tmp_path).quarantine_files("liquidations")
    assert pd.read_parquet(qfile)["reason"].tolist() == ["ts: missing timestamp"]


def _caps(**over) -> pd.DataFrame:
    base = {
        "ts": pd.to_datetime(["2025-11-17T00:00:00Z"] * 2),
        "coin": ["bitcoin", "ethereum"],
        "symbol": ["BTC", "ETH"],
        "name": ["Bitcoin", "Ethereum"],
        "price_usd": [85_000.0, 2_800.0],
        "market_cap_usd": [1.7e12, 3.4e11],
        "change_24h_pct": [-1.0, 2.0],
        "source": "test",
    }
    base.update(over)
    return pd.DataFrame(base)


def test_a_missing_value_never_replaces_a_stored_one(tmp_path):
    store = Store(tmp_path)
    store.write("market_caps", _caps())
    # bitcoin: a revised price, no name, no change; ethereum: nothing new but a missing change
    again = _caps(
        name=[None, "Ethereum"], price_usd=[86_000.0, 2_800.0], change_24h_pct=[None, None]
    )
    result = store.write("market_caps", again)
    assert (result.written, result.changed, result.kept_missing) == (0, 1, 3)
    assert str(result) == (
        "market_caps: 0 new of 2 rows in 1 partitions, 1 rows changed value, "
        "3 missing cells kept stored values"
    )
    out = store.read("market_caps").set_index("coin")
    assert out.loc["bitcoin", "price_usd"] == 86_000.0  # the newest value wins
    assert out.loc["bitcoin", "name"] == "Bitcoin"  # a missing one does not
    assert out["change_24h_pct"].tolist() == [-1.0, 2.0]


def test_missing_counts_keep_stored_counts_and_new_keys_stay_missing(tmp_path):
    def bars(long_count, short_usd, hours=(0, 1)):
        n = len(hours)
        return pd.DataFrame(
            {
                "ts": [pd.Timestamp("2025-01-01T00:00Z") + pd.Timedelta(hours=h) for h in hours],
                "interval": "1h",
                "exchange": "okx",
                "symbol": "BTC/USDT:USDT",
                "base": "BTC",
                "long_usd": [10.0] * n,
                "short_usd": short_usd,
                "long_count": pd.array(long_count, dtype="Int64"),
                "short_count": pd.array([1] * n, dtype="Int64"),
                "source": "test",
            }
        )

    store = Store(tmp_path)
    store.write("liquidation_bars", bars([5, 6], [1.0, 2.0]))
    result = store.write("liquidation_bars", bars([None, None, None], [None, 2.0, None], (0, 1, 2)))
    assert (result.written, result.changed, result.kept_missing) == (1, 0, 3)
    out = store.read("liquidation_bars")
    assert out["long_count"].tolist()[:2] == [5, 6] and pd.isna(out["long_count"].iloc[2])
    assert out["short_usd"].tolist()[:2] == [1.0, 2.0] and pd.isna(out["short_usd"].iloc[2])


def test_the_last_row_of_a_write_wins_and_null_keys_match(tmp_path):
    gap = {
        "start": pd.Timestamp("2025-01-01T00:00Z"),
        "exchange": "okx",
        "symbol": None,  # part of the key, and missing
        "table_name": "liquidations",
        "reason": "stream dropped",
        "ts": pd.Timestamp("2025-01-01T00:00Z"),
    }
    store = Store(tmp_path)
    closed = pd.DataFrame([gap]).assign(end=pd.to_datetime(["2025-01-01T00:05Z"], utc=True))
    assert store.write("gaps", closed).written == 1
    again = pd.DataFrame([{**gap, "reason": "y"}, {**gap, "reason": "x"}]).assign(
        end=pd.to_datetime(["2025-01-01T00:07Z", None], utc=True)
    )
    result = store.write("gaps", again)
    assert (result.written, result.changed, result.kept_missing) == (0, 1, 1)
    [row] = store.read("gaps").to_dict("records")
    assert row["end"] == pd.Timestamp("2025-01-01T00:05Z") and row["reason"] == "x"


def test_one_batch_into_new_partitions_keeps_the_last_of_each_key_in_time_order(tmp_path):
    """A shuffled batch over several new partitions, with keys repeated within a partition
    (the last row wins) and one key in two partitions (each partition keeps its own)."""
    ts = pd.to_datetime(
        ["2025-01-02 05:00", "2025-01-01 03:00", "2025-01-02 01:00", "2025-01-01 03:00",
         "2025-01-01 02:00", "2025-01-02 05:00", "2025-01-01 01:00"],
        utc=True,
    )  # fmt: skip
    rows = _events(
        ts=ts,
        exchange=["okx", "okx", "okx", "okx", "bybit", "okx", "okx"],
        symbol="BTC/USDT:USDT",
        base="BTC",
        side="long",
        price=1.0,
        amount=1.0,
        notional_usd=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        event_id=["z", "y", "x", "y", "y", "z", "zz"],  # ids not in time order
    )
    result = Store(tmp_path).write("liquidations", rows)
    assert (result.written, result.quarantined) == (5, 0)
    stored = {
        p.parent.parent.name + "/" + p.parent.name: pq.read_table(p).to_pandas()
        for p in Store(tmp_path).files("liquidations")
    }
    okx1 = stored["exchange=okx/date=2025-01-01"]
    assert okx1["event_id"].tolist() == ["zz", "y"] and okx1["notional_usd"].tolist() == [7.0, 4.0]
    okx2 = stored["exchange=okx/date=2025-01-02"]
    assert okx2["event_id"].tolist() == ["x", "z"] and okx2["notional_usd"].tolist() == [3.0, 6.0]
    assert stored["exchange=bybit/date=2025-01-01"]["event_id"].tolist() == ["y"]
