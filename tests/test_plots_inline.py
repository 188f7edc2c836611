"""How a notebook shows a figure (helpers.plots.inline): a 2x PNG with 1x size metadata,
a palette PNG only when nothing is see-through, and alt text read from the drawn marks."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from PIL import Image

from helpers.plots import annotate, inline
from helpers.timegrid import Window


def _window() -> Window:
    return Window(pd.Timestamp("2025-11-10", tz="UTC"), pd.Timestamp("2025-11-11", tz="UTC"))


def _figure(transparent: bool = False):
    fig, ax = plt.subplots(figsize=(4, 2), dpi=100)
    times = pd.date_range("2025-11-10", periods=24, freq="h")
    ax.bar(times, range(24), width=0.03, color="#d62728")
    fig.suptitle("Long vs short liquidations per 1h bar\n2025-11-10 00:00 to 2025-11-11 00:00 UTC")
    if transparent:
        fig.patch.set_alpha(0.0)
    return fig


def _png(fig) -> tuple[Image.Image, dict]:
    out = inline.retina_png(fig)
    assert out is not None
    data, metadata = out
    return Image.open(io.BytesIO(base64.b64decode(data))), metadata


def _twice(size: tuple[int, int], metadata: dict) -> bool:
    """Pixels = 2 x the displayed CSS pixels (an odd pixel count shows half a pixel less)."""
    return all(
        n - 2 * metadata[k] in (0, 1) for n, k in zip(size, ("width", "height"), strict=True)
    )


def test_the_png_has_twice_the_pixels_of_its_displayed_size():
    fig = _figure()
    image, metadata = _png(fig)
    assert _twice(image.size, metadata)
    # about the 1x size of the figure (4 x 2 inches at 100 dpi, trimmed to its content)
    assert 300 <= metadata["width"] <= 420 and 150 <= metadata["height"] <= 240
    assert image.mode == "P"  # a palette PNG: opaque charts are stored light
    plt.close(fig)


def test_a_see_through_figure_keeps_its_alpha():
    fig = _figure(transparent=True)
    image, metadata = _png(fig)
    assert image.mode == "RGBA" and image.getchannel("A").getextrema()[0] < 255
    assert _twice(image.size, metadata)
    plt.close(fig)


def test_alt_text_names_the_title_and_the_worst_bar_only_when_it_is_drawn():
    fig = _figure()
    _, metadata = _png(fig)
    assert metadata["alt"] == "Long vs short liquidations per 1h bar"
    ts = pd.Timestamp("2025-11-10 14:00", tz="UTC")
    annotate.mark_worst_bar(fig.axes[0], ts, 23.0e6, 0.0, _window())
    _, metadata = _png(fig)
    label = annotate.worst_label(ts, 23.0e6, 0.0, "1h")
    assert label.startswith("worst hour 2025-11-10 14:00 UTC: longs ")
    assert metadata["alt"] == f"Long vs short liquidations per 1h bar; {label}"
    plt.close(fig)


def test_an_empty_figure_shows_nothing():
    fig = plt.figure()
    assert inline.retina_png(fig) is None
    assert inline.figure_alt(fig) == "figure"
    plt.close(fig)


@pytest.mark.parametrize("title", ["$x$ <img src=x>", ""])
def test_alt_text_is_the_text_as_drawn(title):
    fig, ax = plt.subplots()
    ax.set_title(title)
    assert inline.figure_alt(fig) == (title or "figure")
    plt.close(fig)


def test_a_see_through_figure_is_stored_as_matplotlib_compresses_it():
    from IPython.core.pylabtools import print_figure

    fig = _figure(transparent=True)
    out = inline.retina_png(fig)
    assert out is not None
    stored = base64.b64decode(out[0])
    raw = print_figure(fig, fmt="retina", base64=False, pil_kwargs=inline.RAW_PNG)
    assert stored == print_figure(fig, fmt="retina", base64=False, **inline.PRINT_KWARGS)
    assert len(stored) < len(raw)  # not the uncompressed PNG the palette step reads
    plt.close(fig)
