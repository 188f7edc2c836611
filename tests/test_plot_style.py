"""The project's figure theme (helpers.plots.style) is seaborn's whitegrid / notebook theme,
read from a style sheet so a notebook need not import seaborn (and scipy) to get it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl
from matplotlib.colors import to_rgba

from helpers.plots import style

LEFT_OUT = {"image.cmap"}
"""seaborn's "rocket" colormap exists only once seaborn is imported; figures name theirs."""


def _settings() -> dict[str, object]:
    got = {k: v for k, v in mpl.rcParams.items() if k not in LEFT_OUT}
    got["axes.prop_cycle"] = [to_rgba(c["color"]) for c in mpl.rcParams["axes.prop_cycle"]]
    return got


def test_the_style_sheet_sets_what_seaborns_theme_sets():
    import seaborn as sns

    with mpl.rc_context():
        mpl.rcParams.update({"axes.facecolor": "#123456", "font.size": 3.0, "xtick.top": True})
        # color_codes=False: not an rcParam, and it would recolour "b", "g", ... for the
        # rest of this test process
        sns.set_theme(style="whitegrid", context="notebook", color_codes=False)
        theirs = _settings()
    with mpl.rc_context():
        mpl.rcParams.update({"axes.facecolor": "#123456", "font.size": 3.0, "xtick.top": True})
        mpl.style.use(style.STYLE_SHEET)
        ours = _settings()
    assert ours == theirs
    assert ours["axes.facecolor"] == "white" and ours["font.size"] == 12.0


def test_apply_style_outside_a_notebook_sets_the_theme_and_the_project_defaults():
    with mpl.rc_context():
        style.apply_style()
        assert mpl.rcParams["axes.grid"] is True and mpl.rcParams["axes.edgecolor"] == ".8"
        assert mpl.rcParams["figure.figsize"] == [11.0, 4.5]
        assert mpl.rcParams["text.parse_math"] is False
