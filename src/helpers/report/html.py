"""Executed notebook -> one self-contained HTML page (figures as data URIs, no external assets)."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from traitlets.config import Config

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE_NAME = "liqnb"
REMOVE_CELL_TAGS = ("remove-cell", "remove_cell")
REMOVE_INPUT_TAGS = ("remove-input", "remove_input", "hide-input")
REMOVE_OUTPUT_TAGS = ("remove-output", "remove_output")

_EXTERNAL_ASSET = re.compile(
    r"""<(?:script|link|img|iframe|source|video|audio|embed|object)\b[^>]*?"""
    r"""\b(?:src|href|data)\s*=\s*["']?(?:https?:)?//[^"'\s>]*""",
    re.IGNORECASE,
)
_EXTERNAL_CSS = re.compile(r"""(?:@import\s+|url\(\s*)["']?(?:https?:)?//""", re.IGNORECASE)


@functools.cache
def exporter(show_code: bool) -> HTMLExporter:
    """An HTML exporter on the project template; code and prompts hidden unless ``show_code``.

    Cells tagged ``remove-cell`` disappear, ``remove-input``/``hide-input`` lose their code and
    ``remove-output`` their outputs, whatever ``show_code`` says. One exporter per process
    and ``show_code``: it compiles the templates once and serves every page after (as
    ``jupyter nbconvert`` does for many notebooks), where a new one compiled them again.
    """
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_CELL_TAGS)
    c.TagRemovePreprocessor.remove_input_tags = set(REMOVE_INPUT_TAGS)
    c.TagRemovePreprocessor.remove_all_outputs_tags = set(REMOVE_OUTPUT_TAGS)
    return HTMLExporter(
        config=c,
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        template_name=TEMPLATE_NAME,
        embed_images=True,
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=not show_code,
    )


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The text of the first Markdown heading, else ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.lstrip().startswith("#"):
                title = line.strip().lstrip("#").strip()
                if title:
                    return title
    return fallback


def render_html(
    nb: nbformat.NotebookNode, *, show_code: bool, page: dict[str, Any], source_dir: Path
) -> str:
    """The page for executed notebook ``nb``.

    ``page`` fills the template's header and footer (keys ``simulated``, ``report_date``,
    ``window``, ``venues``, ``symbols``, ``interval``, ``parameters``, ``index_href``,
    ``notebook``, and ``failed_sources`` / ``failed_details``: the names and status lines of
    the sources that failed, shown as an INCOMPLETE DATA banner when not empty);
    ``source_dir`` is where Markdown image paths are resolved for embedding.
    """
    nb = nbformat.from_dict(nb)
    nb.metadata["title"] = page.get("title") or notebook_title(nb, page.get("notebook", ""))
    resources = {
        "metadata": {"name": page.get("notebook", "notebook"), "path": str(source_dir)},
        "liqnb": page,
    }
    body, _ = exporter(show_code).from_notebook_node(nb, resources=resources)
    return body


def external_references(page: str) -> list[str]:
    """Asset references in ``page`` that would be fetched from the network (should be none)."""
    return _EXTERNAL_ASSET.findall(page) + _EXTERNAL_CSS.findall(page)
