"""A real phone-sized browser: open a store's survey link, answer the SERVQUAL form one
group at a time, submit, and find the answer counted in the analyst's quota view."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from conftest import CHROMIUM, serving
from sqm.config import Settings
from sqm.domain.instrument_templates import servqual
from sqm.services.surveys import fielding
from sqm.services.surveys.links import LinkSigner
from sqm.store.engine import make_sessionmaker
from sqm.store.models import OrgUnit, Period
from sqm.web.app import create_app

SECRET = "browser-survey-test"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian chromium not installed"),
]


@pytest.fixture
def served(demo_engine: Engine) -> Iterator[tuple[str, str, int, str]]:
    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        store = s.scalars(
            select(OrgUnit).where(OrgUnit.kind == "store").order_by(OrgUnit.code)
        ).first()
        period = s.scalars(select(Period).order_by(Period.start.desc())).first()
        assert store is not None and period is not None
        wave = fielding.create_wave(
            s,
            code="B-SQ",
            period=period,
            instrument=fielding.store_instrument(s, servqual()),
            stores=[store],
            total=5,
        )
        s.commit()
        wave_id, unit = wave.id, store.code
    token = LinkSigner(SECRET.encode().ljust(16, b".")).open_link("B-SQ", unit)
    app = create_app(
        Settings(database_url=str(demo_engine.url), secret_key=SECRET), engine=demo_engine
    )
    with serving(app) as url:
        yield url, token, wave_id, unit


def test_phone_answers_servqual_and_it_is_counted(
    served: tuple[str, str, int, str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    base, token, wave_id, unit = served
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        phone = browser.new_context(
            viewport={"width": 360, "height": 740}, locale="zh-CN", is_mobile=True, has_touch=True
        )
        page = phone.new_page()
        page.goto(f"{base}/s/{token}")
        assert page.locator("#step").inner_text() == "1 / 7"
        # nothing overflows a 360-px screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # Next without answering: the message appears next to the first question
        page.click("#next")
        assert page.locator("#q-T1 .err").inner_text() == "此题必答"
        for step in range(7):
            group = page.locator("fieldset.group:not([hidden])")
            scales = group.locator(".scale")
            for k in range(scales.count()):
                # expectation 6, perception 4 (labels are 1-based)
                scales.nth(k).locator("label").nth(5 if k % 2 == 0 else 3).click()
            sums = group.locator(".cs input")
            for k, points in enumerate([10, 30, 25, 20, 15][: sums.count()]):
                sums.nth(k).fill(str(points))
            questions = group.locator(".q[data-type=single]")
            for k in range(questions.count()):
                questions.nth(k).locator("label.opt").first.click()
            if step < 6:
                page.click("#next")
                assert page.locator("#step").inner_text() == f"{step + 2} / 7"
        page.screenshot(path=str(tmp_path / "survey-last-group.png"))
        page.click("#submit")
        page.wait_for_selector("[data-outcome=thanks]")
        assert "感谢" in page.locator("#message").inner_text()
        # the analyst sees it counted
        desk = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN"
        ).new_page()
        desk.goto(f"{base}/login")
        desk.fill("input[name=username]", "analyst")
        desk.fill("input[name=password]", "sqm-demo-2026")
        desk.click("button[type=submit]")
        desk.wait_for_load_state()
        desk.goto(f"{base}/surveys/{wave_id}")
        assert desk.locator(f"tr[data-unit='{unit}'] .achieved").inner_text() == "1"
        browser.close()
