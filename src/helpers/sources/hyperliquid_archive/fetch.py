"""The window loop: hour by hour, read every layout's file, store, mark the hour done.

* An hour is stored (events, quarantined fills, or a gap) and THEN marked done in the
  resume state (:mod:`.state`); an error in a file (truncated LZ4, a malformed line) or an
  interrupt stops the run with that hour not done and nothing of it stored, every earlier
  hour kept; the one-line error says how many hours the run stored and where a rerun
  resumes.
* A day whose hours in the window are all done is skipped without opening a file.
* An hour that no layout marking liquidations has (only ``node_trades``, or no file) is a
  ``gaps`` row (``table_name = liquidations``): missing, never zero liquidations. An hour
  ending less than :data:`UPLOAD_LAG` ago without a file is not yet uploaded: neither a
  gap nor done, so a later run reads it.
* Events are stored at their own time, also the few seconds of the previous hour a file
  cut by block time may hold.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
from tqdm import tqdm

from helpers import schema
from helpers.errors import UserError
from helpers.sources.hyperliquid_archive.layout import (
    DEFAULT_URL,
    HOUR,
    NODE_TRADES,
    hours_between,
)
from helpers.sources.hyperliquid_archive.parse import EXCHANGE
from helpers.sources.hyperliquid_archive.reader import HourRead, read_hour
from helpers.sources.hyperliquid_archive.state import ArchiveState
from helpers.sources.normalize import hyperliquid_symbol
from helpers.store import Store

UPLOAD_LAG = pd.Timedelta(hours=3)
"""How long after an hour ends its file may still be missing because it is not uploaded."""
S3_REGION = "ap-northeast-1"
CREDENTIAL_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
NO_MARKING = (
    f"hyperliquid node archive: only {NODE_TRADES.name} has this hour, a layout that does "
    "not mark liquidations"
)
NO_FILE = "hyperliquid node archive: no file for this hour in any layout"


@dataclass
class FetchSummary:
    """What a run did, hour by hour (counts)."""

    hours: int = 0
    read: int = 0
    files: int = 0
    already_done: int = 0
    days_skipped: int = 0
    events: int = 0
    new_events: int = 0
    quarantined: int = 0
    gap_hours: int = 0
    not_uploaded: int = 0
    quarantine_files: list[Path] = field(default_factory=list)

    def kept(self, stopped_at: pd.Timestamp) -> str:
        """What a run stopped at the hour ``stopped_at`` keeps: the hours it stored are done
        and stay done; that hour is not, so a rerun starts there."""
        hours = f"{self.read} hour{'s' * (self.read != 1)}"
        return (
            f"{hours} stored by this run before {stopped_at:%Y-%m-%dT%H}:00Z "
            f"({self.new_events} new liquidations) are kept; a rerun resumes at that hour"
        )

    def lines(self) -> list[str]:
        q = f", {self.quarantined} quarantined" if self.quarantined else ""
        out = [
            f"hyperliquid archive: {self.hours} hours, {self.read} read from {self.files} "
            f"files, {self.already_done} already stored ({self.days_skipped} days skipped); "
            f"{self.events} liquidations ({self.new_events} new){q}"
        ]
        if self.gap_hours:
            out.append(
                f"  {self.gap_hours} hours without liquidation marking or file: stored as gaps"
            )
        if self.not_uploaded:
            out.append(f"  {self.not_uploaded} recent hours not in the archive yet: not done")
        out += [f"  quarantined rows kept in {p}" for p in self.quarantine_files]
        return out


def open_archive(url: str | None = None) -> tuple[Any, str]:
    """The filesystem and root path of the archive at ``url`` (default: the requester-pays
    bucket). S3 needs ``s3fs`` (extra ``s3``) and AWS credentials from the environment
    only; they are passed to s3fs and never logged. Anything else is an fsspec URL or a
    local folder with the same layout."""
    url = url or DEFAULT_URL
    if url.startswith("s3://"):
        missing = [k for k in CREDENTIAL_ENV if not os.environ.get(k)]
        if missing:
            raise UserError(
                f"{url} is requester-pays: set {' and '.join(missing)} in the environment "
                "(the transfer is billed to that AWS account), or give --source a local copy"
            )
        try:
            fs = fsspec.filesystem(
                "s3",
                key=os.environ["AWS_ACCESS_KEY_ID"],
                secret=os.environ["AWS_SECRET_ACCESS_KEY"],
                token=os.environ.get("AWS_SESSION_TOKEN") or None,
                requester_pays=True,
                client_kwargs={"region_name": os.environ.get("AWS_REGION") or S3_REGION},
            )
        except ImportError:
            raise UserError(
                "reading s3:// needs s3fs: pip install 'liquidation-notebooks[s3]'"
            ) from None
        return fs, url.removeprefix("s3://").rstrip("/")
    try:
        fs, root = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise UserError(f"--source {url}: {exc}") from None
    if not fs.exists(root):
        raise UserError(f"--source {url}: no such archive folder")
    return fs, str(root)


def _gaps(hour: pd.Timestamp, reason: str, coins: Collection[str] | None) -> pd.DataFrame:
    """One ``gaps`` row for the hour: every Hyperliquid symbol, or each selected coin's."""
    symbols = [None] if coins is None else [hyperliquid_symbol(c) for c in coins]
    return pd.DataFrame(
        {
            "start": hour,
            "end": hour + HOUR,
            "exchange": EXCHANGE,
            "symbol": pd.Series(symbols, dtype="string"),
            "table_name": "liquidations",
            "reason": reason,
            "ts": hour,
        },
        columns=schema.table("gaps").column_names,
    )


