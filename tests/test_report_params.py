"""Report parameters: every bad input is one line, exit 2, before any kernel or output."""

from __future__ import annotations

import argparse
import os
import shutil
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from helpers import report
from helpers.errors import UserError
from helpers.report import params as P

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks"
NOW = pd.Timestamp("2025-11-17T13:45:12", tz="UTC")


def report_parser() -> argparse.ArgumentParser:
    """The ``report`` subcommand's parser as the CLI builds it (common options + report's)."""
    from helpers.cli.options import add_common
    from helpers.cli.report import add_report_arguments

    parser = argparse.ArgumentParser(prog="report")
    add_common(parser)
    add_report_arguments(parser)
    return parser


def report_main(argv: list[str]) -> int:
    """``python -m helpers report ARGV`` in process."""
    from helpers import cli

    return cli.main(["report", *argv])


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, Path]:
    data = tmp_path / "data"
    data.mkdir()
    return {"data": data, "out": tmp_path / "reports", "tmp": tmp_path}


def base_argv(env: dict[str, Path]) -> list[str]:
    return [
        "--notebooks",
        str(FIXTURES),
        "--out",
        str(env["out"]),
        "--data-dir",
        str(env["data"]),
        "-p",
        "start=2025-11-10T00:00:00+00:00",
        "-p",
        "end=2025-11-17T00:00:00+00:00",
    ]


def plan_for(argv: list[str]) -> report.ReportPlan:
    return report.prepare(report_parser().parse_args(argv), now=NOW)


