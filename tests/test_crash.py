"""Crash safety of the writers: ``kill -9`` then the same command again gives exactly what one
clean run gives, and two processes writing one partition at once lose nothing.

Every kill is a real SIGKILL of a real ``python -m helpers`` subprocess (an import of a
multi-partition vendor file; a fetch by the real ccxt client from a local Binance USD-M
server that answers slowly), at points read off the store folder or the server's request
log. The rerun is the same command; the store (every table read back, sorted; quarantine;
resume state) must equal a clean run's into a fresh folder, and ``doctor`` must find no damage.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from servers.http_venues import HOUR_MS, BinanceUsdm

from helpers import cli, schema
from helpers.doctor import check_store
from helpers.store import Store

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])}


def helpers_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "helpers", *args]


def kill_when(cmd: list[str], ready: Callable[[], bool], delay: float = 0.0) -> bool:
    """Start ``cmd``, SIGKILL it ``delay`` seconds after ``ready()`` first holds; True when it
    was still running at the kill."""
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while proc.poll() is None and not ready():
        assert time.monotonic() < deadline, "the kill point was never reached"
        time.sleep(0.002)
    time.sleep(delay)
    running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    assert running or proc.returncode == 0, err.decode()
    return running


def store_contents(root: Path) -> dict[str, Any]:
    """Every table read back and sorted on all columns, the quarantined rows, resume state."""
    store = Store(root)
    out: dict[str, Any] = {}
    for name in schema.TABLES:
        df = store.read(name)
        out[name] = df.sort_values(list(df.columns), ignore_index=True)
    frames = [pq.read_table(p).to_pandas() for p in store.quarantine_files()]
    out["_quarantine"] = (
        pd.concat(frames, ignore_index=True).sort_values(["reason"], ignore_index=True)
        if frames
        else None
    )
    state = root / "_state" / "resume.json"
    out["_resume"] = json.loads(state.read_text())["covered"] if state.exists() else None
    return out


def assert_same_store(got: Path, want: Path) -> None:
    a, b = store_contents(got), store_contents(want)
    for name in a:
        if isinstance(a[name], pd.DataFrame) and isinstance(b[name], pd.DataFrame):
            pd.testing.assert_frame_equal(a[name], b[name], obj=name)
        else:
            assert a[name] == b[name], name
    checkup = check_store(got)
    assert not checkup.damaged, checkup.lines()
    assert not [p for p in got.rglob("*.tmp")], "temporary files left"


def partition_files(root: Path) -> Callable[[], int]:
    return lambda: len(list(root.glob("liquidation_bars/*/*/part.parquet")))


def writing_temp_file(root: Path) -> Callable[[], bool]:
    """True while a temporary partition file is being written."""
    return lambda: any(root.glob("liquidation_bars/*/*/.*.tmp"))


# ---- import ------------------------------------------------------------------------------

SYMBOLS = ("BTCUSDT_PERP.A", "ETHUSDT_PERP.A", "BTCUSDT.6", "BTCUSDT_PERP.3")
DAYS = 40


@pytest.fixture(scope="module")
def vendor_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Coinalyze hourly export (USD columns): 4 perpetuals on 3 venues over 40 days, i.e.
    120 (exchange, day) partitions of ``liquidation_bars``."""
    ts = pd.date_range("2024-01-01", periods=24 * DAYS, freq="h", tz="UTC")
    rows = [
        (sym, t.strftime("%Y-%m-%d %H:%M:%S"), 50000 + i, (i * 37) % 1000 + 1.5, (i * 11) % 700)
        for sym in SYMBOLS
        for i, t in enumerate(ts)
    ]
    cols = ["symbol", "time_utc_inferred", "close", "long_liq_usd", "short_liq_usd"]
    path = tmp_path_factory.mktemp("vendor") / "coinalyze.csv"
    pd.DataFrame(rows, columns=cols).to_csv(path, index=False)
    return path


