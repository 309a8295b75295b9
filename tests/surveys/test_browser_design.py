"""A real browser on the survey design pages: start an instrument from a template, change a
question's type in the editor (redrawn by htmx), try to send the phone preview (it cannot),
then plan a wave with the live sample-size calculator, preview its quotas, create it, and
find it in the waves list."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from conftest import CHROMIUM, serving
from sqm.config import Settings
from sqm.store.engine import make_sessionmaker
from sqm.store.models import OrgUnit, SurveyQuota, SurveyResponse, SurveyWave
from sqm.web.app import create_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian chromium not installed"),
]


@pytest.fixture
def served(demo_engine: Engine) -> Iterator[str]:
    settings = Settings(database_url=str(demo_engine.url), secret_key="browser-design-test")
    with serving(create_app(settings, engine=demo_engine)) as url:
        yield url


def test_design_an_instrument_and_plan_a_wave(
    served: str, demo_engine: Engine, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = served
    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        gz = s.scalar(select(OrgUnit).where(OrgUnit.code == "GD-GZ"))
        assert gz is not None
        gz_id = gz.id
        gz_stores = s.scalar(
            select(func.count(OrgUnit.id)).where(
                OrgUnit.kind == "store",
                OrgUnit.status == "active",
                OrgUnit.path.startswith(gz.path),
            )
        )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN"
        ).new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "analyst")
        page.fill("input[name=password]", "sqm-demo-2026")
        page.click("button[type=submit]")
        page.wait_for_load_state()

        # an instrument from the NPS + CSAT template
        page.click("a[href='/survey-design']")
        page.click("#new-instrument")
        page.check("input[name=template][value=nps_csat]")
        page.fill("input[name=code]", "quick_gz")
        page.click("#new-instrument-form button[type=submit]")
        expect(page.locator("#saved")).to_have_attribute("data-saved", "created")

        # the editor redraws a question when its type changes (htmx, no reload)
        page.click("a[href='/survey-design/instruments/quick_gz/edit']")
        page.select_option("select[name='g0.q2.type']", "multiple")
        expect(page.locator("#g0-q2 table.opts tbody tr")).to_have_count(2)
        expect(page.locator("#g0-q2")).to_have_attribute("data-type", "multiple")

        # the phone preview draws the customers' form and cannot send it
        page.goto(f"{base}/survey-design/instruments/quick_gz/versions/1/preview")
        frame = page.frame_locator("#preview-frame")
        frame.locator("#q-nps .scale label").nth(9).click()
        frame.locator("#q-csat .scale label").nth(4).click()
        frame.locator("#q-segment label.opt").first.click()
        frame.locator("#submit").click()
        page.wait_for_timeout(500)
        expect(frame.locator("#survey")).to_be_visible()  # still the form, no thank-you page

        # a wave: calculator → total → quota preview → create
        page.goto(f"{base}/survey-design/waves/new")
        page.fill("input[name=code]", "2026-11-quick-gz")
        page.select_option("select[name=instrument_id]", index=1)
        page.select_option("select[name=root_id]", str(gz_id))
        page.fill("input[name=calc_margin]", "8")
        # 1.96² × 0.25 / 0.08² = 150.06 → 151
        expect(page.locator("#sample-n")).to_have_text("151")
        # Earlier keystrokes' calculator requests may still swap the fragment: click the
        # button of the last one (a click on a replaced button reaches no handler).
        page.wait_for_load_state("networkidle")
        page.click("button.use-n")
        expect(page.locator("#total")).to_have_value("151")
        page.click("#preview-button")
        expect(page.locator("#allocation tbody tr")).to_have_count(gz_stores or 0)
        # a cell shows "5 minimum" when the store sits at the minimum
        targets = [
            int(t.split()[0]) for t in page.locator("#allocation td.target").all_inner_texts()
        ]
        assert sum(targets) == 151 and min(targets) >= 5
        page.screenshot(path=str(tmp_path / "wave-preview.png"), full_page=True)
        page.click("#create-button")
        page.wait_for_url(f"{base}/surveys/*")
        expect(page.locator("#quota tbody tr")).to_have_count(gz_stores or 0)

        page.goto(f"{base}/surveys")
        expect(page.locator("#waves")).to_contain_text("2026-11-quick-gz")
        browser.close()

    with factory() as s:
        wave = s.scalar(select(SurveyWave).where(SurveyWave.code == "2026-11-quick-gz"))
        assert wave is not None and wave.instrument.code == "quick_gz"
        assert wave.status == "open" and wave.link_mode == "open"
        assert (
            s.scalar(select(func.sum(SurveyQuota.target)).where(SurveyQuota.wave_id == wave.id))
            == 151
        )
        assert s.scalar(select(func.count(SurveyResponse.id))) == 0  # the preview sent nothing
