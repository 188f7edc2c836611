"""One source per venue and bar: the same Binance hours from recorded events, Coinalyze and
CoinGlass, imported for real into a Parquet store, each bar counted once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from factories import win

from helpers import aggregate, schema
from helpers.cli import main
from helpers.config import DEFAULT_PRECEDENCE, load_precedence
from helpers.dataset import Dataset
from helpers.metrics import imbalance as im
from helpers.metrics import venues as vn
from helpers.metrics.coverage import data_banner, pair_coverage
from helpers.precedence import one_source_per_bar, source_rank, source_shares
from helpers.sources import coinalyze, vendor_csv
from helpers.sources.normalize import normalize_raw_binance_force_order
from helpers.store import Store

DAY = pd.Timestamp("2024-08-05", tz="UTC")
START, END = DAY, DAY + pd.Timedelta(hours=8)
EVENT_HOURS = (2, 3, 4)
RECORDED = "ccxt.pro:binanceusdm"
USDM, COINM, AGG = "BTC/USDT:USDT", "BTC/USD:BTC", "BTC/USD:ALL"


def hour(n: int) -> pd.Timestamp:
    return DAY + pd.Timedelta(hours=n)


def coinalyze_csv() -> str:
    """Hourly Coinalyze USD bars: Binance BTC USDⓈ-M and COIN-M for hours 0-5 (USD-M hour 1
    flagged missing), ETH USDⓈ-M for hours 0-7."""
    lines = ["symbol,time_utc,long_liq_usd,short_liq_usd,liq_row_missing"]
    for h in range(6):
        t = f"{hour(h):%Y-%m-%d %H:%M:%S}"
        lines.append(f"BTCUSDT_PERP.A,{t},{1000 * (h + 1)},{100 * (h + 1)},{h == 1}")
        lines.append(f"BTCUSD_PERP.A,{t},{10 * (h + 1)},{h + 1},False")
    for h in range(8):
        lines.append(f"ETHUSDT_PERP.A,{hour(h):%Y-%m-%d %H:%M:%S},7,3,False")
    return "\n".join(lines) + "\n"


def coinglass_csv() -> str:
    """CoinGlass's Binance BTC aggregate, hourly, hours 0-7."""
    lines = ["time_utc,coin,aggregated_long_liquidation_usd,aggregated_short_liquidation_usd"]
    lines += [f"{hour(h).isoformat()},BTC,{5000 + h},{500 + h}" for h in range(8)]
    return "\n".join(lines) + "\n"


def force_orders() -> list[dict]:
    """Recorded Binance ``forceOrder`` frames for BTCUSDT: in each event hour one long of
    0.01 BTC at 60,000 (600 USD) and one short of 0.001 BTC at 60,000 (60 USD)."""
    frames = []
    for h in EVENT_HOURS:
        for minute, side, qty in ((10, "SELL", "0.01"), (40, "BUY", "0.001")):
            ms = int((hour(h) + pd.Timedelta(minutes=minute)).timestamp() * 1000)
            order = {"s": "BTCUSDT", "S": side, "o": "LIMIT", "f": "IOC", "q": qty, "p": "60000",
                     "ap": "60000", "X": "FILLED", "l": qty, "z": qty, "T": ms}  # fmt: skip
            frames.append({"e": "forceOrder", "E": ms, "o": order})
    return frames


@pytest.fixture
def three_sources(tmp_path: Path) -> Store:
    """A store holding the same Binance hours from recorded events, Coinalyze and CoinGlass."""
    store = Store(tmp_path / "raw")
    events = normalize_raw_binance_force_order(force_orders(), source=RECORDED)
    assert store.write("liquidations", events).written == 2 * len(EVENT_HOURS)
    aggregate.build_bars(store, "1h", START, END)
    cz = tmp_path / "coinalyze.csv"
    cz.write_text(coinalyze_csv())
    vendor_csv.import_file(store, "coinalyze", cz)
    cg = tmp_path / "coinglass.csv"
    cg.write_text(coinglass_csv())
    argv = ["import", str(cg), "--format", "coinglass", "--exchange", "Binance",
            "--data-dir", str(store.root)]  # fmt: skip
    assert main(argv) == 0
    return store


