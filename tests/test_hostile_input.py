"""Hostile names stay inert: a coin, symbol, venue or source name that arrives from a file or
a venue is checked on the way in (quarantined with the reason, never stored), and whatever
an older store still holds is escaped on every page a report writes."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import factories as f
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pagetext import visible_text

from helpers import schema
from helpers.cli import main
from helpers.store import Store

ROOT = Path(__file__).resolve().parents[1]

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = '"><script>alert(1)</script>'
JS = "javascript:alert(1)"
TEMPLATE = "{{7*7}}${x}"
MATH = r"$\alert{1}$"
HOSTILE = (IMG, SCRIPT, JS, TEMPLATE, MATH)
TEXT_IN_A_NAME = {JS}
"""A coin's display name is free text, shown escaped: ``javascript:`` is inert there."""


def _good_row(table: str) -> dict[str, object]:
    ts = pd.Timestamp("2025-11-10T01:00Z")
    common = {"ts": ts, "exchange": "okx", "symbol": "BTC/USDT:USDT", "source": "coinalyze"}
    return {
        "liquidations": {**common, "base": "BTC", "side": "long", "price": 9e4, "amount": 1.0,
                         "notional_usd": 9e4, "event_id": "e1"},
        "liquidation_bars": {**common, "interval": "1h", "base": "BTC", "long_usd": 1.0,
                             "short_usd": 2.0, "long_count": 1, "short_count": 1},
        "ohlcv": {**common, "interval": "1h", "open": 1.0, "high": 2.0, "low": 1.0,
                  "close": 2.0, "volume": 3.0},
        "open_interest": {**common, "oi_usd": 5.0},
        "funding": {**common, "rate": 1e-4},
        "market_caps": {"ts": ts, "coin": "bitcoin", "symbol": "BTC", "name": "Bitcoin",
                        "price_usd": 9e4, "market_cap_usd": 1.8e12, "change_24h_pct": -1.0,
                        "source": "coingecko"},
        "gaps": {"start": ts, "end": ts + pd.Timedelta("1h"), "exchange": "okx",
                 "symbol": "BTC/USDT:USDT", "table_name": "liquidations",
                 "reason": "stream dropped", "ts": ts},
    }[table]  # fmt: skip


IDENTIFIER_COLUMNS = [
    *(
        (t, c)
        for t in ("liquidations", "liquidation_bars")
        for c in ("exchange", "base", "symbol", "source")
    ),
    *(
        (t, c)
        for t in ("ohlcv", "open_interest", "funding")
        for c in ("exchange", "symbol", "source")
    ),
    *(("market_caps", c) for c in ("coin", "symbol", "name", "source")),
    *(("gaps", c) for c in ("exchange", "symbol", "table_name")),
]


def _stored_text(store: Store) -> str:
    """Every value and partition folder name in the store's table files, as one text."""
    parts = []
    for table in schema.TABLES:
        for path in store.files(table):
            parts.append(str(path.relative_to(store.root)))
            parts.append(pq.read_table(path).to_pandas().to_csv())
    return "\n".join(parts)


@pytest.mark.parametrize(("table", "column"), IDENTIFIER_COLUMNS)
def test_a_name_that_is_not_an_identifier_is_quarantined_with_the_reason(tmp_path, table, column):
    good = _good_row(table)
    rows = [good] + [
        {**good, column: value, "event_id": f"h{i}", "coin": f"c{i}" if column != "coin" else value}
        for i, value in enumerate(HOSTILE)
    ]
    frame = pd.DataFrame(rows)[schema.table(table).column_names]
    if table in ("ohlcv", "open_interest", "funding", "gaps", "liquidation_bars"):
        frame = frame.assign(ts=[good["ts"] + pd.Timedelta(hours=i) for i in range(len(frame))])
        if table == "gaps":
            frame = frame.assign(start=frame["ts"])
    rejected = [v for v in HOSTILE if not (column == "name" and v in TEXT_IN_A_NAME)]
    store = Store(tmp_path)
    result = store.write(table, frame)
    assert (result.written, result.quarantined) == (1 + len(HOSTILE) - len(rejected), len(rejected))
    [qfile] = store.quarantine_files(table)
    assert result.quarantine_file == qfile
    reasons = pd.read_parquet(qfile)["reason"].tolist()
    assert reasons == [f"{column}: not an identifier: {v!r}" for v in rejected]
    assert "quarantined (first: " in str(result) and str(qfile) in str(result)
    stored = _stored_text(store)
    assert not any(v in stored for v in rejected)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("exchange", "binanceusdm"), ("exchange", "binance+okx+bybit"),
        ("exchange", "binance_usdm"), ("exchange", "krakenfutures"),
        ("symbol", "BTC/USDT:USDT"), ("symbol", "1000PEPE/USDT:USDT"),
        ("symbol", "kPEPE/USDC:USDC"), ("symbol", "BTC/USD:BTC-250328"),
        ("symbol", "BTC/USD:BTC-250328-100000-C"), ("symbol", "BTC/USDT"),
        ("symbol", "ETH/USD:ALL"), ("symbol", "BTCUSDT_PERP.A"), ("symbol", "pf_xbtusd"),
        ("symbol", "币安人生/USDT:USDT"), ("base", "1000PEPE"), ("base", "kPEPE"),
        ("coin", "avalanche-2"), ("coin", "the-open-network"),
        ("name", "Lido Staked Ether"), ("name", "Wrapped stETH"), ("name", "Ondo US Dollar Yield"),
        ("source", "ccxt.pro:binanceusdm"), ("source", "coingecko:history"),
        ("source", "coinalyze (approx USD = base x close)"),
        ("source", "coingecko (EUR converted to USD via tether)"),
        ("table_name", "liquidation_bars"),
    ],
)  # fmt: skip
def test_real_names_are_identifiers(column, value):
    assert schema.IDENTIFIERS[column].matches(value)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("exchange", "Binance"), ("exchange", "../etc"), ("exchange", "a"),
        ("symbol", "javascript:alert"), ("symbol", "BTC/USDT:USDT:X"), ("symbol", "BTC USDT"),
        ("symbol", "BTC/USDT\n"), ("base", "BTC$"), ("coin", "x" * 65),
        ("name", "Bit\x1bcoin"), ("name", "a{{b}}"), ("source", "Coinalyze"),
    ],
)  # fmt: skip
def test_near_misses_are_not_identifiers(column, value):
    assert not schema.IDENTIFIERS[column].matches(value)


