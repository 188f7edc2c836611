"""Soak: the collector on the real ccxt.pro clients against Binance USD-M and COIN-M venues that
drop connections, send corrupt frames, go mute and refuse reconnections at random (seeded,
tests/servers/ws_chaos.py). Nothing delivered may be lost or stored twice, nothing invented,
every outage must lie inside a recorded gap, memory must stay flat, and ``python -m helpers
doctor`` must find the store sound.

``LIQNB_SOAK_SECONDS`` sets how long the venues misbehave: 12 s in the suite, at least 60 for
a real soak (``LIQNB_SOAK_SECONDS=120 pytest -m soak tests/test_live_soak.py``).
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import tracemalloc

import pytest
from servers.ws_chaos import KINDS, Chaos, ChaosBinance, ChaosCoinm
from test_live import call, collector, run
from test_live_healing import covered, merged

from helpers.sources import live
from helpers.store import Store

SOAK_SECONDS = float(os.environ.get("LIQNB_SOAK_SECONDS", "12"))
MEMORY_GROWTH_BYTES = 3_000_000
"""Allowed growth of traced memory from a third of the run to its end (ccxt's caches are
full by then: ``cache_limit`` events), less what the harness keeps (captured log records)."""


def traced() -> int:
    """Bytes traced now, once unreachable cycles are collected (each dropped connection
    leaves a cycle holding its zlib state, ~0.2 MB, until a full collection). The collection
    stalls the event loop for a moment, one more thing the collector must survive."""
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


@pytest.mark.soak
def test_the_collector_survives_a_misbehaving_venue_and_loses_nothing_unrecorded(tmp_path):
    memory: dict[str, int] = {}
    with ChaosBinance(seed=11) as usdm, ChaosCoinm(seed=23) as coinm:
        venues: list[Chaos] = [usdm, coinm]
        c = collector(
            tmp_path,
            *venues,
            silence_seconds=0.5,
            max_backoff=0.5,
            flush_seconds=1.0,
            cache_limit=500,
        )

        async def scenario() -> None:
            for v in venues:
                await call(v.wait_subscribed)
            tracemalloc.start()
            try:
                for v in venues:
                    await call(v.start_chaos)
                await asyncio.sleep(SOAK_SECONDS / 3)
                memory["warm"] = traced()
                await asyncio.sleep(SOAK_SECONDS * 2 / 3)
                for v in venues:
                    await call(v.stop_chaos)
                for v in venues:
                    await call(v.wait_recovered)
                await asyncio.sleep(0.5)  # the last events delivered reach the collector
                await c.flush()
                memory["end"] = traced()
            finally:
                tracemalloc.stop()
            for ex in c.exchanges.values():
                assert len(ex.clients) <= 1  # reset clients are gone, not piling up
                assert len(ex.liquidations) <= 500
            assert len(c._closing) <= 2 * len(KINDS)

        run(c, scenario)

    store = Store(tmp_path / "store")
    events = store.read("liquidations")
    gaps = store.read("gaps")
    assert events["event_id"].is_unique
    for v in venues:
        mine = events[events["exchange"] == v.name]
        stored = mine["ts"].dt.as_unit("ms").astype("int64").tolist()
        assert len(stored) == len(set(stored)), f"{v.name}: an event stored twice"
        assert set(v.delivered) <= set(stored), f"{v.name}: delivered events missing"
        assert set(stored) <= set(v.published), f"{v.name}: events nobody published"
        assert {o.kind for o in v.outages} == set(KINDS)
        spans = merged(gaps[gaps["exchange"] == v.name])
        for o in v.outages:
            assert o.end is not None
            near = [(a, b) for a, b in spans if b > o.start - 5 and a < o.end + 5]
            assert covered(spans, o.start, o.end), f"{v.name}: {o} outside the gaps {near}"
        lost = sorted(set(v.published) - set(v.delivered))
        assert lost, "the venues published nothing during their outages"
        assert all(covered(spans, t / 1000, t / 1000) for t in lost)
    # memory: ``seen`` holds the last 2 x SINCE_MARGIN_MS of events, the buffer is flushed
    for stream, st in c.states.items():
        venue = next(v for v in venues if v.name == stream.exchange)
        newest = max(venue.delivered)
        recent = [t for t in venue.published if t >= newest - 2 * live.SINCE_MARGIN_MS - 1000]
        assert len(st.seen) <= len(recent)
    assert c.buffered == 0 and not c.buffer
    assert memory["end"] - memory["warm"] < MEMORY_GROWTH_BYTES, memory
    # and the store it leaves is sound: readable, valid, no duplicate keys, no leftovers
    doctor = subprocess.run(
        [sys.executable, "-m", "helpers", "doctor", "--data-dir", str(store.root),
         "--reports", str(tmp_path / "reports")],
        capture_output=True, text=True, timeout=120, env=os.environ,
    )  # fmt: skip
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
