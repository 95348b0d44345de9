"""Debian's Chromium, as every browser test starts it (never `playwright install`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
# headless as root, and without the background requests this machine's closed network refuses
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright: Any) -> Any:
    """A headless Chromium browser of Playwright's."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