def import_argv(file: Path, data_dir: Path) -> list[str]:
    return ["import", "--format", "coinalyze", str(file), "--data-dir", str(data_dir)]


def test_killed_import_rerun_equals_a_clean_run(tmp_path: Path, vendor_file: Path) -> None:
    clean = tmp_path / "clean"
    assert cli.main(import_argv(vendor_file, clean)) == 0
    total = partition_files(clean)()
    assert total == 3 * DAYS
    killed_mid_write = 0
    # after the 1st and the k-th partition file, while a partition's temporary file is being
    # written, and 0.3 s after the 1st
    points = [(1, 0.0), (total // 2, 0.0), (0, 0.0), (1, 0.3)]
    for k, (after, delay) in enumerate(points):
        data = tmp_path / f"killed-{k}"
        files = partition_files(data)
        ready = (lambda: files() >= after) if after else writing_temp_file(data)  # noqa: B023
        running = kill_when(helpers_cmd(*import_argv(vendor_file, data)), ready, delay)
        killed_mid_write += running and files() < total
        assert cli.main(import_argv(vendor_file, data)) == 0
        assert_same_store(data, clean)
    assert killed_mid_write >= 2  # the kills did land between partitions


# ---- fetch -------------------------------------------------------------------------------

T0 = 1704067200000  # 2024-01-01 00:00 UTC
HOURS = 72
MISSING = {T0 + h * HOUR_MS for h in (20, 21, 47)}
"""Bars the venue never returns: a gap right where the 3rd page of 10 bars starts (a resumed
run finds it at the edge of its range), and one inside a page."""
SLOW_S = 0.03


@pytest.fixture
def slow_binance() -> Iterator[BinanceUsdm]:
    """A Binance USD-M server over 72 hours, 10 rows a page, each answer ``SLOW_S`` late."""
    venue = BinanceUsdm(T0, T0 + HOURS * HOUR_MS, page_cap=10, missing_bars=set(MISSING))
    for path, handler in list(venue.venue.routes.items()):
        venue.venue.route(path, _slow(handler))
    with venue.venue:
        yield venue


def _slow(handler: Callable[[dict[str, str]], Any]) -> Callable[[dict[str, str]], Any]:
    def answer(q: dict[str, str]) -> Any:
        time.sleep(SLOW_S)
        return handler(q)

    return answer


def fetch_argv(config: Path, data_dir: Path) -> list[str]:
    start = pd.Timestamp(T0, unit="ms", tz="UTC").isoformat()
    end = pd.Timestamp(T0 + HOURS * HOUR_MS, unit="ms", tz="UTC").isoformat()
    return ["fetch", "--config", str(config), "--data-dir", str(data_dir), "--start", start,
            "--end", end, "--tables", "ohlcv,funding,open_interest", "--retries", "0"]  # fmt: skip


def binance_config(tmp_path: Path, venue: BinanceUsdm) -> Path:
    entry = {
        "symbols": ["BTC/USDT:USDT"],
        "ccxt": {**venue.ccxt_options(), "timeout": 5000, "enableRateLimit": False},
    }
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"exchanges": {"binanceusdm": entry}}))
    return path


def test_killed_fetch_rerun_equals_a_clean_run(tmp_path: Path, slow_binance: BinanceUsdm) -> None:
    cfg = binance_config(tmp_path, slow_binance)
    clean = tmp_path / "clean"
    assert cli.main(fetch_argv(cfg, clean)) == 0
    assert len(Store(clean).read("gaps")) == 2
    klines, oi = "/fapi/v1/klines", "/futures/data/openInterestHist"
    # kill while the n-th kline page is asked for (delay 0: the page before it is stored and
    # marked fetched) or just after it was answered (being stored), or among open interest
    points = [(klines, 2, 0.0), (klines, 3, 0.0), (klines, 3, SLOW_S + 0.01), (oi, 3, SLOW_S)]
    for k, (path, nth, delay) in enumerate(points):
        data = tmp_path / f"killed-{k}"
        before = len(slow_binance.venue.hits(path))
        assert kill_when(
            helpers_cmd(*fetch_argv(cfg, data)),
            lambda: len(slow_binance.venue.hits(path)) - before >= nth,  # noqa: B023
            delay,
        )
        assert cli.main(fetch_argv(cfg, data)) == 0
        assert_same_store(data, clean)


