"""The live collector: real ccxt.pro clients against local venues (tests/servers/ws_venues.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml
from servers.ws_venues import (
    BinanceStream,
    BybitStream,
    OkxStream,
    StreamVenue,
    bybit_liquidation,
    force_order,
    okx_liquidation,
)

from helpers.config import load_config, make_exchange
from helpers.errors import UserError
from helpers.sources import live
from helpers.store import Store

T = 1_722_470_400_000  # 2024-08-01 00:00:00 UTC, in ms


def write_config(tmp_path: Path, *venues: StreamVenue) -> Path:
    exchanges = {}
    for v in venues:
        entry = {"ccxt": v.ccxt_options()}
        if v.name == "bybit":
            entry["symbols"] = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
        exchanges[v.name] = entry
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"exchanges": exchanges}))
    return path


def collector(tmp_path: Path, *venues: StreamVenue, **kw) -> live.Collector:
    config = load_config(write_config(tmp_path, *venues))
    ids = [v.name for v in venues]
    kw.setdefault("backoff", 0.05)
    kw.setdefault("flush_seconds", 60.0)
    return live.Collector(
        Store(tmp_path / "store"),
        {i: make_exchange(config, i, pro=True) for i in ids},
        [s for i in ids for s in live.streams_for(i, config)],
        **kw,
    )


async def until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def run(c: live.Collector, scenario: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        task = asyncio.create_task(c.run())
        try:
            await scenario()
        finally:
            c.stop()
            await task

    asyncio.run(main())


async def call(fn: Callable[..., object], *args: object) -> None:
    await asyncio.to_thread(fn, *args)


def test_events_from_three_venues_are_stored_with_the_position_side(tmp_path):
    with BinanceStream() as bn, OkxStream() as ok, BybitStream() as bb:
        c = collector(tmp_path, bn, ok, bb)

        async def scenario() -> None:
            await call(bn.wait_subscribed)
            await call(ok.wait_subscribed)
            await call(bb.wait_subscribed, 2)
            await call(
                bn.push,
                force_order("BTCUSDT", "SELL", "0.5", "60000", T),  # ORDER side: long liquidated
                force_order("ETHUSDT", "BUY", "2", "3000", T + 1),
            )
            await call(
                ok.push,
                okx_liquidation("BTC-USDT-SWAP", "long", "sell", "5", "60000", T + 2),
                okx_liquidation("BTC-USD-SWAP", "short", "buy", "3", "60000", T + 3),
            )
            await call(
                bb.push,
                bybit_liquidation("BTCUSDT", "Buy", "0.5", "60000", T + 4),  # POSITION: long
                bybit_liquidation("ETHUSDT", "Sell", "1", "3000", T + 5),
            )
            await until(lambda: c.buffered == 6)

        run(c, scenario)
    got = Store(tmp_path / "store").read("liquidations").set_index("ts")
    row = {
        t: got.loc[pd.Timestamp(T + i, unit="ms", tz="UTC")]
        for i, t in enumerate(["bn_btc", "bn_eth", "ok_lin", "ok_inv", "bb_btc", "bb_eth"])
    }
    assert [row[k]["side"] for k in row] == ["long", "short", "long", "short", "long", "short"]
    # Binance USD-M: 0.5 BTC x 60,000 = 30,000; 2 ETH x 3,000 = 6,000
    assert (row["bn_btc"]["amount"], row["bn_btc"]["notional_usd"]) == (0.5, 30_000.0)
    assert row["bn_eth"]["notional_usd"] == 6_000.0
    # OKX linear: 5 contracts x ctVal 0.01 BTC = 0.05 BTC; x 60,000 = 3,000 USD
    assert row["ok_lin"]["amount"] == pytest.approx(0.05)
    assert row["ok_lin"]["notional_usd"] == pytest.approx(3_000.0)
    # OKX inverse: 3 contracts x 100 USD = 300 USD = 0.005 BTC at 60,000
    assert row["ok_inv"]["notional_usd"] == pytest.approx(300.0)
    assert row["ok_inv"]["amount"] == pytest.approx(0.005)
    # Bybit linear: 0.5 BTC x 60,000; 1 ETH x 3,000
    assert row["bb_btc"]["notional_usd"] == 30_000.0 and row["bb_eth"]["notional_usd"] == 3_000.0
    assert set(got["source"]) == {"ccxt.pro:binanceusdm", "ccxt.pro:okx", "ccxt.pro:bybit"}
    assert not Store(tmp_path / "store").has_data("gaps")
    assert "binanceusdm: 2 new liquidations stored" in c.summary()


def test_a_dropped_stream_reconnects_records_the_gap_and_stores_no_duplicates(tmp_path):
    e1 = force_order("BTCUSDT", "SELL", "0.5", "60000", T)
    e2 = force_order("BTCUSDT", "SELL", "0.1", "60010", T + 1000)
    e3 = force_order("ETHUSDT", "BUY", "2", "3000", T + 2000)
    marks: dict[str, pd.Timestamp] = {}
    with BinanceStream() as bn:
        c = collector(tmp_path, bn)

        async def scenario() -> None:
            await call(bn.wait_subscribed)
            marks["push"] = pd.Timestamp.now(tz="UTC")
            await call(bn.push, e1, e2)
            await until(lambda: c.buffered == 2)
            marks["drop"] = pd.Timestamp.now(tz="UTC")
            await call(bn.drop)
            await call(bn.wait_subscribed, 2)  # a new connection subscribed again
            await until(lambda: not c.open_gaps)
            marks["back"] = pd.Timestamp.now(tz="UTC")
            await call(bn.push, e2, e3)  # the venue replays e2 after the reconnect
            await until(lambda: c.buffered == 3)

        run(c, scenario)
    store = Store(tmp_path / "store")
    events = store.read("liquidations")
    assert len(events) == 3 and events["event_id"].is_unique
    assert bn.connections == 2
    gaps = store.read("gaps")
    assert len(gaps) == 1
    gap = gaps.iloc[0]
    assert gap["exchange"] == "binanceusdm" and pd.isna(gap["symbol"])
    assert gap["table_name"] == "liquidations" and gap["reason"].startswith("dropped")
    # from the last frame the connection carried (its close, less the latency allowance) to
    # the first frame on the next connection
    allowance = pd.Timedelta(seconds=live.healing.LATENCY_ALLOWANCE_S)
    assert marks["push"] - allowance <= gap["start"] <= marks["drop"]
    assert gap["start"] <= marks["back"] - allowance and marks["drop"] < gap["end"] <= marks["back"]


def test_silence_becomes_a_gap(tmp_path):
    marks: dict[str, pd.Timestamp] = {}
    with BinanceStream() as bn:
        c = collector(tmp_path, bn, silence_seconds=0.4)

        async def scenario() -> None:
            await call(bn.wait_subscribed)
            marks["first"] = pd.Timestamp.now(tz="UTC")
            await call(bn.push, force_order("BTCUSDT", "SELL", "0.5", "60000", T))
            await until(lambda: c.buffered == 1)
            await until(lambda: bool(c.open_gaps), timeout=3)  # 0.4 s without a message
            await asyncio.sleep(0.3)
            marks["again"] = pd.Timestamp.now(tz="UTC")
            await call(bn.push, force_order("BTCUSDT", "BUY", "0.2", "60100", T + 9000))
            await until(lambda: c.buffered == 2 and not c.open_gaps)
            marks["after"] = pd.Timestamp.now(tz="UTC")

        run(c, scenario)
    gaps = Store(tmp_path / "store").read("gaps")
    silent = gaps[gaps["start"] >= marks["first"]]
    assert len(silent) == 1
    gap = silent.iloc[0]
    assert gap["reason"] == "silent: no message for 0.4 s"
    # from the last message (the first event) to the next one
    assert marks["first"] <= gap["start"] and marks["again"] <= gap["end"] <= marks["after"]
    assert (gap["end"] - gap["start"]).total_seconds() >= 0.4 + 0.3


def test_bybit_silence_is_per_symbol_and_open_gaps_are_closed_at_stop(tmp_path):
    marks: dict[str, pd.Timestamp] = {}
    with BybitStream() as bb:
        # BTC talks every 0.1 s, 8x inside the 0.8 s threshold so a loaded machine cannot
        # make it look silent; ETH says nothing for the 1.4 s the scenario lasts
        c = collector(tmp_path, bb, silence_seconds=0.8)

        async def scenario() -> None:
            await call(bb.wait_subscribed, 2)
            marks["talk"] = pd.Timestamp.now(tz="UTC")
            for i in range(14):
                await call(bb.push, bybit_liquidation("BTCUSDT", "Sell", "0.01", "60000", T + i))
                await asyncio.sleep(0.1)
            assert [g.stream.symbol for g in c.open_gaps.values()] == ["ETH/USDT:USDT"]

        run(c, scenario)
    store = Store(tmp_path / "store")
    gaps = store.read("gaps")
    # ETH's silent stretch, closed at shutdown; BTC had messages all along once talking
    eth = gaps[gaps["symbol"] == "ETH/USDT:USDT"]
    assert len(eth) == 1 and (eth["end"] > eth["start"]).all()
    assert eth["reason"].iloc[0] == "silent: no message for 0.8 s"
    btc = gaps[gaps["symbol"] == "BTC/USDT:USDT"]
    assert (btc["end"] <= marks["talk"] + pd.Timedelta(seconds=0.8)).all()
    assert len(store.read("liquidations")) == 14


def read_until(proc: subprocess.Popen[str], marker: str, lines: list[str], timeout: float) -> None:
    """Read the process's output into ``lines`` until a line holds ``marker``."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return
    raise AssertionError(f"no line with {marker!r} in:\n" + "".join(lines))


