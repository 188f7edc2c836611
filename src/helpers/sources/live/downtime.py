"""Downtime between two runs of the collector, so that hours it was not running (a crash, a
restart by systemd, an upgrade) read as missing, never as hours without liquidations.

Each run leaves a heartbeat per exchange, ``<data_dir>/_state/collector-<exchange>.json``:
the streams it ran and ``alive``, the time up to which everything it received is in the store
(rewritten atomically after every flush; at shutdown, the time the streams stopped). The next
run on that exchange records ``[alive, its own start)`` as a ``stopped`` gap of each of those
streams. Without a heartbeat (the first run) nothing is recorded; a run that crashed leaves
its last flush as ``alive``, so the events it lost are inside the gap.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from helpers.files import write_text_atomic
from helpers.sources.live.coverage import Gap
from helpers.sources.live.streams import Stream

log = logging.getLogger("helpers.sources.live")

STATE_DIR = "_state"
REASON = "stopped: collector not running"


def heartbeat_path(data_dir: Path, exchange: str) -> Path:
    """``<data_dir>/_state/collector-<exchange>.json``."""
    return Path(data_dir) / STATE_DIR / f"collector-{exchange}.json"


def write_heartbeat(
    data_dir: Path, exchange: str, streams: Sequence[Stream], alive: pd.Timestamp
) -> None:
    """Record that ``streams`` of ``exchange`` were collected, and stored, up to ``alive``."""
    state = {
        "exchange": exchange,
        "alive": alive.isoformat(),
        "symbols": [s.symbol for s in streams if s.exchange == exchange],
    }
    write_text_atomic(heartbeat_path(data_dir, exchange), json.dumps(state, indent=1) + "\n")


def downtime_gaps(data_dir: Path, exchange: str, start: pd.Timestamp) -> list[Gap]:
    """The ``stopped`` gaps, one per stream of the previous run on ``exchange``, from its
    heartbeat to ``start`` (this run's start); none without a (readable) heartbeat."""
    path = heartbeat_path(data_dir, exchange)
    if not path.exists():
        return []
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        alive = pd.Timestamp(state["alive"]).tz_convert("UTC")
        symbols = [None if s is None else str(s) for s in state["symbols"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s: unreadable heartbeat %s (%s); downtime not recorded", exchange, path, exc)
        return []
    if alive >= start:
        return []
    return [Gap(Stream(exchange, sym), alive, REASON, end=start) for sym in symbols]
