"""Open every page of the built site in headless Chromium, as a reader would, and check what it shows.

The site is served by ``http.server`` on 127.0.0.1 (a free port; loopback is all it needs) and driven by
Playwright with Debian's ``chromium`` (never a browser that Playwright downloads). Each page is visited
once; the checks below read what that visit recorded:

* no console errors, uncaught exceptions, failed requests, or requests that leave 127.0.0.1;
* math typeset by MathJax (``mjx-container``, no ``mjx-merror``, no raw TeX left in the visible text);
* every image loaded (``naturalWidth > 0``);
* every internal link resolves to a file, and a ``#fragment`` to an element with that id;
* axe-core (pinned, bundled by the ``axe-playwright-python`` wheel) finds no critical or serious
  violation;
* in the theme's dark mode each figure still shows dark ink on a light, opaque background.

Screenshots of one chapter (the whole page in light mode; in dark mode, the view at its first figure) are
kept in ``_build/test-artifacts/``.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import axe_playwright_python
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no headless Chromium for the browser tests: install Debian's chromium: apt-get install chromium")

AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"
SKIP_DIRS = {"_static", "_sources", "reports"}
SCREENSHOT_PAGE = "book/07_inductive_biases.html"
FULL_AXE_PAGE = SCREENSHOT_PAGE  # the page whose code blocks get the colour-contrast check too
FAIL_IMPACTS = {"critical", "serious"}
# A figure is readable in dark mode when its background (the ring of pixels at its edge, as rendered) stays
# light and its darkest ink stands out from it as WCAG asks of large text and graphics (3:1).
MIN_BACKGROUND_LUMINANCE = 0.5
MIN_FIGURE_CONTRAST = 3.0


# ---------------------------------------------------------------------------------------------- the pages


def site_pages(site: Path) -> list[str]:
    """Every HTML page a reader can open: all ``.html`` except under _static/, _sources/, reports/ and
    hidden folders."""
    pages = []
    for path in sorted(site.rglob("*.html")):
        parts = path.relative_to(site).parts
        if parts[0] in SKIP_DIRS or any(p.startswith(".") for p in parts):
            continue
        pages.append(path.relative_to(site).as_posix())
    return pages


def has_math_source(html: str) -> bool:
    """Sphinx writes each formula as ``<span|div class="math notranslate nohighlight">\\(...\\)``."""
    return bool(re.search(r'class="[^"]*\bmath\b[^"]*"', html))


def refresh_target(html: str) -> str | None:
    """The URL a ``<meta http-equiv="Refresh">`` redirect page (the site's index.html) sends the reader to."""
    m = re.search(r'<meta[^>]*http-equiv="refresh"[^>]*content="[^"]*url=([^"]+)"', html, re.I)
    return m.group(1).strip() if m else None


def static_ids(html: str) -> set[str]:
    return set(re.findall(r'\b(?:id|name)="([^"]*)"', html))


# ---------------------------------------------------------------------------------------------- the server


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature http.server calls
        pass


class SiteServer:
    """Serve ``site`` on 127.0.0.1 at a free port, in a daemon thread."""

    def __init__(self, site: Path):
        handler = functools.partial(_QuietHandler, directory=str(site))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------------------------- in the page

JS_WAIT_MATHJAX = """async () => {
  if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return false;
  await MathJax.startup.promise;
  return true;
}"""

JS_MATH = """() => {
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !el.checkVisibility()) continue;
    const m = n.data.match(/\\\\\\(|\\\\\\[|\\$\\$|\\\\begin\\{/);
    if (m) raw.push(n.data.slice(Math.max(0, m.index - 40), m.index + 60).trim());
  }
  return {containers: document.querySelectorAll('mjx-container').length,
          errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 120)),
          raw: raw};
}"""

JS_IMAGES = """async () => {
  const imgs = [...document.images];
  for (const img of imgs) if (img.loading === 'lazy') img.loading = 'eager';
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener('load', done, {once: true});
    img.addEventListener('error', done, {once: true});
    setTimeout(done, 10000);
  })));
  return imgs.map(img => ({src: img.getAttribute('src') || '', url: img.currentSrc || img.src,
                           ok: img.complete && img.naturalWidth > 0}));
}"""

# What would make a reader scroll sideways: the page itself, or a table (or other block) wider than the box
# that holds it (pydata wraps tables in a scrolling box, which then scrolls instead of the page).
JS_OVERFLOW = """() => {
  const wide = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) wide.push(`page: ${root.scrollWidth} > ${root.clientWidth}`);
  const blocks = 'article.bd-article table, article.bd-article .pst-scrollable-table-container';
  for (const el of document.querySelectorAll(blocks)) {
    const tag = el.tagName.toLowerCase();
    if (el.scrollWidth > el.clientWidth + 1) wide.push(`${tag}: ${el.scrollWidth} > ${el.clientWidth}`);
    const box = el.parentElement.getBoundingClientRect(), r = el.getBoundingClientRect();
    if (r.right > box.right + 1) wide.push(`${tag} ends at ${r.right}, its box at ${box.right}`);
  }
  return wide;
}"""

JS_LINKS_AND_IDS = """() => ({
  links: [...document.querySelectorAll('a[href]')].map(a => ({raw: a.getAttribute('href'), url: a.href})),
  ids: [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.getAttribute('name')),
})"""

# axe-core runs twice: every rule but colour contrast on the whole page, then colour contrast, which on a
# chapter costs three times the rest, mostly in the syntax-highlighted code. Pygments colours come from one
# stylesheet, the same on every page, so code blocks get the contrast check on one chapter (FULL_AXE_PAGE)
# and the rest of each page on every page. ``preload: false``: axe's preloading of stylesheets fetches the
# theme's ``@import "../basic.css"`` against the wrong folder (a 404 of axe's, not the reader's), and it
# only serves the experimental css-orientation-lock rule.
JS_AXE = """async (skipCodeContrast) => {
  const keep = r => r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({impact: n.impact, target: n.target.join(' '), html: n.html.slice(0, 160),
                              why: [...n.any, ...n.all, ...n.none].map(c => c.message).join('; ')})),
  }));
  const opts = {resultTypes: ['violations'], preload: false};
  const rest = await axe.run(document, {...opts, rules: {'color-contrast': {enabled: false}}});
  const context = skipCodeContrast ? {exclude: [['.highlight']]} : document;
  const contrast = await axe.run(context, {...opts, runOnly: {type: 'rule', values: ['color-contrast']}});
  return keep(rest).concat(keep(contrast));
}"""

# The figures: images in the page's content (not the navbar's logos or the launch buttons' icons).
FIGURES = "article.bd-article img"


def set_theme(page, mode: str) -> None:
    """Switch pydata-sphinx-theme's colour mode as its own theme switcher does."""
    page.evaluate("""mode => {
      document.documentElement.dataset.mode = mode;
      document.documentElement.dataset.theme = mode;
      localStorage.setItem('mode', mode); localStorage.setItem('theme', mode);
    }""", mode)
    page.wait_for_timeout(150)  # let any colour transition finish before a screenshot


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(float) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def figure_legibility(png: bytes) -> tuple[float, float]:
    """(background luminance, contrast of the darkest ink against it) of a rendered figure."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    lum = relative_luminance(rgb)
    edge = np.concatenate([lum[:2].ravel(), lum[-2:].ravel(), lum[:, :2].ravel(), lum[:, -2:].ravel()])
    background = float(np.median(edge))
    ink = float(np.percentile(lum, 1))
    lo, hi = sorted((background, ink))
    return background, (hi + 0.05) / (lo + 0.05)


def is_opaque(path: Path) -> bool:
    with Image.open(path) as im:
        if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
            return im.convert("RGBA").getextrema()[3][0] == 255
        return True


# ---------------------------------------------------------------------------------------------- the visit


@dataclass
class PageReport:
    page: str
    final: str = ""                                       # the page shown after any redirect
    errors: list[str] = field(default_factory=list)       # console errors, exceptions, failed requests
    math_source: bool = False
    math: dict = field(default_factory=dict)
    images: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    axe: list[dict] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)     # dark-mode legibility of each figure
    overflow: list[str] = field(default_factory=list)     # what would scroll sideways at 1280 pixels


def _console_error(report: PageReport, base: str, msg) -> None:
    if msg.type != "error":
        return
    source = (msg.location or {}).get("url", "")
    # The browser asks for /favicon.ico by itself (the site declares no icon); that 404 is not the page's.
    if source == base + "favicon.ico":
        return
    report.errors.append(f"console.error: {msg.text}" + (f" ({source})" if source else ""))


def visit(context, site: Path, base: str, rel: str, artifacts: Path | None) -> PageReport:
    html = (site / rel).read_text(errors="replace")
    report = PageReport(rel, math_source=has_math_source(html))
    page = context.new_page()
    page.on("console", lambda m: _console_error(report, base, m))
    page.on("pageerror", lambda e: report.errors.append(f"uncaught exception: {e}"))
    # Requests to outside the site are counted where they are blocked (audit_site); a request that a
    # navigation cancels (ERR_ABORTED, as when index.html redirects) is no failure.
    page.on("requestfailed", lambda r: report.errors.append(f"request failed: {r.url} ({r.failure})")
            if r.url.startswith(base) and "ERR_ABORTED" not in (r.failure or "") else None)
    try:
        page.goto(base + rel, wait_until="load")
        target = refresh_target(html)
        if target is not None:  # a redirect stub: check that it lands on a page, which is audited on its own
            report.links.append({"raw": target, "url": urljoin(base + rel, target)})
            page.wait_for_url(lambda url: url != base + rel, timeout=10000)
            page.wait_for_load_state("load")
            report.final = page.url[len(base):] if page.url.startswith(base) else page.url
            return report
        report.final = rel
        page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)",
                               timeout=20000)
        page.evaluate(JS_WAIT_MATHJAX)
        report.math = page.evaluate(JS_MATH)
        report.images = page.evaluate(JS_IMAGES)
        found = page.evaluate(JS_LINKS_AND_IDS)
        report.links, report.ids = found["links"], set(found["ids"])
        report.overflow = page.evaluate(JS_OVERFLOW)
        page.add_script_tag(path=str(AXE_JS))
        report.axe = page.evaluate(JS_AXE, rel != FULL_AXE_PAGE)
        shots = artifacts is not None and rel == SCREENSHOT_PAGE
        if shots:
            artifacts.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=artifacts / f"{Path(rel).stem}-light.png", full_page=True)
        set_theme(page, "dark")
        figures = page.locator(FIGURES).all()
        for i, img in enumerate(figures):
            img.scroll_into_view_if_needed()
            background, contrast = figure_legibility(img.screenshot())
            report.figures.append({"index": i, "src": img.get_attribute("src") or "",
                                   "background": background, "contrast": contrast})
        if shots:  # the page in dark mode, scrolled to its first figure
            if figures:
                figures[0].evaluate("el => el.scrollIntoView({block: 'center'})")
            page.screenshot(path=artifacts / f"{Path(rel).stem}-dark.png")
    finally:
        page.close()
    return report


def audit_site(site: Path, artifacts: Path | None = None) -> tuple[dict[str, PageReport], str]:
    """Visit every page of ``site`` in one browser and one context; return the reports and the base URL."""
    reports = {}
    with SiteServer(site) as server, sync_playwright() as p:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses to run as root
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
            # Every page opens as for a first-time reader: no colour mode remembered from the page before.
            context.add_init_script("localStorage.removeItem('mode'); localStorage.removeItem('theme');")
            blocked = []

            def offline(route):
                # The book must work offline: nothing it loads may come from outside this server.
                blocked.append(route.request.url)
                route.abort()

            context.route(lambda url: not url.startswith(server.base) and not url.startswith("data:"), offline)
            for rel in site_pages(site):
                before = len(blocked)
                reports[rel] = visit(context, site, server.base, rel, artifacts)
                reports[rel].errors += [f"request to outside the site (blocked): {u}" for u in blocked[before:]]
            context.close()
        finally:
            browser.close()
    return reports, server.base


def broken_links(site: Path, reports: dict[str, PageReport], base: str) -> list[str]:
    """Every internal link that names a missing file, or a fragment with no element of that id."""
    ids = {rel: r.ids for rel, r in reports.items() if r.final == rel}  # pages shown, not redirect stubs
    problems = []
    for rel, report in reports.items():
        for link in report.links:
            raw, url = link["raw"], link["url"]
            parts = urlsplit(url)
            if parts.scheme in ("mailto", "tel", "javascript", "data") or not url.startswith(base):
                continue  # external: not checked here (nothing may be fetched)
            target_rel = unquote(parts.path).lstrip("/")
            target = site / target_rel
            if target.is_dir():
                target, target_rel = target / "index.html", (Path(target_rel) / "index.html").as_posix()
            if not target.is_file():
                problems.append(f"{rel}: link {raw!r} -> {target_rel}: no such file")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                known = ids.get(target_rel)
                if known is None:
                    known = static_ids(target.read_text(errors="replace"))
                if fragment not in known:
                    problems.append(f"{rel}: link {raw!r} -> {target_rel}#{fragment}: no element with that id")
    return problems


# ---------------------------------------------------------------------------------------------- the tests


@pytest.fixture(scope="session")
def site_audit(built):
    """Each page of the freshly built book, visited once in headless Chromium."""
    reports, base = audit_site(built, artifacts=built.parent / "test-artifacts")
    return built, reports, base


def test_every_page_visited(site_audit):
    site, reports, _ = site_audit
    assert any(rel.startswith("book/") for rel in reports), f"no chapter page found under {site}"
    assert "index.html" in reports


def test_no_console_errors(site_audit):
    _, reports, _ = site_audit
    problems = [f"{rel}: {e}" for rel, r in reports.items() for e in r.errors]
    assert not problems, "errors in the browser:\n" + "\n".join(problems)


def test_math_is_typeset(site_audit):
    _, reports, _ = site_audit
    problems = []
    for rel, r in reports.items():
        if r.math_source and not r.math.get("containers"):
            problems.append(f"{rel}: the page has math but MathJax typeset none of it (no mjx-container)")
        problems += [f"{rel}: MathJax error: {e}" for e in r.math.get("errors", [])]
        problems += [f"{rel}: raw TeX left in the text: {t!r}" for t in r.math.get("raw", [])]
    assert any(r.math_source for r in reports.values()), "no page has math: the check would check nothing"
    assert not problems, "\n".join(problems)


def test_every_image_loads(site_audit):
    _, reports, _ = site_audit
    problems = [f"{rel}: image {i['src']!r} ({i['url']}) did not load" for rel, r in reports.items()
                for i in r.images if not i["ok"]]
    assert sum(len(r.images) for r in reports.values()) > 0
    assert not problems, "\n".join(problems)


def test_internal_links_resolve(site_audit):
    site, reports, base = site_audit
    problems = broken_links(site, reports, base)
    assert not problems, "broken internal links:\n" + "\n".join(problems)


def test_no_serious_accessibility_violations(site_audit):
    _, reports, _ = site_audit
    problems = []
    for rel, r in reports.items():
        for v in r.axe:
            if v["impact"] in FAIL_IMPACTS:
                nodes = "\n".join(f"      {n['target']}: {n['html']}\n        {n['why']}" for n in v["nodes"][:10])
                more = f"\n      ... and {len(v['nodes']) - 10} more" if len(v["nodes"]) > 10 else ""
                problems.append(f"{rel}: [{v['impact']}] {v['id']}: {v['help']}\n{nodes}{more}")
    assert not problems, "axe-core found critical or serious violations:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", ["book/ledger.html", "book/intro.html"])
def test_generated_pages_read_without_horizontal_scrolling(site_audit, page):
    """The ledger and the intro's map are tables of text: in a 1280-pixel-wide window (the viewport of every
    visit) neither the page nor any of its tables may need a sideways scroll, so no column is cut off."""
    _, reports, _ = site_audit
    assert not reports[page].overflow, f"{page} scrolls sideways at 1280 pixels: {reports[page].overflow}"


def test_figures_readable_in_dark_mode(site_audit):
    site, reports, _ = site_audit
    problems, checked = [], 0
    for rel, r in reports.items():
        for f in r.figures:
            checked += 1
            name = f"{rel}: figure {f['index']} ({f['src']})"
            if f["background"] < MIN_BACKGROUND_LUMINANCE:
                problems.append(f"{name}: background turns dark in dark mode (luminance {f['background']:.2f})")
            if f["contrast"] < MIN_FIGURE_CONTRAST:
                problems.append(f"{name}: ink-to-background contrast {f['contrast']:.1f}:1 in dark mode")
            file = (site / rel).parent / unquote(f["src"])
            if file.suffix.lower() == ".png" and file.is_file() and not is_opaque(file):
                problems.append(f"{name}: the PNG is transparent; dark mode would show through it")
    assert checked > 0, "no figure found in any page"
    assert not problems, "\n".join(problems)


def test_chapter_screenshots_kept(site_audit):
    site, _, _ = site_audit
    for mode in ("light", "dark"):
        shot = site.parent / "test-artifacts" / f"{Path(SCREENSHOT_PAGE).stem}-{mode}.png"
        assert shot.is_file() and shot.stat().st_size > 10_000, f"no screenshot at {shot}"
