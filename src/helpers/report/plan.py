"""The report plan: command-line options and parameters, checked before any kernel starts."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.config import default_config_path, load_precedence
from helpers.errors import UserError
from helpers.report import params as P
from helpers.store import DEFAULT_DATA_DIR, Store
from helpers.store_kind import EMPTY, MIXED, REAL, SIMULATED, mixed_store_message, remove_command

DEFAULT_KERNEL = "liqnb"
FALLBACK_KERNEL = "python3"


@dataclass(frozen=True)
class ReportPlan:
    """Everything a render needs, validated.

    ``params`` holds the resolved values of the common parameters (``start``/``end`` as ISO
    strings with ``+00:00``, ``data_dir`` absolute because notebooks run with the notebooks
    folder as working directory) and of every notebook-specific parameter that was given.
    ``notebook_params`` maps each notebook's file name to the subset of ``params`` it declares.
    ``config`` is the sources config (absolute; None: the built-in defaults): what
    ``fetch: true`` pulls, and the ``precedence:`` by which every notebook's bars keep one
    source per venue and bar.
    """

    params: dict[str, Any]
    start: pd.Timestamp
    end: pd.Timestamp
    exchanges: list[str] | None
    symbols: list[str] | None
    interval: str
    data_dir: Path
    report_date: date
    notebooks: list[Path]
    out_dir: Path
    notebooks_dir: Path
    notebook_params: dict[str, dict[str, Any]]
    kernel: str
    jobs: int
    show_code: bool = False
    verbose: bool = False
    fetch: bool = False
    demo: dict[str, Any] | None = None
    replace: bool = False
    config: Path | None = None

    @property
    def report_dir(self) -> Path:
        """``<out>/<YYYY-MM-DD>``, where the finished report lives."""
        return self.out_dir / self.report_date.isoformat()


def prepare(args: argparse.Namespace, now: pd.Timestamp | None = None) -> ReportPlan:
    """Validate options and parameters into a :class:`ReportPlan`; starts no kernel.

    Precedence for a parameter: ``-p`` override, then ``--data-dir`` (for ``data_dir``, when
    it differs from the default), then the params file, then the default the notebooks
    declare. ``now`` (default: the current time) anchors relative times such as ``yesterday``.
    The store must hold the kind of data the parameters ask for (:func:`check_store`).
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    from_file = P.load_params_file(getattr(args, "params", None))
    overrides = P.parse_overrides(getattr(args, "param", None))
    given = {**from_file, **overrides}
    fetch, demo = report_options(given)

    notebooks_dir = Path(getattr(args, "notebooks", "notebooks"))
    notebooks = find_notebooks(notebooks_dir)
    declared = declared_parameters(notebooks)
    P.check_names(given, declared)

    fills = fetch or demo is not None
    resolved = resolve_common(given, overrides, declared, args, now, create_data_dir=fills)
    start = pd.Timestamp(resolved["start"])
    end = pd.Timestamp(resolved["end"])
    specific = {k: v for k, v in given.items() if k not in P.COMMON}
    for name, value in specific.items():
        P.check_type(name, value, declared)
    if P.CLAIMS in specific:
        P.check_claims(specific[P.CLAIMS], resolved["interval"], [nb.stem for nb in notebooks])
    values = {**resolved, **specific}
    config = sources_config(getattr(args, "config", None))

    plan = ReportPlan(
        params=values,
        start=start,
        end=end,
        exchanges=resolved["exchanges"],
        symbols=resolved["symbols"],
        interval=resolved["interval"],
        data_dir=Path(resolved["data_dir"]),
        report_date=report_date(getattr(args, "date", None), end),
        notebooks=notebooks,
        out_dir=Path(getattr(args, "out", "reports")),
        notebooks_dir=notebooks_dir,
        notebook_params={
            nb.name: {k: v for k, v in values.items() if k in declared[nb.name]} for nb in notebooks
        },
        kernel=choose_kernel(getattr(args, "kernel", None)),
        jobs=check_jobs(getattr(args, "jobs", None)),
        show_code=bool(getattr(args, "show_code", False)),
        verbose=bool(getattr(args, "verbose", False)),
        fetch=fetch,
        demo=demo,
        replace=bool(getattr(args, "replace", False)),
        config=config,
    )
    check_store(plan)
    return plan


