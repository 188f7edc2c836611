"""A report run killed with SIGKILL while its notebooks run: its workers and kernels stop,
and the next run removes its staging folder and publishes a complete report. A staging
folder of a run still rendering is never removed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from helpers import cli
from helpers.doctor import check_store
from helpers.report import staging
from helpers.store import Store

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks"
DATE = "2025-11-16"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def report_argv(out: Path, data: Path, *extra: str) -> list[str]:
    return ["report", "--params", str(ROOT / "params" / "article.yaml"), "--notebooks",
            str(FIXTURES), "--out", str(out), "--data-dir", str(data), *extra]  # fmt: skip


def leftovers(out: Path) -> list[str]:
    return sorted(
        p.name for p in out.iterdir() if p.name.startswith((staging.STAGING_PREFIX, ".old-"))
    )


@pytest.mark.slow
def test_killed_report_leaves_no_staging_after_the_next_run(
    tmp_path: Path, demo_store: Store
) -> None:
    data, out, meeting = tmp_path / "data", tmp_path / "reports", tmp_path / "meeting"
    shutil.copytree(demo_store.root, data)
    meeting.mkdir()
    # one worker: 01_figures checks in at the meeting folder, then waits for 02_window,
    # which cannot start; the run is killed while that notebook runs
    argv = report_argv(out, data, "--jobs", "1", "-p", f"rendezvous={meeting}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers", *argv],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while not (meeting / "01_figures").exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    children = psutil.Process(proc.pid).children(recursive=True)
    assert children  # the pool worker and its kernel
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    [left] = leftovers(out)
    assert left.startswith(f"{staging.STAGING_PREFIX}{DATE}-")
    _, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"still running after the report was killed: {alive}"

    assert cli.main(report_argv(out, data, "--jobs", "2")) == 0
    assert leftovers(out) == []
    day = out / DATE
    summary = json.loads((day / "summary.json").read_text())
    assert sorted(summary["notebooks"]) == ["01_figures", "02_window"]
    assert sorted(p.name for p in day.glob("*.html")) == ["01_figures.html", "02_window.html"]
    assert f'href="{DATE}/01_figures.html"' in (out / "index.html").read_text()
    assert not check_store(data, out).damaged


def test_stale_staging_is_removed_and_a_live_runs_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    killed = out / f"{staging.STAGING_PREFIX}{DATE}-1-0badc0de"
    killed.mkdir()
    (killed / "01_figures.ipynb").write_text("{}")
    (out / DATE).mkdir()
    replaced = out / f".old-{DATE}-0123abcd"  # a publish cut short after its 1st rename...
    replaced.mkdir()
    restored = out / ".old-2025-11-15-4567cdef"  # ...and one cut short before its 2nd
    (restored / "summary.json").parent.mkdir()
    (restored / "summary.json").write_text("{}")
    with staging.staging_folder(out, DATE) as running:
        later = time.time() + 3600
        assert staging.stale_folders(out, now=later) == [restored, replaced, killed]
        assert staging.remove_stale(out) == [restored, replaced, killed]
        assert running.is_dir() and staging.is_held(running)
        assert leftovers(out) == [running.name]
        assert (out / "2025-11-15" / "summary.json").exists()
    assert leftovers(out) == []
