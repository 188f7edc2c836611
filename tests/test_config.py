"""The sources config: loading, checks, secrets from the environment only, ccxt options."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.config import (
    DEFAULT_CONFIG,
    DEFAULT_PRECEDENCE,
    deep_merge,
    load_config,
    load_precedence,
    make_exchange,
    parse_config,
    secret,
)
from helpers.errors import UserError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "sources.yaml"
    p.write_text(text)
    return p


def test_repo_default_config_loads_and_names_real_exchanges() -> None:
    assert DEFAULT_CONFIG.is_file()
    config = load_config(None)
    assert config.path == DEFAULT_CONFIG
    assert {"binanceusdm", "bybit", "okx", "hyperliquid", "gate"} <= set(config.enabled_exchanges)
    assert "deribit" not in config.enabled_exchanges  # disabled in the default file
    assert config.exchange("hyperliquid").symbols == ("BTC/USDC:USDC", "ETH/USDC:USDC")
    assert config.exchange("hyperliquid").tables == ("ohlcv", "funding")
    assert config.exchange("gate").tables == config.tables  # inherits defaults.tables


def test_exchange_entries_and_defaults(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
defaults:
  interval: 4h
  tables: [ohlcv]
  symbols: [BTC/USDT:USDT]
exchanges:
  binanceusdm: {}
  okx:
    symbols: [ETH/USDT:USDT]
    tables: [funding, open_interest]
    page_limit: {funding: 50}
    collect: {all_markets: true}
vendors:
  coinalyze: {base_url: "http://127.0.0.1:9"}
""",
        )
    )
    assert config.interval == "4h"
    assert config.exchange("binanceusdm").symbols == ("BTC/USDT:USDT",)
    assert config.exchange("binanceusdm").tables == ("ohlcv",)
    okx = config.exchange("okx")
    assert okx.symbols == ("ETH/USDT:USDT",) and okx.tables == ("funding", "open_interest")
    assert okx.page_limit == {"funding": 50} and okx.collect == {"all_markets": True}
    assert config.vendor("coinalyze") == {"base_url": "http://127.0.0.1:9"}
    assert config.vendor("tardis") == {}
    assert config.exchange("bybit").symbols == ()  # not configured: no symbols


def test_ccxt_options_reach_the_constructor_deep_merged(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
exchanges:
  binanceusdm:
    ccxt:
      timeout: 1234
      urls: {api: {fapiPublic: "http://127.0.0.1:1/fapi/v1"}}
      options: {defaultType: future}
""",
        )
    )
    ex = make_exchange(config, "binanceusdm")
    assert ex.timeout == 1234
    assert ex.urls["api"]["fapiPublic"] == "http://127.0.0.1:1/fapi/v1"
    # deep merge: the other api urls are still ccxt's own
    assert ex.urls["api"]["dapiPublic"].startswith("https://")
    assert ex.enableRateLimit is True
    # the returned options are a copy: mutating them does not change the config
    config.exchange_options("binanceusdm")["timeout"] = 1
    assert config.exchange_options("binanceusdm")["timeout"] == 1234


def test_make_exchange_pro() -> None:
    import ccxt.pro

    ex = make_exchange(parse_config({}), "okx", pro=True)
    assert isinstance(ex, ccxt.pro.okx)


def test_deep_merge_keeps_nested_keys() -> None:
    base = {"a": {"x": 1, "y": {"z": 2}}, "b": 1}
    assert deep_merge(base, {"a": {"y": {"w": 3}}, "b": 2}) == {
        "a": {"x": 1, "y": {"z": 2, "w": 3}},
        "b": 2,
    }
    assert base == {"a": {"x": 1, "y": {"z": 2}}, "b": 1}


@pytest.mark.parametrize(
    "text, message",
    [
        ("exchanges:\n  binanceusdm:\n    ccxt: {apiKey: abc}\n", "environment variables"),
        ("vendors:\n  coinalyze: {api_key: abc}\n", "environment variables"),
        ("vendors:\n  tardis: {TARDIS_API_KEY: abc}\n", "environment variables"),
        ("exchanges:\n  notanexchange: {}\n", "not a ccxt exchange id"),
        ("exchanges:\n  okx: {symbol: [BTC]}\n", "unknown key"),
        ("defaults: {tables: [trades]}\n", "unknown table"),
        ("exchanges:\n  okx: {symbols: BTC/USDT:USDT: x}\n", "not valid YAML"),
        ("- a\n- b\n", "mapping"),
        ("exchanges:\n  okx: {page_limit: {ohlcv: 0}}\n", "page_limit"),
        ("exchanges:\n  okx: {enabled: maybe}\n", "true or false"),
        ("precedence: []\n", "most trusted first"),
        ("precedence: [coinglass, coinglass]\n", "more than once"),
        ("precedence: {coinglass: 1}\n", "list of names"),
    ],
)
def test_bad_config_is_a_one_line_user_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as info:
        load_config(write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_secrets_come_from_the_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COINALYZE_API_KEY", raising=False)
    assert secret("COINALYZE_API_KEY") is None
    monkeypatch.setenv("COINALYZE_API_KEY", "  ")
    assert secret("COINALYZE_API_KEY") is None
    monkeypatch.setenv("COINALYZE_API_KEY", "k-123")
    assert secret("COINALYZE_API_KEY") == "k-123"


def test_empty_key_like_entries_are_allowed(tmp_path: Path) -> None:
    # an empty placeholder holds no secret
    config = load_config(write(tmp_path, "vendors:\n  coinalyze: {api_key: null}\n"))
    assert config.vendor("coinalyze") == {"api_key": None}


def test_precedence_defaults_and_overrides(tmp_path: Path) -> None:
    assert load_config(None).precedence == DEFAULT_PRECEDENCE == load_precedence(None)
    assert DEFAULT_PRECEDENCE.index("ccxt.pro:*") < DEFAULT_PRECEDENCE.index("coinalyze")
    assert DEFAULT_PRECEDENCE[-1] == "coinglass"
    path = write(tmp_path, 'precedence: [coinglass, "ccxt:*"]\nexchanges:\n  okx: {}\n')
    assert load_config(path).precedence == ("coinglass", "ccxt:*") == load_precedence(path)
    assert load_precedence(write(tmp_path, "defaults: {interval: 1h}\n")) == DEFAULT_PRECEDENCE


def test_precedence_reader_refuses_keys_too(tmp_path: Path) -> None:
    path = write(tmp_path, "precedence: [coinalyze]\nvendors:\n  coinalyze: {api_key: x}\n")
    with pytest.raises(UserError, match="environment variables"):
        load_precedence(path)
