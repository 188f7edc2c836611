"""Every command turns bad input into one line on stderr and exit status 2, storing nothing."""

from __future__ import annotations

import pytest

from helpers.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["import", "--format", "coinglass", "/nonexistent.csv"], "file not found"),
        (["fetch-coingecko", "--file", "/nonexistent.json"], "file not found"),
        (["fetch-coingecko", "--file", "m.json", "--at", "2025-01-01"], "cannot be combined"),
        (["fetch-coingecko", "--at", "2025-01-01", "--top", "0"], "--top must be at least 1"),
        (
            [
                "fetch-tardis",
                "--exchange",
                "bybit",
                "--symbols",
                "BTCUSDT",
                "--start",
                "2025-01-01",
                "--end",
                "2024-01-01",
            ],
            "--start must be before --end",
        ),  # fmt: skip
        (["collect", "--exchanges", "kraken", "--seconds", "1"], "no live liquidation stream"),
        (["fetch", "--exchanges", "binanceusdm", "--tables", "trades"], "--tables: unknown"),
        (
            ["aggregate", "--start", "2025-01-02", "--end", "2025-01-01"],
            "--start must be before --end",
        ),
        (["report", "--params", "/nope.yaml"], "params file not found"),
        (["demo", "--events", "-5"], "--events must be a positive number"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    code = main([*argv, "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not any(tmp_path.rglob("*.parquet"))
