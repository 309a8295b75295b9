"""The customer's survey page and the analyst pages/API, on the foundation demo."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pyreadstat
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from conftest import make_client
from sqm.domain.instrument_templates import SERVQUAL_ITEMS
from sqm.services.surveys.links import LinkSigner


def _signer() -> LinkSigner:
    return LinkSigner(b"test-secret".ljust(16, b"."))


def _servqual_form() -> dict[str, str]:
    form = {f"{c}_{f}": "6" if f == "e" else "5" for c, *_ in SERVQUAL_ITEMS for f in "ep"}
    form.update(
        imp_tangibles="10",
        imp_reliability="30",
        imp_responsiveness="20",
        imp_assurance="20",
        imp_empathy="20",
    )
    form.update(segment="1", age_band="2", tenure="2", product="1", lang="zh")
    return form


def test_customer_answers_and_is_counted(
    demo_engine: Engine, waves: dict[str, object], client_as: Callable[[str], TestClient]
) -> None:
    public = make_client(demo_engine)
    link = "/s/" + _signer().open_link("T-SQ", str(waves["own"]))
    page = public.get(link)
    assert page.status_code == 200
    assert 'name="T1_e"' in page.text and "/static/surveys/survey.js" in page.text
    assert "cdn" not in page.text.lower() and len(page.content) < 150_000
    en = public.get(link + "?lang=en")
    assert "The staff give prompt service" in en.text
    # a bad constant sum comes back with the message next to the field, nothing stored
    bad = dict(_servqual_form(), imp_empathy="25")
    r = public.post(link, data=bad)
    assert r.status_code == 422
    assert re.search(r'id="err-imp"[^>]*>各项分值之和须为 100', r.text)
    r = public.post(link, data=_servqual_form())
    assert r.status_code == 200 and "感谢" in r.text
    analyst = client_as("analyst")
    quota = analyst.get(f"/surveys/{waves['sq']}")
    row = re.search(rf'<tr data-unit="{waves["own"]}".*?class="achieved">(\d+)<', quota.text, re.S)
    assert row and row.group(1) == "1"
    api = analyst.get(f"/api/v1/surveys/waves/{waves['sq']}/responses/count").json()
    assert api["responses"] == 1


def test_refusals_have_clear_pages(demo_engine: Engine, waves: dict[str, object]) -> None:
    public = make_client(demo_engine)
    assert public.get("/s/o.bad.link").status_code == 404
    closed = "/s/" + _signer().open_link("T-C", str(waves["own"]))
    r = public.get(closed)
    assert r.status_code == 410 and "调查已结束" in r.text
    token = f"/s/{waves['token']}"
    assert public.get(token).status_code == 200
    assert public.post(token, data={"nps": "8", "csat": "4", "segment": "2"}).status_code == 200
    again = public.get(token + "?lang=en")
    assert again.status_code == 410 and "already been used" in again.text
    assert public.post(token, data={"nps": "8", "csat": "4", "segment": "2"}).status_code == 410


def test_store_manager_sees_own_stores_only(
    waves: dict[str, object], client_as: Callable[[str], TestClient]
) -> None:
    manager = client_as("store.manager")
    page = manager.get(f"/surveys/{waves['sq']}")
    assert page.status_code == 200
    assert (
        f'data-unit="{waves["own"]}"' in page.text
        and f'data-unit="{waves["other"]}"' not in page.text
    )
    assert manager.get(f"/surveys/{waves['quick']}").status_code == 404
    assert manager.get(f"/api/v1/surveys/waves/{waves['quick']}/analysis").status_code == 404
    assert manager.get(f"/surveys/{waves['sq']}/answers.sav").status_code == 403
    listed = manager.get("/api/v1/surveys/waves").json()["waves"]
    assert waves["quick"] not in [w["id"] for w in listed]


def test_exports_and_analysis(
    demo_engine: Engine,
    waves: dict[str, object],
    client_as: Callable[[str], TestClient],
    tmp_path: Path,
) -> None:
    public = make_client(demo_engine)
    for unit in (waves["own"], waves["other"]):
        link = "/s/" + _signer().open_link("T-SQ", str(unit))
        for k in range(3):
            form = _servqual_form()
            form["T1_p"] = str(3 + k)
            form["segment"] = str(1 + k % 2)
            headers = {"user-agent": f"agent-{unit}-{k}"}
            assert public.post(link, data=form, headers=headers).status_code == 200
    analyst = client_as("analyst")
    sav = analyst.get(f"/surveys/{waves['sq']}/answers.sav")
    assert sav.status_code == 200
    (tmp_path / "a.sav").write_bytes(sav.content)
    df, meta = pyreadstat.read_sav(str(tmp_path / "a.sav"))
    assert len(df) == 6 and meta.column_names_to_labels["T1_p"].startswith("营业厅有现代化的设备")
    report = analyst.get(f"/api/v1/surveys/waves/{waves['sq']}/analysis").json()
    assert report["responses"] == 6
    assert "gaps" in report, report["notes"]
    sq = next(g for g in report["gaps"] if g["code"] == "SQ")
    assert sq["n"] == 6
    weighted = report["gaps_weighted"]
    assert (
        weighted["deff"] >= 1 and next(g for g in weighted["rows"] if g["code"] == "SQ")["moe"] > 0
    )
    page = analyst.get(f"/surveys/{waves['sq']}/analysis")
    assert page.status_code == 200 and 'class="chart"' in page.text
    xlsx = analyst.get(f"/surveys/{waves['sq']}/analysis.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    png = analyst.get(f"/surveys/{waves['sq']}/qr/{waves['own']}.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    svg = analyst.get(f"/surveys/{waves['sq']}/qr/{waves['own']}.svg")
    assert svg.status_code == 200 and b"<svg" in svg.content
    assert analyst.get("/surveys").status_code == 200
    # the sample-size calculator: ±5 points with 2000 customers → 323 (Cochran 1977, §4.4)
    calc = analyst.get("/surveys?margin=5&population=2000")
    assert re.search(r'id="sample-n">323<', calc.text)
    assert "配额进度" in analyst.get(f"/surveys/{waves['sq']}").text  # Chinese by default


def test_import_page_and_amendment_api(
    waves: dict[str, object], client_as: Callable[[str], TestClient]
) -> None:
    analyst = client_as("analyst")
    data = (Path(__file__).parent / "data" / "wjx_nps_csat.csv").read_text(encoding="utf-8")
    data = data.replace("S001", str(waves["other"])).replace("S002", str(waves["other"]))
    r = analyst.post(
        f"/surveys/{waves['quick']}/import",
        files={"file": ("wjx.csv", data.encode("utf-8"), "text/csv")},
        data={"skip_rows": "0"},
    )
    assert r.status_code == 200 and re.search(r'id="import-done">[^<]*<strong>3<', r.text)
    bad = (Path(__file__).parent / "data" / "wjx_nps_csat_bad.csv").read_bytes()
    r = analyst.post(
        f"/surveys/{waves['quick']}/import", files={"file": ("bad.csv", bad, "text/csv")}
    )
    assert r.status_code == 422 and 'id="import-errors"' in r.text and "还行" in r.text
    report = analyst.get(f"/api/v1/surveys/waves/{waves['quick']}/responses/count").json()
    assert report["responses"] == 3
    # amend one imported answer through the API; the manager of another store cannot
    from sqlalchemy import select as sel

    from sqm.store.models import SurveyResponse

    factory = analyst.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory() as s:
        rid = s.scalars(
            sel(SurveyResponse.id).where(SurveyResponse.wave_id == waves["quick"])
        ).first()
    r = analyst.post(
        f"/api/v1/surveys/responses/{rid}/amendments",
        json={"changes": {"csat": 4}, "reason": "customer called back"},
    )
    assert r.status_code == 201 and r.json()["amendments"][0]["new"] == 4
    r = analyst.post(
        f"/api/v1/surveys/responses/{rid}/amendments", json={"changes": {"csat": 9}, "reason": "x"}
    )
    assert r.status_code == 400 or r.status_code == 422
    assert (
        client_as("store.manager")
        .post(
            f"/api/v1/surveys/responses/{rid}/amendments",
            json={"changes": {"csat": 3}, "reason": "x"},
        )
        .status_code
        == 403
    )


def test_posted_answers_are_read_through_the_form_model(
    demo_engine: Engine, waves: dict[str, object]
) -> None:
    """The public form's fields are the instrument's: every posted field reaches the
    instrument, a field sent twice keeps its last value, fields it does not ask are
    dropped, and ``lang`` is the form's own."""
    from sqlalchemy import select

    from sqm.store.engine import make_sessionmaker
    from sqm.store.models import SurveyResponse

    public = make_client(demo_engine)
    link = "/s/" + _signer().open_link("T-SQ", str(waves["own"]))
    form: dict[str, str | list[str]] = dict(_servqual_form(), lang="en", not_a_question="x")
    form["T1_p"] = ["3", "4"]
    r = public.post(link, data=form)
    assert r.status_code == 200 and "Thank you" in r.text
    with make_sessionmaker(demo_engine)() as s:
        stored = s.scalars(
            select(SurveyResponse).where(SurveyResponse.wave_id == waves["sq"])
        ).one()
        assert stored.answers["T1_p"] == 4 and "not_a_question" not in stored.answers
        assert stored.lang == "en"
