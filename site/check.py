"""`make site-check`: open every page of build/site/ in headless Chromium, as a reader would, and
fail on what a reader would see broken: console errors, failed local requests, any request that
leaves localhost (the site must work offline), TeX that MathJax left raw, solutions not folded in
a closed <details>, local links that do not answer 200. A full-page screenshot of each page goes
to build/site-check/<page>.png for a person to look at."""

import functools
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "site"
SHOTS = ROOT / "build" / "site-check"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# In the page: wait for MathJax (where the page loads it), then count what a reader would see
# wrong. Raw TeX: a text node outside code that still holds $...$, \( or \[ after typesetting.
INSPECT = r"""async () => {
  if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
  const skip = "code, pre, script, style, textarea, mjx-container";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.nodeValue;
    if (n.parentElement.closest(skip)) continue;
    const tex = /\$[^$\s][^$]*\$/.test(t) || t.includes("\\(") || t.includes("\\[");
    if (tex) raw.push(t.trim().slice(0, 80));
  }
  const solutions = [...document.querySelectorAll(".cell.tag_solution")];
  // folded: input and outputs each inside a closed <details> of the cell itself
  const folded = cell => {
    const parts = [...cell.querySelectorAll(".cell_input, .cell_output")];
    return parts.length > 0 && parts.every(part => {
      const d = part.closest("details");
      return d && cell.contains(d) && !d.open;
    });
  };
  const unfolded = solutions.filter(cell => !folded(cell));
  return {
    typeset: document.querySelectorAll("mjx-container").length,
    untypeset: document.querySelectorAll(".math:not(:has(mjx-container))").length,
    texErrors: document.querySelectorAll("mjx-merror").length,
    raw: raw.slice(0, 3),
    solutions: solutions.length,
    unfolded: unfolded.length,
    links: [...document.querySelectorAll("a[href]")].map(a => a.getAttribute("href")),
  };
}"""


def serve(directory: Path) -> ThreadingHTTPServer:
    """A quiet static server of `directory` on a free localhost port, in a daemon thread."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=directory))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@functools.cache
def status(url: str) -> int:
    """HTTP status of a local URL (each linked file fetched once for the whole site)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def is_local_link(href: str) -> bool:
    """A link into the site: not to another host, not an in-page anchor, not mail."""
    return not href.startswith(("http:", "https:", "//", "#", "mailto:", "javascript:"))


def check_page(context, base: str, page_path: str) -> list[str]:
    """Load one page, screenshot it, and return its problems (empty when it passes)."""
    problems: list[str] = []
    page = context.new_page()
    page.on(
        "console",
        lambda m: m.type == "error" and problems.append(f"console error: {m.text[:160]}"),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {str(e)[:160]}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"),
    )
    url = urljoin(base, page_path)
    start = time.perf_counter()
    page.goto(url, wait_until="load")
    seen = page.evaluate(INSPECT)
    shot = SHOTS / Path(page_path).with_suffix(".png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=shot, full_page=True)
    page.close()

    if seen["untypeset"] or seen["texErrors"]:
        problems.append(f"math: {seen['untypeset']} not typeset, {seen['texErrors']} TeX errors")
    problems += [f"raw TeX: {text!r}" for text in seen["raw"]]
    if seen["unfolded"]:
        problems.append(f"{seen['unfolded']} of {seen['solutions']} solutions not folded")
    local = {urldefrag(urljoin(url, h)).url for h in seen["links"] if is_local_link(h)}
    problems += [f"link {status(link)}: {link}" for link in sorted(local) if status(link) != 200]
    print(
        f"{'FAIL' if problems else 'ok  '} {page_path:<55} math {seen['typeset']:>4}  "
        f"solutions {seen['solutions']}  local links {len(local):>3}  "
        f"{time.perf_counter() - start:4.1f} s"
    )
    for problem in problems:
        print(f"     {problem}")
    return problems


def main() -> int:
    if not (SITE / "index.html").exists():
        sys.exit("site-check: build/site/index.html missing: run `make site` first")
    pages = sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if not p.relative_to(SITE).parts[0].startswith(("_", "."))
    )
    server = serve(SITE)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    outside: list[str] = []

    def only_local(route) -> None:
        """Let localhost through; log and abort anything else (the site must be offline)."""
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.route("**/*", only_local)
        failed = [page for page in pages if check_page(context, base, page)]
        browser.close()
    server.shutdown()

    for url in sorted(set(outside)):
        print(f"request outside localhost (blocked): {url}")
    ok = not failed and not outside
    print(
        f"site-check: {'PASS' if ok else 'FAIL'}: {len(pages)} pages, {len(failed)} failed, "
        f"{len(set(outside))} requests outside localhost; screenshots in "
        f"{SHOTS.relative_to(ROOT)}/"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
