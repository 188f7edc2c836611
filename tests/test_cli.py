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


def test_every_command_builds_its_options_and_help_lists_them_all(capsys):
    from helpers.cli import COMMANDS, build_parser

    parser, runners = build_parser()  # every command's modules, as --help of each needs
    assert list(runners) == [c.name for c in COMMANDS]
    for c in COMMANDS:
        with pytest.raises(SystemExit) as exited:
            main([c.name, "--help"])
        assert exited.value.code == 0
        assert f"python -m helpers {c.name}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out
    assert all(c.name in listing and c.help.split()[0] in listing for c in COMMANDS)


def test_a_command_loads_only_its_own_modules():
    """``import`` must not pay for matplotlib and ccxt (about 1.5 s of every subprocess)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from helpers.cli import build_parser\n"
        "build_parser(['import', '--format', 'coinglass', 'x.csv'])\n"
        "print(sorted(m for m in ('matplotlib', 'ccxt', 'papermill') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
