"""Shared fixtures: a simulated store and its demo report built once per test session, and
an offline browser."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser import OfflinePage, open_offline_page
from report_run import render_article_report

from helpers.cli import main
from helpers.sources.demo import ARTICLE, DemoMarket, simulate
from helpers.store import Store

ROOT = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get("LIQNB_REALDATA") or ROOT.parent / "shared" / "realdata")
"""The real-data folder: ``../shared/realdata``, or ``$LIQNB_REALDATA`` (a git worktree)."""


@pytest.fixture(scope="session")
def article_market() -> DemoMarket:
    """The default demo scenario, simulated once (seed 7, as `make report` uses)."""
    return simulate(ARTICLE, seed=7)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory, article_market: DemoMarket) -> Store:
    """A store holding the article scenario. Read-only for tests: copy it to modify."""
    store = Store(tmp_path_factory.mktemp("demo-store"))
    for name, df in article_market.tables().items():
        store.write(name, df)
    return store


@pytest.fixture
def offline_page() -> Iterator[OfflinePage]:
    """A real browser (Debian chromium via Playwright) cut off from the network; skipped
    when chromium or playwright is absent."""
    with open_offline_page() as page:
        yield page


@pytest.fixture(scope="session")
def article_report(demo_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo report (``params/article.yaml`` on a copy of :func:`demo_store`) rendered by
    the real ``report`` command, once per test run: the day folder of its pages. Read-only.

    Under pytest-xdist the workers share one render (the first to take the lock renders,
    the others wait and read it), so a second test file using it costs no second render."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's folder, above every worker's own
    root = shared / "article-report"
    root.mkdir(exist_ok=True)
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = root / "exit-code"
        if not done.exists():
            data = root / "raw"
            shutil.copytree(demo_store.root, data)
            code = render_article_report(data, root / "reports")
            done.write_text(str(code))
    assert done.read_text() == "0", "the demo report failed to render"
    return root / "reports" / "2025-11-16"


@pytest.fixture
def realdata() -> Path:
    """The third-party data folder; the test is skipped when it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real data not available at {REALDATA}")
    return REALDATA


HelpersRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_helpers(capsys: pytest.CaptureFixture[str]) -> HelpersRun:
    """``python -m helpers *argv`` in this process, for tests of what a command does rather
    than of its process (a subprocess costs 1-2 s of interpreter start and imports): exit
    code, stdout and stderr as ``subprocess.run`` gives them, stderr carrying the log lines
    (INFO and up) that ``main``'s ``logging.basicConfig`` prints in a fresh interpreter."""

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()  # what the test printed before is not the command's
        root = logging.getLogger()
        handler = logging.StreamHandler(sys.stderr)  # capsys's stream, bound at the call
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse refusing the arguments
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["python", "-m", "helpers", *argv], code, out, err)

    return run
