"""DuckDB connections as the project opens them: timestamps in UTC, and no progress bar
(DuckDB draws one on stdout for any query longer than 2 s, even into a log file, so a
scheduled report's log of a big store filled with carriage returns)."""

from __future__ import annotations

import duckdb


def quiet_utc(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``con`` set to UTC and to draw no progress bar (session settings: DuckDB refuses
    ``enable_progress_bar`` as a connection config). In a Jupyter kernel without ipywidgets
    DuckDB refuses to change the setting at all; it draws no bar there either, so the
    refusal is let go."""
    con.execute("SET TimeZone = 'UTC'")
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.InvalidInputException as exc:
        if "ipywidgets" not in str(exc):
            raise
    return con


def connect_utc() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection in UTC without a progress bar."""
    return quiet_utc(duckdb.connect())
