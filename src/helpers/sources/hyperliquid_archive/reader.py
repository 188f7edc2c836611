"""Stream one hour of the archive: LZ4 frames decompressed chunk by chunk, line by line.

Memory stays bounded by one line (a block of fills) and the hour's liquidation rows: a file
(20 to 80 MB compressed, several times that as JSON) is never held whole, and lines
without the ``"liquidation"`` key are skipped before any JSON parsing. A truncated or
corrupt LZ4 frame or a malformed line is an :class:`ArchiveError` naming the file (and
the line), raised before anything of that hour is stored.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

import lz4.frame
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
from tqdm import tqdm

from helpers import schema
from helpers.errors import UserError
from helpers.sources.hyperliquid_archive.layout import FILL_LAYOUTS, LAYOUTS, Layout
from helpers.sources.hyperliquid_archive.parse import (
    MARKER,
    MalformedLine,
    liquidation_row,
    load,
    user_fills,
)

CHUNK_BYTES = 1 << 20
"""Decompressed bytes read at a time."""


class ArchiveError(UserError):
    """A file of the archive that cannot be read: truncated, not LZ4, a malformed line."""


def iter_lines(raw: io.RawIOBase | Any, name: str, chunk: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The lines of the LZ4 frame(s) read from the binary file ``raw``, decompressed
    ``chunk`` bytes at a time; :class:`ArchiveError` for a truncated or corrupt frame."""
    rest = b""
    try:
        with lz4.frame.LZ4FrameFile(raw, mode="rb") as f:
            while True:
                data = f.read(chunk)
                if not data:
                    break
                lines = (rest + data).split(b"\n")
                rest = lines.pop()
                yield from lines
    except (EOFError, RuntimeError) as exc:
        raise ArchiveError(f"{name}: truncated or corrupt LZ4 file ({exc})") from None
    except OSError as exc:
        raise ArchiveError(f"{name}: read failed ({_one_line(exc)})") from None
    if rest:
        yield rest


@dataclass
class HourRead:
    """What one hour of the archive held: the liquidation rows (canonical columns), the
    fills quarantined with their reason, and the layouts that had a file."""

    hour: pd.Timestamp
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    layouts: list[Layout] = field(default_factory=list)

    @property
    def has_fills(self) -> bool:
        """Whether a layout that marks liquidations had this hour (else it is a gap)."""
        return any(lay.marks_liquidations for lay in self.layouts)

    def events(self) -> pd.DataFrame:
        """The rows as a ``liquidations`` frame, each ``event_id`` once (a handover hour's
        fill found in two layouts), through Arrow."""
        cols = schema.table("liquidations").column_names
        if not self.rows:
            return schema.empty("liquidations")
        table = pa.Table.from_pylist(self.rows).select(cols)
        stamps = pa.compute.cast(table["ts"], pa.timestamp("ms", tz="UTC"))
        frame = table.set_column(0, "ts", stamps).to_pandas()
        frame["ts"] = frame["ts"].astype("datetime64[us, UTC]")
        return frame.drop_duplicates("event_id", keep="first").reset_index(drop=True)

    def quarantined(self) -> pd.DataFrame:
        cols = [*schema.table("liquidations").column_names, "reason"]
        return pd.DataFrame(self.rejects, columns=cols).astype("string")


def read_file(
    fs: Any,
    path: str,
    name: str,
    layout: Layout,
    into: HourRead,
    coins: Collection[str] | None = None,
) -> None:
    """Read one file of a fills layout into ``into`` (a progress bar of its bytes)."""
    try:
        size = fs.size(path)
    except (OSError, ValueError):
        size = None
    with (
        fs.open(path, "rb") as raw,
        tqdm.wrapattr(
            raw, "read", total=size, desc=name, unit="B", unit_scale=True, disable=None
        ) as counted,
    ):
        for number, line in enumerate(iter_lines(counted, name), start=1):
            if MARKER not in line:
                if line.strip():
                    _check_json_start(line, name, number)
                continue
            try:
                pairs = list(user_fills(layout, load(line)))
            except MalformedLine as exc:
                raise ArchiveError(f"{name}: line {number}: {exc}") from None
            for user, fill in pairs:
                row, reason = liquidation_row(user, fill, coins)
                if row is None:
                    continue
                if reason is None:
                    into.rows.append(row)
                else:
                    into.rejects.append({**row, "ts": _iso(row["ts"]), "reason": reason})


def _iso(ms: int | None) -> str | None:
    return None if ms is None else pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()


def _check_json_start(line: bytes, name: str, number: int) -> None:
    """A cheap check of a line that is not parsed: it must open and close a JSON array or
    object (a line cut short fails)."""
    text = line.strip()
    if text[:1] + text[-1:] not in (b"[]", b"{}"):
        raise ArchiveError(f"{name}: line {number}: not a JSON line")


def read_hour(
    fs: Any, root: str, hour: pd.Timestamp, coins: Collection[str] | None = None
) -> HourRead:
    """Every layout's file of ``hour`` under ``root``: the fills layouts read, ``node_trades``
    only looked up (it marks no liquidation, so reading it would add nothing)."""
    out = HourRead(hour)
    for layout in LAYOUTS:
        key = layout.key(hour)
        path = f"{root.rstrip('/')}/{key}"
        try:
            if not fs.exists(path):
                continue
            out.layouts.append(layout)
            if layout in FILL_LAYOUTS:
                read_file(fs, path, key, layout, out, coins)
        except ArchiveError:
            raise
        except Exception as exc:  # the storage's own errors (permissions, network, botocore)
            raise ArchiveError(f"{key}: cannot read ({_one_line(exc)})") from None
    return out


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
