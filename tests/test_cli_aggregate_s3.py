"""``python -m helpers aggregate --engine dask`` on a store held in S3, on a real cluster.

A real local S3 server (moto's ``ThreadedMotoServer`` on 127.0.0.1, nothing outside this
machine, signatures checked against an IAM key it issued) holds a copy of a store whose
partitions still carry uncompacted write parts, one of them rewriting a stored event, and a
recorded gap. The real command, run as a subprocess with the AWS settings in its environment
only, reads it through fsspec (s3fs) on a ``LocalCluster`` of two worker processes and
writes the bars into a local store; they must equal the DuckDB path on the local original
row for row. Other windows and intervals run the same command in-process on Dask's threads.
Failures (the duckdb engine given a URL, no ``--out-dir`` for a URL, a missing bucket,
missing or wrong credentials, an unreachable scheduler) end with one ``error:`` line, exit
2, the output store untouched, and no secret printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")
s3fs = pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

from factories import liquidation_rows  # noqa: E402

from helpers.aggregate import aggregate_store  # noqa: E402
from helpers.cli import main  # noqa: E402
from helpers.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "liqnb-test"
S3_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)
WRONG_SECRET = "wrong-s3cr3t-that-must-never-be-printed"
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


# The second and third writes land as write parts beside the first file (no compaction);
# the third rewrites "a2" (long 50 -> 70), which a reader counting every file sees twice.
WRITES = [
    [
        ("2025-01-01 00:10", "okx", BTC, "long", 100.0, "a1"),
        ("2025-01-01 00:50", "okx", BTC, "long", 50.0, "a2"),
        ("2025-01-01 01:20", "bybit", BTC, "long", 9.0, "b1"),
    ],
    [
        ("2025-01-01 00:59:59", "okx", BTC, "short", 7.0, "a3"),
        ("2025-01-01 03:00", "okx", ETH, "short", 1.0, "a4"),
        ("2025-01-01 05:30", "bybit", BTC, "short", 3.0, "b2"),
    ],
    [
        ("2025-01-01 00:50", "okx", BTC, "long", 70.0, "a2"),
        ("2025-01-02 00:30", "okx", BTC, "long", 4.0, "a5"),
    ],
]


@pytest.fixture(scope="module")
def s3_env():
    """A moto S3 server on 127.0.0.1 that checks signatures, one IAM user allowed ``s3:*``,
    and the environment that points s3fs at it with that user's key."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="setup", aws_secret_access_key="setup")  # fmt: skip
        iam.create_user(UserName="liqnb")
        iam.put_user_policy(UserName="liqnb", PolicyName="s3", PolicyDocument=S3_POLICY)
        key = iam.create_access_key(UserName="liqnb")["AccessKey"]
        # From here on every request must be signed by a known key (moto's reset-auth API).
        reset = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0",
                                       headers={"Content-Type": "text/plain"})  # fmt: skip
        urllib.request.urlopen(reset).close()
        yield {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    finally:
        server.stop()


@pytest.fixture(scope="module")
def local_store(tmp_path_factory) -> Store:
    store = Store(tmp_path_factory.mktemp("original"), auto_compact=False)
    for rows in WRITES:
        store.write("liquidations", liquidation_rows(rows))
    store.write(
        "gaps",
        pd.DataFrame(
            {
                "start": [pd.Timestamp("2025-01-01 04:00", tz="UTC")],
                "end": [pd.Timestamp("2025-01-01 05:00", tz="UTC")],
                "exchange": ["bybit"],
                "symbol": pd.Series([None], dtype="string"),
                "table_name": ["liquidations"],
                "reason": ["collector down"],
                "ts": [pd.Timestamp("2025-01-01 04:00", tz="UTC")],
            }
        ),
    )
    return store


@pytest.fixture(scope="module")
def bucket_url(s3_env, local_store) -> str:
    fs = _s3(s3_env)
    fs.mkdir(BUCKET)
    fs.put(f"{local_store.root}/", f"{BUCKET}/store/", recursive=True)
    return f"s3://{BUCKET}/store"


def _s3(env: dict[str, str]):
    """An s3fs filesystem on the test server, signed in with ``env``'s key (this process)."""
    return s3fs.S3FileSystem(
        key=env["AWS_ACCESS_KEY_ID"],
        secret=env["AWS_SECRET_ACCESS_KEY"],
        client_kwargs={"endpoint_url": env["AWS_ENDPOINT_URL"]},
    )


def _aggregate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "helpers", "aggregate", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full,
        timeout=300,
    )


