"""Simulated and real data never share a store: refusals at write time (library and CLI),
stores written before the guard (no marker, or both kinds), and removing the demo rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import factories as f
import pandas as pd
import pytest

from helpers import store_kind
from helpers.cli import main
from helpers.errors import UserError
from helpers.store import Store

COINGLASS = """time_utc,time,coin,aggregated_long_liquidation_usd,\
aggregated_short_liquidation_usd,is_last_bar
2025-10-10 12:00:00+00:00,1760097600000,BTC,1000.5,200.25,False
2025-10-10 16:00:00+00:00,1760112000000,BTC,3000,0,False
"""


def real_events() -> pd.DataFrame:
    return f.liquidations([("long", 100.0, 5_000.0), ("short", 101.0, 700.0)], source="ccxt:gate")


def demo_bars() -> pd.DataFrame:
    return f.liquidation_bars([(0, "okx", 10.0, 2.0), (1, "okx", 3.0, 4.0)], source="demo")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes), lock files left out."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def real_store(root: Path) -> Store:
    store = Store(root)
    store.write("liquidations", real_events())
    return store


def demo_store(root: Path) -> Store:
    store = Store(root)
    store.write("liquidation_bars", demo_bars())
    return store


def legacy_mixed_store(root: Path, tmp_path: Path) -> Store:
    """A store written before the guard: demo bars and real events side by side, no marker."""
    demo_store(root)
    real = real_store(tmp_path / "real-part")
    shutil.copytree(real.table_dir("liquidations"), root / "liquidations")
    store_kind.marker_path(root).unlink()
    return Store(root)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def test_each_store_records_its_kind_on_the_first_write(tmp_path):
    assert Store(tmp_path / "none").kind() == "empty"
    assert real_store(tmp_path / "real").kind() == "real"
    assert demo_store(tmp_path / "demo").kind() == "simulated"
    assert store_kind.read_marker(tmp_path / "real") == "real"
    assert store_kind.read_marker(tmp_path / "demo") == "simulated"


def test_demo_into_a_store_holding_real_rows_is_one_line_and_writes_nothing(tmp_path, capsys):
    store = real_store(tmp_path / "s")
    before = snapshot(store.root)
    with pytest.raises(UserError, match=r"holds real data \(liquidations\)"):
        store.write("market_caps", _demo_caps())
    assert main(["demo", "--data-dir", str(store.root)]) == 2
    err = one_error_line(capsys)
    assert "holds real data" in err and "--data-dir" in err
    assert snapshot(store.root) == before  # no table, partition, quarantine or marker touched


def test_real_rows_into_a_demo_store_are_refused(tmp_path, capsys):
    store = demo_store(tmp_path / "s")
    before = snapshot(store.root)
    with pytest.raises(UserError, match="holds simulated"):
        store.write("liquidations", real_events())
    csv = tmp_path / "cg.csv"
    csv.write_text(COINGLASS)
    argv = ["import", "--format", "coinglass", str(csv), "--exchange", "binance"]
    assert main([*argv, "--data-dir", str(store.root)]) == 2
    err = one_error_line(capsys)
    assert "holds simulated (demo) data" in err
    assert f"python -m helpers demo --remove --data-dir {store.root}" in err
    # a pull is refused before any request is made
    pull = ["pull", "--start", "2025-11-10", "--end", "2025-11-11", "--retries", "0"]
    assert main([*pull, "--data-dir", str(store.root)]) == 2
    assert "holds simulated" in one_error_line(capsys)
    assert snapshot(store.root) == before


def test_rows_mixing_both_kinds_are_refused(tmp_path):
    mixed = pd.concat([demo_bars(), demo_bars().assign(source="coinalyze")], ignore_index=True)
    with pytest.raises(UserError, match="mix simulated"):
        Store(tmp_path).write("liquidation_bars", mixed)
    assert not tmp_path.joinpath("liquidation_bars").exists()


def test_gaps_have_no_kind(tmp_path):
    store = demo_store(tmp_path)
    gap = f.coverage_gaps([(0, 2, "okx", None, "liquidations", "stream dropped")])
    assert store.write("gaps", gap).written == 1
    assert store.kind() == "simulated"


def test_a_legacy_store_without_marker_is_read_once(tmp_path, capsys):
    store = real_store(tmp_path / "s")
    store_kind.marker_path(store.root).unlink()
    assert store.kind() == "real"  # inferred from the files, and recorded
    assert store_kind.read_marker(store.root) == "real"
    assert main(["demo", "--data-dir", str(store.root)]) == 2
    assert "holds real data" in one_error_line(capsys)


def test_a_stale_marker_never_refuses_by_itself(tmp_path):
    """A first write killed after its marker, or files deleted by hand: the files decide."""
    store = demo_store(tmp_path)
    shutil.rmtree(store.table_dir("liquidation_bars"))
    assert store.write("liquidations", real_events()).written == 2
    assert store_kind.read_marker(store.root) == "real"


def test_a_mixed_legacy_store_is_detected_and_cleaned(tmp_path, capsys):
    store = legacy_mixed_store(tmp_path / "s", tmp_path)
    assert store.kind() == "mixed"
    assert store.contents() == store_kind.Contents(("liquidation_bars",), ("liquidations",))
    for rows, table in ((real_events(), "liquidations"), (demo_bars(), "liquidation_bars")):
        with pytest.raises(UserError, match="written before they were kept apart"):
            store.write(table, rows)
    assert main(["demo", "--remove", "--data-dir", str(store.root)]) == 0
    out = capsys.readouterr().out
    assert "liquidation_bars: 2 rows" in out and "the store is real" in out
    assert store.kind() == "real" and not store.has_data("liquidation_bars")
    assert len(store.read("liquidations")) == 2  # real rows kept
    assert store.exchanges("liquidation_bars") == []  # no empty partition folders left
    with pytest.raises(UserError, match="holds real data"):
        store.write("liquidation_bars", demo_bars())


def test_removing_the_demo_rows_empties_a_demo_store(tmp_path):
    store = demo_store(tmp_path)
    assert main(["demo", "--remove", "--data-dir", str(tmp_path)]) == 0
    assert store.kind() == "empty" and store_kind.read_marker(tmp_path) is None
    assert store.write("liquidations", real_events()).written == 2


def _demo_caps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": [pd.Timestamp("2025-11-10", tz="UTC")],
            "coin": ["bitcoin"],
            "symbol": ["BTC"],
            "name": ["Bitcoin"],
            "price_usd": [90_000.0],
            "market_cap_usd": [1.8e12],
            "change_24h_pct": [-1.0],
            "source": ["demo"],
        }
    )
