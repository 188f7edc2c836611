"""Every page of the demo report as a reader on a high-DPI screen sees it: a real headless
Chromium, offline, 1400 CSS pixels wide at device pixel ratio 2 (issue 10, "Done when").

The rule for tables ("no table wider than its box"): a table either fits the content box it
sits in (its width <= that box's ``clientWidth``), or the nearest box around it that clips
sideways scrolls (``overflow-x`` ``auto`` or ``scroll``) and that box itself lies inside the
viewport, so every column can be reached by scrolling the table's own box. A box that clips
without scrolling (``hidden``, ``clip``) is a failure when the table is wider: its last
columns could not be reached. The page itself never scrolls sideways.

The pages are loaded once (one browser for the module, the session's rendered report); a
full-page screenshot of each is kept in ``$LIQNB_ARTIFACTS`` (default
``reports/test-artifacts/``, gitignored).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from browser import open_offline_page

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
WORST_HOUR_PAGES = ("00_summary", "01_liquidation_imbalance", "05_what_to_watch")
VIEWPORT = {"width": 1400, "height": 900}
RAW_FLOAT = re.compile(r"\d[eE][+-]?\d|\d\.\d{5,}")
"""Scientific notation (``5.18e+07``) or more than 4 decimals (``0.004087``)."""
pytestmark = pytest.mark.slow

MEASURE = """() => {
  const fits = (t) => {
    const width = t.getBoundingClientRect().width;
    let box = t.parentElement;
    while (box && box !== document.body) {
      const overflow = getComputedStyle(box).overflowX;
      if (overflow !== 'visible') {
        const r = box.getBoundingClientRect();
        const inside = r.left >= -0.5 && r.right <= window.innerWidth + 0.5;
        const scrolls = overflow === 'auto' || overflow === 'scroll';
        return {width, box: box.clientWidth, overflow, inside,
                ok: inside && (width <= box.clientWidth + 0.5 || scrolls)};
      }
      box = box.parentElement;
    }
    const parent = t.parentElement.clientWidth;
    return {width, box: parent, overflow: 'visible', inside: true, ok: width <= parent + 0.5};
  };
  const name = (t) => (t.caption ? t.caption.innerText : '') || t.className || t.id || 'table';
  return {
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
    tables: [...document.querySelectorAll('table')].map(t => ({name: name(t), ...fits(t)})),
    cells: [...document.querySelectorAll('td, th')].map(c => c.innerText.trim()),
    images: [...document.images].map(i => ({
      complete: i.complete, natural: i.naturalWidth, shown: i.clientWidth, alt: i.alt,
      svg: i.currentSrc.startsWith('data:image/svg+xml')})),
    inlineSvgs: document.querySelectorAll('.jp-OutputArea-output svg').length,
  };
}"""


def artifacts_dir() -> Path:
    """``$LIQNB_ARTIFACTS`` or ``reports/test-artifacts/`` of the checkout, created."""
    path = Path(os.environ.get("LIQNB_ARTIFACTS") or ROOT / "reports" / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def seen(article_report: Path) -> dict[str, dict[str, Any]]:
    """Each page's measurements in the browser (:data:`MEASURE`), its screenshot saved."""
    out: dict[str, dict[str, Any]] = {}
    shots = artifacts_dir()
    with open_offline_page(viewport=VIEWPORT, device_scale_factor=2) as offline:
        page = offline.page
        for name in PAGES:
            page.goto((article_report / f"{name}.html").as_uri(), wait_until="load")
            page.evaluate("() => Promise.all([...document.images].map(i => i.decode()))")
            out[name] = page.evaluate(MEASURE)
            out[name]["screenshot"] = shots / f"{name}.png"
            page.screenshot(path=out[name]["screenshot"], full_page=True)
        out["blocked"] = {"requests": list(offline.blocked)}
    return out


@pytest.mark.parametrize("name", PAGES)
def test_no_page_scrolls_sideways(seen, name):
    page = seen[name]
    assert page["innerWidth"] == VIEWPORT["width"]
    assert page["scrollWidth"] <= page["innerWidth"], name


@pytest.mark.parametrize("name", PAGES)
def test_no_table_is_wider_than_its_box(seen, name):
    tables = seen[name]["tables"]
    assert tables, f"{name} shows no table"
    wide = [t for t in tables if not t["ok"]]
    assert not wide, f"{name}: {wide[:3]}"


@pytest.mark.parametrize("name", PAGES)
def test_no_raw_float_in_any_table_cell(seen, name):
    raw = [c for c in seen[name]["cells"] if RAW_FLOAT.search(c)]
    assert not raw, f"{name}: {raw[:5]}"


@pytest.mark.parametrize("name", PAGES)
def test_every_figure_decodes_at_twice_its_displayed_width(seen, name):
    images = seen[name]["images"]
    assert images, f"{name} shows no figure"
    for img in images:
        assert img["complete"] and img["natural"] > 0, (name, img["alt"])
        assert img["shown"] > 0, (name, img["alt"])
        assert img["svg"] or img["natural"] >= 2 * img["shown"], (name, img)


@pytest.fixture(scope="module")
def worst_hour(article_market) -> tuple[str, float]:
    """The worst hour by long USD, from the raw simulated events: its ``YYYY-MM-DD HH:MM``
    (UTC) and its long US dollars."""
    ev = article_market.liquidations
    longs = ev[ev.side == "long"]
    hourly = longs.groupby(longs["ts"].dt.floor("h"))["notional_usd"].sum()
    return f"{hourly.idxmax():%Y-%m-%d %H:%M}", float(hourly.max())


LABEL = re.compile(
    r"worst hour (\d{4}-\d\d-\d\d \d\d:\d\d) UTC: longs \$([\d,]+(?:\.(\d+))?)([KMBT])"
)
SCALE = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


@pytest.mark.parametrize("name", WORST_HOUR_PAGES)
def test_the_worst_hour_is_annotated_on_a_figure(seen, worst_hour, name):
    """The figure's alt text repeats the worst-hour label drawn on it (helpers.plots.inline
    reads it from the drawn annotation), so a page whose chart loses the mark fails; the
    label names the hour and its longs as the raw events give them (to its printed digits)."""
    when, longs = worst_hour
    labels = [m for img in seen[name]["images"] for m in LABEL.finditer(img["alt"])]
    assert labels, f"{name}: no figure names its worst hour"
    for m in labels:
        assert m.group(1) == when, name
        unit = SCALE[m.group(4)]
        half_digit = 0.5 * unit * 10 ** -len(m.group(3) or "")
        assert abs(float(m.group(2).replace(",", "")) * unit - longs) <= half_digit, m.group(0)


def test_screenshots_are_kept_and_nothing_was_fetched(seen):
    assert seen["blocked"]["requests"] == []
    for name in PAGES:
        shot = seen[name]["screenshot"]
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", shot
