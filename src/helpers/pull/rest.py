"""The ccxt REST step of a pull: liquidation events where the venue has public history, and
OHLCV, open interest and funding, for each configured exchange (one status per exchange)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from helpers.config import Config
from helpers.errors import UserError
from helpers.pull.status import SourceStatus, State, one_line
from helpers.sources import ccxt_rest
from helpers.sources.ccxt_rest import Summary
from helpers.sources.retry import RetryPolicy
from helpers.store import Store
from helpers.timegrid import Window


@dataclass
class RestOutcome:
    """The statuses, and per table the exchanges whose every task of it succeeded (what the
    vendor steps need not fetch again)."""

    statuses: list[SourceStatus] = field(default_factory=list)
    covered: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def pull_rest(
    store: Store, config: Config, window: Window, coins: Sequence[str], policy: RetryPolicy
) -> RestOutcome:
    """Fetch ``window`` over ccxt REST for the window's exchanges (else the config's enabled
    ones), each with its configured symbols narrowed to the window's symbols and ``coins``
    (base assets), and its configured tables."""
    out = RestOutcome()
    exchanges = list(window.exchanges) if window.exchanges else config.enabled_exchanges
    if not exchanges:
        out.statuses.append(SourceStatus("ccxt", "skipped", "no exchanges enabled in the config"))
    for ex in exchanges:
        name = f"ccxt {ex}"
        if ex not in config.exchanges:
            out.statuses.append(SourceStatus(name, "skipped", "not in the sources config"))
            continue
        symbols = _symbols(config, ex, window, coins)
        if not symbols:
            out.statuses.append(
                SourceStatus(name, "skipped", "none of the window's symbols or coins configured")
            )
            continue
        try:
            summary = ccxt_rest.fetch_window(
                store, config, window.start, window.end, exchanges=[ex], symbols=symbols,
                interval=window.interval, policy=policy,
            )  # fmt: skip
        except UserError as exc:
            out.statuses.append(SourceStatus(name, "failed", one_line(exc)))
            continue
        except Exception as exc:  # one venue's failure never stops the others
            out.statuses.append(
                SourceStatus(name, "failed", one_line(f"{type(exc).__name__}: {exc}"))
            )
            continue
        out.statuses.append(_status(name, ex, summary))
        for table in _covered_tables(summary):
            out.covered[table].add(ex)
    return out


def _symbols(config: Config, ex: str, window: Window, coins: Sequence[str]) -> list[str]:
    wanted = {c.upper() for c in coins}
    symbols = list(config.exchange(ex).symbols)
    if window.symbols:
        symbols = [s for s in symbols if s in window.symbols]
    if wanted:
        symbols = [s for s in symbols if s.split("/")[0].upper() in wanted]
    return symbols


def _failed_tasks(summary: Summary) -> set[str]:
    return {what for what, _ in summary.failures}


def _covered_tables(summary: Summary) -> set[str]:
    failed = _failed_tasks(summary)
    by_table: dict[str, list[bool]] = defaultdict(list)
    for r in summary.results:
        by_table[r.table].append(f"{r.table} {r.exchange} {r.symbol}" not in failed)
    return {t for t, oks in by_table.items() if all(oks)}


def _status(name: str, ex: str, summary: Summary) -> SourceStatus:
    failed = _failed_tasks(summary)
    rows: dict[str, int] = defaultdict(int)
    ok_tasks = 0
    for r in summary.results:
        if f"{r.table} {r.exchange} {r.symbol}" not in failed:
            ok_tasks += 1
            rows[r.table] += r.offered
    parts = [f"{t} {n} {'events' if t == 'liquidations' else 'rows'}" for t, n in rows.items()]
    done = sum(r.note == "already up to date" for r in summary.results)
    if done:
        parts.append(f"{done} task(s) already fetched earlier")
    if any(what.startswith("liquidations ") for what, _ in summary.skipped):
        parts.append("liquidations: no public REST history (streams or a vendor)")
    state: State = "failed" if summary.failures and not ok_tasks else "partial" if failed else "ok"
    if summary.failures:
        what, err = summary.failures[0]
        more = f" (+{len(summary.failures) - 1} more)" if len(summary.failures) > 1 else ""
        parts.append(f"{'FAILED ' if state == 'partial' else ''}{what}: {err}{more}")
    if not summary.results and not summary.failures:
        state = "skipped"
    liq = {ex: rows["liquidations"]} if "liquidations" in rows else {}
    return SourceStatus(name, state, one_line("; ".join(parts) or "nothing to fetch"), liq)
