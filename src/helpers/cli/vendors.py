"""Vendor commands: ``fetch-coinalyze``, ``fetch-tardis``, ``fetch-coingecko`` and ``import``."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from helpers.cli import options as o
from helpers.config import load_config, make_exchange, secret
from helpers.errors import UserError
from helpers.sources import coinalyze, coingecko, tardis, vendor_csv
from helpers.sources.http import JsonClient
from helpers.store import WriteResult
from helpers.timegrid import INTERVAL_SECONDS


def _client(name: str, args: argparse.Namespace, key: str | None = None) -> JsonClient:
    return JsonClient(
        name,
        timeout=args.timeout,
        retries=o.check_retries(args.retries),
        backoff=args.backoff,
        secrets=(key,) if key else (),
        max_wait=getattr(args, "max_wait", o.DEFAULT_MAX_WAIT_S),
    )


# ---- fetch-coinalyze ------------------------------------------------------------------------


def add_coinalyze_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--coins",
        help="comma-separated base coins (BTC,ETH): every perpetual of them that Coinalyze's "
        "market catalog lists; default: vendors.coinalyze.coins, else the config's coins",
    )
    p.add_argument(
        "--exchanges",
        help="comma-separated venues to keep (ccxt ids, Coinalyze codes or names such as "
        "Binance); default: every venue the catalog lists",
    )
    p.add_argument(
        "--symbols",
        help="comma-separated Coinalyze symbols (BTCUSDT_PERP.A,BTC.H,...) instead of --coins; "
        "default: the config's vendors.coinalyze.symbols",
    )
    p.add_argument("--interval", default="1h", choices=list(coinalyze.INTERVALS))
    o.add_window(p, end_help="UTC end, exclusive (default: now)", start_required=True)
    p.add_argument(
        "--tables",
        default=",".join(coinalyze.TABLES),
        help=f"comma-separated subset of {coinalyze.TABLES}",
    )
    p.add_argument(
        "--base-units",
        action="store_true",
        help="ask for base units and convert with the bar's close (approximate) instead of "
        "convert_to_usd=true",
    )
    o.add_http(p)


def run_coinalyze(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    settings = config.vendor("coinalyze")
    tables = o.csv_list(args.tables)
    unknown = sorted(set(tables) - set(coinalyze.TABLES))
    if unknown:
        raise UserError(f"--tables: unknown {unknown}; expected some of {coinalyze.TABLES}")
    end = args.end if args.end is not None else o.now_utc()
    o.check_window(args.start, end)
    store = o.real_store(args.data_dir)
    key = secret(coinalyze.API_KEY_ENV)
    client = coinalyze.Coinalyze(
        key,
        base_url=str(settings.get("base_url", coinalyze.BASE_URL)),
        budget=coinalyze.CallBudget(
            int(settings.get("calls_per_minute", coinalyze.CALLS_PER_MINUTE))
        ),
        http=_client("coinalyze", args, key),
    )
    catalog = coinalyze.load_catalog(
        client, args.data_dir, max_age=coinalyze.catalog_max_age(settings)
    )
    symbols = coinalyze.resolve_markets(
        o.csv_list(args.symbols),
        settings,
        config,
        catalog,
        coins=o.csv_list(args.coins),
        exchanges=o.csv_list(args.exchanges),
    )
    print(coinalyze_plan_line(symbols))
    coinalyze.check_retention(args.interval, args.start)
    fetchers = {
        "liquidation_bars": lambda: coinalyze.liquidation_bars(
            client, symbols, args.interval, args.start, end, usd=not args.base_units
        ),
        "open_interest": lambda: coinalyze.open_interest(
            client, symbols, args.interval, args.start, end
        ),
        "funding": lambda: coinalyze.funding(client, symbols, args.interval, args.start, end),
    }
    lines = []
    for table in tqdm(tables, desc="coinalyze", unit="table", disable=None):
        frame = fetchers[table]()
        result = store.write(table, frame)
        lines += coinalyze_summary_lines(table, frame, result)
    for line in lines:
        print(line)
    return 0


def coinalyze_plan_line(markets: Mapping[str, coinalyze.Market]) -> str:
    """``coinalyze: N perpetuals on M venues: binanceusdm 3, bybit 4, ...``."""
    per_venue = Counter(m.exchange for m in markets.values())
    venues = ", ".join(f"{ex} {n}" for ex, n in sorted(per_venue.items()))
    return f"coinalyze: {len(markets)} perpetuals on {len(per_venue)} venues: {venues}"


def coinalyze_summary_lines(table: str, frame: pd.DataFrame, result: WriteResult) -> list[str]:
    """One line per exchange: rows fetched and the time span they cover, then the write."""
    out = []
    for ex, rows in frame.groupby("exchange", sort=True):
        span = f"{rows['ts'].min():%Y-%m-%d %H:%M} to {rows['ts'].max():%Y-%m-%d %H:%M} UTC"
        out.append(f"coinalyze {table} {ex}: {len(rows)} rows, {span}")
    if frame.empty:
        out.append(f"coinalyze {table}: no rows returned")
    out.append(f"  {result}")
    return out


# ---- fetch-tardis ---------------------------------------------------------------------------


def add_tardis_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--exchange",
        required=True,
        choices=list(tardis.TARDIS_EXCHANGES),
        help="Tardis exchange id",
    )
    p.add_argument(
        "--symbols", required=True, help="comma-separated Tardis symbols (BTCUSDT,ETHUSDT)"
    )
    o.add_window(p, start_required=True, end_required=True)
    o.add_http(p)


def run_tardis(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    settings = config.vendor("tardis")
    symbols = [s.upper() for s in o.csv_list(args.symbols)]
    if not symbols:
        raise UserError("--symbols: give at least one Tardis symbol")
    o.check_window(args.start, args.end)
    insts = [tardis.instrument(args.exchange, s) for s in symbols]
    markets = None
    if any(i.contract_size is None for i in insts):
        markets = make_exchange(config, insts[0].exchange).load_markets()
    key = secret(tardis.API_KEY_ENV)
    results = tardis.fetch(
        o.real_store(args.data_dir),
        _client("tardis", args, key),
        args.exchange,
        symbols,
        args.start,
        args.end,
        api_key=key,
        base_url=str(settings.get("base_url", tardis.BASE_URL)),
        markets=markets,
    )
    written = sum(r.written for r in results)
    quarantined = sum(r.quarantined for r in results)
    q = f", {quarantined} quarantined" if quarantined else ""
    print(
        f"tardis {args.exchange}: {written} new liquidations from {len(results)} files "
        f"({args.start:%Y-%m-%d} to {args.end:%Y-%m-%d}){q}"
    )
    return 0


# ---- fetch-coingecko ------------------------------------------------------------------------


def add_coingecko_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--file", help="a saved /coins/markets JSON response instead of the API")
    p.add_argument(
        "--at",
        type=o.time_arg,
        help="UTC window end: the live snapshot if within 1 h of now, else each coin's "
        "CoinGecko history at that time (coins: vendors.coingecko.coins, else the top by "
        "current cap)",
    )
    p.add_argument(
        "--vs-currency",
        default="usd",
        help="currency the prices are quoted in (default usd; others converted via tether)",
    )
    p.add_argument(
        "--top",
        type=int,
        help="coins by market cap (default 100; 30 for history, one call per coin)",
    )
    o.add_http(p)


def run_coingecko(args: argparse.Namespace) -> int:
    if args.top is not None and args.top < 1:
        raise UserError("--top must be at least 1")
    if args.file and args.at is not None:
        raise UserError("--file is a saved snapshot; it cannot be combined with --at")
    fetched_at = pd.Timestamp.now(tz="UTC")
    store = o.real_store(args.data_dir)
    if args.file:
        rows = coingecko.load_file(args.file)
        frame = coingecko.markets_frame(rows, args.vs_currency, fetched_at)
        result = store.write("market_caps", frame)
        _print_snapshot(Path(args.file).name, frame, result, args.vs_currency, fetched_at)
        return 0
    settings = load_config(args.config).vendor("coingecko")
    key = secret(coingecko.API_KEY_ENV)
    access = coingecko.access_from(settings, key)
    client = _client("coingecko", args, key)
    if args.at is None:
        rows = coingecko.fetch_markets(
            client, args.top or coingecko.window_end.SNAPSHOT_TOP, args.vs_currency, access=access
        )
        frame = coingecko.markets_frame(rows, args.vs_currency, fetched_at)
        result = store.write("market_caps", frame)
        _print_snapshot("coingecko /coins/markets", frame, result, args.vs_currency, fetched_at)
        return 0
    got = coingecko.fetch_market_caps_at(
        store,
        args.at,
        client=client,
        access=access,
        now=fetched_at,
        top=args.top,
        coins=[str(c) for c in settings.get("coins") or ()],
        vs_currency=args.vs_currency,
    )
    print(got.summary())
    return 0


def _print_snapshot(
    origin: str, frame: pd.DataFrame, result: WriteResult, vs: str, fetched_at: pd.Timestamp
) -> None:
    note = "" if vs.lower() == "usd" else f" ({vs.upper()} -> USD)"
    ts = frame["ts"].iloc[0] if len(frame) else fetched_at
    print(f"{origin}: snapshot {ts:%Y-%m-%d %H:%M} UTC, {len(frame)} coins{note}; {result}")


# ---- import ---------------------------------------------------------------------------------


def add_import_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="the vendor CSV export")
    p.add_argument("--format", required=True, choices=vendor_csv.FORMATS, dest="fmt")
    p.add_argument(
        "--exchange",
        help="CoinGlass files without an exchange column: the venue (Binance, or a ccxt id)",
    )
    p.add_argument(
        "--interval", choices=list(INTERVAL_SECONDS), help="bar size (default: inferred)"
    )
    p.add_argument(
        "--prices", help="Coinalyze wide files: a CSV with <SYMBOL>_close columns for conversion"
    )
    p.add_argument(
        "--units",
        choices=("auto", "base", "usd"),
        default="auto",
        help="Coinalyze liquidation units when the column names do not say (default: auto)",
    )


def run_import(args: argparse.Namespace) -> int:
    imported, result = vendor_csv.import_file(
        o.real_store(args.data_dir),
        args.fmt,
        args.file,
        exchange=args.exchange,
        interval=args.interval,
        prices=args.prices,
        units=args.units,
    )
    bars = imported.bars
    print(
        f"{Path(args.file).name}: {len(bars)} {bars['interval'].iloc[0]} bars, "
        f"{bars['exchange'].nunique()} exchange(s), {bars['symbol'].nunique()} symbol(s), "
        f"{bars['ts'].min():%Y-%m-%d %H:%M} to {bars['ts'].max():%Y-%m-%d %H:%M} UTC; "
        f"units: {imported.units}; source {bars['source'].iloc[0]!r}; "
        f"{imported.missing} cells missing"
    )
    for note in imported.notes:
        print(f"  {note}")
    print(result)
    return 0
