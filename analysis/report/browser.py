"""Open a report page in headless Chromium with the network blocked, and check it.

Used by the browser tests and by ``formulae report build --screenshot``. Drives Debian's
``chromium`` through Python playwright (never ``playwright install``); every request that is
not ``file:`` / ``data:`` / ``blob:`` is aborted and recorded, so a page that tries to reach
the network is caught, not silently served.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FormulaeError

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

CHART_STATE_JS = """
() => Array.from(document.querySelectorAll('div.fx-chart')).map(el => ({
  id: el.id,
  ok: el.hasAttribute('data-fx-ok'),
  svg: el.querySelectorAll('svg').length,
  canvas: el.querySelectorAll('canvas').length,
  marks: el.querySelectorAll('svg .mark-rect path, svg .mark-rect, svg [role=graphics-symbol], svg path').length,
  // text drawn past the chart's own edge is cut off (Vega sized the chart for a font the
  // page's CSS then replaced)
  clipped: Array.from(el.querySelectorAll('svg text')).filter(t => {
    const r = t.getBoundingClientRect(), s = t.ownerSVGElement.getBoundingClientRect();
    return r.width > 0 && (r.right > s.right + 1 || r.left < s.left - 1);
  }).map(t => t.textContent).slice(0, 5),
}))
"""
RTL_JS = """
() => Array.from(document.querySelectorAll('[dir=rtl]'))
  .filter(el => /[\\u0600-\\u06FF]/.test(el.textContent))
  .map(el => ({tag: el.tagName.toLowerCase(), direction: getComputedStyle(el).direction,
              font: getComputedStyle(el).fontFamily})).slice(0, 50)
"""


@dataclass
class PageCheck:
    """What the browser saw: chart states, console errors, blocked requests, dialogs."""

    url: str
    charts: list[dict] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    requests_blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    rtl_blocks: list[dict] = field(default_factory=list)
    text: str = ""
    tooltip: str | None = None
    screenshot: Path | None = None
    evaluated: object = None


def chromium_path() -> str | None:
    """Debian's chromium binary, or None."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def page_check(html: Path, screenshot: Path | None = None, *, timeout_ms: int = 20000,
               hover: str | None = None, evaluate: str | None = None) -> PageCheck:
    """Open ``html`` offline, wait until every chart is drawn (or failed), screenshot it.

    ``hover``: a chart id (``chart-...``) whose first bar or point is hovered; the tooltip's
    text is returned in ``.tooltip``. ``evaluate``: a JavaScript function run on the page
    once drawn; its value is returned in ``.evaluated`` (e.g. where characters were laid out).
    """
    exe = chromium_path()
    if exe is None:
        raise FormulaeError("no chromium on PATH (Debian package `chromium`)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise FormulaeError("playwright is not installed (dev dependency group)") from None

    url = Path(html).resolve().as_uri()
    result = PageCheck(url=url)

    def route(r):  # noqa: ANN001 - playwright Route
        if r.request.url.startswith(LOCAL_SCHEMES):
            r.continue_()
        else:
            result.requests_blocked.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=list(CHROMIUM_FLAGS))
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.route("**/*", route)
            page.on("console", lambda m: result.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: result.console_errors.append(f"pageerror: {e}"))
            page.on("dialog", lambda d: _dismiss(d, result.dialogs))
            page.goto(url, wait_until="load")
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('div.fx-chart'))"
                ".every(el => el.hasAttribute('data-fx-ok') || el.getAttribute('data-fx-drawn') && el.textContent)",
                timeout=timeout_ms,
            )
            result.charts = page.evaluate(CHART_STATE_JS)
            result.rtl_blocks = page.evaluate(RTL_JS)
            result.text = page.inner_text("body")
            if evaluate is not None:
                result.evaluated = page.evaluate(evaluate)
            if hover is not None:
                mark = page.locator(f"#{hover} svg .mark-rect path, #{hover} svg .mark-symbol path").first
                mark.hover()
                page.wait_for_selector("#vg-tooltip-element.visible", timeout=5000)
                result.tooltip = page.inner_text("#vg-tooltip-element")
            if screenshot is not None:
                Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
                result.screenshot = Path(screenshot)
        finally:
            browser.close()
    return result


def _dismiss(dialog, seen: list[str]) -> None:
    """Record a dialog's message and dismiss it (a report page must not open dialogs)."""
    seen.append(dialog.message)
    dialog.dismiss()
