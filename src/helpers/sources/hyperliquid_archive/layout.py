"""Where the Hyperliquid node archive keeps each hour, in each of its three layouts.

The bucket ``s3://hl-mainnet-node-data`` (requester-pays, region ap-northeast-1) holds one
LZ4-compressed JSON-lines file per UTC hour of the whole exchange, under
``<layout>/hourly/<YYYYMMDD>/<H>.lz4`` (hour without a leading zero):

* ``node_trades``, documented 2025-03-22 to 2025-05-25 (files reach 2025-06-21, sparse):
  one trade a line, both users in ``side_info``; **no liquidation marking**.
* ``node_fills``, 2025-05-25 (from hour 14) to 2025-07-27 (to hour 8): ``[user, fill]`` a
  line, the fill in the API format; liquidation fills carry ``liquidation``.
* ``node_fills_by_block``, since 2025-07-27 (from hour 8): one block a line,
  ``{local_time, block_time, block_number, events: [[user, fill], ...]}``.

The spans overlap at the handover hours, so every hour is looked up in every layout and
each file present is read (a fill in two layouts has one ``tid`` and is stored once).
Files are cut by block time: the first file of a day can hold fills stamped a few seconds
before midnight. Sources: ``docs/venue-rules.md``, "Hyperliquid node archive".
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Layout:
    """One layout of the archive: its folder, the days it is documented to cover (``last``
    None: still written) and whether its fills say which were liquidations."""

    name: str
    first: str
    last: str | None
    marks_liquidations: bool

    def key(self, hour: pd.Timestamp) -> str:
        """The file of the UTC ``hour`` relative to the archive root."""
        return f"{self.name}/hourly/{hour:%Y%m%d}/{hour.hour}.lz4"

    @property
    def span(self) -> str:
        return f"{self.first} to {self.last or 'today'}"


NODE_TRADES = Layout("node_trades", "2025-03-22", "2025-05-25", marks_liquidations=False)
NODE_FILLS = Layout("node_fills", "2025-05-25", "2025-07-27", marks_liquidations=True)
NODE_FILLS_BY_BLOCK = Layout("node_fills_by_block", "2025-07-27", None, marks_liquidations=True)

LAYOUTS: tuple[Layout, ...] = (NODE_FILLS_BY_BLOCK, NODE_FILLS, NODE_TRADES)
"""Every layout, newest first; all are looked up for every hour."""

FILL_LAYOUTS: tuple[Layout, ...] = tuple(lay for lay in LAYOUTS if lay.marks_liquidations)

DEFAULT_URL = "s3://hl-mainnet-node-data"
HOUR = pd.Timedelta(hours=1)


def hours_between(start: pd.Timestamp, end: pd.Timestamp) -> list[pd.Timestamp]:
    """The UTC hours (their start) touched by ``start <= t < end``."""
    first = start.tz_convert("UTC").floor("h")
    return list(pd.date_range(first, end - pd.Timedelta(microseconds=1), freq="h"))
