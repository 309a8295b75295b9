"""A real browser (Debian's headless Chromium driven by Playwright) against the real
server: sign in, browse and search the org tree, switch the language."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from conftest import CHROMIUM, CHROMIUM_ARGS, serving
from sqm.config import Settings
from sqm.web.app import create_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None,
        reason="Debian chromium not installed (make test installs it)",
    ),
]


@pytest.fixture
def live_server(demo_engine: Engine) -> Iterator[str]:
    app = create_app(
        Settings(database_url=str(demo_engine.url), secret_key="browser-test"), engine=demo_engine
    )
    with serving(app) as url:
        yield url


@pytest.fixture
def page(tmp_path: Path):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        yield ctx.new_page()
        browser.close()


def test_sign_in_browse_the_org_tree_and_switch_language(
    live_server: str, page, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/org")
    assert "/login" in page.url
    page.fill("input[name=username]", "area.gz")
    page.fill("input[name=password]", "sqm-demo-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/org")
    assert page.locator("h1").inner_text() == "组织架构"
    # Expand Guangzhou (the top of this manager's scope): HTMX loads its districts.
    page.locator("#org-tree .toggle").first.click()
    page.wait_for_selector("#org-tree ul li a:has-text('天河区')")
    # Search narrows to matching units in scope only.
    page.fill("#org-search", "天河")
    page.wait_for_selector("#search-results table")
    rows = page.locator("#search-results tbody tr")
    assert rows.count() > 1
    assert all("天河" in t or "Tianhe" in t for t in rows.all_inner_texts())
    page.screenshot(path=str(tmp_path / "org-zh.png"))
    # Switch to English.
    page.click("#lang-switch")
    page.wait_for_selector("h1:has-text('Organisation')")
    assert "Sign out" in page.content()
    # The store page renders its chart-free details and the tier tag.
    page.locator("#org-tree .toggle").first.click()
    page.click("#org-tree ul li a:has-text('Tianhe')")
    page.wait_for_selector("h1")
    assert "District" in page.locator("h1").inner_text()
