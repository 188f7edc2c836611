"""A report reads the kind of store its parameters ask for, refused before any kernel
otherwise; params/real.yaml; and the report's --config reaching the notebooks' bars."""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
from datetime import date
from pathlib import Path

import factories as f
import pandas as pd
import pytest

from helpers import report
from helpers.cli import main
from helpers.config import CONFIG_ENV
from helpers.store import Store

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks"
SOURCES_NB = FIXTURES / "sources"
WINDOW = ["-p", "start=2025-11-10T00:00:00+00:00", "-p", "end=2025-11-11T00:00:00+00:00"]


def report_parser() -> argparse.ArgumentParser:
    from helpers.cli.options import add_common
    from helpers.cli.report import add_report_arguments

    parser = argparse.ArgumentParser(prog="report")
    add_common(parser)
    add_report_arguments(parser)
    return parser


@pytest.fixture
def no_kernel(monkeypatch):
    """Fail the test if the report starts a kernel, pulls, or simulates."""

    def refuse(*args, **kwargs):
        raise AssertionError("a report step ran that should have been refused first")

    monkeypatch.setattr(importlib.import_module("helpers.report.render"), "pool", refuse)
    monkeypatch.setattr("helpers.cli.report.pull_window", refuse)
    monkeypatch.setattr("helpers.cli.report.write_demo", refuse)


def two_source_bars() -> pd.DataFrame:
    """binanceusdm BTC for the same three hours from Tardis (events replayed) and from
    Coinalyze, with different totals; okx from Coinalyze only."""
    rows = [(h, "binanceusdm", 100.0, 10.0) for h in range(3)]
    tardis = f.liquidation_bars(rows, source="tardis")
    vendor = f.liquidation_bars([(h, ex, 7.0, 1.0) for h, ex, *_ in rows], source="coinalyze")
    okx = f.liquidation_bars([(h, "okx", 5.0, 5.0) for h in range(3)], source="coinalyze")
    return pd.concat([tardis, vendor, okx], ignore_index=True)


def store_with(root: Path, frame: pd.DataFrame) -> Path:
    Store(root).write("liquidation_bars", frame)
    return root


def report_argv(data: Path, out: Path, notebooks: Path = FIXTURES) -> list[str]:
    return ["report", "--notebooks", str(notebooks), "--out", str(out), "--data-dir", str(data)]


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def test_real_params_file_is_yesterday_with_fetch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    now = pd.Timestamp("2025-11-17T13:45:12", tz="UTC")
    argv = ["--params", str(ROOT / "params" / "real.yaml"), "--notebooks", str(FIXTURES)]
    plan = report.prepare(report_parser().parse_args(argv), now=now)
    assert (plan.fetch, plan.demo) == (True, None)
    assert plan.start == pd.Timestamp("2025-11-16", tz="UTC") == plan.end - pd.Timedelta("1D")
    assert plan.report_date == date(2025, 11, 16)
    assert plan.data_dir == tmp_path / "data" / "real" and plan.data_dir.is_dir()
    today = report.prepare(report_parser().parse_args(argv))
    assert today.end == pd.Timestamp.now(tz="UTC").normalize() and today.end <= pd.Timestamp.now(
        tz="UTC"
    )  # a past, full UTC day, whenever it runs
    assert today.end - today.start == pd.Timedelta("1D")


def test_demo_and_fetch_together_are_refused_before_any_kernel(tmp_path, capsys, no_kernel):
    argv = report_argv(tmp_path, tmp_path / "out") + WINDOW
    rc = main([*argv, "-p", "fetch=true", "-p", "demo={scenario: article, seed: 7}"])
    assert rc == 2 and "fetch and demo exclude each other" in one_error_line(capsys)
    assert not (tmp_path / "out").exists() and not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("kind", "extra", "message"),
    [
        ("real", ["-p", "demo={scenario: article, seed: 7}"], "holds real data (liquidation_bars)"),
        ("demo", [], "holds simulated (demo) data and these parameters ask for real data"),
        ("demo", ["-p", "fetch=true"], "ask for real data (fetch: true)"),
        ("mixed", [], "written before they were kept apart"),
        ("mixed", ["-p", "demo={scenario: article}"], "written before they were kept apart"),
    ],
)
def test_a_store_of_the_other_kind_is_refused_before_any_kernel(
    tmp_path, capsys, no_kernel, kind, extra, message
):
    data = tmp_path / "data"
    real = two_source_bars()
    demo = f.liquidation_bars([(0, "htx", 1.0, 1.0)], source="demo")
    if kind == "mixed":  # written before the guard: two stores' files merged
        store_with(tmp_path / "r", real)
        store_with(data, demo)
        shutil.copytree(
            tmp_path / "r" / "liquidation_bars", data / "liquidation_bars", dirs_exist_ok=True
        )
        (data / "_state" / "kind.json").unlink()
    else:
        store_with(data, real if kind == "real" else demo)
    before = sorted(p.relative_to(data) for p in data.rglob("*.parquet"))
    assert main(report_argv(data, tmp_path / "out") + WINDOW + extra) == 2
    err = one_error_line(capsys)
    assert message in err
    if kind != "real":
        assert f"python -m helpers demo --remove --data-dir {data}" in err
    assert sorted(p.relative_to(data) for p in data.rglob("*.parquet")) == before
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_config_precedence_reaches_the_notebooks_and_no_row_is_simulated(tmp_path, monkeypatch):
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    data = store_with(tmp_path / "data", two_source_bars())
    config = tmp_path / "vendor-first.yaml"
    config.write_text("precedence: [coinalyze, tardis]\n")
    shown = {}
    for name, extra in (("default", []), ("config", ["--config", str(config)])):
        out = tmp_path / name
        assert main(report_argv(data, out, SOURCES_NB) + WINDOW + extra) == 0
        day = out / "2025-11-10"
        summary = json.loads((day / "summary.json").read_text())
        assert summary["simulated"] is False
        assert "SIMULATED" not in (day / "01_bar_sources.html").read_text()
        figures = summary["notebooks"]["01_bar_sources"]["figures"]
        shown[name] = {k: v["value"] for k, v in figures.items()}
        executed = (day / "01_bar_sources.ipynb").read_text()
        assert "bar sources: " in executed
    # config/sources.yaml ranks recorded/replayed events (tardis) above Coinalyze
    assert shown["default"]["bar_sources"] == "binanceusdm: tardis; okx: coinalyze"
    assert shown["default"]["long_usd"] == 3 * 100.0 + 3 * 5.0
    assert shown["config"]["bar_sources"] == "binanceusdm: coinalyze; okx: coinalyze"
    assert shown["config"]["long_usd"] == 3 * 7.0 + 3 * 5.0
    assert shown["config"]["first_rank"] == "coinalyze"


def test_a_bad_config_is_one_line_before_any_kernel(tmp_path, capsys, no_kernel):
    bad = tmp_path / "bad.yaml"
    bad.write_text("precedence: [unclosed\n")
    argv = report_argv(tmp_path, tmp_path / "out") + WINDOW + ["--config", str(bad)]
    assert main(argv) == 2
    assert "not valid YAML" in one_error_line(capsys)
