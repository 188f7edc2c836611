"""The text a reader sees on a rendered report page: every text node outside ``<style>``,
``<script>`` and ``<head>``, without tags or attributes (ids in ``data-*`` attributes and
CSS are not on the page for a reader)."""

from __future__ import annotations

from html.parser import HTMLParser

_HIDDEN = {"style", "script", "head", "title"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(page: str) -> str:
    """The page's visible text, one text node per line."""
    parser = _Text()
    parser.feed(page)
    return "\n".join(parser.parts)


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict[str, list[str]]] = []
        self.cell: str | None = None
        self.kind = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append({"th": [], "td": []})
        elif tag in ("th", "td") and self.tables:
            self.cell, self.kind = "", tag

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self.cell is not None:
            self.tables[-1][self.kind].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell += data


def table_cells(page: str) -> list[dict[str, list[str]]]:
    """Every table of ``page``, in order: ``{"th": [header texts], "td": [cell texts]}``."""
    parser = _Cells()
    parser.feed(page)
    return parser.tables
