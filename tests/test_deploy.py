"""The deployment files say what docs/scheduling.md promises: the collector restarts on failure
and is stopped with SIGTERM (which flushes, see test_live.py), the report service pulls before
rendering and fails visibly, keys come from an environment file or repository secrets only,
and the Pages workflow publishes only a successful run."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
WORKFLOW = ROOT / ".github" / "workflows" / "daily-report.yml"
CHECKOUT = "/srv/liquidation-notebooks"
ENV_FILE = "/etc/liqnb/liqnb.env"
UNITS = ("liqnb-collector.service", "liqnb-report.service", "liqnb-report.timer")
KEYS = ("COINALYZE_API_KEY", "COINGECKO_API_KEY", "TARDIS_API_KEY")

Unit = dict[str, dict[str, list[str]]]


def parse_unit(path: Path) -> Unit:
    """``[Section] Key=value`` lines; a key given twice keeps both values, in order."""
    unit: Unit = defaultdict(lambda: defaultdict(list))
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        assert sep and section, f"{path.name}: not a unit line: {raw!r}"
        unit[section][key.strip()].append(value.strip())
    return unit


def one(unit: Unit, section: str, key: str) -> str:
    values = unit[section][key]
    assert len(values) == 1, f"[{section}] {key}: {values}"
    return values[0]


def seconds(span: str) -> float:
    """A systemd time span such as ``90s``, ``30min`` or ``1h`` in seconds."""
    units = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+)\s*([a-z]*)", span):
        total += int(number) * units[unit or "s"]
    return total


def test_the_collector_restarts_on_failure_and_stops_with_sigterm():
    unit = parse_unit(DEPLOY / "liqnb-collector.service")
    service = unit["Service"]
    assert one(unit, "Service", "Type") == "simple"
    assert one(unit, "Service", "ExecStart") == (
        f"{CHECKOUT}/.venv/bin/python -m helpers collect --data-dir data/raw"
    )
    assert one(unit, "Service", "WorkingDirectory") == CHECKOUT
    assert one(unit, "Service", "Restart") == "on-failure"
    assert seconds(one(unit, "Service", "RestartSec")) >= 5
    # a collector that keeps failing is given up on, so `systemctl --failed` shows it
    assert seconds(one(unit, "Unit", "StartLimitIntervalSec")) > 0
    assert int(one(unit, "Unit", "StartLimitBurst")) >= 1
    # SIGTERM is what flushes the buffer and closes the open gaps; give the flush time
    assert one(unit, "Service", "KillSignal") == "SIGTERM"
    assert seconds(one(unit, "Service", "TimeoutStopSec")) >= 30
    assert "KillMode" not in service or service["KillMode"] != ["process"]
    assert one(unit, "Service", "StandardOutput") == "journal"
    assert one(unit, "Service", "EnvironmentFile").lstrip("-") == ENV_FILE
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


def test_the_report_service_pulls_then_renders_and_fails_visibly():
    unit = parse_unit(DEPLOY / "liqnb-report.service")
    assert one(unit, "Service", "Type") == "oneshot"
    command = one(unit, "Service", "ExecStart").split()
    # the venv's python, not make: systemd then records the report's own exit status (3 = no
    # data), where make would turn every failure into its own status 2
    assert command[:4] == [f"{CHECKOUT}/.venv/bin/python", "-m", "helpers", "report"]
    assert command[command.index("--params") + 1] == "params/daily.yaml"
    assert command[command.index("-p") + 1] == "fetch=true"
    # exit 1, 2 and 3 all leave the unit failed: nothing declares them success
    assert "SuccessExitStatus" not in unit["Service"]
    # required, so a missing key file fails the run instead of silently skipping Coinalyze
    assert one(unit, "Service", "EnvironmentFile") == ENV_FILE
    assert "liqnb-collector.service" in one(unit, "Unit", "After").split()
    daily = yaml.safe_load((ROOT / "params" / "daily.yaml").read_text())
    assert (daily["start"], daily["end"]) == ("yesterday", "today")


def test_the_timer_runs_daily_in_utc_and_catches_up():
    unit = parse_unit(DEPLOY / "liqnb-report.timer")
    assert one(unit, "Timer", "OnCalendar") == "*-*-* 00:30:00 UTC"
    assert one(unit, "Timer", "Persistent") == "true"
    assert one(unit, "Timer", "Unit") == "liqnb-report.service"
    assert one(unit, "Install", "WantedBy") == "timers.target"


@pytest.mark.parametrize("name", [*UNITS, "crontab"])
def test_no_key_is_written_in_a_deploy_file(name):
    text = (DEPLOY / name).read_text()
    for key in KEYS:
        assert not re.search(rf"{key}\s*=\s*[\"']?[A-Za-z0-9_-]{{6,}}", text), name
    if name != "crontab":
        for value in parse_unit(DEPLOY / name)["Service"].get("Environment", []):
            assert not re.search(r"KEY|SECRET|TOKEN|PASSWORD", value, re.I), value


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    """The units as systemd reads them (paths moved into tmp_path, where they exist)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    checkout = tmp_path / "checkout"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "python").symlink_to(sys.executable)
    env_file = tmp_path / "liqnb.env"
    env_file.write_text("")
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        text = text.replace(CHECKOUT, str(checkout)).replace(ENV_FILE, str(env_file))
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / n) for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # unknown keys and bad values are warnings with exit 0: none is allowed either
    assert [x for x in result.stderr.splitlines() if str(tmp_path) in x] == [], result.stderr


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def render_steps() -> list[dict]:
    return workflow()["jobs"]["render"]["steps"]


def step(name: str) -> dict:
    matches = [s for s in render_steps() if s.get("name") == name]
    assert len(matches) == 1, name
    return matches[0]


def test_the_workflow_renders_yesterday_with_the_keys_from_secrets():
    triggers = workflow()[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"] == [{"cron": "30 0 * * *"}]
    render = step("Render the report")
    env = render["env"]
    assert env["COINALYZE_API_KEY"] == "${{ secrets.COINALYZE_API_KEY }}"
    assert env["COINGECKO_API_KEY"] == "${{ secrets.COINGECKO_API_KEY }}"
    assert "params/daily.yaml" in env["PARAMS"]
    assert "-p fetch=true" in render["run"] and "helpers report" in render["run"]
    for s in render_steps():
        for value in (s.get("env") or {}).values():
            assert "secrets." in value or "KEY" not in str(value)


def test_the_workflow_publishes_only_a_successful_run():
    steps = render_steps()
    names = [s.get("name") or s.get("uses") for s in steps]
    rendering = names.index("Render the report")
    upload = names.index("Upload reports/ as the site")
    assert rendering < upload
    for s in steps[rendering:]:
        assert not s.get("continue-on-error"), s
        if s.get("if"):  # only the cache of earlier reports is kept after a failure
            assert s["name"] == "Keep reports for the next run", s
    assert "continue-on-error" not in step("Render the report")
    deploy = workflow()["jobs"]["deploy"]
    assert deploy["needs"] == "render" and "if" not in deploy


def test_docs_describe_every_deploy_file():
    doc = (ROOT / "docs" / "scheduling.md").read_text()
    for name in [*UNITS, "crontab"]:
        assert f"deploy/{name}" in doc, name
    assert "daily-report.yml" in doc
