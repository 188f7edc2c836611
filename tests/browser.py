"""A real headless browser for the report tests: Debian's chromium driven by Playwright,
cut off from the network (only ``file:`` and ``data:`` URLs load)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")


@dataclass
class OfflinePage:
    """A headless Chromium page that may load only file: and data: URLs; ``blocked`` lists
    every other request it refused."""

    page: Any
    blocked: list[str]


@contextmanager
def open_offline_page(**context: Any) -> Iterator[OfflinePage]:
    """A page of a fresh headless Chromium cut off from the network (:class:`OfflinePage`);
    ``context`` are Playwright ``new_page`` options (``viewport``, ``device_scale_factor``).
    Skips the test when chromium or playwright is absent."""
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )  # fmt: skip
        try:
            page = browser.new_page(**context)
            page.route("**/*", only_local)
            yield OfflinePage(page, blocked)
        finally:
            browser.close()
