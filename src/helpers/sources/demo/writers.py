"""Write a simulated demo run into a store: ``write_demo`` (returns rows written per table)."""

from __future__ import annotations

from helpers.errors import UserError
from helpers.sources.demo.market import simulate
from helpers.sources.demo.scenarios import SCENARIOS
from helpers.store import Store


def write_demo(store: Store, scenario: str, seed: int, target_events: int | None = None) -> dict:
    """Simulate ``scenario`` and write every table into ``store``; returns rows written."""
    if scenario not in SCENARIOS:
        raise UserError(f"unknown scenario {scenario!r}; choose one of {sorted(SCENARIOS)}")
    market = simulate(SCENARIOS[scenario], seed, target_events)
    return {name: store.write(name, df) for name, df in market.tables().items()}
