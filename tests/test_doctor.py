"""``python -m helpers doctor``: exit 0 on a clean store, non-zero naming each kind of damage;
quarantine and open gaps are reported but are not damage."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import cli
from helpers.doctor import EXIT_DAMAGE
from helpers.store import Store

ROOT = Path(__file__).resolve().parents[1]


def doctor(capsys: pytest.CaptureFixture[str], data: Path, *extra: str) -> tuple[int, list[str]]:
    code = cli.main(["doctor", "--data-dir", str(data), *extra])
    return code, capsys.readouterr().out.splitlines()


def snapshot(root: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in root.rglob("*")}


def test_clean_demo_store_exits_0_and_is_left_as_it_was(
    demo_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(demo_store.root)
    code, lines = doctor(capsys, demo_store.root, "--reports", str(demo_store.root / "none"))
    assert code == 0, lines
    assert len(lines) == 1 and lines[0].startswith(
        f"doctor: {demo_store.root}: ok; simulated store"
    )
    assert "0 damage, 0 notes" in lines[0]
    assert snapshot(demo_store.root) == before  # doctor writes nothing


def rewrite(path: Path, df: pd.DataFrame) -> None:
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_damage_is_named_line_by_line_and_exits_non_zero(
    tmp_path: Path, demo_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(demo_store.root, data)
    store = Store(data)
    truncated = store.files("liquidations")[0]
    truncated.write_bytes(truncated.read_bytes()[:500])
    doubled = store.files("funding")[0]
    funding = pq.read_table(doubled).to_pandas()
    rewrite(doubled, pd.concat([funding, funding.iloc[:1]]))  # one key twice
    broken = store.files("ohlcv")[0]
    bars = pq.read_table(broken).to_pandas()
    bars.loc[0, "high"] = -1.0
    rewrite(broken, bars)
    temp = broken.with_name(f".part.parquet.{socket.gethostname()}.{dead_pid()}.{'a' * 32}.tmp")
    temp.write_bytes(b"PAR1")
    (data / "_state" / "resume.json").write_text('{"covered": ')
    reports = tmp_path / "reports"
    (reports / ".staging-2025-11-16-1-deadbeef").mkdir(parents=True)

    code, lines = doctor(capsys, data, "--reports", str(reports))
    assert code == EXIT_DAMAGE

    def rel(p: Path) -> str:
        return p.relative_to(data).as_posix()

    expected = [
        f"DAMAGE unreadable: {rel(truncated)}: ",
        "DAMAGE duplicates: funding: 1 keys (ts, exchange, symbol) held more than once",
        f"DAMAGE schema: {rel(broken)}: 1 rows fail 'high: must be positive and finite'",
        f"DAMAGE temp-file: {rel(temp)}: temporary file of a writer that is gone",
        "DAMAGE state: _state/resume.json: not readable JSON",
        f"DAMAGE staging: {reports / '.staging-2025-11-16-1-deadbeef'}: left by a report run",
    ]
    for start in expected:
        assert sum(line.startswith(start) for line in lines) == 1, (start, lines)
    assert lines[-1].startswith(f"doctor: {data}: DAMAGED; simulated store")
    assert "6 damage" in lines[-1]


def test_quarantine_and_open_gaps_are_notes_not_damage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path)
    t, later = pd.Timestamp("2025-11-10T01:00:00Z"), pd.Timedelta(minutes=10)
    store.write("liquidations", pd.DataFrame({
        "ts": t, "exchange": "okx", "symbol": "BTC/USDT:USDT", "base": "BTC",
        "side": ["long", "sideways"], "price": 60000.0, "amount": 0.1, "notional_usd": 6000.0,
        "source": "ccxt:okx", "event_id": ["e1", "e2"],
    }))  # fmt: skip
    store.write("gaps", pd.DataFrame({
        "start": [t, t + later], "end": [t + later, pd.NaT], "exchange": "okx",
        "symbol": "BTC/USDT:USDT", "table_name": "liquidations",
        "reason": ["dropped", "silent"], "ts": [t, t + later],
    }))  # fmt: skip
    code, lines = doctor(capsys, tmp_path, "--reports", str(tmp_path / "none"))
    assert code == 0, lines
    assert lines[:-1] == [
        "note open-gap: gaps okx BTC/USDT:USDT liquidations: since 2025-11-10 01:10:00 UTC, "
        "no end yet (silent)",
        "note quarantine: liquidations: 1 rows in 1 files (1 side: must be 'long' or 'short' "
        "(the liquidated position))",
    ]
    assert lines[-1].startswith(f"doctor: {tmp_path}: ok; real store") and "2 notes" in lines[-1]


def test_exit_status_of_the_real_command(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}

    def run(store: Path) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "helpers", "doctor", "--data-dir", str(store)]
        return subprocess.run(argv, env=env, capture_output=True, text=True, cwd=tmp_path)

    Store(tmp_path / "store").write("liquidations", pd.DataFrame({
        "ts": pd.Timestamp("2025-11-10T01:00:00Z"), "exchange": "okx",
        "symbol": "BTC/USDT:USDT", "base": "BTC", "side": ["long"], "price": 60000.0,
        "amount": 0.1, "notional_usd": 6000.0, "source": "ccxt:okx", "event_id": ["e1"],
    }))  # fmt: skip
    ok = run(tmp_path / "store")
    assert ok.returncode == 0 and "ok; real store; 1 rows in 1 files of 1 tables" in ok.stdout
    [part] = Store(tmp_path / "store").files("liquidations")
    part.write_bytes(b"not parquet")
    bad = run(tmp_path / "store")
    assert bad.returncode == EXIT_DAMAGE and "DAMAGE unreadable" in bad.stdout
    missing = run(tmp_path / "nowhere")
    assert missing.returncode == 2 and missing.stderr.startswith("error: ")
    assert "no such store folder" in missing.stderr