def sources_config(path: str | None) -> Path | None:
    """``--config``, else :func:`helpers.config.default_config_path`, absolute; its
    ``precedence:`` is read now so a bad file is one line before any kernel starts."""
    chosen = Path(path).expanduser() if path else default_config_path()
    if chosen is None:
        return None
    load_precedence(chosen)
    return chosen.resolve()


def check_store(plan: ReportPlan) -> None:
    """A one-line :class:`UserError` unless the store holds the kind of data the parameters
    ask for: ``demo:`` an empty or simulated store; any other report (``fetch: true`` or
    not) an empty or real one, so a real-data report never reads a simulated row. A store
    holding both (written before they were kept apart) is refused either way."""
    store = Store(plan.data_dir)
    wanted = SIMULATED if plan.demo is not None else REAL
    if store.kind() in (EMPTY, wanted):
        return
    held = store.contents()  # a refusal is decided by the files, never by the marker alone
    if held.kind in (EMPTY, wanted):
        return
    root = plan.data_dir
    if held.kind == MIXED:
        raise UserError(mixed_store_message(root, held))
    if wanted == SIMULATED:
        raise UserError(
            f"demo: simulates into an empty store, and {root} holds real data "
            f"({', '.join(held.real)}); render the demo market into a folder of its own "
            "(--data-dir data/demo)"
        )
    if plan.fetch:
        asked, instead = "fetch: true", "pull into a folder of its own (--data-dir data/real)"
    else:
        asked, instead = "no demo:", "use a store of real data (--data-dir), add demo: to render"
        instead += " the simulated market"
    raise UserError(
        f"{root} holds simulated (demo) data and these parameters ask for real data ({asked}); "
        f"{instead}, or delete the simulated rows: {remove_command(root)}"
    )


