"""A real browser on a phone viewport (360 × 740): an inspector opens today's visit, fills
half the checklist, reloads without losing answers, finishes and submits; once the visit
is accepted the store's inspection score changes accordingly.

Server and browser share one pinned clock (the server's is :data:`NOW`, the page's Date is
fixed two minutes earlier), so the visit's day and length are the same at any hour."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from conftest import CHROMIUM
from sqm.domain.checklist_template import template_checklist
from sqm.services.inspections.visits import review_visit
from sqm.store.engine import make_sessionmaker
from sqm.store.models.inspection import InspectionVisit

from .conftest import ARGS, NOW
from .conftest import sign_in_page as _sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian chromium not installed"),
]


def test_phone_visit_survives_reload_and_moves_the_score(
    live: str, planned: dict[str, float], demo_engine: Engine, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    items = template_checklist().items()
    half = len(items) // 2
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ctx = browser.new_context(
            viewport={"width": 360, "height": 740},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            geolocation={"latitude": planned["lat"], "longitude": planned["lon"]},
            permissions=["geolocation"],
        )
        # the page opens the visit two minutes before the server's clock: a robot's visit
        ctx.clock.set_fixed_time(NOW - timedelta(minutes=2))
        page = ctx.new_page()
        _sign_in(page, live, "inspector01")
        page.goto(f"{live}/inspections/my")
        page.click("#today-list button.start-visit")
        page.wait_for_selector("#visit-form")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 362, f"the form is {width}px wide on a 360-px screen"
        for it in items[:half]:
            page.locator(f'input[name="a_{it.code}"][value="{it.scale_max}"]').check()
        page.wait_for_function("document.getElementById('draft-status').textContent.length > 0")
        page.screenshot(path=str(tmp_path / "visit-half.png"), full_page=False)
        page.reload()
        page.wait_for_selector("#visit-form")
        for it in items[:half]:
            assert page.locator(
                f'input[name="a_{it.code}"][value="{it.scale_max}"]'
            ).is_checked(), it.code
        for it in items[half:]:
            page.locator(f'input[name="a_{it.code}"][value="{it.scale_max}"]').check()
        # one finding: nobody greeted the inspector
        page.locator('input[name="a_greet_on_entry"][value="0"]').check()
        page.click("#submit-visit")
        page.wait_for_selector("#visit-status")
        assert "/inspections/visits/" in page.url
        vid = int(page.url.split("/inspections/visits/")[1].split("?")[0])
        assert page.evaluate(f"localStorage.getItem('sqm-visit-{vid}')") is None
        browser.close()

    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        v = s.get(InspectionVisit, vid)
        # filled in seconds by a robot: the length check rightly sends it to review;
        # place (geolocation at the store) and date pass
        assert v is not None and v.status == "needs_review"
        assert [r[0] for r in v.review_reasons] == ["too_short"]
        assert 90 < (v.total or 0) < 100
        from sqm.store.models import User

        analyst = s.scalar(select(User).where(User.username == "analyst"))
        assert analyst is not None
        review_visit(s, v, accept=True, reviewer_id=analyst.id, today=NOW.date(), now=NOW)
        s.commit()
        total = v.total

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(
            viewport={"width": 360, "height": 740}, locale="zh-CN"
        ).new_page()
        _sign_in(page, live, "analyst")
        page.goto(f"{live}/inspections/stores/{int(planned['store'])}")
        assert f"{total:.1f}" in page.content()
        browser.close()