# ---- two writers -------------------------------------------------------------------------

WRITER = """
import sys, time
from pathlib import Path
import pandas as pd
from helpers.store import Store

root, me, other, batches = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
(root.parent / me).touch()
while not (root.parent / other).exists():
    time.sleep(0.001)
store = Store(root)
t0 = pd.Timestamp("2025-11-10T00:00:00Z")
for b in range(batches):
    n = 25
    store.write("liquidations", pd.DataFrame({
        "ts": [t0 + pd.Timedelta(seconds=b * n + i) for i in range(n)],
        "exchange": "okx", "symbol": "BTC/USDT:USDT", "base": "BTC",
        "side": ["long" if i % 2 else "short" for i in range(n)],
        "price": 60000.0, "amount": 0.1, "notional_usd": 6000.0, "source": "ccxt:okx",
        "event_id": [f"{me}-{b}-{i}" for i in range(n)],
    }))
    print(time.monotonic(), flush=True)
"""


def test_two_processes_writing_one_partition_lose_nothing(tmp_path: Path) -> None:
    root, batches = tmp_path / "store", 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(root), me, other, str(batches)],
            env=ENV,
            stdout=subprocess.PIPE,
            text=True,
        )
        for me, other in (("a", "b"), ("b", "a"))
    ]
    done = [[float(t) for t in p.communicate(timeout=120)[0].split()] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    a, b = done
    assert min(a) < max(b) and min(b) < max(a)  # the two really wrote at the same time
    stored = Store(root).read("liquidations")
    assert len(list(root.glob("liquidations/*/*/part.parquet"))) == 1
    expected = {f"{w}-{k}-{i}" for w in "ab" for k in range(batches) for i in range(25)}
    assert not stored["event_id"].duplicated().any()
    assert set(stored["event_id"]) == expected
    assert not check_store(root).damaged


# ---- what a rerun finds --------------------------------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def liquidation_rows(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "ts": pd.Timestamp("2025-11-10T01:00:00Z"), "exchange": "okx",
        "symbol": "BTC/USDT:USDT", "base": "BTC", "side": "long", "price": 60000.0,
        "amount": 0.1, "notional_usd": 6000.0, "source": "ccxt:okx", "event_id": ids,
    })  # fmt: skip


def test_a_write_removes_the_temporary_files_of_killed_writers(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write("liquidations", liquidation_rows(["e1"]))
    [part] = store.files("liquidations")
    host = socket.gethostname()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = part.with_name(f".part.parquet.{host}.{dead_pid()}.{'0' * 32}.tmp")
        live = part.with_name(f".part.parquet.{host}.{sleeper.pid}.{'1' * 32}.tmp")
        for p in (dead, live):
            p.write_bytes(b"PAR1 half a file")
        store.write("liquidations", liquidation_rows(["e2"]))
        assert not dead.exists()  # its writer is gone
        assert live.exists()  # its writer may still rename it
    finally:
        sleeper.kill()
        sleeper.wait()
    assert list(store.read("liquidations")["event_id"]) == ["e1", "e2"]


def test_rejects_offered_again_are_quarantined_once(tmp_path: Path) -> None:
    store = Store(tmp_path)
    bad = liquidation_rows(["e1", "e2"]).assign(side=["long", "sideways"])
    for _ in range(2):  # a run killed after its write, then run again
        assert store.write("liquidations", bad).quarantined == 1
    assert len(store.quarantine_files("liquidations")) == 1
    store.write("liquidations", bad.assign(event_id=["e1", "e3"]))
    assert len(store.quarantine_files("liquidations")) == 2
