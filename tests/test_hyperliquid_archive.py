"""fetch-hyperliquid on local archive folders written in each layout's documented format
(and from Hyperliquid's real 2023 liquidations, read in place from ../shared/realdata):
one event per liquidated user's fill, counterparties dropped, node_trades hours as gaps,
bad files a one-line error that keeps what was stored, resume and day skips."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import lz4.frame
import pandas as pd
import pytest

from helpers.aggregate import aggregate_store
from helpers.cli import main
from helpers.sources import hyperliquid_archive as hla
from helpers.sources.hyperliquid_archive import NODE_FILLS, NODE_FILLS_BY_BLOCK, NODE_TRADES
from helpers.sources.hyperliquid_archive.state import ArchiveState
from helpers.store import Store

ROOT = Path(__file__).resolve().parents[1]
DAY = pd.Timestamp("2025-08-01", tz="UTC")
VICTIM = "0x" + "a1" * 20
OTHER_VICTIM = "0x" + "c3" * 20
MAKER = "0x" + "b2" * 20


# ---- writing archives in the documented formats ------------------------------------------


def api_fill(
    tid: int,
    at: pd.Timestamp,
    side: str,
    px: float,
    sz: float,
    *,
    coin: str = "BTC",
    dir_: str | None = None,
    victim: str | None = VICTIM,
) -> dict[str, Any]:
    """A fill in the API format ("Retrieve a user's fills"), with the ``liquidation`` object
    when ``victim`` is given."""
    fill: dict[str, Any] = {
        "coin": coin,
        "px": repr(px),
        "sz": repr(sz),
        "side": side,
        "time": int(at.value // 1_000_000),
        "startPosition": "1.0",
        "dir": dir_ or {"A": "Close Long", "B": "Close Short"}[side],
        "closedPnl": "-1.0",
        "hash": "0x" + "0" * 64,
        "oid": 1000 + tid,
        "crossed": True,
        "fee": "0.0",
        "tid": tid,
        "feeToken": "USDC",
    }
    if victim is not None:
        fill["liquidation"] = {"liquidatedUser": victim, "markPx": repr(px), "method": "market"}
    return fill


def both_legs(fill: dict[str, Any], user: str = VICTIM) -> list[list[Any]]:
    """The liquidated user's fill and the counterparty's (opposite side, same trade)."""
    other = {**fill, "side": "B" if fill["side"] == "A" else "A", "dir": "Open Long"}
    return [[user, fill], [MAKER, other]]


def write_lz4(path: Path, lines: Iterable[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lz4.frame.compress("".join(f"{line}\n" for line in lines).encode()))
    return path


def write_by_block(root: Path, hour: pd.Timestamp, blocks: Sequence[list[list[Any]]]) -> Path:
    """node_fills_by_block: one block a line, ``events`` = [[user, fill], ...]."""
    lines = [
        json.dumps(
            {
                "local_time": f"{hour:%Y-%m-%dT%H}:00:00.5",
                "block_time": f"{hour:%Y-%m-%dT%H}:00:00.4",
                "block_number": 600_000_000 + i,
                "events": events,
            }
        )
        for i, events in enumerate(blocks)
    ]
    return write_lz4(root / NODE_FILLS_BY_BLOCK.key(hour), lines)


def write_node_fills(root: Path, hour: pd.Timestamp, events: Sequence[list[Any]]) -> Path:
    """node_fills: ``[user, fill]`` a line."""
    return write_lz4(root / NODE_FILLS.key(hour), [json.dumps(e) for e in events])


def write_node_trades(root: Path, hour: pd.Timestamp) -> Path:
    """node_trades: one trade a line, both users in ``side_info``, no liquidation object."""
    trade = {
        "coin": "BTC",
        "side": "A",
        "time": f"{hour:%Y-%m-%dT%H}:10:00.000984711",
        "px": "95000.0",
        "sz": "0.5",
        "hash": "0x" + "0" * 64,
        "trade_dir_override": "Na",
        "side_info": [
            {"user": MAKER, "start_pos": "1.0", "oid": 1, "twap_id": None, "cloid": None},
            {"user": VICTIM, "start_pos": "0.5", "oid": 2, "twap_id": None, "cloid": None},
        ],
    }
    return write_lz4(root / NODE_TRADES.key(hour), [json.dumps(trade)])


def fetch(
    archive: Path | str, data: Path, start: pd.Timestamp, end: pd.Timestamp, *extra: str
) -> int:
    return main(
        ["fetch-hyperliquid", "--start", start.isoformat(), "--end", end.isoformat(),
         "--source", str(archive), "--data-dir", str(data), *extra]
    )  # fmt: skip


# ---- the rules -----------------------------------------------------------------------------


def test_each_piece_of_a_liquidation_is_one_event_and_counterparties_are_dropped(tmp_path):
    archive, data = tmp_path / "archive", tmp_path / "data"
    t = DAY + pd.Timedelta(minutes=5)
    pieces = [api_fill(11, t, "A", 95000.0, 0.25), api_fill(12, t, "A", 94990.0, 0.5)]
    pieces.append(api_fill(13, t, "A", 94980.0, 0.125))
    short = api_fill(
        21, t + pd.Timedelta(minutes=1), "B", 3500.0, 2.0, coin="ETH", victim=OTHER_VICTIM
    )
    plain = api_fill(31, t, "B", 95000.0, 1.0, victim=None)  # an ordinary trade
    blocks = [both_legs(pieces[0]) + both_legs(pieces[1]), both_legs(pieces[2])]
    blocks.append(both_legs(short, OTHER_VICTIM) + [[MAKER, plain]])
    write_by_block(archive, DAY, blocks)
    assert fetch(archive, data, DAY, DAY + pd.Timedelta(hours=1)) == 0
    got = Store(data).read("liquidations").set_index("event_id")
    assert sorted(got.index) == ["tid:11", "tid:12", "tid:13", "tid:21"]
    assert set(got["exchange"]) == {"hyperliquid"}
    assert set(got["source"]) == {"hyperliquid:node-archive"}
    btc = got.loc[["tid:11", "tid:12", "tid:13"]]
    assert set(btc["side"]) == {"long"} and set(btc["symbol"]) == {"BTC/USDC:USDC"}
    expected = sum(float(p["px"]) * float(p["sz"]) for p in pieces)
    assert btc["notional_usd"].sum() == pytest.approx(expected)
    assert got.loc["tid:21", "side"] == "short" and got.loc["tid:21", "base"] == "ETH"
    assert got.loc["tid:21", "notional_usd"] == pytest.approx(7000.0)
    assert got.loc["tid:11", "ts"] == t


def test_node_fills_layout_and_coin_selection(tmp_path):
    archive, data = tmp_path / "archive", tmp_path / "data"
    hour = pd.Timestamp("2025-06-01T03:00", tz="UTC")
    eth = api_fill(5, hour + pd.Timedelta(minutes=30), "B", 2500.0, 4.0, coin="ETH")
    btc = api_fill(6, hour + pd.Timedelta(minutes=31), "A", 104000.0, 0.1)
    write_node_fills(archive, hour, both_legs(eth) + both_legs(btc))
    assert fetch(archive, data, hour, hour + pd.Timedelta(hours=1), "--coins", "eth") == 0
    got = Store(data).read("liquidations")
    assert list(got["event_id"]) == ["tid:5"] and list(got["side"]) == ["short"]


def test_dir_contradicting_the_side_is_quarantined_with_the_reason(tmp_path, capsys):
    archive, data = tmp_path / "archive", tmp_path / "data"
    bad = api_fill(40, DAY + pd.Timedelta(minutes=2), "B", 95000.0, 1.0, dir_="Close Long")
    good = api_fill(41, DAY + pd.Timedelta(minutes=3), "A", 95000.0, 1.0)
    write_by_block(archive, DAY, [both_legs(bad) + both_legs(good)])
    assert fetch(archive, data, DAY, DAY + pd.Timedelta(hours=1)) == 0
    store = Store(data)
    assert list(store.read("liquidations")["event_id"]) == ["tid:41"]
    (qfile,) = store.quarantine_files("liquidations")
    kept = pd.read_parquet(qfile)
    assert list(kept["event_id"]) == ["tid:40"]
    assert list(kept["reason"]) == ["dir 'Close Long' contradicts side 'B'"]
    assert main(["doctor", "--data-dir", str(data)]) == 0  # a note, not damage
    assert "1 dir 'Close Long' contradicts side 'B'" in capsys.readouterr().out


def test_a_handover_hour_is_read_from_every_layout_present(tmp_path):
    archive, data = tmp_path / "archive", tmp_path / "data"
    hour = pd.Timestamp("2025-07-27T08:00", tz="UTC")
    early = api_fill(70, hour + pd.Timedelta(minutes=1), "A", 118000.0, 0.2)
    late = api_fill(71, hour + pd.Timedelta(minutes=50), "B", 118500.0, 0.3)
    write_node_fills(archive, hour, both_legs(early))
    write_by_block(archive, hour, [both_legs(early), both_legs(late)])  # early in both
    assert fetch(archive, data, hour, hour + pd.Timedelta(hours=1)) == 0
    got = Store(data).read("liquidations")
    assert list(got["event_id"]) == ["tid:70", "tid:71"]
    assert Store(data).read("gaps").empty


def test_node_trades_hours_are_gaps_not_hours_without_liquidations(tmp_path):
    archive, data = tmp_path / "archive", tmp_path / "data"
    start = pd.Timestamp("2025-05-25T10:00", tz="UTC")
    write_by_block(archive, start, [both_legs(api_fill(1, start, "A", 100000.0, 1.0))])
    write_node_trades(archive, start + pd.Timedelta(hours=1))  # 11:00: trades only
    # 12:00: no file in any layout
    last = start + pd.Timedelta(hours=3)
    write_node_fills(archive, last, both_legs(api_fill(2, last, "B", 101000.0, 1.0)))
    assert fetch(archive, data, start, start + pd.Timedelta(hours=4)) == 0
    store = Store(data)
    gaps = store.read("gaps").set_index("start")
    assert list(gaps.index) == [start + pd.Timedelta(hours=1), start + pd.Timedelta(hours=2)]
    assert "node_trades" in gaps["reason"].iloc[0] and "not mark" in gaps["reason"].iloc[0]
    assert "no file" in gaps["reason"].iloc[1]
    assert gaps["symbol"].isna().all() and set(gaps["exchange"]) == {"hyperliquid"}
    bars = aggregate_store(store, "1h", start, start + pd.Timedelta(hours=4))
    assert list(bars["ts"]) == [start, last]  # the gap hours are missing, never zero


def test_a_truncated_file_stops_with_one_line_keeps_earlier_hours_and_resumes(tmp_path, capsys):
    archive, data = tmp_path / "archive", tmp_path / "data"
    first = api_fill(1, DAY + pd.Timedelta(minutes=1), "A", 95000.0, 1.0)
    write_by_block(archive, DAY, [both_legs(first)])
    second = DAY + pd.Timedelta(hours=1)
    path = write_by_block(archive, second, [both_legs(api_fill(2, second, "A", 94000.0, 1.0))])
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) - 7])
    assert fetch(archive, data, DAY, DAY + pd.Timedelta(hours=2)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "node_fills_by_block/hourly/20250801/1.lz4" in err and "LZ4" in err
    assert "1 hour stored by this run before 2025-08-01T01:00Z" in err
    assert "(1 new liquidations) are kept; a rerun resumes at that hour" in err
    store = Store(data)
    assert list(store.read("liquidations")["event_id"]) == ["tid:1"]
    assert ArchiveState(data).done(None) == {"2025-08-01T00"}
    # the copy is mended; the first hour is done and is not read again (its file is gone)
    (archive / NODE_FILLS_BY_BLOCK.key(DAY)).unlink()
    path.write_bytes(whole)
    assert fetch(archive, data, DAY, DAY + pd.Timedelta(hours=2)) == 0
    assert list(store.read("liquidations")["event_id"]) == ["tid:1", "tid:2"]
    assert store.read("gaps").empty


@pytest.mark.parametrize(
    "line",
    ['{"local_time": "x", "events": [["0xa", {"liquidation": ', '["0xa", {"coin": "BTC"'],
    ids=["cut-with-liquidation", "cut-without"],
)
def test_a_malformed_line_is_one_line_error_and_the_hour_is_not_done(tmp_path, capsys, line):
    archive, data = tmp_path / "archive", tmp_path / "data"
    good = json.dumps({"local_time": "x", "block_time": "x", "block_number": 1,
                       "events": both_legs(api_fill(1, DAY, "A", 95000.0, 1.0))})  # fmt: skip
    write_lz4(archive / NODE_FILLS_BY_BLOCK.key(DAY), [good, line])
    assert fetch(archive, data, DAY, DAY + pd.Timedelta(hours=1)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line 2" in err
    assert not Store(data).has_data("liquidations")
    assert ArchiveState(data).done(None) == set()


def test_a_day_already_stored_is_skipped(tmp_path, capsys):
    archive, data = tmp_path / "archive", tmp_path / "data"
    for hour in pd.date_range(DAY, periods=24, freq="h"):
        fill = api_fill(hour.hour + 1, hour + pd.Timedelta(minutes=9), "A", 95000.0, 0.1)
        write_by_block(archive, hour, [both_legs(fill)])
    end = DAY + pd.Timedelta(days=1)
    assert fetch(archive, data, DAY, end, "--coins", "BTC") == 0
    capsys.readouterr()
    for f in (archive / "node_fills_by_block").rglob("*.lz4"):
        f.write_bytes(b"not lz4 any more")  # a run that opened any file would fail
    assert fetch(archive, data, DAY, end, "--coins", "BTC") == 0
    assert "24 already stored (1 days skipped)" in capsys.readouterr().out
    assert len(Store(data).read("liquidations")) == 24
    # hours done for BTC only are not done for every coin: that run reads the files
    assert fetch(archive, data, DAY, end) == 2


def test_s3_needs_credentials_from_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    code = main(["fetch-hyperliquid", "--start", "2025-08-01", "--end", "2025-08-01T01:00",
                 "--data-dir", str(tmp_path / "data")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "requester-pays" in err and "AWS_ACCESS_KEY_ID" in err


# ---- Hyperliquid's real 2023 liquidations, written as an archive ---------------------------


def real_archive(realdata: Path, root: Path) -> pd.DataFrame:
    """The single-coin liquidations of ``hyperliquid_official_liquidations_2023_enriched.csv``
    written into node_fills_by_block files (each split into its ``n_fills`` equal pieces at
    the fill VWAP, each piece with its counterparty's leg); the rows written, with
    ``expected_side`` from the file's inferred liquidated position."""
    src = realdata / "hyperliquid_official_liquidations_2023_enriched.csv"
    raw = pd.read_csv(src, parse_dates=["time"])
    rows = raw[~raw["coins"].str.contains("|", regex=False)].reset_index(drop=True)
    by_hour: dict[pd.Timestamp, list[list[list[Any]]]] = {}
    tid = 0
    for r in rows.itertuples():
        side = {"Ask": "A", "Bid": "B"}[r.user_trade_sides]
        block = []
        for _ in range(int(r.n_fills)):
            tid += 1
            fill = api_fill(tid, r.time, side, float(r.vwap_px), r.fill_sz / r.n_fills,
                            coin=r.coins, victim=r.user.lower())  # fmt: skip
            block += both_legs(fill, r.user.lower())
        by_hour.setdefault(r.time.floor("h"), []).append(block)
    for hour, blocks in by_hour.items():
        write_by_block(root, hour, blocks)
    return rows.assign(hour=rows["time"].dt.floor("h"))


@pytest.mark.realdata
def test_real_2023_hyperliquid_liquidations_read_back_per_hour(realdata, tmp_path):
    archive, data = tmp_path / "archive", tmp_path / "data"
    rows = real_archive(realdata, archive)
    worst = rows.groupby("hour")["fill_ntl"].sum().idxmax()
    day = worst.floor("D")
    assert fetch(archive, data, day, day + pd.Timedelta(days=1)) == 0
    got = Store(data).read("liquidations")
    mine = rows[rows["hour"].dt.floor("D") == day]
    assert len(got) == mine["n_fills"].sum()
    per = got.groupby([got["ts"].dt.floor("h"), "side"])["notional_usd"].sum()
    want = mine.groupby(["hour", "liquidated_position_inferred"])["fill_ntl"].sum()
    assert sorted(per.index) == sorted(want.index)
    for key, usd in want.items():
        assert per[key] == pytest.approx(usd, rel=1e-9)


# ---- a report from a store filled only by the reader ---------------------------------------


@pytest.mark.slow
def test_report_from_the_archive_alone_shows_hourly_longs_shorts_and_the_worst_hour(tmp_path):
    archive, data = tmp_path / "archive", tmp_path / "data"
    fills: list[dict[str, Any]] = []
    tid = 0
    for hour in pd.date_range(DAY, periods=24, freq="h"):
        events: list[list[Any]] = []
        for k in range(1 + hour.hour % 4):  # 1 to 4 liquidations an hour
            tid += 1
            side = "A" if (hour.hour + k) % 3 else "B"
            size = 0.05 * (1 + (hour.hour * 7 + k) % 11)
            fills.append(api_fill(tid, hour + pd.Timedelta(minutes=5 + k), side, 95000.0, size))
            events += both_legs(fills[-1])
        write_by_block(archive, hour, [events])
    assert fetch(archive, data, DAY, DAY + pd.Timedelta(days=1)) == 0
    out = tmp_path / "reports"
    code = main(
        ["report", "--params", str(ROOT / "params" / "daily.yaml"), "--data-dir", str(data),
         "--out", str(out), "--notebooks", str(ROOT / "notebooks"),
         "-p", f"start={DAY.isoformat()}", "-p", f"end={(DAY + pd.Timedelta(days=1)).isoformat()}"]
    )  # fmt: skip
    assert code == 0
    summary = json.loads((out / f"{DAY:%Y-%m-%d}" / "summary.json").read_text())
    assert summary["simulated"] is False and summary["sources"] == ["hyperliquid:node-archive"]
    frame = pd.DataFrame(fills)
    frame["usd"] = frame["px"].astype(float) * frame["sz"].astype(float)
    frame["hour"] = pd.to_datetime(frame["time"], unit="ms", utc=True).dt.floor("h")
    longs = frame[frame["side"] == "A"].groupby("hour")["usd"].sum()
    shorts = frame[frame["side"] == "B"].groupby("hour")["usd"].sum()
    figs = summary["notebooks"]["01_liquidation_imbalance"]["figures"]
    assert figs["window_long_usd"]["value"] == pytest.approx(longs.sum())
    assert figs["window_short_usd"]["value"] == pytest.approx(shorts.sum())
    assert pd.Timestamp(figs["worst_bar_ts"]["value"]) == longs.idxmax()  # most longs
    assert figs["worst_bar_long_usd"]["value"] == pytest.approx(longs.max())
    venues = summary["notebooks"]["02_venue_breakdown"]["figures"]
    assert venues["long_usd_hyperliquid"]["value"] == pytest.approx(longs.sum())
    page = (out / f"{DAY:%Y-%m-%d}" / "01_liquidation_imbalance.html").read_text()
    assert "Hyperliquid" in page and "SIMULATED DATA" not in page


def test_lines_split_across_decompressed_chunks_come_out_whole(tmp_path):
    lines = [json.dumps({"n": i, "pad": "x" * (i % 13)}) for i in range(200)]
    path = write_lz4(tmp_path / "f.lz4", lines)
    with path.open("rb") as raw:
        got = [line.decode() for line in hla.iter_lines(raw, "f.lz4", chunk=7)]
    assert got == lines


def test_any_fsspec_url_with_the_same_layout_is_read(tmp_path):
    import fsspec

    local = tmp_path / "archive"
    write_by_block(local, DAY, [both_legs(api_fill(9, DAY, "A", 95000.0, 1.0))])
    mem = fsspec.filesystem("memory")
    key = NODE_FILLS_BY_BLOCK.key(DAY)
    mem.pipe(f"/hl-copy/{key}", (local / key).read_bytes())
    try:
        assert fetch("memory://hl-copy", tmp_path / "data", DAY, DAY + pd.Timedelta(hours=1)) == 0
    finally:
        mem.rm("/hl-copy", recursive=True)
    assert list(Store(tmp_path / "data").read("liquidations")["event_id"]) == ["tid:9"]


def test_an_interrupted_fetch_says_what_it_kept_and_where_a_rerun_resumes(tmp_path):
    """A real SIGINT to the command while it reads the second hour (a FIFO that blocks the
    read until the signal): exit 130, one line naming the stored hour and the resume point,
    the first hour stored and done, the second neither."""
    archive, data = tmp_path / "archive", tmp_path / "data"
    write_by_block(archive, DAY, [both_legs(api_fill(1, DAY, "A", 95000.0, 1.0))])
    blocking = archive / NODE_FILLS_BY_BLOCK.key(DAY + pd.Timedelta(hours=1))
    blocking.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(blocking)
    cmd = [sys.executable, "-m", "helpers", "fetch-hyperliquid", "--start", DAY.isoformat(),
           "--end", (DAY + pd.Timedelta(hours=2)).isoformat(), "--source", str(archive),
           "--data-dir", str(data)]  # fmt: skip
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while ArchiveState(data).done(None) != {"2025-08-01T00"}:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)  # into the blocking open of the second hour's file
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert lines == [
        "error: interrupted: 1 hour stored by this run before 2025-08-01T01:00Z "
        "(1 new liquidations) are kept; a rerun resumes at that hour"
    ]
    assert list(Store(data).read("liquidations")["event_id"]) == ["tid:1"]
    assert ArchiveState(data).done(None) == {"2025-08-01T00"}
