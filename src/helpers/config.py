"""The sources config file: which venues and symbols to pull, and per-exchange ccxt options.

The file is YAML (the commented default is ``config/sources.yaml``)::

    defaults:
      interval: 1h
      tables: [liquidations, ohlcv, open_interest, funding]
    exchanges:
      binanceusdm:
        symbols: [BTC/USDT:USDT, ETH/USDT:USDT]
        tables: [ohlcv, open_interest, funding]   # optional, else defaults.tables
        page_limit: {liquidations: 100}           # optional rows per request, per table
        collect: {...}                            # free-form, read by the live collector
        ccxt: {...}                               # deep-merged verbatim into ccxt's constructor
    vendors:
      coinalyze: {...}                            # free-form, read by each vendor client
    precedence: ["ccxt.pro:*", "ccxt:*", tardis, coinalyze, ...]   # which source wins a bar

``precedence`` lists source names or ``fnmatch`` patterns, the most trusted first: where two
sources cover the same venue and bar, bar loading keeps the first one listed
(:mod:`helpers.precedence`, ``docs/sources.md``); :data:`DEFAULT_PRECEDENCE` when absent.

The ``ccxt`` mapping is passed unchanged to the ccxt constructor (``urls``, ``options``,
``proxies``, ``timeout``, sandbox...), which is also how tests point ccxt at 127.0.0.1.

API keys never live in this file: they come from environment variables only
(:func:`secret`), and a key-like entry in the file is refused with a :class:`UserError`.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helpers.errors import UserError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "config" / "sources.yaml"
CONFIG_ENV = "LIQNB_SOURCES_CONFIG"
"""Environment variable naming the sources config to read when a command is given none."""

SECRET_ENV_VARS = ("COINALYZE_API_KEY", "TARDIS_API_KEY")
FETCH_TABLES = ("liquidations", "ohlcv", "open_interest", "funding", "long_short_ratio")
DEFAULT_FETCH_TABLES = FETCH_TABLES[:4]
"""The tables fetched when neither the config nor ``--tables`` names any: every table but
``long_short_ratio``, which is asked for by name (four venues publish it, most keep weeks
of it, and a run that never shows it need not spend requests on it)."""
DEFAULT_INTERVAL = "1h"

_SECRET_KEY = re.compile(
    r"(api[_-]?key|apikey|secret|password|passphrase|private[_-]?key|token)", re.IGNORECASE
)
_TOP_KEYS = {"defaults", "exchanges", "vendors", "precedence"}

DEFAULT_PRECEDENCE: tuple[str, ...] = (
    "ccxt.pro:*",
    "ccxt:*",
    "tardis",
    "hyperliquid*",
    "coinalyze",
    "coinalyze (approx*",
    "coinglass",
)
"""Sources by trust, first wins: events recorded by the collector (``ccxt.pro:<id>``),
events fetched over ccxt REST (``ccxt:<id>``), Tardis.dev and Hyperliquid's own archive
(exchange events replayed), then vendor bars: Coinalyze in USD, Coinalyze converted from base
units (approximate), CoinGlass. A source no entry matches ranks after every listed one."""
_DEFAULT_KEYS = {"interval", "tables", "symbols"}
_EXCHANGE_KEYS = {"symbols", "tables", "ccxt", "collect", "enabled", "page_limit"}

_BUILTIN: dict[str, Any] = {
    "defaults": {"interval": DEFAULT_INTERVAL, "tables": list(DEFAULT_FETCH_TABLES)},
    "exchanges": {
        "binanceusdm": {"symbols": ["BTC/USDT:USDT", "ETH/USDT:USDT"]},
        "bybit": {"symbols": ["BTC/USDT:USDT", "ETH/USDT:USDT"]},
        "okx": {"symbols": ["BTC/USDT:USDT", "ETH/USDT:USDT"]},
        "hyperliquid": {"symbols": ["BTC/USDC:USDC", "ETH/USDC:USDC"]},
        "gate": {"symbols": ["BTC/USDT:USDT", "ETH/USDT:USDT"]},
    },
    "vendors": {},
}


@dataclass(frozen=True)
class ExchangeConfig:
    """One exchange's entry: unified symbols, tables to fetch, free-form collector settings
    and the ccxt constructor options (kept verbatim)."""

    id: str
    symbols: tuple[str, ...]
    tables: tuple[str, ...]
    ccxt: dict[str, Any] = field(default_factory=dict)
    collect: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    page_limit: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    """A loaded, checked config. ``path`` is None when the built-in defaults were used."""

    exchanges: dict[str, ExchangeConfig]
    interval: str = DEFAULT_INTERVAL
    tables: tuple[str, ...] = DEFAULT_FETCH_TABLES
    vendors: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None
    precedence: tuple[str, ...] = DEFAULT_PRECEDENCE

    def exchange(self, exchange_id: str) -> ExchangeConfig:
        """The entry for ``exchange_id``; an unconfigured exchange gets the default tables,
        no symbols and no ccxt options."""
        if exchange_id in self.exchanges:
            return self.exchanges[exchange_id]
        _check_exchange_id(exchange_id, "exchange")
        return ExchangeConfig(exchange_id, (), self.tables)

    def exchange_options(self, exchange_id: str) -> dict[str, Any]:
        """A deep copy of the ``ccxt`` mapping for ``exchange_id`` (empty when none)."""
        return copy.deepcopy(self.exchange(exchange_id).ccxt)

    def vendor(self, name: str) -> dict[str, Any]:
        """A deep copy of the free-form ``vendors.<name>`` mapping (empty when none)."""
        return copy.deepcopy(self.vendors.get(name, {}))

    @property
    def enabled_exchanges(self) -> list[str]:
        return [e.id for e in self.exchanges.values() if e.enabled]


def secret(name: str) -> str | None:
    """The value of environment variable ``name`` (e.g. ``COINALYZE_API_KEY``), or None when
    unset or blank. Secrets are read from the environment only, never from the config file."""
    value = os.environ.get(name, "").strip()
    return value or None


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in: nested mappings merge, anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def default_config_path() -> Path | None:
    """The config a command reads when given none: the file named by ``$LIQNB_SOURCES_CONFIG``
    (how a report hands its ``--config`` to the notebooks' kernels), else
    ``config/sources.yaml`` when it exists, else None (the built-in defaults)."""
    named = os.environ.get(CONFIG_ENV, "").strip()
    if named:
        return Path(named)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and check the config at ``path`` (None: :func:`default_config_path`, else the
    built-in defaults). Any problem (missing file, bad YAML, unknown key, wrong type, an API
    key in the file) is a one-line :class:`UserError`."""
    p = Path(path) if path is not None else default_config_path()
    return parse_config(_BUILTIN, None) if p is None else parse_config(_read_yaml(p), p)


def load_precedence(path: str | os.PathLike[str] | None = None) -> tuple[str, ...]:
    """The ``precedence`` list of the config at ``path`` (None: :func:`default_config_path`),
    else :data:`DEFAULT_PRECEDENCE`. Reads only that entry (no ccxt import), but refuses a
    file holding an API key as :func:`load_config` does."""
    p = Path(path) if path is not None else default_config_path()
    if p is None:
        return DEFAULT_PRECEDENCE
    raw = _read_yaml(p)
    if not isinstance(raw, Mapping):
        raise UserError(f"{p}: expected a mapping at the top level")
    _refuse_secrets(raw, str(p))
    return _precedence(raw.get("precedence"), f"{p}: precedence")


def _read_yaml(p: Path) -> Any:
    if not p.is_file():
        raise UserError(f"config file not found: {p}")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{p}: not valid YAML{where}") from None
    return {} if raw is None else raw


def parse_config(raw: Any, path: Path | None = None) -> Config:
    """A :class:`Config` from an already-parsed mapping; see :func:`load_config`."""
    where = str(path) if path else "config"
    if not isinstance(raw, Mapping):
        raise UserError(f"{where}: expected a mapping at the top level")
    _refuse_secrets(raw, where)
    _check_keys(raw, _TOP_KEYS, where)
    defaults = _mapping(raw.get("defaults", {}), f"{where}: defaults")
    _check_keys(defaults, _DEFAULT_KEYS, f"{where}: defaults")
    interval = str(defaults.get("interval", DEFAULT_INTERVAL))
    tables = _tables(
        defaults.get("tables", list(DEFAULT_FETCH_TABLES)), f"{where}: defaults.tables"
    )
    default_symbols = _strings(defaults.get("symbols", []), f"{where}: defaults.symbols")
    exchanges: dict[str, ExchangeConfig] = {}
    for ex_id, entry in _mapping(raw.get("exchanges", {}), f"{where}: exchanges").items():
        exchanges[str(ex_id)] = _exchange(
            str(ex_id), entry, tables, default_symbols, f"{where}: exchanges.{ex_id}"
        )
    vendors = {
        str(k): dict(_mapping(v, f"{where}: vendors.{k}"))
        for k, v in _mapping(raw.get("vendors", {}), f"{where}: vendors").items()
    }
    precedence = _precedence(raw.get("precedence"), f"{where}: precedence")
    return Config(exchanges, interval, tables, vendors, path, precedence)


def make_exchange(config: Config, exchange_id: str, pro: bool = False) -> Any:
    """A ccxt (or ccxt.pro when ``pro``) instance of ``exchange_id`` built with the config's
    ccxt options deep-merged over ``{"enableRateLimit": True}``. No credentials: public data."""
    import ccxt
    import ccxt.pro

    module = ccxt.pro if pro else ccxt
    _check_exchange_id(exchange_id, "exchange", module)
    options = deep_merge({"enableRateLimit": True}, config.exchange_options(exchange_id))
    return getattr(module, exchange_id)(options)


def _check_exchange_id(exchange_id: str, what: str, module: Any = None) -> None:
    if module is None:
        import ccxt

        module = ccxt
    if exchange_id not in module.exchanges:
        kind = "ccxt.pro" if module.__name__.endswith("pro") else "ccxt"
        raise UserError(f"unknown {what} {exchange_id!r}: not a {kind} exchange id")


def _exchange(
    ex_id: str,
    entry: Any,
    default_tables: tuple[str, ...],
    default_symbols: list[str],
    where: str,
) -> ExchangeConfig:
    _check_exchange_id(ex_id, "exchange in config")
    entry = _mapping({} if entry is None else entry, where)
    _check_keys(entry, _EXCHANGE_KEYS, where)
    symbols = _strings(entry.get("symbols", default_symbols), f"{where}.symbols")
    tables = _tables(entry["tables"], f"{where}.tables") if "tables" in entry else default_tables
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise UserError(f"{where}.enabled: expected true or false")
    page_limit = _mapping(entry.get("page_limit", {}), f"{where}.page_limit")
    for table, n in page_limit.items():
        if table not in FETCH_TABLES or not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise UserError(f"{where}.page_limit: expected {{table: positive integer}}")
    return ExchangeConfig(
        id=ex_id,
        symbols=tuple(symbols),
        tables=tables,
        ccxt=dict(_mapping(entry.get("ccxt", {}) or {}, f"{where}.ccxt")),
        collect=dict(_mapping(entry.get("collect", {}) or {}, f"{where}.collect")),
        enabled=enabled,
        page_limit=dict(page_limit),
    )


def _refuse_secrets(node: Any, where: str, trail: str = "") -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = f"{trail}.{key}" if trail else str(key)
            if _SECRET_KEY.search(str(key)) and value not in (None, ""):
                raise UserError(
                    f"{where}: {here} looks like an API key; put API keys in environment "
                    f"variables ({', '.join(SECRET_ENV_VARS)}), not in the config file"
                )
            _refuse_secrets(value, where, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _refuse_secrets(value, where, f"{trail}[{i}]")


def _check_keys(mapping: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(k) for k in mapping if k not in allowed)
    if unknown:
        raise UserError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(allowed)}")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UserError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UserError(f"{where}: expected a list of names")
    return list(value)


def _precedence(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_PRECEDENCE
    names = _strings(value, where)
    if not names:
        raise UserError(f"{where}: expected a list of source names, most trusted first")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UserError(f"{where}: {repeated} listed more than once")
    return tuple(names)


def _tables(value: Any, where: str) -> tuple[str, ...]:
    names = _strings(value, where)
    unknown = [n for n in names if n not in FETCH_TABLES]
    if unknown:
        raise UserError(f"{where}: unknown table(s) {unknown}; expected some of {FETCH_TABLES}")
    return tuple(names)
