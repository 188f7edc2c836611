"""``doctor``: check a store for damage (:mod:`helpers.doctor`); it writes nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

from helpers.doctor import EXIT_DAMAGE, check_store


def add_doctor_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--reports",
        default="reports",
        metavar="DIR",
        help="reports folder whose leftover staging folders to look for (default: %(default)s; "
        "skipped when absent)",
    )
    p.epilog = (
        f"exit status: 0 when nothing is damaged (quarantined rows, open gaps and files in use "
        f"are reported but are not damage); {EXIT_DAMAGE} when something is; 2 when the store "
        "folder does not exist"
    )


def run_doctor(args: argparse.Namespace) -> int:
    reports = Path(args.reports)
    checkup = check_store(args.data_dir, reports if reports.is_dir() else None)
    for line in checkup.lines():
        print(line)
    return checkup.exit_code