def report_options(given: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """Remove the report options (not notebook parameters) from ``given`` and check them.

    ``fetch: true`` pulls real data for the window before rendering; ``demo: {scenario,
    seed}`` fills an empty store with the simulated market. Both at once is refused: a
    scheduled real-data run must never fall back to simulated data.
    """
    fetch = given.pop(P.FETCH, False)
    if not isinstance(fetch, bool):
        raise UserError(f"fetch: expected true or false, got {fetch!r}")
    demo = given.pop(P.DEMO, None)
    if demo is not None:
        if not isinstance(demo, dict) or set(demo) - {"scenario", "seed"}:
            raise UserError(f"demo: expected {{scenario: NAME, seed: N}}, got {demo!r}")
        if not isinstance(demo.get("seed", 7), int):
            raise UserError(f"demo: seed must be an integer, got {demo.get('seed')!r}")
        demo = {"scenario": str(demo.get("scenario", "article")), "seed": demo.get("seed", 7)}
    if fetch and demo is not None:
        raise UserError("fetch and demo exclude each other: real data or simulated, not both")
    return fetch, demo


def find_notebooks(folder: Path) -> list[Path]:
    """The ``*.ipynb`` files in ``folder`` (not recursive), by name; names starting with ``.``
    or ``_`` are skipped (drafts, checkpoints)."""
    if not folder.is_dir():
        raise UserError(f"notebooks folder not found: {folder}")
    found = sorted(
        p for p in folder.glob("*.ipynb") if p.is_file() and not p.name.startswith((".", "_"))
    )
    if not found:
        raise UserError(f"no notebooks (*.ipynb) in {folder}")
    return found


def declared_parameters(notebooks: list[Path]) -> dict[str, dict[str, dict[str, Any]]]:
    """Each notebook's parameters (name -> papermill's {name, default, help, ...}) by file name."""
    import papermill

    out: dict[str, dict[str, dict[str, Any]]] = {}
    pm_log = logging.getLogger("papermill")
    level = pm_log.level
    pm_log.setLevel(max(level, logging.WARNING))  # not one "Input Notebook" line per notebook
    try:
        for nb in notebooks:
            try:
                out[nb.name] = papermill.inspect_notebook(str(nb))
            except Exception as exc:  # a broken notebook file should be one clear line
                raise UserError(f"cannot read notebook {nb}: {P.one_line(exc)}") from None
    finally:
        pm_log.setLevel(level)
    return out


def resolve_common(
    given: Mapping[str, Any],
    overrides: Mapping[str, Any],
    declared: Mapping[str, Mapping[str, Any]],
    args: argparse.Namespace,
    now: pd.Timestamp,
    create_data_dir: bool = False,
) -> dict[str, Any]:
    """Values of :data:`params.COMMON`, validated, times as ISO strings; the data folder is
    created when ``create_data_dir`` (the report fills the store)."""
    raw: dict[str, Any] = {}
    for name in P.COMMON:
        if name in given:
            raw[name] = given[name]
        elif name != "data_dir":  # a notebook's default path is relative to its own folder
            found, value = P.notebook_default(name, declared)
            if found:
                raw[name] = value
    for name in ("start", "end"):
        if name not in raw:
            raise UserError(f"{name} is not set: give it in --params FILE or with -p {name}=...")
    start = P.resolve_time("start", raw["start"], now)
    end = P.resolve_time("end", raw["end"], now)
    P.check_window(start, end)
    return {
        "start": P.iso(start),
        "end": P.iso(end),
        "exchanges": P.check_exchanges(raw.get("exchanges")),
        "symbols": P.check_symbols(raw.get("symbols")),
        "data_dir": str(resolve_data_dir(raw.get("data_dir"), overrides, args, create_data_dir)),
        "interval": P.check_interval(raw.get("interval", "1h")),
    }


def resolve_data_dir(
    from_params: object, overrides: Mapping[str, Any], args: Any, create: bool = False
) -> Path:
    """The store folder, absolute; it must exist, or is created when ``create``.

    ``-p data_dir=...`` wins, then ``--data-dir`` when it is not the default, then the params
    file, then the default ``data/raw``. Relative paths are taken from the current folder.
    """
    cli_value = getattr(args, "data_dir", None)
    cli_given = cli_value is not None and Path(cli_value) != DEFAULT_DATA_DIR
    if "data_dir" in overrides or (not cli_given and from_params is not None):
        chosen = from_params
    else:
        chosen = cli_value if cli_value is not None else DEFAULT_DATA_DIR
    if not isinstance(chosen, str | os.PathLike) or not str(chosen):
        raise UserError(f"data_dir: expected a folder path, got {chosen!r}")
    path = Path(chosen).expanduser().resolve()
    if create and not path.exists():
        path.mkdir(parents=True)
    if not path.is_dir():
        raise UserError(f"data dir not found: {chosen} (create the demo data with `make demo`)")
    return path


def report_date(text: str | None, end: pd.Timestamp) -> date:
    """``--date`` if given, else the UTC date of the window's last instant (end - 1 us)."""
    if text is None:
        return (end - pd.Timedelta(microseconds=1)).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--date: expected YYYY-MM-DD, got {text!r}") from None


def choose_kernel(name: str | None) -> str:
    """``name`` if that kernelspec exists, else the project kernel, else ``python3``."""
    from jupyter_client.kernelspec import KernelSpecManager

    available = set(KernelSpecManager().find_kernel_specs())
    if name is not None:
        if name not in available:
            raise UserError(
                f"unknown kernel {name!r}; installed: {', '.join(sorted(available)) or 'none'}"
            )
        return name
    return DEFAULT_KERNEL if DEFAULT_KERNEL in available else FALLBACK_KERNEL


def check_jobs(jobs: int | None) -> int:
    """Notebooks executed at once: ``jobs`` or the CPU count; at least 1."""
    if jobs is None:
        return os.cpu_count() or 1
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {jobs}")
    return jobs
