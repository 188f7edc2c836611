"""helpers.present: banners, key-figure tables (missing stays missing) and their JSON payload."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from helpers.present import (
    MIME_KEYFIGURES,
    MIME_SOURCES,
    KeyFigure,
    bullets,
    caption,
    data_banner,
    format_value,
    key_figures,
    plain_value,
)


@pytest.fixture(scope="module", autouse=True)
def shell() -> Iterator[InteractiveShell]:
    """A plain IPython shell for this module's display calls, cleared afterwards: left in
    place, ``get_ipython()`` in a later test of the same worker finds it and code that
    checks for a notebook (``apply_style``'s inline switch) takes it for a kernel."""
    yield InteractiveShell.instance()
    InteractiveShell.clear_instance()


def shown(fn, *args):
    """The display bundles ``fn(*args)`` published, as dicts of MIME type -> data."""
    with capture_output() as cap:
        fn(*args)
    return [o.data for o in cap.outputs]


def test_plain_value_keeps_numbers_and_turns_every_missing_kind_into_none():
    assert plain_value(np.int64(3)) == 3 and isinstance(plain_value(np.int64(3)), int)
    assert plain_value(np.float64(2.5)) == 2.5
    assert plain_value(True) == 1
    assert plain_value("binanceusdm") == "binanceusdm"
    for missing in (None, float("nan"), np.nan, pd.NA, pd.NaT):
        assert plain_value(missing) is None
    assert plain_value(pd.Timestamp("2025-11-12 14:00", tz="UTC")) == "2025-11-12T14:00:00+00:00"
    with pytest.raises(TypeError):
        plain_value([1, 2])


def test_format_value_by_unit():
    assert format_value(231.4e6, "USD") == "$231.4M"  # 231.4e6 / 1e6 = 231.4
    assert format_value(1.7e12, "USD") == "$1.70T"  # three significant figures at least
    assert format_value(None, "USD") == "missing"
    assert format_value(12.345, "%") == "12.3%"
    assert format_value(0.9312, "fraction") == "93.1%"  # 0.9312 x 100
    assert format_value(1234, "count") == "1,234"
    assert format_value(231.4e6 / 4.2e6, "ratio") == "55.1"  # 55.095... to 3 significant digits
    assert format_value(3.0, "h") == "3 h"
    assert format_value(float("inf"), "ratio") == "infinite"
    assert format_value("okx", "text") == "okx"


def test_key_figure_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        KeyFigure("x", 1.0, "USD", "X", "measured")  # type: ignore[arg-type]


def test_key_figures_shows_table_and_attaches_same_values():
    figures = [
        KeyFigure("long_usd", 231.4e6, "USD", "Long USD in the worst hour", "realised"),
        KeyFigure("exposed_usd", float("nan"), "USD", "Long USD exposed below S", "estimated"),
        KeyFigure("ratio_empty_short", float("inf"), "ratio", "Long/short", "realised"),
    ]
    [bundle] = shown(key_figures, "01_x", figures)
    payload = bundle[MIME_KEYFIGURES]
    assert payload["notebook"] == "01_x"
    values = {f["name"]: f["value"] for f in payload["figures"]}
    assert values == {"long_usd": 231.4e6, "exposed_usd": None, "ratio_empty_short": "inf"}
    json.dumps(payload, allow_nan=False)
    page = bundle["text/html"]
    assert "$231.4M" in page
    row = page.split('data-figure="exposed_usd"')[1].split("</tr>")[0]
    assert "missing" in row and "$0" not in row
    assert "estimated" in row
    assert "Long USD exposed below S: missing (estimated)" in bundle["text/plain"]


def test_key_figures_rejects_repeated_names():
    f = KeyFigure("a", 1, "count", "A", "info")
    with pytest.raises(ValueError, match="repeated"):
        key_figures("nb", [f, f])


def test_data_banner_says_simulated_for_demo_and_lists_real_sources():
    [demo] = shown(data_banner, ["demo", "demo", "okx"])
    assert "SIMULATED DATA" in demo["text/html"]
    assert "not market data" in demo["text/html"]
    assert demo[MIME_SOURCES] == {"sources": ["demo", "okx"], "simulated": True}
    [real] = shown(data_banner, ["okx", "bybit"])
    assert "SIMULATED" not in real["text/html"]
    assert "Data sources: bybit, okx" in real["text/html"]
    assert real[MIME_SOURCES]["simulated"] is False
    [nothing] = shown(data_banner, [])
    assert "NO DATA" in nothing["text/html"]


def test_caption_is_escaped_text():
    [bundle] = shown(caption, "Longs <b>$230M</b> & shorts $5M")
    assert "Longs &lt;b&gt;$230M&lt;/b&gt; &amp; shorts $5M" in bundle["text/html"]
    assert 'class="liqnb-caption"' in bundle["text/html"]


def test_bullets_are_escaped_text():
    [bundle] = shown(bullets, ["<script>alert(1)</script> carried the most longs", "a & b"])
    assert bundle["text/html"] == (
        '<ul class="liqnb-bullets"><li>&lt;script&gt;alert(1)&lt;/script&gt; carried the most '
        "longs</li><li>a &amp; b</li></ul>"
    )
    assert bundle["text/plain"] == "- <script>alert(1)</script> carried the most longs\n- a & b"
