"""How a notebook shows a :class:`~matplotlib.figure.Figure`: a pixel-doubled PNG drawn at
its 1x size, with alt text saying what the figure shows.

Figures are saved at twice ``figure.dpi`` (IPython's ``retina`` format,
:func:`IPython.core.pylabtools.print_figure`) and their output metadata gives the 1x
``width`` and ``height`` in CSS pixels, so on a high-DPI screen (device pixel ratio 2) every
device pixel has its own image pixel and the figure takes the same room on the page as before.
The PNG is stored with a 256-colour palette (:func:`light_png`) so pages do not get heavier.

The ``alt`` metadata (shown by the report template as the image's ``alt`` attribute, so a
screen reader or a text search finds it) is the figure's title line and the labels of the
marks it carries: :data:`ALT_GIDS`, such as the worst bar's label
(:func:`helpers.plots.annotate.mark_worst_bar`). It is read from the drawn artists, so a mark
that is not drawn is not named.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from matplotlib.figure import Figure
from matplotlib.text import Text

ALT_GIDS = ("worst_bar_label",)
"""Artists whose text the alt text repeats, in this order."""

PALETTE_COLOURS = 256
"""Colours of the indexed PNG a figure is shown as (:func:`light_png`)."""

PRINT_KWARGS: dict[str, Any] = {"bbox_inches": "tight"}
"""As matplotlib_inline's ``InlineBackend.print_figure_kwargs`` default."""

RAW_PNG: dict[str, Any] = {"compress_level": 0}
"""How the full-colour PNG :func:`light_png` reads back is written: not compressed (it is
decoded at once and never stored; compressing it cost more than drawing some figures)."""


def figure_alt(fig: Figure) -> str:
    """``<first title line>; <worst bar label>``: the figure's suptitle (first line, the
    window line left out) or, without one, its first axes title, then the text of every
    artist whose ``gid`` is in :data:`ALT_GIDS`; "figure" when there is none of these."""
    parts: list[str] = []
    title = fig.get_suptitle() or next((ax.get_title() for ax in fig.axes if ax.get_title()), "")
    if title:
        parts.append(title.splitlines()[0].strip())
    for gid in ALT_GIDS:
        parts += [
            t.get_text()
            for t in fig.findobj(Text)
            if isinstance(t, Text) and t.get_gid() == gid and t.get_text()
        ]
    return "; ".join(parts) or "figure"


def light_png(png: bytes) -> tuple[bytes, tuple[int, int]]:
    """``png`` as an indexed PNG of at most :data:`PALETTE_COLOURS` colours (Pillow's fast
    octree, no dithering), and its pixel size; an image with any transparency is kept as
    it is.

    A chart holds few colours plus their anti-aliased edges, so the palette keeps it
    visually unchanged (on the demo report's heatmaps fewer than 0.02 % of pixels move by
    more than 16 of 255 in a channel, all on anti-aliased edges) at about 40 % of the
    bytes: a 2x figure weighs less than the 1x RGBA one did."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        size = image.size
        lowest_alpha = image.getchannel("A").getextrema()[0] if image.mode == "RGBA" else 255
        if lowest_alpha != 255:  # something is see-through: a palette would lose it
            return png, size
        indexed = image.convert("RGB").quantize(
            PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        out = io.BytesIO()
        indexed.save(out, format="PNG")
    return out.getvalue(), size


def retina_png(fig: Figure) -> tuple[str, dict[str, Any]] | None:
    """``(base64 PNG at 2 x figure.dpi, {"width", "height" (1x CSS pixels), "alt"})``,
    the PNG made light by :func:`light_png`; None for a figure without axes (nothing to
    show), as IPython's own figure formatters."""
    from IPython.core.pylabtools import print_figure

    png = print_figure(fig, fmt="retina", base64=False, pil_kwargs=RAW_PNG, **PRINT_KWARGS)
    if png is None:
        return None
    data, (width, height) = light_png(png)
    if data is png:  # kept as it is (see-through): stored, so written compressed after all
        data = print_figure(fig, fmt="retina", base64=False, **PRINT_KWARGS)
    metadata = {"width": width // 2, "height": height // 2, "alt": figure_alt(fig)}
    return base64.b64encode(data).decode("ascii"), metadata


def use_crisp_figures(shell: Any) -> None:
    """Show figures in ``shell`` (an IPython shell with the inline backend on) as
    :func:`retina_png`, and as nothing else (one image per figure keeps pages light)."""
    formatters = shell.display_formatter.formatters
    for formatter in formatters.values():
        formatter.pop(Figure, None)
    formatters["image/png"].for_type(Figure, retina_png)
