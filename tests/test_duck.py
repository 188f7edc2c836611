"""The project's DuckDB connections: UTC, and no progress bar on stdout."""

from __future__ import annotations

import subprocess
import sys

from helpers.duck import connect_utc


def test_a_connection_is_in_utc_without_a_progress_bar():
    con = connect_utc()
    try:
        settings = "current_setting('TimeZone'), current_setting('enable_progress_bar')"
        assert con.execute(f"SELECT {settings}").fetchone() == ("UTC", False)
    finally:
        con.close()


def test_a_long_query_writes_nothing_to_stdout():
    """DuckDB draws its bar after ``progress_bar_time`` (2 s); set to 0 here, a plain
    connection draws it into a redirected stdout, one with the project's settings does not.
    Only what the long query prints counts (after the ``|`` marker): with the time at 0 the
    ``SET`` statements draw a bar of their own."""
    code = (
        "import os, duckdb\n"
        "from helpers.duck import quiet_utc\n"
        "con = duckdb.connect()\n"
        "con.execute('SET progress_bar_time = 0')\n"
        "{quiet}\n"
        "os.write(1, b'|')\n"
        "con.execute('SELECT count(*) FROM range(200000000) a WHERE a.range % 7 = 3').fetchall()\n"
    )
    stdout = {
        name: subprocess.run(
            [sys.executable, "-c", code.format(quiet=line)], capture_output=True, check=True
        ).stdout.rpartition(b"|")[2]
        for name, line in [("plain", "pass"), ("quiet", "quiet_utc(con)")]
    }
    assert stdout["plain"] != b""  # the bar this guards against
    assert stdout["quiet"] == b""
