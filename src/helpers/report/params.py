"""Report parameters: read the YAML file and ``-p`` overrides, resolve times, validate values.

Every problem is a one-line :class:`~helpers.errors.UserError`, raised before any kernel starts.

Times (``start``, ``end``) accept an ISO 8601 timestamp (a value without offset is taken as
UTC; a bare date means its UTC midnight) or a relative form, resolved against the current
UTC time when the report is prepared:

* ``today`` (UTC midnight at the start of the current day), ``yesterday`` (the midnight
  before), ``now`` (the start of the current UTC hour),
* any of those followed by an offset ``+N<unit>`` or ``-N<unit>``, unit ``m`` (minutes),
  ``h`` (hours), ``d`` (days) or ``w`` (weeks): ``today-7d``, ``now - 6h``.

Resolved times are written back as ISO strings with ``+00:00``, which is what notebooks get.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import yaml

from helpers.errors import UserError
from helpers.schema import INTERVALS

if TYPE_CHECKING:
    from pandas.api.typing import NaTType

COMMON = ("start", "end", "exchanges", "symbols", "data_dir", "interval")
"""Parameters that define the report as a whole; every notebook declaring one gets the same
value, and the report accepts them even when no notebook declares them."""

FETCH = "fetch"
"""Report option: pull real data into the store for the window before rendering."""

CLAIMS = "claims"
"""Notebook parameter: statements the brief tests (:mod:`helpers.metrics.claims`), checked
here so a malformed claim stops the report before any kernel starts."""

DEMO = "demo"
"""Report option: ``{scenario: article, seed: 7}`` fills an EMPTY store with the simulated
market before rendering (what ``make report`` does on a fresh clone); never touches a store
that already holds liquidations."""

_RELATIVE = re.compile(
    r"^(?P<anchor>now|today|yesterday)\s*(?:(?P<sign>[+-])\s*(?P<n>\d+)\s*(?P<unit>[mhdw]))?$",
    re.IGNORECASE,
)
_UNITS: dict[str, Literal["min", "h", "D", "W"]] = {"m": "min", "h": "h", "d": "D", "w": "W"}
_SYMBOL = re.compile(r"^[^/\s]+/[^/\s:]+(:[^/\s]+)?$")
TIME_FORMS = (
    "use ISO 8601 such as 2025-11-10T00:00:00+00:00, or today/yesterday/now "
    "with an optional offset such as today-7d"
)


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text and are parsed (and reported) here."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """``text`` parsed as YAML with safe types; timestamps are left as strings."""
    return yaml.load(text, Loader=_Loader)


def one_line(text: object, limit: int = 300) -> str:
    """``text`` with whitespace runs collapsed to single spaces, cut to ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def load_params_file(path: str | Path | None) -> dict[str, Any]:
    """The mapping in a YAML params file; ``{}`` when no file is given."""
    if path is None:
        return {}
    p = Path(path)
    if not p.is_file():
        raise UserError(f"params file not found: {p}")
    try:
        data = load_yaml(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise UserError(f"params file {p} is not valid YAML{where}: {one_line(problem)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise UserError(f"params file {p} must hold a mapping of parameter names to values")
    return data


def parse_overrides(items: Sequence[str] | None) -> dict[str, Any]:
    """``-p NAME=VALUE`` items as a mapping; each VALUE is parsed as YAML (``null``, ``[a, b]``)."""
    out: dict[str, Any] = {}
    for item in items or ():
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UserError(f"-p expects NAME=VALUE with NAME a Python identifier, got {item!r}")
        try:
            out[name] = load_yaml(raw) if raw.strip() else ""
        except yaml.YAMLError:
            raise UserError(f"-p {name}: cannot parse value {raw!r} as YAML") from None
    return out


def resolve_time(name: str, value: object, now: pd.Timestamp) -> pd.Timestamp:
    """``value`` (ISO text, date, datetime or relative form) as a tz-aware UTC timestamp."""
    if isinstance(value, datetime):
        ts = pd.Timestamp(value)
    elif isinstance(value, date):
        ts = pd.Timestamp(value.isoformat())
    elif isinstance(value, str):
        ts = _parse_time_text(name, value.strip(), now)
    else:
        raise UserError(f"{name}: expected a date/time, got {value!r}; {TIME_FORMS}")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _parse_time_text(name: str, text: str, now: pd.Timestamp) -> pd.Timestamp:
    m = _RELATIVE.match(text)
    if m:
        now = now.tz_convert("UTC") if now.tzinfo else now.tz_localize("UTC")
        anchor = m["anchor"].lower()
        if anchor == "now":
            base = now.floor("h")
        else:
            base = now.normalize() - pd.Timedelta(days=1 if anchor == "yesterday" else 0)
        if m["n"] is None:
            return base
        step = pd.Timedelta(int(m["n"]), unit=_UNITS[m["unit"].lower()])
        return base + step if m["sign"] == "+" else base - step
    try:
        ts: pd.Timestamp | NaTType = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        ts = pd.NaT
    if not isinstance(ts, pd.Timestamp) or not text:  # pd.Timestamp(text) may be NaT
        raise UserError(f"{name}: cannot parse {text!r} as a date/time; {TIME_FORMS}")
    return ts


def iso(ts: pd.Timestamp) -> str:
    """``2025-11-10T00:00:00+00:00`` for a UTC timestamp."""
    return ts.tz_convert("UTC").isoformat()


def check_window(start: pd.Timestamp, end: pd.Timestamp) -> None:
    """The window is half-open ``[start, end)`` and must not be empty."""
    if end <= start:
        raise UserError(f"end ({iso(end)}) must be after start ({iso(start)})")


def check_exchanges(value: object) -> list[str] | None:
    """``None`` (every exchange) or a non-empty list of ccxt exchange ids."""
    if value is None:
        return None
    ids = [value] if isinstance(value, str) else value
    if not isinstance(ids, list) or not all(isinstance(x, str) and x for x in ids):
        raise UserError(f"exchanges: expected null or a list of ccxt ids, got {value!r}")
    if not ids:
        raise UserError("exchanges: empty list; use null for every exchange")
    import ccxt

    unknown = [x for x in ids if x not in ccxt.exchanges]
    if unknown:
        raise UserError(
            f"unknown exchange {', '.join(map(repr, unknown))}: not a ccxt exchange id "
            "(for example binanceusdm, bybit, okx, hyperliquid)"
        )
    return list(ids)


def check_symbols(value: object) -> list[str] | None:
    """``None`` (every symbol) or a non-empty list of ccxt unified symbols (``BTC/USDT:USDT``)."""
    if value is None:
        return None
    syms = [value] if isinstance(value, str) else value
    if not isinstance(syms, list) or not syms or not all(isinstance(x, str) for x in syms):
        raise UserError(f"symbols: expected null or a list of ccxt symbols, got {value!r}")
    bad = [s for s in syms if not _SYMBOL.match(s)]
    if bad:
        raise UserError(
            f"symbols: {', '.join(map(repr, bad))} is not a ccxt unified symbol "
            "such as BTC/USDT:USDT"
        )
    return list(syms)


def check_interval(value: object) -> str:
    """One of :data:`helpers.schema.INTERVALS`."""
    if value not in INTERVALS:
        raise UserError(f"unknown interval {value!r}; expected one of {', '.join(INTERVALS)}")
    return str(value)


def check_claims(value: object, interval: str, pages: Sequence[str]) -> None:
    """``claims:`` as :func:`helpers.metrics.claims.parse_claims` reads them, fitting the
    report (``worst_hour.*`` on 1h bars, a ``page`` among ``pages``, the notebook stems), each
    venue a ccxt exchange id or venue family."""
    from helpers.metrics import claims as C
    from helpers.venues import FAMILIES

    try:
        parsed = C.parse_claims(value)
        C.check_claims_context(parsed, interval, pages)
    except C.ClaimError as exc:
        raise UserError(one_line(exc, limit=600)) from None
    venues = [c for c in parsed if c.spec.arg == "venue"]
    if venues:
        import ccxt

        for c in venues:
            if c.arg not in FAMILIES and c.arg not in ccxt.exchanges:
                raise UserError(
                    f"{c.where}: unknown venue {c.arg!r}: not a venue family or ccxt "
                    "exchange id (for example binance, binanceusdm, okx, hyperliquid)"
                )


def check_names(given: Mapping[str, Any], declared: Mapping[str, Mapping[str, Any]]) -> None:
    """Every given name is a common parameter, ``claims`` (checked by the report whether or
    not a notebook shows them) or declared by at least one notebook."""
    known = set(COMMON).union({CLAIMS}, *(set(d) for d in declared.values()))
    unknown = sorted(set(given) - known)
    if unknown:
        what = "parameter" if len(unknown) == 1 else "parameters"
        it = "it" if len(unknown) == 1 else "them"
        raise UserError(
            f"unknown {what} {', '.join(map(repr, unknown))}: no notebook declares {it} "
            f"(known: {', '.join(sorted(known))})"
        )


def literal_default(spec: Mapping[str, Any]) -> tuple[bool, Any]:
    """(True, value) when papermill's inferred default is a plain Python literal."""
    try:
        return True, ast.literal_eval(str(spec.get("default", "")))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def notebook_default(name: str, declared: Mapping[str, Mapping[str, Any]]) -> tuple[bool, Any]:
    """(True, value) for the default the notebooks declare for ``name``; they must agree."""
    values: dict[str, Any] = {}
    for nb, params in declared.items():
        if name in params:
            ok, value = literal_default(params[name])
            if ok:
                values[nb] = value
    distinct = {repr(v) for v in values.values()}
    if len(distinct) > 1:
        raise UserError(
            f"{name}: notebooks declare different defaults ({', '.join(sorted(values))}); "
            f"set it in the params file or with -p {name}=..."
        )
    return (True, next(iter(values.values()))) if values else (False, None)


def check_type(name: str, value: Any, declared: Mapping[str, Mapping[str, Any]]) -> None:
    """``value`` has the kind (number, text, list, flag) of every literal default declared."""
    for nb, params in declared.items():
        if name not in params:
            continue
        ok, default = literal_default(params[name])
        if not ok or default is None or value is None:
            continue
        if _kind(value) != _kind(default):
            raise UserError(
                f"{name}: {nb} expects a {_kind(default)} (default {default!r}), got {value!r}"
            )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false flag"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str | date):
        return "text"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__
