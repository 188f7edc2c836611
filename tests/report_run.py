"""The real ``report`` command on the demo params, as the report tests run it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render_article_report(
    data: Path | str, out: Path | str, *overrides: str, notebooks: Path = ROOT / "notebooks"
) -> int:
    """``python -m helpers report`` with the article params on ``data`` into ``out``, each
    ``override`` a ``-p name=value``, rendering the notebooks of ``notebooks``; the exit code."""
    from helpers.cli import main

    argv = ["report", "--params", str(ROOT / "params" / "article.yaml"), "--data-dir", str(data),
            "--out", str(out), "--notebooks", str(notebooks)]  # fmt: skip
    for o in overrides:
        argv += ["-p", o]
    return main(argv)