def btc_totals(bars: pd.DataFrame) -> pd.Series:
    """Long + short USD of BTC per hour, summed over every row loaded."""
    btc = bars[bars["base"] == "BTC"]
    return (btc["long_usd"] + btc["short_usd"]).groupby(btc["ts"]).sum()


def test_every_source_is_stored_side_by_side(three_sources):
    stored = three_sources.read("liquidation_bars", START, END)
    assert set(stored["source"]) == {RECORDED, coinalyze.SOURCE, "coinglass"}
    # CoinGlass "Binance" is the family aggregate, never a ccxt class's contract
    cg = stored[stored["source"] == "coinglass"]
    assert set(zip(cg["exchange"], cg["symbol"], strict=True)) == {("binance", AGG)}
    # summing everything stored would count hour 3 three times over
    assert btc_totals(stored)[hour(3)] == 660 + (4000 + 400) + (40 + 4) + (5003 + 503)


def test_each_bar_is_counted_once_by_the_default_precedence(three_sources):
    bars = aggregate.load_bars(three_sources, START, END, precedence=DEFAULT_PRECEDENCE)
    assert bars.duplicated(["ts", "exchange", "symbol"]).sum() == 0
    picked = {
        (int((t - DAY) / pd.Timedelta(hours=1)), ex, sym): src
        for t, ex, sym, src in bars[bars["base"] == "BTC"][["ts", "exchange", "symbol", "source"]]
        .itertuples(index=False)
    }  # fmt: skip
    for h in range(8):
        usdm = picked.get((h, "binanceusdm", USDM))
        coinm = picked.get((h, "binancecoinm", COINM))
        agg = picked.get((h, "binance", AGG))
        # recorded events beat Coinalyze for USDⓈ-M BTC; USD-M hour 1 is missing in Coinalyze
        want_usdm = RECORDED if h in EVENT_HOURS else (coinalyze.SOURCE if h in (0, 5) else None)
        assert usdm == want_usdm, h
        assert coinm == (coinalyze.SOURCE if h < 6 else None), h
        # the aggregate only where no contract of the family was observed
        assert agg == ("coinglass" if h >= 6 else None), h
    totals = btc_totals(bars)
    expected = {
        0: 1100 + 11,
        1: 22,  # COIN-M only: USD-M missing, and the aggregate never joins a contract
        2: 660 + 33,
        3: 660 + 44,
        4: 660 + 55,
        5: 6600 + 66,
        6: 5006 + 506,
        7: 5007 + 507,
    }
    assert {int((t - DAY) / pd.Timedelta(hours=1)): v for t, v in totals.items()} == expected


def test_precedence_from_the_config_flips_the_choice(three_sources, tmp_path):
    config = tmp_path / "sources.yaml"
    config.write_text('precedence: [coinglass, coinalyze, "ccxt.pro:*"]\n')
    ranks = load_precedence(config)
    assert ranks == ("coinglass", "coinalyze", "ccxt.pro:*")
    bars = aggregate.load_bars(three_sources, START, END, precedence=ranks)
    btc = bars[bars["base"] == "BTC"]
    # the aggregate now wins every hour, and no Binance BTC contract is added to it
    assert set(zip(btc["exchange"], btc["symbol"], strict=True)) == {("binance", AGG)}
    assert btc_totals(bars).tolist() == [5000 + h + 500 + h for h in range(8)]
    # Coinalyze over recorded events: hours 2-4 of USDⓈ-M BTC from Coinalyze
    swapped = aggregate.load_bars(three_sources, START, END, precedence=["coinalyze", "ccxt.pro:*"])
    usdm = swapped[swapped["symbol"] == USDM].set_index("ts")
    assert set(usdm["source"]) == {coinalyze.SOURCE}
    assert usdm.loc[hour(3), "long_usd"] == 4000.0