def _in_process(monkeypatch, capsys, env: dict[str, str], *args: str):
    """The same command through :func:`helpers.cli.main` in this process (no interpreter
    start: a subprocess costs seconds of imports per case), with ``env`` set."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["aggregate", *args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def _one_line_error(proc: subprocess.CompletedProcess[str], *secrets: str) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, proc.stderr
    for secret in secrets:
        assert secret not in proc.stdout + proc.stderr
    return lines[0]


def test_the_bucket_holds_write_parts_that_are_not_compacted(s3_env, bucket_url, local_store):
    fs = _s3(s3_env)
    okx = f"{BUCKET}/store/liquidations/exchange=okx/date=2025-01-01"
    names = sorted(p.rsplit("/", 1)[1] for p in fs.ls(okx))
    assert names[0] == "part-000000000001.parquet" and len(names) == 3


@pytest.mark.parametrize(
    "window, cluster",
    [
        ((), ("--local-cluster", "2")),
        (("--interval", "4h"), ()),
        (("--start", "2025-01-01T00:30Z", "--end", "2025-01-01T06:00Z"), ()),
    ],
    ids=["1h-on-a-local-cluster", "4h-threads", "window-threads"],
)
def test_bars_from_s3_equal_the_duckdb_bars(
    s3_env, bucket_url, local_store, tmp_path, window, cluster, monkeypatch, capsys
):
    """The cluster case runs the real command as its own process; the others in-process."""
    out = tmp_path / "bars"
    args = ("--engine", "dask", *cluster, "--data-dir", bucket_url, "--out-dir", str(out), *window)
    proc = _aggregate(s3_env, *args) if cluster else _in_process(monkeypatch, capsys, s3_env, *args)
    assert proc.returncode == 0, proc.stderr
    assert s3_env["AWS_SECRET_ACCESS_KEY"] not in proc.stdout + proc.stderr
    interval = window[1] if window[:1] == ("--interval",) else "1h"
    start = window[1] if window[:1] == ("--start",) else None
    end = window[3] if window[:1] == ("--start",) else None
    expected = aggregate_store(local_store, interval, start, end)
    written = Store(out).read("liquidation_bars")
    written = written.sort_values(["ts", "exchange", "symbol"], ignore_index=True)
    expected = expected.sort_values(["ts", "exchange", "symbol"], ignore_index=True)
    pd.testing.assert_frame_equal(written[expected.columns], expected, check_dtype=False)
    assert f"{len(expected):,} bars ({interval})" in proc.stdout
    assert ("LocalCluster of 2 workers" in proc.stdout) == bool(cluster)
    okx = written[(written.exchange == "okx") & (written.symbol == BTC)].set_index("ts")
    if interval == "1h" and start is None:
        first = okx.loc[pd.Timestamp("2025-01-01 00:00", tz="UTC")]
        assert (first.long_usd, first.long_count, first.short_usd) == (170.0, 2, 7.0)
        bybit = written[written.exchange == "bybit"]
        assert pd.Timestamp("2025-01-01 04:00", tz="UTC") not in set(bybit.ts)  # the gap


def test_the_duckdb_engine_refuses_a_url_with_one_line(
    s3_env, bucket_url, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "bars"
    run = _in_process(monkeypatch, capsys, s3_env, "--data-dir", bucket_url, "--out-dir", str(out))
    line = _one_line_error(run)
    assert "--engine dask" in line
    assert not out.exists()


def test_a_url_store_without_out_dir_is_refused(s3_env, bucket_url, monkeypatch, capsys):
    run = _in_process(monkeypatch, capsys, s3_env, "--engine", "dask", "--data-dir", bucket_url)
    line = _one_line_error(run)
    assert "--out-dir" in line


def test_a_missing_bucket_is_one_line_and_the_output_store_untouched(
    s3_env, tmp_path, monkeypatch, capsys
):
    out = Store(tmp_path / "bars")
    out.write("liquidations", liquidation_rows(WRITES[0]))
    before = sorted(p.relative_to(out.root) for p in out.root.rglob("*"))
    run = _in_process(monkeypatch, capsys, s3_env, "--engine", "dask", "--data-dir",
                      "s3://no-such-bucket/store", "--out-dir", str(out.root))  # fmt: skip
    line = _one_line_error(run)
    assert "no-such-bucket" in line
    assert sorted(p.relative_to(out.root) for p in out.root.rglob("*")) == before


# The credential cases run as their own process: in this one, fsspec's cache of filesystem
# instances would hand back the s3fs already signed in by an earlier test.
def test_missing_credentials_are_one_line(s3_env, bucket_url, tmp_path):
    env = {**s3_env, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "AWS_CONFIG_FILE": str(tmp_path / "none")}  # fmt: skip
    proc = _aggregate(env, "--engine", "dask", "--data-dir", bucket_url,
                      "--out-dir", str(tmp_path / "bars"))  # fmt: skip
    line = _one_line_error(proc, s3_env["AWS_SECRET_ACCESS_KEY"])
    assert bucket_url in line
    assert not (tmp_path / "bars").exists()


def test_a_wrong_secret_is_one_line_never_printed_and_the_output_store_untouched(
    s3_env, bucket_url, tmp_path
):
    out = Store(tmp_path / "bars")
    out.write("liquidations", liquidation_rows(WRITES[0]))
    before = {p: p.read_bytes() for p in out.root.rglob("*") if p.is_file()}
    env = {**s3_env, "AWS_SECRET_ACCESS_KEY": WRONG_SECRET}
    proc = _aggregate(env, "--engine", "dask", "--data-dir", bucket_url,
                      "--out-dir", str(out.root))  # fmt: skip
    line = _one_line_error(proc, WRONG_SECRET, s3_env["AWS_SECRET_ACCESS_KEY"])
    assert bucket_url in line
    assert {p: p.read_bytes() for p in out.root.rglob("*") if p.is_file()} == before


def test_an_unreachable_scheduler_is_one_line(local_store, tmp_path, monkeypatch, capsys):
    run = _in_process(monkeypatch, capsys, {}, "--engine", "dask", "--scheduler",
                      "tcp://127.0.0.1:9", "--data-dir", str(local_store.root),
                      "--out-dir", str(tmp_path / "bars"))  # fmt: skip
    line = _one_line_error(run)
    assert "tcp://127.0.0.1:9" in line or "connect" in line.lower()


def test_the_default_engine_writes_the_duckdb_bars_into_the_local_store(
    tmp_path, monkeypatch, capsys
):
    data = Store(tmp_path / "store", auto_compact=False)
    for rows in WRITES:
        data.write("liquidations", liquidation_rows(rows))
    run = _in_process(monkeypatch, capsys, {}, "--interval", "4h", "--data-dir", str(data.root))
    assert run.returncode == 0, run.stderr
    written = data.read("liquidation_bars").sort_values(["ts", "exchange", "symbol"])
    expected = aggregate_store(data, "4h").sort_values(["ts", "exchange", "symbol"])
    pd.testing.assert_frame_equal(
        written[expected.columns].reset_index(drop=True),
        expected.reset_index(drop=True),
        check_dtype=False,
    )
    assert "by duckdb" in run.stdout and f"{len(expected):,} bars (4h)" in run.stdout
