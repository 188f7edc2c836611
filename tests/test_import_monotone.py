"""Re-importing a vendor export can only improve the store: a missing cell never replaces a
stored number, a cut or ragged file is refused before anything is written, and a revised bar
is counted. Every test runs the real command (``python -m helpers import``, through
:func:`helpers.cli.main` in this process: its exit code, stdout and stderr) on files in the
real exports' layouts (values made up)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from helpers.store import Store

# the layout of coinglass_binance_liq_4h_BTC_ETH_SOL_XRP.csv
CG_HEADER = (
    "time_utc,time,coin,aggregated_long_liquidation_usd,aggregated_short_liquidation_usd,"
    "is_last_bar,src_commit,src_path"
)
CG_START = pd.Timestamp("2025-10-10T00:00Z")
CG_BARS = 8

# the layout of coinalyze_binance_perp_1h_ohlcv_liq_BTC_ETH_SOL_2024-06_08.csv
CZ_HEADER = (
    "symbol,time_utc_inferred,ts_recorded,open,high,low,close,volume_base,buy_volume_base,"
    "trades,buy_trades,long_liq_base,short_liq_base,long_liq_usd_approx,short_liq_usd_approx,"
    "liq_row_missing"
)


def cg_rows(long_of=lambda i: f"{1000 + 37 * i}.5", short_of=lambda i: f"{200 + 11 * i}.25"):
    """CoinGlass 4 h BTC rows (one string per line, no line break)."""
    out = []
    for i in range(CG_BARS):
        ts = CG_START + pd.Timedelta(hours=4 * i)
        out.append(
            f"{ts:%Y-%m-%d %H:%M:%S}+00:00,{ts.value // 1_000_000},BTC,{long_of(i)},"
            f"{short_of(i)},False,0123abcd,data/futures/liquidation/history_BTC.parquet"
        )
    return out


def cz_rows(long_of=lambda i: f"{0.5 + i}"):
    out = []
    for i in range(6):
        ts = pd.Timestamp("2024-08-05T00:00Z") + pd.Timedelta(hours=i)
        local = ts + pd.Timedelta(hours=6)
        out.append(
            f"BTCUSDT_PERP.A,{ts:%Y-%m-%d %H:%M:%S},{local:%Y-%m-%d %H:%M:%S},"
            f"50000.0,50100.0,49900.0,{50000 + 10 * i}.0,3107.5,1824.2,18419,7993,"
            f"{long_of(i)},0.25,0,0,False"
        )
    return out


def csv_file(path: Path, header: str, rows: list[str], end: str = "\n") -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + end)
    return path


@pytest.fixture
def run_import(run_helpers):
    """``import`` of ``path`` (``fmt``: coinglass, for Binance, or coinalyze) into ``data_dir``."""

    def run(data_dir: Path, path: Path, fmt: str = "coinglass") -> subprocess.CompletedProcess:
        extra = ["--exchange", "Binance"] if fmt == "coinglass" else []
        argv = ["import", "--data-dir", str(data_dir), "--format", fmt, *extra, str(path)]
        return run_helpers(*argv)

    return run


def stored(data_dir: Path) -> pd.DataFrame:
    return Store(data_dir).read("liquidation_bars").set_index("ts")


def snapshot(data_dir: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under the store with its bytes and modification time."""
    return {
        p.relative_to(data_dir).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(data_dir.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def first_import(tmp_path, run_import):
    data = tmp_path / "raw"
    proc = run_import(data, csv_file(tmp_path / "cg.csv", CG_HEADER, cg_rows()))
    assert proc.returncode == 0, proc.stderr
    return data


# ---- a missing cell never replaces a stored number ----------------------------------------

MISSING = ["", "n/a", "N/A", "-", "\u2014", "null", "NaN", "none"]


def test_reimport_with_missing_cells_keeps_the_stored_numbers(first_import, tmp_path, run_import):
    before = stored(first_import)
    blanks = dict(enumerate(MISSING))  # bar i gets MISSING[i] as its long value
    rows = cg_rows(long_of=lambda i: blanks.get(i, f"{1000 + 37 * i}.5"))
    proc = run_import(first_import, csv_file(tmp_path / "cg2.csv", CG_HEADER, rows))
    assert proc.returncode == 0, proc.stderr
    assert f"{len(MISSING)} cells missing" in proc.stdout
    assert f"{len(MISSING)} missing cells kept stored values" in proc.stdout
    assert "changed value" not in proc.stdout
    after = stored(first_import)
    assert after["long_usd"].notna().all()
    pd.testing.assert_frame_equal(after, before)


def test_coinalyze_reimport_with_a_blank_base_amount_keeps_the_stored_bar(tmp_path, run_import):
    data = tmp_path / "raw"
    first = run_import(data, csv_file(tmp_path / "cz.csv", CZ_HEADER, cz_rows()), "coinalyze")
    assert first.returncode == 0, first.stderr
    before = stored(data)["long_usd"]
    assert before.notna().all()
    rows = cz_rows(long_of=lambda i: "" if i == 2 else f"{0.5 + i}")
    proc = run_import(data, csv_file(tmp_path / "cz2.csv", CZ_HEADER, rows), "coinalyze")
    assert proc.returncode == 0, proc.stderr
    assert "1 cells missing" in proc.stdout and "1 missing cells kept stored values" in proc.stdout
    pd.testing.assert_series_equal(stored(data)["long_usd"], before)


def test_a_missing_cell_in_a_new_bar_stays_missing(first_import, tmp_path, run_import):
    later = CG_START + pd.Timedelta(hours=4 * CG_BARS)
    row = (
        f"{later:%Y-%m-%d %H:%M:%S}+00:00,{later.value // 1_000_000},BTC,n/a,5.0,False,0123abcd,"
        "data/futures/liquidation/history_BTC.parquet"
    )
    proc = run_import(first_import, csv_file(tmp_path / "cg2.csv", CG_HEADER, [*cg_rows(), row]))
    assert proc.returncode == 0, proc.stderr
    assert "9 4h bars" in proc.stdout and "1 cells missing" in proc.stdout
    assert "1 new of 9 rows" in proc.stdout and "kept stored values" not in proc.stdout
    bar = stored(first_import).loc[later]
    assert pd.isna(bar["long_usd"]) and bar["short_usd"] == 5.0


# ---- a cut or ragged file is refused, the store untouched ---------------------------------


def _cut_mid_number(rows: list[str]) -> tuple[list[str], str]:
    return [*rows[:-1], rows[-1][: rows[-1].index(",BTC,") + 8]], ""  # "...,BTC,1259"


def _cut_mid_row_with_break(rows: list[str]) -> tuple[list[str], str]:
    return [*rows[:-1], rows[-1].split(",False")[0]], "\n"


def _last_value_cut_at_the_end(rows: list[str]) -> tuple[list[str], str]:
    return [*rows[:-1], rows[-1][:-4]], ""  # every field there, the last one cut


REFUSED = {
    "truncated mid-number": (_cut_mid_number, f"file looks truncated: line {CG_BARS + 1} has 4 "),
    "truncated mid-row": (
        _cut_mid_row_with_break,
        f"file looks truncated: line {CG_BARS + 1} has 5 of the header's 8 fields",
    ),
    "last line without a line break": (
        _last_value_cut_at_the_end,
        f"file looks truncated: line {CG_BARS + 1}, the last, has no line break",
    ),
    "header repeated mid-file": (
        lambda rows: ([*rows[:4], CG_HEADER, *rows[4:]], "\n"),
        "line 6 repeats the header line",
    ),
    "columns change mid-file": (
        lambda rows: ([*rows[:4], CG_HEADER.replace("aggregated_", ""), *rows[4:]], "\n"),
        "line 6 is a second header line",
    ),
    "extra field mid-file": (
        lambda rows: ([*rows[:3], rows[3] + ",x", *rows[4:]], "\n"),
        "line 5 has 9 fields, the header has 8",
    ),
    "extra field on the first row": (
        lambda rows: ([rows[0] + ",x", *rows[1:]], "\n"),
        "line 2 has 9 fields, the header has 8",
    ),
    "missing fields mid-file": (
        lambda rows: ([*rows[:3], rows[3].split(",False")[0], *rows[4:]], "\n"),
        "line 5 has 5 of the header's 8 fields",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_cut_or_ragged_file_is_refused_and_nothing_is_written(
    first_import, tmp_path, run_import, case
):
    shape, message = REFUSED[case]
    before = snapshot(first_import)
    revised = cg_rows(long_of=lambda i: f"{9000 + i}.5")  # would change every bar if read
    rows, end = shape(revised)
    proc = run_import(first_import, csv_file(tmp_path / "bad.csv", CG_HEADER, rows, end))
    assert proc.returncode == 2, proc.stdout
    err = proc.stderr.strip()
    assert "\n" not in err and err.startswith("error: bad.csv: ") and message in err, err
    assert proc.stdout == ""
    assert snapshot(first_import) == before


# ---- a revised bar: the newest write wins, and is counted ---------------------------------


def test_conflicting_reimport_reports_the_changed_bars(first_import, tmp_path, run_import):
    revised = {1: "5555.5", 4: "6666.5", 6: "7777.5"}
    rows = cg_rows(
        long_of=lambda i: revised.get(i, f"{1000 + 37 * i}.5"),
        short_of=lambda i: "" if i == 2 else f"{200 + 11 * i}.25",
    )
    proc = run_import(first_import, csv_file(tmp_path / "cg2.csv", CG_HEADER, rows))
    assert proc.returncode == 0, proc.stderr
    assert (
        "liquidation_bars: 0 new of 8 rows in 2 partitions, 3 bars changed value, "
        "1 missing cells kept stored values"
    ) in proc.stdout
    long_usd = stored(first_import)["long_usd"].tolist()
    assert [long_usd[i] for i in revised] == [5555.5, 6666.5, 7777.5]
    assert stored(first_import)["short_usd"].notna().all()


# ---- the real export, read in place ---------------------------------------------------------


@pytest.mark.realdata
def test_real_coinglass_export_reimported_with_blanks_and_a_cut(realdata, tmp_path, run_import):
    lines = (realdata / "coinglass_binance_liq_4h_BTC_ETH_SOL_XRP.csv").read_text().splitlines()
    head = tmp_path / "head.csv"
    head.write_text("\n".join(lines[:41]) + "\n")  # the header and 40 bars
    data = tmp_path / "raw"
    assert run_import(data, head).returncode == 0
    before = snapshot(data)
    values = stored(data)
    blanked = [lines[0]]
    for n, line in enumerate(lines[1:41]):
        fields = line.split(",")
        if n % 10 == 0:
            fields[3] = "n/a" if n % 20 else ""
        blanked.append(",".join(fields))
    cut = tmp_path / "cut.csv"
    text = "\n".join(blanked)
    cut.write_text(text[: text.rindex(",BTC,") + 8])  # the last bar's long value cut
    proc = run_import(data, cut)
    assert proc.returncode == 2 and "file looks truncated: line 41" in proc.stderr
    assert snapshot(data) == before
    again = tmp_path / "blanked.csv"
    again.write_text("\n".join(blanked) + "\n")
    proc = run_import(data, again)
    assert proc.returncode == 0, proc.stderr
    assert "4 cells missing" in proc.stdout and "4 missing cells kept stored values" in proc.stdout
    pd.testing.assert_frame_equal(stored(data), values)
