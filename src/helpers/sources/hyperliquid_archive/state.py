"""Resume state of ``fetch-hyperliquid``: the hours already read and stored, per coin
selection, in ``<data_dir>/_state/hyperliquid_archive.json`` (rewritten atomically after
every hour, so a run stopped by an error or a kill resumes at the first hour not done)."""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from pathlib import Path

import pandas as pd

from helpers.errors import UserError
from helpers.files import exclusive_lock, write_text_atomic

STATE_DIR = "_state"
STATE_FILE = "hyperliquid_archive.json"
ALL_COINS = "*"


def scope(coins: Collection[str] | None) -> str:
    """The state key of a coin selection: ``*`` (every coin) or ``BTC,ETH`` (sorted)."""
    return ALL_COINS if coins is None else ",".join(sorted(coins))


def _hour_key(hour: pd.Timestamp) -> str:
    return f"{hour:%Y-%m-%dT%H}"


class ArchiveState:
    """Hours stored per coin selection. An hour done for every coin (``*``) is done for any
    selection; one done for ``BTC`` only is not done for ``BTC,ETH``."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.path = Path(data_dir) / STATE_DIR / STATE_FILE

    def _read(self) -> dict[str, set[str]]:
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {k: set(v) for k, v in raw["done"].items()}
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise UserError(
                f"{self.path}: resume state is not valid; delete it to read the hours again"
            ) from None

    def done(self, coins: Collection[str] | None) -> set[str]:
        """The hours (``YYYY-MM-DDTHH``) done for this selection."""
        state = self._read()
        return state.get(scope(coins), set()) | state.get(ALL_COINS, set())

    def is_done(self, hour: pd.Timestamp, done: set[str]) -> bool:
        return _hour_key(hour) in done

    def mark(self, hour: pd.Timestamp, coins: Collection[str] | None) -> None:
        """Record ``hour`` as read and stored for this selection."""
        with exclusive_lock(self.path.with_suffix(".lock")):
            state = self._read()
            state.setdefault(scope(coins), set()).add(_hour_key(hour))
            text = json.dumps(
                {"version": 1, "done": {k: sorted(v) for k, v in sorted(state.items())}},
                indent=1,
            )
            write_text_atomic(self.path, text)