def _store_hour(
    store: Store, got: HourRead, coins: Collection[str] | None, summary: FetchSummary
) -> None:
    events = got.events()
    if len(events):
        result = store.write("liquidations", events)
        summary.events += result.offered
        summary.new_events += result.written
        summary.quarantined += result.quarantined
        if result.quarantine_file is not None:
            summary.quarantine_files.append(result.quarantine_file)
    rejects = got.quarantined()
    if len(rejects):
        path = store.quarantine("liquidations", rejects)
        summary.quarantined += len(rejects)
        if path is not None:
            summary.quarantine_files.append(path)
    if not got.has_fills:
        reason = NO_MARKING if got.layouts else NO_FILE
        store.write("gaps", _gaps(got.hour, reason, coins))
        summary.gap_hours += 1


@dataclass
class _Run:
    """One fetch run: where it reads, what it keeps, where it stores and what it counted."""

    fs: Any
    root: str
    wanted: Collection[str] | None  # upper-case base coins, None: every coin
    names: Collection[str] | None  # the same, as Hyperliquid spells them
    now: pd.Timestamp
    store: Store
    state: ArchiveState
    summary: FetchSummary

    def fetch_hour(self, hour: pd.Timestamp) -> None:
        """Read, store, then mark done one hour (module docstring)."""
        got = read_hour(self.fs, self.root, hour, self.wanted)
        if not got.layouts and hour + HOUR > self.now - UPLOAD_LAG:
            self.summary.not_uploaded += 1
            return
        self.summary.read += 1
        self.summary.files += len(got.layouts)
        _store_hour(self.store, got, self.names, self.summary)
        self.state.mark(hour, self.wanted)


def fetch(
    store: Store,
    start: pd.Timestamp,
    end: pd.Timestamp,
    coins: Collection[str] | None = None,
    url: str | None = None,
    now: pd.Timestamp | None = None,
) -> FetchSummary:
    """Read and store every hour of ``start <= t < end`` not yet done (module docstring).
    ``coins`` (base coins, matched case-insensitively; None: all) narrows what is kept."""
    names = None if coins is None else sorted(set(coins))  # as Hyperliquid spells them
    wanted = None if names is None else {c.upper() for c in names}
    fs, root = open_archive(url)
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    state = ArchiveState(store.root)
    done = state.done(wanted)
    hours = hours_between(start, end)
    summary = FetchSummary(hours=len(hours))
    todo: list[pd.Timestamp] = []
    for _day, in_day in itertools.groupby(hours, key=lambda h: h.floor("D")):
        day_hours = list(in_day)
        left = [h for h in day_hours if not state.is_done(h, done)]
        summary.already_done += len(day_hours) - len(left)
        summary.days_skipped += not left
        todo += left
    run = _Run(fs, root, wanted, names, now, store, state, summary)
    for hour in tqdm(todo, desc="hyperliquid archive", unit="hour", disable=None):
        try:
            run.fetch_hour(hour)
        except UserError as exc:
            raise UserError(f"{exc}; {summary.kept(hour)}") from exc
        except KeyboardInterrupt:
            raise KeyboardInterrupt(summary.kept(hour)) from None
    return summary
