"""Rendering fixture notebooks end to end: pages, summary, index, failures, a real browser."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from helpers.present import MIME_KEYFIGURES, format_value
from helpers.report.html import external_references

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks"
DATE = "2025-11-16"  # window 2025-11-10 .. 2025-11-17: its last instant falls on the 16th

pytestmark = pytest.mark.slow


def report_main(argv: list[str]) -> int:
    """``python -m helpers report ARGV`` in process."""
    from helpers import cli

    return cli.main(["report", *argv])


def argv_for(notebooks: Path, out: Path, data: Path, *extra: str) -> list[str]:
    return [
        "--notebooks",
        str(notebooks),
        "--out",
        str(out),
        "--data-dir",
        str(data),
        "--jobs",
        "2",
        "-p",
        "start=2025-11-10T00:00:00+00:00",
        "-p",
        "end=2025-11-17T00:00:00+00:00",
        *extra,
    ]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """The two fixture notebooks rendered once, in parallel, with two overrides."""
    base = tmp_path_factory.mktemp("render")
    data, out, meeting = base / "data", base / "reports", base / "meeting"
    data.mkdir()
    meeting.mkdir()
    overrides = ("-p", "spike_k=7", "-p", f"rendezvous={meeting}")
    rc = report_main(argv_for(FIXTURES, out, data, *overrides))
    assert rc == 0
    return {"out": out, "data": data, "day": out / DATE}


def summary_of(day: Path) -> dict:
    return json.loads((day / "summary.json").read_text())


def displayed_rows(page: str) -> dict[str, str]:
    """Figure name -> the value text shown in the key-figures table of an HTML page."""
    rows = re.findall(
        r'<tr data-figure="([^"]+)">.*?<td class="liqnb-value"[^>]*>([^<]*)</td>', page, re.S
    )
    return dict(rows)


def test_render_writes_notebooks_pages_summary_and_index(rendered):
    day = rendered["day"]
    names = sorted(p.name for p in day.iterdir())
    assert names == [
        "01_figures.html",
        "01_figures.ipynb",
        "02_window.html",
        "02_window.ipynb",
        "summary.json",
    ]
    index = (rendered["out"] / "index.html").read_text()
    assert f'href="{DATE}/01_figures.html"' in index
    assert f'href="{DATE}/02_window.html"' in index
    assert "SIMULATED DATA" in index
    leftovers = [p.name for p in rendered["out"].iterdir() if p.name.startswith(".staging")]
    assert leftovers == []


def test_pages_have_no_external_references(rendered):
    for page_path in sorted(rendered["day"].glob("*.html")) + [rendered["out"] / "index.html"]:
        page = page_path.read_text()
        assert 'src="http' not in page and "src='http" not in page
        assert 'href="http' not in page
        assert not re.search(r"<link[^>]*http", page)
        assert "//cdn" not in page
        assert "<script src" not in page
        assert external_references(page) == []
    figures_page = (rendered["day"] / "01_figures.html").read_text()
    assert figures_page.count('src="data:image/png;base64,') == 1


def test_code_is_hidden_by_default(rendered):
    executed = (rendered["day"] / "01_figures.ipynb").read_text()
    assert "MARKER_CODE_LINE" in executed
    page = (rendered["day"] / "01_figures.html").read_text()
    assert "MARKER_CODE_LINE" not in page
    assert "jp-CodeMirrorEditor" not in page.split("<body", 1)[1]


def test_simulated_strip_is_the_first_thing_on_every_page(rendered):
    for page_path in rendered["day"].glob("*.html"):
        body = page_path.read_text().split("<main>", 1)[1].lstrip()
        assert body.startswith('<div class="liqnb-strip liqnb-simulated"'), page_path.name
        assert "SIMULATED DATA" in body[:200]
    assert summary_of(rendered["day"])["simulated"] is True


def test_summary_holds_what_the_notebooks_displayed(rendered):
    day = rendered["day"]
    summary = summary_of(day)
    assert summary["report_date"] == DATE
    assert summary["window"] == {
        "start": "2025-11-10T00:00:00+00:00",
        "end": "2025-11-17T00:00:00+00:00",
        "exchanges": None,
        "symbols": None,
        "interval": "1h",
    }
    for stem, entry in summary["notebooks"].items():
        nb = nbformat.read(day / f"{stem}.ipynb", as_version=4)
        attached = {
            f["name"]: f["value"]
            for cell in nb.cells
            for out in cell.get("outputs", [])
            if MIME_KEYFIGURES in out.get("data", {})
            for f in out["data"][MIME_KEYFIGURES]["figures"]
        }
        shown = displayed_rows((day / entry["html"]).read_text())
        assert set(attached) == set(entry["figures"]) == set(shown)
        for name, fig in entry["figures"].items():
            assert fig["value"] == attached[name]
            assert shown[name] == format_value(fig["value"], fig["unit"])

    first = summary["notebooks"]["01_figures"]["figures"]
    assert first["worst_hour_long_usd"]["value"] == 231.4e6  # max(120e6, 231.4e6, 80e6)
    assert first["worst_hour_long_usd"]["kind"] == "realised"
    assert first["worst_hour_ratio"]["value"] == pytest.approx(231.4e6 / 4.2e6)  # 55.095...
    assert first["spike_k"]["value"] == 7  # the -p override reached the notebook
    second = summary["notebooks"]["02_window"]["figures"]
    assert second["window_hours"]["value"] == 7 * 24  # the report window, not its own 24 h
    assert second["saw_spike_k"]["value"] == 0  # only declared parameters are injected


def test_missing_value_is_shown_as_missing(rendered):
    fig = summary_of(rendered["day"])["notebooks"]["01_figures"]["figures"]["exposed_long_usd"]
    assert fig["value"] is None and fig["kind"] == "estimated"
    shown = displayed_rows((rendered["day"] / "01_figures.html").read_text())
    assert shown["exposed_long_usd"] == "missing"


def test_notebooks_ran_in_parallel(rendered):
    notebooks = summary_of(rendered["day"])["notebooks"]
    # each notebook checks in at a shared folder, then waits up to 30 s for the other one:
    # run one after the other, the first would give up and report 0
    assert notebooks["01_figures"]["figures"]["met_partner"]["value"] == 1
    assert notebooks["02_window"]["figures"]["met_partner"]["value"] == 1


def test_show_code_keeps_the_code_and_success_clears_failed_copies(tmp_path):
    only = tmp_path / "nbs"
    only.mkdir()
    shutil.copy(FIXTURES / "02_window.ipynb", only)
    data = tmp_path / "data"
    data.mkdir()
    stale = tmp_path / "out" / ".failed" / DATE / "02_window.ipynb"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    rc = report_main(argv_for(only, tmp_path / "out", data, "--show-code"))
    assert rc == 0
    assert not stale.parent.exists()  # a successful run clears that date's failed copies
    page = (tmp_path / "out" / DATE / "02_window.html").read_text()
    assert "hours = (pd.Timestamp(end)" in re.sub(r"<[^>]+>", "", page).replace("&amp;", "&")
    assert "jp-CodeMirrorEditor" in page.split("<body", 1)[1]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.relative_to(folder).parts[0].startswith(".")
    }


def test_failing_notebook_leaves_previous_report_untouched(rendered, tmp_path, capsys):
    out = tmp_path / "reports"
    shutil.copytree(rendered["out"], out)
    before = snapshot(out)
    assert f"{DATE}/summary.json" in before and "index.html" in before
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    shutil.copy(FIXTURES / "02_window.ipynb", nbs)
    shutil.copy(FIXTURES / "failing" / "03_raises.ipynb", nbs)

    rc = report_main(argv_for(nbs, out, rendered["data"]))

    assert rc != 0
    errors = [line for line in capsys.readouterr().err.splitlines() if "03_raises" in line]
    assert len(errors) >= 1
    assert "notebook 03_raises.ipynb failed: cell" in errors[0]
    assert "ValueError: fixture failure: boom" in errors[0]
    assert snapshot(out) == before
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".staging")) == []
    assert (out / ".failed" / DATE / "03_raises.ipynb").is_file()


def test_page_in_a_real_browser(rendered, offline_page):
    page = offline_page.page
    page_path = rendered["day"] / "01_figures.html"
    page.goto(page_path.as_uri(), wait_until="load")
    strip = page.locator(".liqnb-strip")
    assert strip.is_visible()
    assert "SIMULATED DATA" in strip.inner_text()
    assert strip.bounding_box()["y"] < 50
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert widths and all(w > 0 for w in widths)
    assert page.locator("td.liqnb-value", has_text="missing").is_visible()
    assert offline_page.blocked == []


def test_a_kernel_logs_no_start_up_warnings_and_cell_warnings_stay_in_the_notebook(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from helpers.report.execute import NotebookJob, execute

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("import warnings\nwarnings.warn('cell warning')"))
    source = tmp_path / "n.ipynb"
    nbformat.write(nb, source)
    (tmp_path / "staging").mkdir()
    execute(NotebookJob(source, tmp_path / "staging", {}, "liqnb"))
    executed = nbformat.read(tmp_path / "staging" / "n.ipynb", as_version=4)
    assert "cell warning" in json.dumps(executed.cells[-1].outputs)
    assert "IPKernelApp" not in capfd.readouterr().err