def test_dataset_reads_the_same_one_source_bars(three_sources):
    ds = Dataset.open(
        str(three_sources.root), START.isoformat(), END.isoformat(), precedence=DEFAULT_PRECEDENCE
    )
    assert btc_totals(ds.bars())[hour(3)] == 660 + 44
    assert ds.sources == ("ccxt.pro:binanceusdm", "coinalyze", "coinglass")


def test_source_shares_say_where_each_venues_bars_came_from(three_sources):
    bars = aggregate.load_bars(three_sources, START, END, precedence=DEFAULT_PRECEDENCE)
    per_pair = source_shares(bars).set_index(["exchange", "symbol", "source"])
    # USDⓈ-M BTC: hours 2-4 recorded, 0 and 5 Coinalyze
    assert per_pair.loc[("binanceusdm", USDM, RECORDED), "bars"] == 3
    assert per_pair.loc[("binanceusdm", USDM, RECORDED), "share"] == pytest.approx(3 / 5)
    assert per_pair.loc[("binanceusdm", USDM, coinalyze.SOURCE), "share"] == pytest.approx(2 / 5)
    assert per_pair.loc[("binance", AGG, "coinglass"), "share"] == 1.0
    per_venue = source_shares(bars, by=("exchange",)).set_index(["exchange", "source"])
    # binanceusdm holds 5 BTC rows and 8 ETH rows: 3 of 13 recorded
    assert per_venue.loc[("binanceusdm", RECORDED), "share"] == pytest.approx(3 / 13)
    assert per_venue.groupby(level="exchange")["share"].sum().tolist() == pytest.approx([1, 1, 1])


def test_missing_btc_hour_of_a_venue_that_reported_eth_is_partial(three_sources):
    bars = aggregate.load_bars(three_sources, START, END, precedence=DEFAULT_PRECEDENCE)
    window = win(START, END)
    t = im.imbalance_table(bars, window)
    # pairs: binance BTC aggregate, USD-M BTC, USD-M ETH, COIN-M BTC
    assert (t["pairs_expected"] == 4).all()
    # hour 1: USD-M reported ETH but not BTC; every venue with contracts reported something
    assert not t.loc[hour(1), "missing"] and t.loc[hour(1), "partial"]
    assert t.loc[hour(1), "pairs_reporting"] == 3
    # hour 3: every pair observed (the aggregate's cell is covered by the family's contracts)
    assert t.loc[hour(3), "pairs_reporting"] == 4 and not t.loc[hour(3), "partial"]
    # hour 6: the aggregate stands for USD-M and COIN-M BTC; ETH reported too
    assert t.loc[hour(6), "pairs_reporting"] == 4 and not t.loc[hour(6), "partial"]
    cov = vn.venue_coverage(bars, None, window)
    usdm = cov.loc["binanceusdm"]
    assert (usdm["symbols"], usdm["observed_bars"], usdm["partial_bars"]) == (2, 8, 1)
    assert (usdm["cells"], usdm["missing_cells"]) == (16, 1)
    pairs = pair_coverage(bars, window)
    assert pairs.loc[("binanceusdm", USDM), "missing_bars"] == 1
    assert pairs.loc[("binanceusdm", USDM), "source"] == f"{RECORDED}, {coinalyze.SOURCE}"


def test_data_banner_lists_venues_sources_and_share_observed(three_sources):
    bars = aggregate.load_bars(three_sources, START, END, precedence=DEFAULT_PRECEDENCE)
    banner = data_banner(bars, win(START, END))
    assert banner.venues == ("binance", "binancecoinm", "binanceusdm")
    assert banner.sources["binance"] == {"coinglass": 1.0}
    assert banner.all_sources == (RECORDED, coinalyze.SOURCE, "coinglass")
    # 4 pairs x 8 hours; only USD-M BTC at hour 1 unobserved
    assert (banner.pairs, banner.bars, banner.cells, banner.observed_cells) == (4, 8, 32, 31)
    assert banner.observed_share == pytest.approx(31 / 32)


