"""The playground page in a real browser: Debian's headless Chromium driven by Playwright (never
``playwright install``: the browser is the system's, ``.ci/run`` installs it when missing).

Each input format is typed and its outputs checked against the library; an error's highlight covers the
span the diagnostic names; dialects switch; a shared URL reproduces the state; the page works at phone
width and by keyboard, and asks nothing of the network but its own server. A screenshot is taken
(``FILTERDSL_SCREENSHOT=docs/playground.png`` writes the one the docs show). Skips without Chromium,
fails when ``CI=true``."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from filterdsl import apply, load_catalog, parse, to_sql
from filterdsl.emitters.explain import explain
from filterdsl.records import normalize_dataset

from conftest import need

ROOT = Path(__file__).resolve().parent.parent
CAT = load_catalog(ROOT / "examples" / "catalog.json")
RECORDS = json.loads((ROOT / "examples" / "records.json").read_text(encoding="utf-8"))
ORDERS = "ixuPJwBRqtRP3GpoM"
STATUS = "Popw6SRW8pL2RqECF"
CHROMIUM = os.environ.get("FILTERDSL_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]


def _playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    return sync_playwright


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    import uvicorn

    from filterdsl.server import create_app

    app = create_app("sqlite:///:memory:", CAT)
    for db, docs in normalize_dataset(RECORDS, CAT).items():
        app.state.store.import_docs(str(db), docs)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _playwright()
    need(sync_playwright is not None, "the playwright package is not installed (pip install -e '.[test]')")
    need(
        Path(CHROMIUM).exists() or shutil.which("chromium") is not None,
        f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)",
    )
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"), args=ARGS
        )
        yield b
        b.close()


class Page:
    """One tab on the playground, recording every URL it requests."""

    def __init__(self, browser: Any, base: str, width: int = 1280, url: str = "/"):
        self.base = base
        self.ctx = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.ctx.new_page()
        self.page.set_default_timeout(30_000)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(base + url)
        self.wait(0)

    def until(self, expression: str, timeout: float = 30) -> Any:
        """Poll ``expression`` until it is truthy (``wait_for_function`` evaluates strings, which the
        page's Content-Security-Policy forbids; ``evaluate`` does not)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.page.evaluate(expression)
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out waiting for {expression}"
            time.sleep(0.05)

    def wait(self, after: int) -> int:
        """Until a compile newer than ``after`` has been shown; its number."""
        return int(
            self.until(
                f"Number(document.body.dataset.compiled || 0) > {after} && Number(document.body.dataset.compiled)"
            )
        )

    @property
    def n(self) -> int:
        return int(self.page.evaluate("Number(document.body.dataset.compiled || 0)"))

    def fill(self, text: str, fmt: str = "auto") -> None:
        before = self.n
        if self.page.input_value("#format") != fmt:
            self.page.select_option("#format", fmt)
        self.page.fill("#input", text)
        self.settle(before)

    def settle(self, before: int) -> None:
        """Wait for the debounced compile of the latest state (later ones supersede earlier ones)."""
        self.wait(before)
        time.sleep(0.35)  # past the debounce: a compile scheduled by the last event has started
        self.until("!document.body.hasAttribute('aria-busy')")

    def text(self, selector: str) -> str:
        return str(self.page.inner_text(selector))

    def close(self) -> None:
        assert not self.errors, self.errors
        assert all(u.startswith(self.base) or u.startswith("data:") for u in self.requests), self.requests
        self.ctx.close()


@pytest.fixture
def tab(browser: Any, base_url: str) -> Iterator[Page]:
    t = Page(browser, base_url)
    yield t
    t.close()


PITCHLY = json.dumps(
    {"fields": {STATUS: {"filters": [{"by": "is-any-of", "value": ["paid", "shipped"]}]}}}, indent=2
)
SHOWCASE = """{
  "filter": {"fields": {
    "Popw6SRW8pL2RqECF": {"filters": [{"by": "is-any-of", "value": ["paid", "shipped"]}]},
    "59giDo5wnnLqurNpF": {"filters": [{"by": "is-at-least", "value": 100}]}
  }},
  "sort": {"59giDo5wnnLqurNpF": -1},
  "limt": 5
}"""
INPUTS = [
    ("pitchly", PITCHLY),
    ("search", "deal|money"),
    ("pixiebrix", f"data__{STATUS}=paid&ordering=-created_at"),
    ("text", f'`{STATUS}`:enum is "shipped" or `59giDo5wnnLqurNpF`:number > 100'),
]


def test_each_input_format_typed(tab: Page) -> None:
    tab.page.select_option("#database", ORDERS)
    for fmt, text in INPUTS:
        before = tab.n
        tab.page.fill("#input", "")
        tab.page.type("#input", text[:8], delay=5)  # typed: the debounced compile follows
        tab.page.fill("#input", text)
        tab.settle(before)
        q = parse(text, fmt, CAT, ORDERS)  # type: ignore[arg-type]
        assert tab.text("#detected") == f"detected: {fmt}"
        assert tab.text("#diagnostics") == "Valid: no errors, no warnings."
        assert tab.text("#out-explain") == explain(q, CAT)
        rows = apply(q, RECORDS, CAT)
        summary = tab.text("#records-summary")
        assert summary.startswith(f"{len(rows)} record"), summary
        shown = tab.page.eval_on_selector_all(
            "#records tbody tr td:first-child", "tds => tds.map(t => t.textContent)"
        )
        assert shown == [r["id"] for r in rows][:20]
    # the AST form, chosen rather than detected, and a format that cannot say the query
    ast = tab.text("#out-ast")
    tab.fill(ast, "ast")
    assert tab.text("#detected") == "read as: ast"
    assert "Cannot be expressed here" in tab.text("#out-search") and "not-expressible" in tab.text(
        "#out-search"
    )


def test_the_error_highlight_covers_the_span(tab: Page) -> None:
    text = (
        '{\n  "fields": {\n    "Popw6SRW8pL2RqECF": {"filters": [{"by": "contans", "value": "paid"}]}\n  }\n}'
    )
    tab.fill(text)
    diag = tab.text("#diagnostics")
    assert (
        "error unknown-operator" in diag and "line 3, column 40" in diag and "did you mean 'contains'" in diag
    )
    assert tab.page.inner_text("#backdrop mark.error") == '"by": "contans"'
    assert tab.page.inner_text("#diagnostics mark.error") == '"by": "contans"'
    assert tab.page.get_attribute("#input", "aria-invalid") == "true"
    assert "No output" in tab.text("#out-sql")
    tab.page.click("#diagnostics button")
    assert tab.page.evaluate("document.activeElement.id") == "input"
    sel = tab.page.evaluate(
        "(() => { const t = document.getElementById('input'); return [t.selectionStart, t.selectionEnd]; })()"
    )
    assert text[sel[0] : sel[1]] == '"by": "contans"'
    # a text-form error, after a character outside the BMP (UTF-16 offsets)
    text = '`Popw6SRW8pL2RqECF`:enum is "😀" and `nope` is "x"'
    tab.fill(text, "text")
    assert tab.page.inner_text("#backdrop mark.error") == "`nope`"
    assert "unknown-field" in tab.text("#diagnostics") and "column 37" in tab.text("#diagnostics")


def test_switching_dialects_and_layouts(tab: Page) -> None:
    tab.fill(PITCHLY)
    q = parse(PITCHLY, "pitchly", CAT, ORDERS)
    for dialect in ("postgres", "mysql", "duckdb"):
        before = tab.n
        tab.page.select_option("#dialect", dialect)
        tab.settle(before)
        assert tab.text("#out-sql") == to_sql(q, dialect, catalog=CAT, pretty=True)[0]  # type: ignore[arg-type]
        assert tab.text("#sql-status").startswith("executed")
    assert json.loads(tab.text("#out-params")) == to_sql(q, "duckdb", catalog=CAT)[1]
    before = tab.n
    tab.page.select_option("#dialect", "snowflake")
    tab.settle(before)
    assert "not-expressible" in tab.text("#out-sql")  # no JSON functions known for it: said, with the reason
    before = tab.n
    tab.page.select_option("#layout", "columns")
    tab.settle(before)
    assert tab.text("#sql-status").startswith("parse-checked") and '"status"' in tab.text("#out-sql")
    before = tab.n
    tab.page.uncheck("#pretty")
    tab.settle(before)
    assert "\n" not in tab.text("#out-sql")


def test_a_shared_url_reproduces_the_state(tab: Page, browser: Any, base_url: str) -> None:
    tab.page.select_option("#database", ORDERS)
    tab.page.check("#opt-lookups")
    tab.page.select_option("#dialect", "postgres")
    text = f"data__59giDo5wnnLqurNpF__gte=100&data__{STATUS}=paid"
    tab.fill(text, "pixiebrix")
    url = tab.page.url
    assert "#" in url and "d=postgres" in url
    sql, records = tab.text("#out-sql"), tab.text("#records")
    other = Page(browser, base_url, url=url[len(base_url) :])
    try:
        other.settle(0)
        assert other.page.input_value("#input") == text
        assert other.page.input_value("#format") == "pixiebrix"
        assert other.page.input_value("#dialect") == "postgres"
        assert other.page.is_checked("#opt-lookups") and other.page.is_checked("#opt-strict")
        assert (other.text("#out-sql"), other.text("#records")) == (sql, records)
        other.page.reload()
        other.settle(0)
        assert other.text("#out-sql") == sql
    finally:
        other.close()


def test_keyboard_and_labels(tab: Page) -> None:
    controls = tab.page.evaluate(
        """[...document.querySelectorAll('select, textarea, input, button')].map(e =>
             [e.id || e.textContent, e.tagName === 'BUTTON' ? Number(Boolean(e.textContent.trim())) : e.labels.length])"""
    )
    assert controls and all(n >= 1 for _, n in controls), controls
    order = []
    tab.page.focus("#format")
    for _ in range(10):
        order.append(tab.page.evaluate("document.activeElement.id"))
        tab.page.keyboard.press("Tab")
    assert order[:4] == ["format", "database", "example", "opt-strict"] and "input" in order
    # a switch toggled by keyboard recompiles
    tab.page.focus("#opt-resolve_names")
    before = tab.n
    tab.page.keyboard.press("Space")
    tab.settle(before)
    assert "resolve_names" in tab.page.url


def test_phone_width_and_screenshot(browser: Any, base_url: str, tmp_path: Path) -> None:
    phone = Page(browser, base_url, width=375)
    try:
        phone.fill(PITCHLY)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, width  # nothing wider than the screen: no sideways scrolling
        box = phone.page.locator("#input").bounding_box()
        assert box is not None and box["width"] > 300
    finally:
        phone.close()
    wide = Page(browser, base_url, width=1280)
    try:
        wide.page.set_viewport_size({"width": 1280, "height": 1400})
        wide.page.select_option("#dialect", "postgres")
        wide.page.uncheck("#opt-strict")  # lenient: the misspelt key is a warning, and the outputs show
        wide.fill(SHOWCASE)
        diag = wide.text("#diagnostics")
        assert "warning unknown-key" in diag and "did you mean 'limit'" in diag
        assert wide.page.inner_text("#backdrop mark.warning") == '"limt": 5'
        assert wide.text("#records-summary").startswith("4 records")
        out = Path(os.environ.get("FILTERDSL_SCREENSHOT") or tmp_path / "playground.png")
        wide.page.screenshot(path=str(out))
        data = out.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    finally:
        wide.close()
    assert (ROOT / "docs" / "playground.png").is_file()  # the one the docs show
