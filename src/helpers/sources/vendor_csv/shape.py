"""A vendor CSV's shape, checked line by line before any value is read, so a cut download or
two exports joined into one file is refused instead of stored as wrong numbers.

The rules (each failure is one :class:`UserError` naming the file and the line):

* **Every line ends with a line break.** RFC 4180 lets the last line go without one, but a
  download cut off inside the last line (``123456.78`` -> ``1234``) then looks exactly like
  a complete file, and no check on values can tell; every vendor export in hand (CoinGlass,
  Coinalyze; pandas, Python's ``csv``, spreadsheet exports) ends with one. A complete file
  without it is accepted once a newline is appended.
* **Every row has the header's number of fields.** Fewer on the last row is a truncated
  file; fewer or more elsewhere is a ragged file (a stray comma, a column added mid-file).
* **One header.** A later row that repeats the header, or that holds no number and names
  one of the header's columns, is a second header (files concatenated, columns changed).

Empty lines are skipped, as the CSV reader skips them. Line numbers count physical lines
from 1 (the header), as an editor shows them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from helpers.errors import UserError


def check_shape(path: Path) -> None:
    """Refuse ``path`` when a line is cut, ragged or a second header (see the module)."""
    data = path.read_bytes()
    if not data.strip():
        return
    where = path.name
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace"), newline=""))
    header: list[str] | None = None
    names: set[str] = set()
    last = (0, 0)  # (line, fields) of the last row read
    try:
        for row in reader:
            if not row:
                continue
            if header is None:
                header = [_norm(f) for f in row]
                names = {h for h in header if h}
                continue
            if last[0] and last[1] < len(header):
                _too_few(where, *last, len(header), truncated=False)
            _check_not_header(row, header, names, reader.line_num, where)
            if len(row) > len(header):
                raise UserError(
                    f"{where}: line {reader.line_num} has {len(row)} fields, the header has "
                    f"{len(header)} (a stray comma, or columns changed mid-file?)"
                )
            last = (reader.line_num, len(row))
    except csv.Error as exc:
        line = reader.line_num
        raise UserError(f"{where}: line {line}: not a readable CSV row ({exc})") from None
    if header is None or not last[0]:
        return
    if last[1] < len(header):
        _too_few(where, *last, len(header), truncated=True)
    if not data.endswith((b"\n", b"\r")):
        raise UserError(
            f"{where}: file looks truncated: line {last[0]}, the last, has no line break, so "
            "its last value may be cut; if the file is complete, add a newline at its end"
        )


def _norm(field: str) -> str:
    return field.strip().lower()


def _check_not_header(
    row: list[str], header: list[str], names: set[str], line: int, where: str
) -> None:
    fields = [_norm(f) for f in row]
    if fields == header:
        raise UserError(
            f"{where}: line {line} repeats the header line (two exports joined into one file?)"
        )
    if names.intersection(fields) and not any(_is_number(f) for f in fields):
        raise UserError(
            f"{where}: line {line} is a second header line ({','.join(row)[:80]!r}): the "
            "columns change mid-file"
        )


def _too_few(where: str, line: int, fields: int, expected: int, *, truncated: bool) -> None:
    what = "file looks truncated: " if truncated else ""
    raise UserError(f"{where}: {what}line {line} has {fields} of the header's {expected} fields")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