def test_sigterm_flushes_the_buffer_and_closes_the_open_gap(tmp_path):
    """What ``systemctl stop liqnb-collector`` does: ``python -m helpers collect`` gets SIGTERM
    with two events buffered (no periodic flush yet) and a silent gap open; it stores both,
    closes the gap at the stop time and exits 0."""
    frames = [
        force_order("BTCUSDT", "SELL", "0.5", "60000", T),
        force_order("ETHUSDT", "BUY", "2", "3000", T + 1),
    ]
    store = Store(tmp_path / "store")
    with BinanceStream(on_subscribe=frames) as bn:
        cfg = write_config(tmp_path, bn)
        command = [
            sys.executable, "-m", "helpers", "collect", "--config", str(cfg),
            "--data-dir", str(store.root), "--exchanges", "binanceusdm",
            "--flush-seconds", "3600", "--flush-events", "1000", "--silence-seconds", "1",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        lines: list[str] = []
        try:
            read_until(proc, "(2 buffered)", lines, 30)
            read_until(proc, "gap recorded", lines, 30)
            assert not store.has_data("liquidations")  # nothing written before the signal
            assert not store.has_data("gaps")
            signalled = pd.Timestamp.now(tz="UTC")
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
            exited = pd.Timestamp.now(tz="UTC")
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, "".join(lines) + out
    got = store.read("liquidations")
    assert list(got["side"]) == ["long", "short"]
    assert "binanceusdm: 2 new liquidations stored" in out
    gaps = store.read("gaps").sort_values("start")
    last = gaps.iloc[-1]  # the silence open when the signal came, closed at the stop
    assert last["reason"] == "silent: no message for 1 s"
    assert signalled <= last["end"] <= exited
    assert (gaps["end"] >= gaps["start"]).all()


def test_seconds_limit_stops_the_collector(tmp_path):
    with OkxStream(
        on_subscribe=[okx_liquidation("BTC-USDT-SWAP", "short", "buy", "2", "61000", T)]
    ) as ok:
        c = collector(tmp_path, ok)
        started = time.monotonic()
        asyncio.run(c.run(seconds=0.8))
        took = time.monotonic() - started
    assert 0.8 <= took < 5
    got = Store(tmp_path / "store").read("liquidations")
    # posSide short: a short position was liquidated; 2 contracts x 0.01 BTC x 61,000 = 1,220 USD
    assert list(got["side"]) == ["short"] and got["notional_usd"].iloc[0] == pytest.approx(1220.0)


def test_a_restart_records_the_time_the_collector_was_not_running(tmp_path):
    frames = [force_order("BTCUSDT", "SELL", "0.5", "60000", T)]
    with BinanceStream(on_subscribe=frames) as bn:
        first = collector(tmp_path, bn)
        asyncio.run(first.run(seconds=0.5))
        stopped = pd.Timestamp.now(tz="UTC")
        time.sleep(0.4)
        restarted = pd.Timestamp.now(tz="UTC")
        second = collector(tmp_path, bn)
        asyncio.run(second.run(seconds=0.5))
    gaps = Store(tmp_path / "store").read("gaps")
    down = gaps[gaps["reason"] == live.downtime.REASON]
    assert len(down) == 1 and down["exchange"].iloc[0] == "binanceusdm"
    assert down["symbol"].isna().all()  # the all-market stream
    # from the first run's last flush (the time its streams stopped) to the second's start
    assert down["start"].iloc[0] <= stopped and down["end"].iloc[0] >= restarted
    assert "binanceusdm: 0 new liquidations stored" in second.summary()
    assert "1 gaps" in second.summary()


def test_downtime_comes_from_the_heartbeat_of_each_stream(tmp_path, caplog):
    alive = pd.Timestamp("2024-08-01 10:00", tz="UTC")
    streams = [live.Stream("bybit", "BTC/USDT:USDT"), live.Stream("bybit", "ETH/USDT:USDT")]
    live.downtime.write_heartbeat(tmp_path, "bybit", streams, alive)
    start = alive + pd.Timedelta(hours=2)
    gaps = live.downtime.downtime_gaps(tmp_path, "bybit", start)
    assert [(g.stream, g.start, g.end) for g in gaps] == [(s, alive, start) for s in streams]
    assert live.downtime.downtime_gaps(tmp_path, "bybit", alive) == []
    assert live.downtime.downtime_gaps(tmp_path, "okx", start) == []  # first run: no heartbeat
    live.downtime.heartbeat_path(tmp_path, "bybit").write_text("{not json")
    assert live.downtime.downtime_gaps(tmp_path, "bybit", start) == []
    assert "unreadable heartbeat" in caplog.text


def test_only_streaming_venues():
    config = load_config(None)
    with pytest.raises(UserError, match="no live liquidation stream"):
        live.streams_for("gate", config)
    assert live.streams_for("binanceusdm", config) == [live.Stream("binanceusdm", None)]
    assert live.streams_for("binancecoinm", config) == [live.Stream("binancecoinm", None)]
