"""The HTML report as a person sees it, in Debian's headless Chromium driven by selenium:
light, dark (`prefers-color-scheme`) and print, on a desktop and a phone.

Every visible text meets WCAG AA contrast in both schemes; code blocks scroll on screen and wrap
on paper (nothing clipped); the page never scrolls sideways on a phone; the title names the
incident and its top cause; the headline comes first and its summary last. Every demo's page is
checked. With PARAMEDIC_ARTIFACTS set to a directory (.ci/run sets build/test-artifacts),
screenshots and the printed PDF of a few (SHOWN: the reference incident, two causes at once, the
one also shown on a phone; every demo with PARAMEDIC_ARTIFACTS_ALL=1) are written to its html/
folder (never committed) so a reviewer can look at them. Rendering a tall page to PNG costs more
than every check of it (about 6 s of CPU for the few), hence the few, and none in a local run.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paramedic.evidence import demos
from paramedic.reports import html_report, outline
from paramedic.runbooks import engine
from paramedic.runbooks import model as runbook_model

ARTIFACTS = Path(os.environ.get("PARAMEDIC_ARTIFACTS") or ".") / "html"
DEMOS = [d.name for d in demos.available()]
_FEW = {"seed", "two-causes", "too-many-connections"}
SHOWN = set(DEMOS) if os.environ.get("PARAMEDIC_ARTIFACTS_ALL") else _FEW
if not os.environ.get("PARAMEDIC_ARTIFACTS"):
    SHOWN = set()  # no directory to write them to: nothing is rendered to PNG or PDF
CONTRAST = """
function lum(c) {
  const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function opaque(c) { const a = c.match(/[\\d.]+/g); return a.length < 4 || Number(a[3]) > 0.5; }
function background(el) {
  for (; el; el = el.parentElement) {
    const bg = getComputedStyle(el).backgroundColor;
    if (opaque(bg)) return bg;
  }
  return getComputedStyle(document.documentElement).backgroundColor || 'rgb(255,255,255)';
}
const bad = [];
for (const el of document.body.querySelectorAll('*')) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || !el.getClientRects().length) continue;
  const style = getComputedStyle(el);
  const fg = style.color, bg = background(el);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  const ratio = (a + 0.05) / (b + 0.05);
  const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
  const large = size >= 24 || (bold && size >= 18.66);
  if (ratio < (large ? 3 : 4.5))
    bad.push(`${el.tagName}.${el.className} ${fg} on ${bg}: ${ratio.toFixed(2)}`);
}
return bad;
"""


def _missing() -> str:
    for tool in ("chromium", "chromedriver"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH (.ci/run installs Debian chromium, chromium-driver)"
    return ""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _page(name: str, tmp_path: Path) -> tuple[Path, outline.Outline]:
    evidence = demos.load(name)
    assert evidence.incident is not None
    result = engine.run(
        runbook_model.builtin(evidence.incident.runbook), evidence, evidence.incident
    )
    path = tmp_path / f"{name}.html"
    path.write_text(html_report.render(result), encoding="utf-8")
    return path, outline.build(result)


def _media(driver: Any, media: str = "", scheme: str = "light") -> None:
    features = [{"name": "prefers-color-scheme", "value": scheme}]
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media, "features": features})


def _shot(driver: Any, demo: str, view: str) -> None:
    if demo not in SHOWN:
        return
    name = f"{demo}-{view}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1000, min(max(height, 600), 8000))
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


@pytest.mark.parametrize("name", DEMOS)
def test_html_page_reads_well_light_dark_and_printed(
    browser: Any, name: str, tmp_path: Path
) -> None:
    path, shape = _page(name, tmp_path)
    browser.set_window_size(1000, 800)
    browser.get(path.as_uri())
    assert browser.title == f"{shape.page_title} — paramedic"

    for scheme in ("light", "dark"):
        _media(browser, scheme=scheme)
        bad = browser.execute_script(CONTRAST)
        assert not bad, f"{scheme}: below WCAG AA: {bad[:5]}"
        background = browser.execute_script(
            "return getComputedStyle(document.body).backgroundColor"
        )
        assert (background == "rgb(255, 255, 255)") == (scheme == "light"), background
        _shot(browser, name, scheme)

    _media(browser, media="print")
    clipped = browser.execute_script(
        "return [...document.querySelectorAll('pre')]"
        ".filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.innerText.slice(0, 60))"
    )
    assert not clipped, f"code cut off on paper: {clipped[:3]}"
    _shot(browser, name, "print")
    if name not in SHOWN:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    from selenium.webdriver.common.print_page_options import PrintOptions

    pdf = browser.print_page(PrintOptions())
    (ARTIFACTS / f"{name}.pdf").write_bytes(base64.b64decode(pdf))


@pytest.mark.parametrize("name", ["seed", "too-many-connections", "healthy"])
def test_html_headline_first_summary_last_and_commands_copy_whole(
    browser: Any, name: str, tmp_path: Path
) -> None:
    path, shape = _page(name, tmp_path)
    browser.set_window_size(1000, 800)
    browser.get(path.as_uri())
    _media(browser)
    order = browser.execute_script(
        "return [...document.body.children].map(e => e.tagName + '.' + e.className)"
    )
    assert order[:3] == ["H1.", "P.sub", f"SECTION.headline {shape.headline.status}"], order
    summaries = browser.execute_script(
        "return [...document.querySelectorAll('.summary')].map(e => e.innerText)"
    )
    assert summaries[0] == summaries[-1] == shape.headline.summary
    shown = browser.execute_script(
        "return [...document.querySelectorAll('pre')].map(p => p.innerText)"
    )
    for item in shape.causes:
        for part in item.parts:
            if part.code is not None:
                assert part.code.text in shown, part.code.text[:80]


def test_html_never_scrolls_sideways_on_a_phone(browser: Any, tmp_path: Path) -> None:
    path, _ = _page("too-many-connections", tmp_path)
    browser.set_window_size(390, 844)
    browser.get(path.as_uri())
    _media(browser)
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    _shot(browser, "too-many-connections", "phone")