# ---- the import commands ------------------------------------------------------------------


def _coinglass_csv(path: Path, coins: list[str], venue: str = "Binance") -> Path:
    rows = [
        {"time_utc": f"2025-11-10 {h:02d}:00:00+00:00", "exchange": venue, "coin": coin,
         "aggregated_long_liquidation_usd": 100.0 + h, "aggregated_short_liquidation_usd": 50.0}
        for coin in coins for h in range(3)
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_import_quarantines_hostile_coins_and_stores_the_good_rows(tmp_path, run_helpers):
    src = _coinglass_csv(tmp_path / "cg.csv", ["BTC", *HOSTILE, "ETH"])
    data = tmp_path / "real"
    run = run_helpers("import", "--format", "coinglass", str(src), "--data-dir", str(data))
    assert run.returncode == 0, run.stderr
    assert "liquidation_bars: 6 new of 21 rows" in run.stdout
    assert f"{3 * len(HOSTILE)} quarantined (first: base: not an identifier: " in run.stdout
    store = Store(data)
    [qfile] = store.quarantine_files("liquidation_bars")
    q = pd.read_parquet(qfile)
    assert sorted(set(q["reason"])) == sorted(
        f"base: not an identifier: {v.upper()!r}" for v in HOSTILE
    )
    assert sorted(set(q["base"])) == sorted(v.upper() for v in HOSTILE)
    bars = store.read("liquidation_bars")
    assert sorted(set(bars["base"])) == ["BTC", "ETH"] and len(bars) == 6
    assert "ALERT(1)" not in _stored_text(store).upper()
    assert store.kind() == "real"


@pytest.mark.parametrize(
    ("fmt", "write"),
    [
        ("coinglass", lambda p: _coinglass_csv(p, ["BTC"], venue=IMG)),
        (
            "coinalyze",
            lambda p: pd.DataFrame(
                {"symbol": [f"{SCRIPT}USDT_PERP.A"] * 2,
                 "time_utc": ["2025-11-10 00:00:00", "2025-11-10 01:00:00"],
                 "long_liq_usd": [1.0, 2.0], "short_liq_usd": [1.0, 2.0]}
            ).to_csv(p, index=False),
        ),
    ],
)  # fmt: skip
def test_a_hostile_venue_or_vendor_symbol_refuses_the_file(tmp_path, fmt, write, run_helpers):
    src = tmp_path / "f.csv"
    write(src)
    data = tmp_path / "real"
    run = run_helpers("import", "--format", fmt, str(src), "--data-dir", str(data))
    assert run.returncode == 2 and run.stderr.startswith("error: ")
    assert run.stderr.count("\n") == 1
    assert not list(data.rglob("*.parquet"))


def test_fetch_coingecko_file_quarantines_hostile_coins(tmp_path, run_helpers):
    def coin(cid: str, symbol: str, name: str, cap: float) -> dict[str, object]:
        return {"id": cid, "symbol": symbol, "name": name, "current_price": 1.0,
                "market_cap": cap, "price_change_percentage_24h": -1.0,
                "last_updated": "2025-11-10T12:00:00.000Z"}  # fmt: skip

    body = [coin("bitcoin", "btc", "Bitcoin", 2e12), coin(IMG, "x", "X", 1e9),
            coin("y", SCRIPT, "Y", 1e9), coin("z", "z", TEMPLATE, 1e9)]  # fmt: skip
    src = tmp_path / "markets.json"
    src.write_text(json.dumps(body))
    data = tmp_path / "real"
    run = run_helpers("fetch-coingecko", "--file", str(src), "--data-dir", str(data))
    assert run.returncode == 0, run.stderr
    assert "market_caps: 1 new of 4 rows in 1 partitions, 3 quarantined" in run.stdout
    store = Store(data)
    assert store.read("market_caps")["coin"].tolist() == ["bitcoin"]
    q = pd.read_parquet(store.quarantine_files("market_caps")[0])
    assert q["reason"].tolist() == [
        f"coin: not an identifier: {IMG!r}",
        f"symbol: not an identifier: {SCRIPT.upper()!r}",
        f"name: not an identifier: {TEMPLATE!r}",
    ]


# ---- every page of a report over an older store that holds hostile names -------------------

DAY = "2025-11-10"
VENUE = "<script>alert(1)"
"""A partition folder cannot hold ``/`` or ``=``; an older store could hold this venue."""


def _smuggle(store: Store, table: str, folder: str, rows: pd.DataFrame) -> None:
    """Add ``rows`` to one partition file with pyarrow, past validation (an older store)."""
    path = store.root / table / folder / "part.parquet"
    t = schema.table(table)
    keep = [c for c in t.column_names if c not in t.partition_by]
    if path.exists():
        rows = pd.concat([pq.read_table(path).to_pandas(), rows[keep]], ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(rows[keep], preserve_index=False), path)


def _hostile_store(root: Path) -> Store:
    store = Store(root)
    hours = range(24)
    good = f.liquidation_bars([(h, "binanceusdm", 1e5, 5e4) for h in hours], source="coinalyze")
    assert store.write("liquidation_bars", good).quarantined == 0
    caps = pd.DataFrame([_good_row("market_caps")])
    assert store.write("market_caps", caps).quarantined == 0
    bad = f.liquidation_bars([(h, "okx", 9e5, 1e4) for h in hours], source="coinalyze").assign(
        exchange=VENUE, symbol=f"{IMG}/USDT:USDT", base=IMG, source=SCRIPT
    )
    _smuggle(store, "liquidation_bars", f"exchange={VENUE}/date={DAY}", bad)
    js = good.assign(symbol=JS, source=TEMPLATE)
    _smuggle(store, "liquidation_bars", f"exchange=binanceusdm/date={DAY}", js)
    coins = pd.DataFrame([{**_good_row("market_caps"), "coin": v, "symbol": v, "name": v,
                           "market_cap_usd": 3e12} for v in HOSTILE])  # fmt: skip
    _smuggle(store, "market_caps", f"date={DAY}", coins)
    return store


class _Elements(HTMLParser):
    """Every element with its attributes, and the text inside each ``<script>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _markup_from_data(page: str) -> list[str]:
    """What in ``page`` could only come from a hostile name becoming markup: any script (a
    report page has none), an event-handler attribute, a ``javascript:`` URL, an image
    that is not an embedded PNG figure."""
    parser = _Elements()
    parser.feed(page)
    found = []
    for tag, attrs in parser.elements:
        handlers = any(k.startswith("on") for k in attrs)
        js_url = any(v.strip().lower().startswith("javascript:") for v in attrs.values())
        figure = tag != "img" or attrs.get("src", "").startswith("data:image/png;base64,")
        if handlers or js_url or not figure:
            found.append(f"<{tag} {attrs}>")
    found += [f"<script>{s[:40]}" for s in parser.scripts]  # the pages carry no script
    return found


@pytest.mark.slow
def test_every_page_of_a_report_over_hostile_names_shows_them_as_text(tmp_path):
    store = _hostile_store(tmp_path / "real")
    assert VENUE in set(store.read("liquidation_bars")["exchange"])
    out = tmp_path / "reports"
    code = main(
        ["report", "--params", str(ROOT / "params" / "real.yaml"), "--data-dir", str(store.root),
         "--out", str(out), "--notebooks", str(ROOT / "notebooks"), "-p", "fetch=false",
         "-p", f"start={DAY}T00:00:00+00:00", "-p", "end=2025-11-11T00:00:00+00:00"]
    )  # fmt: skip
    assert code == 0
    pages = sorted(out.rglob("*.html"))
    names = {p.name for p in pages}
    assert "index.html" in names and len(names) == 7, names
    for page in pages:
        assert _markup_from_data(page.read_text()) == [], page.name
    day = out / DAY
    for page in day.glob("*.html"):  # the banner names the hostile venue as text
        assert VENUE.lower() in visible_text(page.read_text()).lower(), page.name
    summary = visible_text((day / "00_summary.html").read_text())
    assert f"{VENUE.title()} carried the most longs" in summary
    index = visible_text((out / "index.html").read_text())
    assert SCRIPT in index and TEMPLATE in index  # sources, listed as text
    assert json.loads((day / "summary.json").read_text())["simulated"] is False
