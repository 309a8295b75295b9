"""The complaint upload page: upload → preview (row errors, fixes) → confirm, all or nothing;
the public Comcast file as it is (BOM, day/month dates, broken row) in a background job."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from conftest import sign_in
from sqm.config import Settings
from sqm.domain.org import UnitKind
from sqm.domain.roles import Role
from sqm.services.complaints import upload as up
from sqm.services.users import create_user, grant
from sqm.store.models import AuditEntry, Complaint, OrgUnit
from sqm.web.app import create_app


@pytest.fixture
def client(demo_engine: Engine, tmp_path: Path) -> Callable[[str], TestClient]:
    """A signed-in client of an app whose data directory is the test's own."""
    app = create_app(
        Settings(database_url=str(demo_engine.url), secret_key="t", data_dir=tmp_path),
        engine=demo_engine,
    )

    def make(user: str) -> TestClient:
        return sign_in(TestClient(app, follow_redirects=False), user)

    return make


def _units(engine: Engine) -> tuple[str, str]:
    """A Guangzhou store and a Chengdu store."""
    with Session(engine) as s:
        gz = s.scalar(
            select(OrgUnit.code)
            .where(OrgUnit.kind == UnitKind.STORE, OrgUnit.code.startswith("GD-GZ"))
            .order_by(OrgUnit.code)
        )
        cd = s.scalar(
            select(OrgUnit.code)
            .where(OrgUnit.kind == UnitKind.STORE, OrgUnit.code.startswith("SC-CD"))
            .order_by(OrgUnit.code)
        )
        assert gz and cd
        return gz, cd


def _upload(c: TestClient, data: bytes, name: str, **fields: str) -> str:
    r = c.post("/complaints/upload", files={"file": (name, data)}, data=fields)
    assert r.status_code == 303, r.text
    token = r.headers["location"].rsplit("/", 1)[1]
    return token


def _count(engine: Engine, source_system: str) -> int:
    with Session(engine) as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(Complaint)
                .where(Complaint.source_system == source_system)
            )
            or 0
        )


def test_template_file_preview_blocks_on_errors_then_imports_all(
    demo_engine: Engine, client: Callable[[str], TestClient]
) -> None:
    gz, _ = _units(demo_engine)
    bad = (
        "投诉编号,渠道,受理时间,所属单位,投诉小类,投诉内容\n"
        f"U-1,热线,2026-11-20 09:15,{gz},billing.refund,退费没到账\n"
        "U-2,app,2026-11-20 10:00,NO-SUCH,network.slow_data,网速慢\n"
        f"U-3,fax,2026-11-20 11:00,{gz},,\n"
    ).encode()
    c = client("handler")
    token = _upload(c, bad, "march.csv", source_system="crm")
    page = c.get(f"/complaints/upload/{token}")
    assert page.status_code == 422 and 'id="upload-blocked"' in page.text
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>(\w+)</td>", page.text)
    assert ("4", "channel") in rows  # the reader's error: nothing else is checked then
    assert 'id="confirm-form"' not in page.text
    assert c.post(f"/complaints/upload/{token}/confirm").status_code == 422
    assert _count(demo_engine, "crm") == 0

    fixed = bad.replace(b",fax,", b",web,")
    token = _upload(c, fixed, "march.csv", source_system="crm")
    page = c.get(f"/complaints/upload/{token}")
    assert page.status_code == 422
    assert re.search(r'<td class="num">3</td><td>unit</td><td><code>NO-SUCH</code>', page.text)

    good = fixed.replace(b"NO-SUCH", gz.encode())
    token = _upload(c, good, "march.csv", source_system="crm")
    page = c.get(f"/complaints/upload/{token}")
    assert page.status_code == 200 and 'id="confirm-import"' in page.text
    assert 'data-count="importable">3<' in page.text and "U-2" in page.text
    assert _count(demo_engine, "crm") == 0  # a preview writes nothing
    r = c.post(f"/complaints/upload/{token}/confirm")
    assert r.status_code == 303
    done = c.get(f"/complaints/upload/{token}")
    assert 'data-state="done"' in done.text, re.findall(
        r"id=\"upload-status\".*?</div>", done.text, re.S
    )
    assert 'data-count="created">3<' in done.text
    assert _count(demo_engine, "crm") == 3
    # confirming again does not import again; uploading the same file again doubles nothing
    assert c.post(f"/complaints/upload/{token}/confirm").status_code == 303
    again = _upload(c, good, "march.csv", source_system="crm")
    c.post(f"/complaints/upload/{again}/confirm")
    page = c.get(f"/complaints/upload/{again}")
    assert 'data-count="created">0<' in page.text and 'data-count="already_known">3<' in page.text
    assert _count(demo_engine, "crm") == 3
    with Session(demo_engine) as s:
        who = s.scalars(
            select(AuditEntry.username).where(
                AuditEntry.entity == "complaint", AuditEntry.action == "create"
            )
        ).all()
        assert set(who) == {"handler"}