# ---- the rule on hand-made frames --------------------------------------------------------
def _bars(rows: list[tuple]) -> pd.DataFrame:
    """liquidation_bars from (hour, exchange, symbol, long_usd, source)."""
    df = pd.DataFrame(rows, columns=["h", "exchange", "symbol", "long_usd", "source"])
    df = df.assign(
        ts=[hour(h) for h in df["h"]],
        interval="1h",
        base=df["symbol"].str.split("/").str[0],
        short_usd=0.0,
        long_count=pd.NA,
        short_count=pd.NA,
    ).drop(columns="h")
    good, bad = schema.validate("liquidation_bars", df)
    assert bad.empty
    return good


def test_source_rank_takes_the_first_matching_pattern():
    ranks = ("ccxt.pro:*", "ccxt:*", "coinalyze", "coinalyze (approx*", "coinglass")
    assert source_rank("ccxt.pro:bybit", ranks) == 0
    assert source_rank("ccxt:gate", ranks) == 1
    assert source_rank(coinalyze.SOURCE, ranks) == 2
    assert source_rank(coinalyze.SOURCE_APPROX, ranks) == 3
    assert source_rank("somebody", ranks) == len(ranks)


def test_unlisted_sources_rank_last_and_ties_go_by_name():
    bars = _bars([(0, "okx", USDM, 1.0, "zeta"), (0, "okx", USDM, 2.0, "alpha"),
                  (0, "okx", USDM, 3.0, "coinalyze")])  # fmt: skip
    assert one_source_per_bar(bars, ["coinalyze"])["source"].tolist() == ["coinalyze"]
    assert one_source_per_bar(bars, ["nothing"])["source"].tolist() == ["alpha"]


def test_an_aggregate_over_several_families_never_joins_any_of_them():
    bars = _bars(
        [
            (0, "binance+okx+bybit", AGG, 100.0, "coinglass"),
            (0, "okx", "BTC/USDT:USDT", 1.0, "coinalyze"),
            (1, "binance+okx+bybit", AGG, 200.0, "coinglass"),
            (1, "binance", AGG, 50.0, "coinglass"),
            (2, "binance+okx+bybit", AGG, 300.0, "coinglass"),
        ]
    )
    kept = one_source_per_bar(bars, DEFAULT_PRECEDENCE).set_index("ts")
    # hour 0: OKX's contract outranks the combined aggregate, which is dropped whole
    assert kept.loc[[hour(0)], "exchange"].tolist() == ["okx"]
    # hour 1: two aggregates of one source: the one over fewer families is taken first
    assert kept.loc[[hour(1)], "exchange"].tolist() == ["binance"]
    # hour 2: nothing else, so the combined aggregate stands
    assert kept.loc[[hour(2)], "long_usd"].tolist() == [300.0]
    first = one_source_per_bar(bars, ["coinglass", "coinalyze"]).set_index("ts")
    assert first.loc[[hour(0)], "exchange"].tolist() == ["binance+okx+bybit"]


def test_an_aggregate_of_another_coin_or_family_is_kept_next_to_contracts():
    bars = _bars(
        [
            (0, "binance", "ETH/USD:ALL", 5.0, "coinglass"),
            (0, "binanceusdm", "BTC/USDT:USDT", 1.0, "coinalyze"),
            (0, "okx", AGG, 7.0, "coinglass"),
        ]
    )
    assert len(one_source_per_bar(bars, DEFAULT_PRECEDENCE)) == 3


# ---- real exports: Binance days from Coinalyze and CoinGlass ------------------------------
DAILY_LIQ = "coinalyze_binance_usdtperps_liq_1d_2022-2023_baseunits.csv"
DAILY_PRICES = "coinalyze_binance_usdtperps_close_volume_1d_2022-2023.csv"
COINGLASS_DAILY = "coinglass_binance_liq_1d_BTC_ETH_SOL_XRP.csv"


