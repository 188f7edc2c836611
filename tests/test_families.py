"""Venue families and family aggregates (helpers.venues)."""

from __future__ import annotations

import pytest

from helpers import venues


@pytest.mark.parametrize(
    "exchange, fam, name",
    [
        ("binanceusdm", "binance", "Binance"),
        ("binancecoinm", "binance", "Binance"),
        ("binance", "binance", "Binance"),
        ("okx", "okx", "OKX"),
        ("gateio", "gate", "Gate"),
        ("huobi", "htx", "HTX"),
        ("bitmex", "bitmex", "BitMEX"),
        ("krakenfutures", "kraken", "Kraken"),
        ("phemex", "phemex", "Phemex"),
    ],
)
def test_families_and_display_names(exchange: str, fam: str, name: str) -> None:
    assert venues.family(exchange) == fam
    assert venues.display_name(exchange) == name == venues.display_name(fam)
    assert exchange in venues.members(fam)


def test_every_ccxt_id_is_in_one_family_at_most() -> None:
    ids = [m for f in venues.FAMILIES.values() for m in f.members]
    assert len(ids) == len(set(ids))
    assert all(venues.family(f.id) == f.id for f in venues.FAMILIES.values())


def test_family_aggregates_are_told_apart_from_contracts() -> None:
    assert venues.aggregate_symbol("BTC") == "BTC/USD:ALL"
    assert venues.is_family_aggregate("binance", "BTC/USD:ALL")
    assert not venues.is_family_aggregate("binancecoinm", "BTC/USD:BTC")
    assert not venues.is_family_aggregate("binanceusdm", "BTC/USDT:USDT")
    assert venues.covered_families("binance+okx+bybit", "ETH/USD:ALL") == (
        "binance",
        "okx",
        "bybit",
    )
    # an aggregate an older import stored under a ccxt class id still speaks for its family
    assert venues.covered_families("krakenfutures", "BTC/USD:ALL") == ("kraken",)
    assert venues.covered_families("binancecoinm", "BTC/USD:BTC") == ("binance",)
    assert venues.display_name("binance+okx+bybit") == "Binance + OKX + Bybit"