def test_gb18030_and_excel_files_are_read(demo_engine: Engine) -> None:
    gz, _ = _units(demo_engine)
    csv = f"投诉编号,渠道,受理时间,所属单位,投诉内容\nG-1,营业厅,2026-11-20 09:15,{gz},态度差\n"
    p = up.read_upload(csv.encode("gb18030"), "gbk.csv")
    assert p.importable and p.frame["channel"].tolist() == ["store_counter"]
    # blank cells are None, not NaN (which intake would take for a sub-category "nan")
    assert p.frame["subcategory"].tolist() == [None] and p.frame["customer_ref"].tolist() == [None]
    assert any("GB18030" in n for n in p.file_notes)
    buf = io.BytesIO()
    pd.read_csv(io.StringIO(csv), dtype=str).to_excel(buf, index=False)
    x = up.read_upload(buf.getvalue(), "book.xlsx")
    assert x.importable and x.frame["source_id"].tolist() == ["G-1"]
    # times without an offset are in the zone chosen with the upload
    assert str(p.frame["received_at"][0]) == "2026-11-20 01:15:00+00:00"
    utc = up.read_upload(csv.encode(), "x.csv", timezone="UTC")
    assert str(utc.frame["received_at"][0]) == "2026-11-20 09:15:00+00:00"


def test_units_outside_the_uploaders_scope_are_row_errors(
    demo_engine: Engine, client: Callable[[str], TestClient]
) -> None:
    gz, cd = _units(demo_engine)
    with Session(demo_engine) as s:
        city = s.scalar(select(OrgUnit).where(OrgUnit.code == "GD-GZ"))
        u = create_user(s, "handler.gz", "sqm-demo-2026", "广州客服")
        grant(s, None, u, Role.COMPLAINT_HANDLER, city)
        s.commit()
    c = client("handler.gz")
    data = (
        "source_id,channel,received_at,unit\n"
        f"S-1,hotline,2026-11-20 09:15,{gz}\nS-2,hotline,2026-11-20 09:15,{cd}\n"
    ).encode()
    token = _upload(c, data, "x.csv")
    page = c.get(f"/complaints/upload/{token}")
    assert page.status_code == 422
    assert re.search(r'<td class="num">3</td><td>unit</td><td><code>' + cd, page.text)
    # a default unit outside the scope is refused as well
    token = _upload(
        c, b"source_id,channel,received_at\nS-3,hotline,2026-11-20\n", "y.csv", default_unit=cd
    )
    assert "default unit" in c.get(f"/complaints/upload/{token}").text
    # another person's upload is not found; a store manager may not upload at all
    other = client("handler")
    assert other.get(f"/complaints/upload/{token}").status_code == 404
    assert other.post(f"/complaints/upload/{token}/confirm").status_code == 404
    assert other.get(f"/complaints/upload/{token}/progress").status_code == 404
    assert client("store.manager").get("/complaints/upload").status_code == 403


@pytest.mark.slow
def test_public_comcast_file_imports_as_it_is_in_the_background(
    demo_engine: Engine, client: Callable[[str], TestClient], comcast_full: Path
) -> None:
    gz, _ = _units(demo_engine)
    c = client("handler")
    token = _upload(
        c,
        comcast_full.read_bytes(),
        comcast_full.name,
        source_system="comcast",
        default_unit=gz,
        timezone="America/New_York",
    )
    page = c.get(f"/complaints/upload/{token}")
    assert page.status_code == 200
    assert 'data-count="read">2224<' in page.text and 'data-count="importable">2223<' in page.text
    assert 'data-count="rejected">1<' in page.text
    rejected = re.search(r'id="upload-rejected".*?</table>', page.text, re.S)
    assert rejected and "1036" in rejected.group(0) and "comcas" in rejected.group(0)
    fixes = re.search(r'id="upload-fixes">(.*?)</ul>', page.text, re.S)
    assert fixes is not None
    # 609 dates read as month-day, 170 zip codes padded (shown in Chinese by default)
    assert re.findall(r"<strong>(\d+)</strong>", fixes.group(1)) == ["609", "170"]
    assert "月-日" in fixes.group(1)
    assert 'name="skip_rejected"' in page.text
    # the broken row is left out only when the person says so
    assert c.post(f"/complaints/upload/{token}/confirm").status_code == 422
    r = c.post(f"/complaints/upload/{token}/confirm", data={"skip_rejected": "1"})
    assert r.status_code == 303
    first = c.get(f"/complaints/upload/{token}")
    assert 'id="upload-status"' in first.text
    deadline = time.monotonic() + 120
    while True:
        frag = c.get(f"/complaints/upload/{token}/progress")
        assert frag.status_code == 200
        state = re.search(r'data-state="(\w+)"', frag.text)
        assert state is not None
        if state.group(1) != "running":
            break
        assert 'hx-get="/complaints/upload/' in frag.text and "<progress" in frag.text
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.3)
    assert state.group(1) == "done", frag.text
    assert 'data-count="created">2223<' in frag.text and "hx-get" not in frag.text
    with Session(demo_engine) as s:
        times = pd.to_datetime(
            pd.Series(
                s.scalars(
                    select(Complaint.received_at).where(Complaint.source_system == "comcast")
                ).all()
            ),
            utc=True,
        ).dt.tz_convert("America/New_York")
    assert len(times) == 2223
    # the repaired dates: all of Q2 2015, as the README's check found
    assert times.min() >= pd.Timestamp("2015-04-01", tz="America/New_York")
    assert times.max() < pd.Timestamp("2015-07-01", tz="America/New_York")
