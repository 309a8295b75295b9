"""A real browser (Debian's headless Chromium via Playwright) against the real server: a
handler works the queue — opens a complaint, sees its time limits, takes it on and assigns
it — and imports complaint files on the upload page (a small one while the page waits, a
larger one in the background with the progress bar polling)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from conftest import CHROMIUM, serving
from sqm.config import Settings
from sqm.domain.org import UnitKind
from sqm.services.complaints import handling as ch
from sqm.store.models import Complaint, OrgUnit, User
from sqm.web.app import create_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian chromium not installed"),
]
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture
def live(demo_engine: Engine, tmp_path: Path) -> Iterator[str]:
    app = create_app(
        Settings(database_url=str(demo_engine.url), secret_key="browser", data_dir=tmp_path),
        engine=demo_engine,
    )
    with serving(app) as url:
        yield url


@pytest.fixture
def complaints(demo_engine: Engine) -> dict[str, object]:
    """Two open complaints about a Guangzhou store: one just received, one five days old
    and never answered (its first-response limit has passed)."""
    now = datetime.now(UTC)
    with Session(demo_engine) as s:
        store = s.scalar(
            select(OrgUnit)
            .where(OrgUnit.kind == UnitKind.STORE, OrgUnit.code.startswith("GD-GZ"))
            .order_by(OrgUnit.code)
        )
        assert store is not None
        fresh, _ = ch.intake(
            s,
            ch.ComplaintInput(
                "hotline", "B-FRESH", "hotline", now - timedelta(minutes=5), store.code, "网速太慢"
            ),
        )
        old, _ = ch.intake(
            s,
            ch.ComplaintInput(
                "hotline", "B-OLD", "hotline", now - timedelta(days=5), store.code, "多扣了话费"
            ),
        )
        s.commit()
        return {"fresh": fresh.id, "old": old.id, "unit": store.code}


def _sign_in(page, base: str, user: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", "sqm-demo-2026")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _template(unit: str, n: int, prefix: str) -> str:
    rows = [
        f"{prefix}-{i},hotline,2026-11-{1 + i % 20:02d} {8 + i % 10:02d}:15,{unit},"
        f"billing.overcharge,多扣了{i}元"
        for i in range(n)
    ]
    return "投诉编号,渠道,受理时间,所属单位,投诉小类,投诉内容\n" + "\n".join(rows) + "\n"


def test_handler_works_a_complaint_and_imports_files(
    live: str, complaints: dict[str, object], demo_engine: Engine, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    fresh, old, unit = complaints["fresh"], complaints["old"], str(complaints["unit"])
    small = tmp_path / "small.csv"
    small.write_text(_template(unit, 3, "WEB"), encoding="utf-8-sig")
    large = tmp_path / "large.csv"
    large.write_text(_template(unit, 420, "BIG"), encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(locale="zh-CN").new_page()
        _sign_in(page, live, "handler")

        # the queue: the old complaint is overdue, the fresh one still running
        page.goto(f"{live}/complaints?view=team")
        old_row = page.locator("tr", has=page.locator(f'a[href="/complaints/{old}"]'))
        assert "sla-breached" in (old_row.get_attribute("class") or "")
        assert "已超时" in old_row.inner_text()
        page.click(f'a[href="/complaints/{fresh}"]')
        page.wait_for_url(f"**/complaints/{fresh}")
        first_response = page.locator("dt:has-text('首次响应时限') + dd")
        assert "计时中" in first_response.inner_text()

        # take it on: status in progress, assigned to the handler
        status_form = page.locator("form:has(input[name=kind][value=status])")
        status_form.locator("select[name=status]").select_option("in_progress")
        status_form.locator("input[name=body]").fill("已联系客户")
        # wait for the form's own navigation (networkidle can come before it starts)
        with page.expect_navigation():
            status_form.locator("button").click()
        assert "in_progress" in page.locator("h1 .tag").inner_text()
        assert "按时完成" in page.locator("dt:has-text('首次响应时限') + dd").inner_text()
        assign_form = page.locator("form:has(input[name=kind][value=assign])")
        assign_form.locator("select[name=username]").select_option("handler")
        with page.expect_navigation():
            assign_form.locator("button").click()
        assert page.locator("dt:has-text('处理人') + dd").inner_text().strip() == "handler"
        assert (
            "new → in_progress — 已联系客户" in page.locator("section.card ul").first.inner_text()
        )

        # a small file: preview, confirm, imported while the page waits
        page.goto(f"{live}/complaints/upload")
        page.set_input_files("#upload-form input[name=file]", str(small))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#confirm-import")
        assert page.locator('[data-count="importable"]').inner_text() == "3"
        page.click("#confirm-import")
        page.wait_for_selector('#upload-status[data-state="done"]')
        assert page.locator('[data-count="created"]').inner_text() == "3"

        # a larger one: imported in the background, the progress bar polls until done
        page.goto(f"{live}/complaints/upload")
        page.set_input_files("#upload-form input[name=file]", str(large))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#confirm-import")
        polls: list[str] = []
        page.on("request", lambda r: polls.append(r.url) if r.url.endswith("/progress") else None)
        page.click("#confirm-import")
        page.wait_for_selector("#upload-status")
        page.wait_for_selector('#upload-status[data-state="done"]', timeout=60_000)
        assert polls, "the progress bar never polled"
        assert page.locator('[data-count="created"]').inner_text() == "420"
        page.screenshot(path=str(tmp_path / "upload-done.png"), full_page=True)
        browser.close()

    with Session(demo_engine) as s:
        c = s.get(Complaint, fresh)
        handler = s.scalar(select(User).where(User.username == "handler"))
        assert c is not None and handler is not None
        assert c.status == "in_progress" and c.handler_id == handler.id
        assert c.first_response_at is not None
        n = s.scalar(
            select(func.count())
            .select_from(Complaint)
            .where(Complaint.source_id.like("WEB-%") | Complaint.source_id.like("BIG-%"))
        )
        assert n == 3 + 420