BAD_INPUTS = [
    (["-p", "start=not-a-date"], "start: cannot parse 'not-a-date' as a date/time"),
    (["-p", "end=2025-13-40"], "end: cannot parse '2025-13-40'"),
    (["-p", "end=2025-11-09"], "end (2025-11-09T00:00:00+00:00) must be after start"),
    (["-p", "end=2025-11-10T00:00:00+00:00"], "must be after start (2025-11-10T00:00:00+00:00)"),
    (["-p", "exchanges=[binanceusdm, notanexchange]"], "unknown exchange 'notanexchange'"),
    (["-p", "exchanges=[]"], "exchanges: empty list"),
    (["-p", "symbols=[BTCUSDT]"], "symbols: 'BTCUSDT' is not a ccxt unified symbol"),
    (["-p", "interval=2h"], "unknown interval '2h'"),
    (["-p", "spike_kk=3"], "unknown parameter 'spike_kk': no notebook declares it"),
    (["-p", "spike_k=abc"], "spike_k: 01_figures.ipynb expects a number"),
    (["-p", "novalue"], "-p expects NAME=VALUE"),
    (["-p", "fetch=yes please"], "fetch: expected true or false"),
    (["-p", "fetch=true", "-p", "demo={scenario: article}"], "fetch and demo exclude each other"),
    (["-p", "demo=[article]"], "demo: expected {scenario: NAME, seed: N}"),
    (["--date", "16/11/2025"], "--date: expected YYYY-MM-DD, got '16/11/2025'"),
    (["--kernel", "no-such-kernel"], "unknown kernel 'no-such-kernel'"),
    (["--jobs", "0"], "--jobs must be at least 1"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(env, capsys, extra, message):
    rc = report_main(base_argv(env) + extra)
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert message in err
    assert not env["out"].exists()


def test_missing_params_file(env, capsys):
    missing = env["tmp"] / "nope.yaml"
    assert report_main(base_argv(env) + ["--params", str(missing)]) == 2
    assert capsys.readouterr().err == f"error: params file not found: {missing}\n"


def test_missing_data_dir_and_empty_notebooks_folder(env, capsys):
    argv = base_argv(env)
    argv[argv.index(str(env["data"]))] = str(env["tmp"] / "absent")
    assert report_main(argv) == 2
    assert "data dir not found" in capsys.readouterr().err
    empty = env["tmp"] / "empty"
    empty.mkdir()
    argv = base_argv(env)
    argv[argv.index(str(FIXTURES))] = str(empty)
    assert report_main(argv) == 2
    assert "no notebooks (*.ipynb) in" in capsys.readouterr().err


def test_invalid_yaml_file_is_one_line(env, capsys):
    bad = env["tmp"] / "bad.yaml"
    bad.write_text("start: [unclosed\nend: today\n")
    assert report_main(base_argv(env) + ["--params", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not valid YAML" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", "2025-11-17T00:00:00+00:00"),
        ("yesterday", "2025-11-16T00:00:00+00:00"),
        ("now", "2025-11-17T13:00:00+00:00"),  # start of the current hour
        ("today-7d", "2025-11-10T00:00:00+00:00"),
        ("now - 6h", "2025-11-17T07:00:00+00:00"),  # 13:00 - 6 h
        ("yesterday+12h", "2025-11-16T12:00:00+00:00"),
        ("Today-1w", "2025-11-10T00:00:00+00:00"),
        ("today-90m", "2025-11-16T22:30:00+00:00"),  # 24:00 - 1 h 30
        ("2025-11-10", "2025-11-10T00:00:00+00:00"),  # a bare date is its UTC midnight
        ("2025-11-10T02:00:00+02:00", "2025-11-10T00:00:00+00:00"),
        ("2025-11-10 05:00", "2025-11-10T05:00:00+00:00"),  # no offset: UTC
    ],
)
def test_resolve_time_forms(text, expected):
    assert P.iso(P.resolve_time("start", text, NOW)) == expected


def test_resolve_time_from_yaml_types():
    assert P.iso(P.resolve_time("start", date(2025, 11, 10), NOW)) == "2025-11-10T00:00:00+00:00"
    naive = datetime(2025, 11, 10, 6)
    assert P.iso(P.resolve_time("start", naive, NOW)) == "2025-11-10T06:00:00+00:00"
    with pytest.raises(UserError, match="expected a date/time"):
        P.resolve_time("start", 20251110, NOW)


def test_article_params_file_resolves_the_demo_week(env):
    plan = plan_for(
        ["--params", str(ROOT / "params/article.yaml"), "--notebooks", str(FIXTURES)]
        + ["--out", str(env["out"]), "--data-dir", str(env["data"])]
    )
    assert plan.params["start"] == "2025-11-10T00:00:00+00:00"
    assert plan.params["end"] == "2025-11-17T00:00:00+00:00"
    assert plan.start == pd.Timestamp("2025-11-10", tz="UTC")
    assert plan.end == pd.Timestamp("2025-11-17", tz="UTC")
    assert plan.exchanges is None and plan.symbols is None and plan.interval == "1h"
    assert plan.params["spike_k"] == 5 and plan.params["spike_window"] == 24
    # the last instant is 2025-11-16T23:59:59.999999, so the report is dated the 16th
    assert plan.report_date == date(2025, 11, 16)
    assert plan.report_dir == env["out"] / "2025-11-16"
    assert plan.data_dir == env["data"].resolve()  # an explicit --data-dir beats the file
    assert [p.name for p in plan.notebooks] == ["01_figures.ipynb", "02_window.ipynb"]


def test_daily_params_file_is_yesterday_utc(env):
    argv = ["--params", str(ROOT / "params/daily.yaml"), "--notebooks", str(FIXTURES)]
    plan = plan_for(argv + ["--out", str(env["out"]), "--data-dir", str(env["data"])])
    assert plan.params["start"] == "2025-11-16T00:00:00+00:00"  # NOW is 2025-11-17 13:45 UTC
    assert plan.params["end"] == "2025-11-17T00:00:00+00:00"
    assert plan.report_date == date(2025, 11, 16)
    assert "fetch" not in plan.params
    assert (plan.fetch, plan.demo) == (False, None)


def test_article_params_ask_for_the_demo_market_only(env):
    argv = ["--params", str(ROOT / "params/article.yaml"), "--notebooks", str(FIXTURES)]
    plan = plan_for(argv + ["--out", str(env["out"]), "--data-dir", str(env["data"])])
    assert plan.demo == {"scenario": "article", "seed": 7}
    assert plan.fetch is False
    assert "demo" not in plan.params


def test_each_notebook_gets_only_what_it_declares(env):
    plan = plan_for(base_argv(env) + ["-p", "spike_k=7", "-p", "note=hi", "-p", "exchanges=okx"])
    assert plan.notebook_params["02_window.ipynb"] == {
        "start": "2025-11-10T00:00:00+00:00",
        "end": "2025-11-17T00:00:00+00:00",
        "note": "hi",
    }
    first = plan.notebook_params["01_figures.ipynb"]
    assert first["spike_k"] == 7 and "note" not in first
    assert first["exchanges"] == ["okx"]  # a single id becomes a one-item list
    assert first["data_dir"] == str(env["data"].resolve())  # absolute: notebooks run elsewhere


def test_data_dir_precedence(env, monkeypatch):
    a, b, c = (env["tmp"] / n for n in "abc")
    for d in (a, b, c):
        d.mkdir()
    params = env["tmp"] / "p.yaml"
    params.write_text(f"start: 2025-11-10\nend: 2025-11-11\ndata_dir: {a}\n")
    argv = ["--params", str(params), "--notebooks", str(FIXTURES), "--out", str(env["out"])]
    assert plan_for(argv).data_dir == a  # cli default data/raw does not beat the file
    assert plan_for(argv + ["--data-dir", str(b)]).data_dir == b
    assert plan_for(argv + ["--data-dir", str(b), "-p", f"data_dir={c}"]).data_dir == c
    monkeypatch.chdir(env["tmp"])
    assert plan_for(argv + ["--data-dir", "b"]).data_dir == b  # relative to the current folder


def test_window_defaults_come_from_notebooks_when_they_agree(env, capsys):
    argv = ["--notebooks", str(FIXTURES), "--out", str(env["out"]), "--data-dir", str(env["data"])]
    with pytest.raises(UserError, match="start: notebooks declare different defaults"):
        plan_for(argv)
    only = env["tmp"] / "only"
    only.mkdir()
    shutil.copy(FIXTURES / "01_figures.ipynb", only)
    argv[1] = str(only)
    plan = plan_for(argv)
    assert plan.params["start"] == "2025-11-10T00:00:00+00:00"  # 01_figures' own default
    assert plan.interval == "1h"


def test_report_options(env):
    plan = plan_for(base_argv(env) + ["--date", "2025-12-01", "--jobs", "3", "--show-code"])
    assert plan.report_date == date(2025, 12, 1)
    assert plan.jobs == 3 and plan.show_code
    default = plan_for(base_argv(env))
    assert default.jobs == (os.cpu_count() or 1)
    assert not default.show_code
    assert default.kernel == "liqnb" or "liqnb" not in _kernels()


def _kernels() -> set[str]:
    from jupyter_client.kernelspec import KernelSpecManager

    return set(KernelSpecManager().find_kernel_specs())


def test_published_parameters_show_the_data_dir_relative_to_the_checkout(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from helpers.report.render import shown_parameters

    monkeypatch.chdir(tmp_path)
    inside = SimpleNamespace(params={"data_dir": str(tmp_path / "data" / "raw"), "spike_k": 5})
    assert shown_parameters(inside) == {"data_dir": "data/raw", "spike_k": 5}
    outside = SimpleNamespace(params={"data_dir": "/srv/store"})
    assert shown_parameters(outside) == {"data_dir": "/srv/store"}
    assert inside.params["data_dir"] == str(tmp_path / "data" / "raw"), "notebooks keep it"
