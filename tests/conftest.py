"""Shared fixtures: a simulated store built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.sources.demo import ARTICLE, DemoMarket, simulate
from helpers.store import Store

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"


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
def realdata() -> Path:
    """The third-party data folder; the test is skipped when it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real data not available at {REALDATA}")
    return REALDATA
