"""Write a simulated demo run into a store: ``write_demo`` (returns rows written per table);
``remove_demo`` deletes every simulated row again."""

from __future__ import annotations

from helpers.errors import UserError
from helpers.sources.demo.market import simulate
from helpers.sources.demo.scenarios import SCENARIOS
from helpers.store import Store
from helpers.store_kind import SIMULATED, remove_simulated


def write_demo(store: Store, scenario: str, seed: int, target_events: int | None = None) -> dict:
    """Simulate ``scenario`` and write every table into ``store``; returns rows written.

    A store holding any real row is refused (one-line :class:`UserError`) before anything
    is simulated or written: simulated data goes into a store of its own."""
    if scenario not in SCENARIOS:
        raise UserError(f"unknown scenario {scenario!r}; choose one of {sorted(SCENARIOS)}")
    store.require(SIMULATED, "the demo market")
    market = simulate(SCENARIOS[scenario], seed, target_events)
    return {name: store.write(name, df) for name, df in market.tables().items()}


def remove_demo(store: Store) -> dict[str, int]:
    """Delete every simulated row (``source='demo'``) from every table of ``store``, keeping
    the real ones; rows removed per table (:func:`helpers.store_kind.remove_simulated`)."""
    return remove_simulated(store)
