"""Options shared by every command, with one meaning each.

* ``--data-dir`` and ``-v`` on every command.
* ``--start`` / ``--end``: an ISO 8601 time parsed by :func:`time_arg` (no offset = UTC); the
  window is half-open, ``start <= ts < end``; :func:`check_window` refuses ``end <= start``.
* ``--retries N``: retries AFTER the first attempt of a failed request (``0``: try once),
  ``--backoff S``: the first retry wait in seconds, doubling; ``--timeout S`` per request;
  ``--max-wait S``: the longest wait a server may ask for (``Retry-After``, a ban's end)
  before a request fails instead, saying until when.
* List options (``--exchanges``, ``--symbols``, ``--tables``) are comma-separated.
* Commands that write real data open the store with :func:`real_store`: a store holding
  simulated rows is one line, exit 2, before any request is made.
"""

from __future__ import annotations

import argparse

import pandas as pd

from helpers.errors import UserError
from helpers.store import DEFAULT_DATA_DIR, Store
from helpers.store_kind import REAL
from helpers.timegrid import to_utc

DEFAULT_RETRIES = 5
DEFAULT_BACKOFF_S = 1.0
DEFAULT_MAX_WAIT_S = 300.0


def add_common(p: argparse.ArgumentParser) -> None:
    """``--data-dir`` and ``-v``, on every command."""
    p.add_argument(
        "--data-dir", default=str(DEFAULT_DATA_DIR), help="store root (default: %(default)s)"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")


def real_store(data_dir: str) -> Store:
    """The store at ``data_dir``, which real rows may go into (:meth:`Store.require`)."""
    store = Store(data_dir)
    store.require(REAL)
    return store


def add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, help="sources config (default: config/sources.yaml)")


def add_retries(p: argparse.ArgumentParser, what: str = "request") -> None:
    """``--retries`` (retries after the first attempt) and ``--backoff``."""
    p.add_argument(
        "--retries",
        type=int,
        default=DEFAULT_RETRIES,
        help=f"retries of a failed {what} after the first attempt (default: %(default)s)",
    )
    p.add_argument(
        "--backoff",
        type=float,
        default=DEFAULT_BACKOFF_S,
        help="first retry wait in seconds, doubling (default: %(default)s)",
    )
    p.add_argument(
        "--max-wait",
        type=float,
        default=DEFAULT_MAX_WAIT_S,
        help="longest wait in seconds a rate-limited server may ask for (Retry-After, an IP "
        "ban's end); a longer one fails at once, saying until when (default: %(default)s)",
    )


def add_http(p: argparse.ArgumentParser) -> None:
    """``--config``, ``--timeout``, ``--retries`` and ``--backoff`` for a vendor command."""
    add_config(p)
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    add_retries(p)


def check_retries(retries: int) -> int:
    if retries < 0:
        raise UserError(f"--retries must be 0 or more, got {retries}")
    return retries


def time_arg(text: str) -> pd.Timestamp:
    """An argparse type: an ISO time as a UTC timestamp (no offset = UTC)."""
    try:
        t = to_utc(text)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r}") from None
    if t is None or t is pd.NaT:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r}")
    return t


def add_window(
    p: argparse.ArgumentParser,
    start_help: str = "UTC start, inclusive",
    end_help: str = "UTC end, exclusive",
    *,
    start_required: bool = False,
    end_required: bool = False,
) -> None:
    """``--start`` and ``--end``, both parsed by :func:`time_arg`."""
    p.add_argument("--start", type=time_arg, required=start_required, help=start_help)
    p.add_argument("--end", type=time_arg, required=end_required, help=end_help)


def check_window(start: pd.Timestamp | None, end: pd.Timestamp | None) -> None:
    """A one-line error when both bounds are given and ``end <= start``."""
    if start is not None and end is not None and end <= start:
        raise UserError(f"--start must be before --end, got {start} .. {end}")


def now_utc(floor: str = "min") -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").floor(floor)


def csv_list(value: str | None) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``; ``None`` -> ``[]``."""
    return [v.strip() for v in value.split(",") if v.strip()] if value else []
