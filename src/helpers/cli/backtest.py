"""``backtest-map``: score the ESTIMATED liquidation map day by day against what followed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from helpers.cli import options as o
from helpers.dataset import Dataset
from helpers.errors import UserError
from helpers.files import write_text_atomic
from helpers.metrics.map_backtest import BacktestResult
from helpers.metrics.map_backtest_analysis import backtest_map
from helpers.metrics.parameters import ClusterParameters
from helpers.timegrid import INTERVAL_SECONDS

_D = ClusterParameters()


def add_backtest_arguments(p: argparse.ArgumentParser) -> None:
    o.add_window(p, start_required=True, end_required=True)
    p.add_argument("--base", default=_D.base, help=f"base asset (default {_D.base})")
    p.add_argument(
        "--bin-width",
        type=float,
        default=None,
        help="price bin, USD (default: a round width giving about 40 bins over the window's "
        "price range)",
    )
    p.add_argument("--interval", default="1h", choices=list(INTERVAL_SECONDS))
    p.add_argument("--exchanges", help="ccxt exchange ids, comma-separated (default: all)")
    p.add_argument("--json", type=Path, help="also write the scores and per-day rows here")


def run_backtest(args: argparse.Namespace) -> int:
    o.check_window(args.start, args.end)
    if not Path(args.data_dir).is_dir():
        raise UserError(f"no store at {args.data_dir}: the folder does not exist")
    exchanges = o.csv_list(args.exchanges) or None
    ds = Dataset.open(args.data_dir, str(args.start), str(args.end), exchanges, None, args.interval)
    r = backtest_map(ds, base=args.base, bin_width=args.bin_width)
    print(render_text(r, simulated=ds.simulated))
    if args.json is not None:
        write_text_atomic(args.json, json.dumps(as_json(r, ds.simulated), indent=2) + "\n")
    return 0


def render_text(r: BacktestResult, simulated: bool = False) -> str:
    """The backtest as terminal text: per-day scores, window scores, verdict, model."""
    mark = "SIMULATED data. " if simulated else ""
    days = r.days.assign(day=r.days["day"].dt.strftime("%Y-%m-%d"))
    table = days[
        ["day", "realised_usd", "rank_corr_map", "rank_corr_baseline",
         "top_share_map", "top_share_baseline"]
    ].rename(columns={
        "realised_usd": "REALISED $M", "rank_corr_map": "rank corr map",
        "rank_corr_baseline": "rank corr baseline", "top_share_map": f"top {r.top_bins} map",
        "top_share_baseline": f"top {r.top_bins} baseline",
    })  # fmt: skip
    table["REALISED $M"] = table["REALISED $M"] / 1e6
    body = table.to_string(index=False, na_rep="—", float_format=lambda v: f"{v:,.2f}")
    scores = ", ".join(f"{k} {'—' if v is None else f'{v:,.3g}'}" for k, v in r.scores.items())
    return (
        f"{mark}ESTIMATED {r.base} liquidation map scored against REALISED liquidations of the "
        f"next 24 h, ${r.bin_width:,.6g} price bins\n{body}\nscores: {scores}\n"
        f"{r.verdict}\n{r.model}"
    )


def as_json(r: BacktestResult, simulated: bool) -> dict[str, object]:
    """Scores, verdict, model and per-day rows; missing is null, never 0."""
    days = r.days.astype({"day": "string"}).astype(object).where(r.days.notna(), None)
    return {
        "base": r.base,
        "bin_width": r.bin_width,
        "simulated": simulated,
        "scores": r.scores,
        "verdict": r.verdict,
        "model": r.model,
        "days": days.to_dict(orient="records"),
    }


__all__ = ["add_backtest_arguments", "as_json", "render_text", "run_backtest"]
