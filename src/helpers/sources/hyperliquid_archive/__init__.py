"""Hyperliquid liquidations event by event, from its own node archive.

``python -m helpers fetch-hyperliquid --start T --end T [--coins BTC,ETH] [--source URL]``
reads the hourly files of ``s3://hl-mainnet-node-data`` (requester-pays: AWS credentials
from the environment only, ``s3fs`` from the ``s3`` extra), or a local folder / any fsspec
URL with the same layout, and writes ``liquidations`` rows with ``exchange=hyperliquid``
and ``source='hyperliquid:node-archive'``.

The rules (sources in ``docs/venue-rules.md``, "Hyperliquid node archive"):

* **Layouts** (:mod:`.layout`): ``node_trades`` (2025-03-22 to 2025-05-25), ``node_fills``
  (2025-05-25 to 2025-07-27), ``node_fills_by_block`` (since 2025-07-27), LZ4 JSON lines,
  every coin in one file per hour. Each hour is looked up in every layout, so handover
  hours are read from each file present.
* **Which fills** (:mod:`.parse`): a fill carrying ``liquidation`` =
  ``{liquidatedUser, markPx, method}``, and of those only the liquidated user's own leg
  (``user == liquidatedUser``): both counterparties' fills carry the object, so each
  liquidation is counted once. A liquidation filled in several pieces is one event per
  piece, ``event_id = tid:<tid>``.
* **Side**: the liquidated user's fill ``side`` ``A`` (sell) = a long position liquidated,
  ``B`` (buy) = a short. A ``dir`` contradicting it (``Close Long`` on a ``B`` fill) is
  quarantined with the reason.
* **Notional**: ``px x sz`` in USDC, counted as USD.
* **node_trades marks no liquidation**: its trades carry ``side_info`` of both users but no
  ``liquidation`` object (documented schema), so its hours are stored as ``gaps``, never as
  hours without liquidations, and its files are not downloaded.
* **Streaming** (:mod:`.reader`): LZ4 frames decompressed 1 MiB at a time, lines without
  ``"liquidation"`` skipped unparsed, the hour's rows to pandas through Arrow; never a file
  or a day in memory. A truncated file or a malformed line is a one-line error (exit 2),
  that hour not done, nothing stored lost.
* **Resume** (:mod:`.state`, :mod:`.fetch`): hours done per coin selection in
  ``<data_dir>/_state/hyperliquid_archive.json``; a day already stored is skipped.
"""

from helpers.sources.hyperliquid_archive.fetch import FetchSummary, fetch, open_archive
from helpers.sources.hyperliquid_archive.layout import (
    DEFAULT_URL,
    LAYOUTS,
    NODE_FILLS,
    NODE_FILLS_BY_BLOCK,
    NODE_TRADES,
    Layout,
)
from helpers.sources.hyperliquid_archive.parse import EXCHANGE, SOURCE, liquidation_row
from helpers.sources.hyperliquid_archive.reader import ArchiveError, iter_lines, read_hour

__all__ = [
    "DEFAULT_URL",
    "EXCHANGE",
    "LAYOUTS",
    "NODE_FILLS",
    "NODE_FILLS_BY_BLOCK",
    "NODE_TRADES",
    "SOURCE",
    "ArchiveError",
    "FetchSummary",
    "Layout",
    "fetch",
    "iter_lines",
    "liquidation_row",
    "open_archive",
    "read_hour",
]