MONTHS = ("2022-05", "2022-06", "2022-07")
"""The rows of the real exports these tests import: the month they read and one either side
(the full files, years of daily partitions, are imported by test_hostile_input_realdata)."""


def _rows_of_months(src: Path, dst: Path) -> Path:
    """``src`` with its header and the rows whose first field (the day) is in :data:`MONTHS`,
    as the vendor wrote them."""
    lines = src.read_text().splitlines(keepends=True)
    dst.write_text("".join([lines[0], *(ln for ln in lines[1:] if ln.startswith(MONTHS))]))
    return dst


@pytest.mark.realdata
def test_real_binance_days_from_two_vendors_counted_once(realdata, tmp_path):
    store = Store(tmp_path / "store")
    liq, prices, cg_daily = (
        _rows_of_months(realdata / name, tmp_path / name)
        for name in (DAILY_LIQ, DAILY_PRICES, COINGLASS_DAILY)
    )
    vendor_csv.import_file(store, "coinalyze", liq, prices=prices)
    assert main(["import", str(cg_daily), "--format", "coinglass",
                 "--exchange", "Binance", "--data-dir", str(store.root)]) == 0  # fmt: skip
    start, end = "2022-06-01T00:00Z", "2022-07-01T00:00Z"
    stored = store.read("liquidation_bars", start, end, where="interval = '1d'")
    cg = stored[(stored["source"] == "coinglass") & (stored["base"] == "BTC")].set_index("ts")
    usdt = stored[stored["symbol"] == USDM].set_index("ts")
    assert len(cg) == len(usdt) == 30 and not (cg["long_usd"] == usdt["long_usd"]).all()

    bars = aggregate.load_bars(store, start, end, interval="1d", precedence=DEFAULT_PRECEDENCE)
    assert bars.duplicated(["ts", "exchange", "symbol"]).sum() == 0
    btc = bars[bars["base"] == "BTC"].set_index("ts")
    # Coinalyze's USDT perpetual outranks CoinGlass: every day is that one contract, once
    assert set(btc["symbol"]) == {USDM} and len(btc) == 30
    pd.testing.assert_series_equal(btc["long_usd"], usdt["long_usd"])

    flipped = aggregate.load_bars(store, start, end, interval="1d", precedence=["coinglass"])
    fbtc = flipped[flipped["base"] == "BTC"].set_index("ts")
    assert set(fbtc["exchange"]) == {"binance"} and set(fbtc["symbol"]) == {AGG}
    pd.testing.assert_series_equal(fbtc["long_usd"], cg["long_usd"])
    # a coin CoinGlass does not cover keeps its Coinalyze bars whatever the precedence
    people = flipped[flipped["symbol"] == "PEOPLE/USDT:USDT"]
    assert len(people) == 30 and set(people["source"]) == {coinalyze.SOURCE_APPROX}
    shares = source_shares(flipped, by=("exchange",)).set_index(["exchange", "source"])
    assert shares.loc[("binance", "coinglass"), "share"] == 1.0


def test_one_contract_under_two_ids_of_its_family_is_kept_once() -> None:
    """ccxt's ``binance`` class and ``binanceusdm`` name the same USD-M contract
    ``BTC/USDT:USDT``: a store holding it under both ids counts each bar once."""
    from factories import liquidation_bars

    from helpers.precedence import one_source_per_bar

    rows = [(0, "binance", 5.0, 1.0), (0, "binanceusdm", 5.0, 1.0), (1, "binanceusdm", 7.0, 2.0)]
    kept = one_source_per_bar(liquidation_bars(rows, source="coinalyze"))
    assert kept["long_usd"].tolist() == [5.0, 7.0]
    assert kept["short_usd"].sum() == 3.0
    # different contracts of one family (USD-M and COIN-M) are both kept
    both = [
        (0, "binanceusdm", 5.0, 1.0, "BTC/USDT:USDT"),
        (0, "binancecoinm", 2.0, 0.0, "BTC/USD:BTC"),
    ]
    assert one_source_per_bar(liquidation_bars(both, source="coinalyze"))["long_usd"].sum() == 7.0
