"""The demo organisation: a deterministic, seeded, realistic retail chain (中域电讯).

3 provinces, 12 cities, 36 districts, 300 stores over the four tiers, 40 competitor
stores, 20 inspectors, 12 months of periods, the plan's indicator system with its tier
weight profiles, and one demo login per role. Each capability adds a step to
:data:`DEMO_STEPS` (its survey answers, visits, complaints, network KPIs…); every step
draws from its own random stream, so adding a step never changes another step's data.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import Engine, select

from sqm.domain import plan_indicators
from sqm.domain.org import StoreTier, UnitKind
from sqm.domain.period import months_back
from sqm.domain.roles import Role
from sqm.services.demo_context import DemoContext, DemoStep
from sqm.services.evaluation.indicator_system import upsert_system
from sqm.services.evaluation.weight_profile import upsert_profile
from sqm.services.org_tree import place
from sqm.services.users import create_user, grant
from sqm.store.audit import SYSTEM, acting_as
from sqm.store.engine import make_sessionmaker, transaction
from sqm.store.models import OrgUnit, Period

DEMO_PASSWORD = "sqm-demo-2026"
DEMO_LAST_PERIOD = "2026-11"

#: (province code, zh, en, in the chain's home province, [(city code, zh, en, lat, lon, [districts])])
GEOGRAPHY: list[
    tuple[
        str, str, str, bool, list[tuple[str, str, str, float, float, list[tuple[str, str, bool]]]]
    ]
] = [
    (
        "GD",
        "广东省",
        "Guangdong",
        True,
        [
            (
                "GZ",
                "广州市",
                "Guangzhou",
                23.129,
                113.264,
                [
                    ("天河区", "Tianhe", True),
                    ("越秀区", "Yuexiu", True),
                    ("从化区", "Conghua", False),
                ],
            ),
            (
                "SZ",
                "深圳市",
                "Shenzhen",
                22.543,
                114.058,
                [
                    ("福田区", "Futian", True),
                    ("南山区", "Nanshan", True),
                    ("龙岗区", "Longgang", False),
                ],
            ),
            (
                "FS",
                "佛山市",
                "Foshan",
                23.022,
                113.122,
                [
                    ("禅城区", "Chancheng", True),
                    ("南海区", "Nanhai", True),
                    ("高明区", "Gaoming", False),
                ],
            ),
            (
                "DG",
                "东莞市",
                "Dongguan",
                23.021,
                113.752,
                [
                    ("莞城街道", "Guancheng", True),
                    ("长安镇", "Chang'an", False),
                    ("虎门镇", "Humen", False),
                ],
            ),
        ],
    ),
    (
        "ZJ",
        "浙江省",
        "Zhejiang",
        False,
        [
            (
                "HZ",
                "杭州市",
                "Hangzhou",
                30.274,
                120.155,
                [
                    ("西湖区", "Xihu", True),
                    ("上城区", "Shangcheng", True),
                    ("淳安县", "Chun'an", False),
                ],
            ),
            (
                "NB",
                "宁波市",
                "Ningbo",
                29.868,
                121.544,
                [
                    ("海曙区", "Haishu", True),
                    ("鄞州区", "Yinzhou", True),
                    ("余姚市", "Yuyao", False),
                ],
            ),
            (
                "WZ",
                "温州市",
                "Wenzhou",
                27.994,
                120.699,
                [
                    ("鹿城区", "Lucheng", True),
                    ("瓯海区", "Ouhai", True),
                    ("乐清市", "Yueqing", False),
                ],
            ),
            (
                "SX",
                "绍兴市",
                "Shaoxing",
                30.000,
                120.580,
                [
                    ("越城区", "Yuecheng", True),
                    ("柯桥区", "Keqiao", True),
                    ("诸暨市", "Zhuji", False),
                ],
            ),
        ],
    ),
    (
        "SC",
        "四川省",
        "Sichuan",
        False,
        [
            (
                "CD",
                "成都市",
                "Chengdu",
                30.573,
                104.066,
                [
                    ("锦江区", "Jinjiang", True),
                    ("武侯区", "Wuhou", True),
                    ("简阳市", "Jianyang", False),
                ],
            ),
            (
                "MY",
                "绵阳市",
                "Mianyang",
                31.468,
                104.679,
                [
                    ("涪城区", "Fucheng", True),
                    ("游仙区", "Youxian", True),
                    ("江油市", "Jiangyou", False),
                ],
            ),
            (
                "DY",
                "德阳市",
                "Deyang",
                31.127,
                104.398,
                [
                    ("旌阳区", "Jingyang", True),
                    ("广汉市", "Guanghan", False),
                    ("什邡市", "Shifang", False),
                ],
            ),
            (
                "NC",
                "南充市",
                "Nanchong",
                30.837,
                106.110,
                [
                    ("顺庆区", "Shunqing", True),
                    ("高坪区", "Gaoping", True),
                    ("阆中市", "Langzhong", False),
                ],
            ),
        ],
    ),
]

#: Stores per tier over the whole chain (sums to 300).
TIER_COUNTS = {
    StoreTier.FLAGSHIP_CORE: 24,
    StoreTier.FIRST_LEVEL: 84,
    StoreTier.SUPERMARKET: 108,
    StoreTier.PARTNER: 84,
}
TIER_TRAFFIC = {
    StoreTier.FLAGSHIP_CORE: 9000,
    StoreTier.FIRST_LEVEL: 4500,
    StoreTier.SUPERMARKET: 2500,
    StoreTier.PARTNER: 1200,
}
COMPETITOR_BRANDS = [
    ("迪信通", "D.Phone"),
    ("苏宁易购", "Suning"),
    ("国美", "Gome"),
    ("乐语", "Leyu"),
]
STORE_NAME_PARTS = [
    "中心",
    "广场",
    "大道",
    "天街",
    "步行街",
    "万达",
    "银泰",
    "花园",
    "新城",
    "东门",
    "西站",
    "北路",
    "南湖",
    "体育中心",
    "火车站",
    "大学城",
]


#: The demo's steps in order: (name shown in the progress bar, "module:function").
DEMO_STEPS: list[tuple[str, str]] = [
    ("periods", "sqm.services.demo:build_periods"),
    ("organisation", "sqm.services.demo:build_org"),
    ("indicator system", "sqm.services.demo:build_indicators"),
    ("users", "sqm.services.demo:build_users"),
    ("network", "sqm.services.network.demo:build_demo_network"),
    ("inspections", "sqm.services.inspections.demo:build_demo_inspections"),
    ("complaints", "sqm.services.complaints.demo:build_demo_complaints"),
    ("complaint alerts", "sqm.services.complaints.alerts:build_demo_alerts"),
    ("surveys", "sqm.services.surveys.demo:build_demo_surveys"),
    # Capabilities add their steps above this line; the evaluation runs last.
    ("evaluation", "sqm.services.demo:evaluate_all"),
]


def _step(ref: str) -> DemoStep:
    mod, fn = ref.split(":")
    step: DemoStep = getattr(importlib.import_module(mod), fn)
    return step


def build_periods(ctx: DemoContext) -> None:
    """Twelve monthly periods ending with ``last_period`` plus their quarters and years."""
    months = months_back(ctx.last_period, 12)
    codes: dict[str, Period] = {}
    for m in months:
        codes[m.code] = Period(code=m.code, kind=m.kind, start=m.start, end=m.end, status="closed")
    for m in months:
        q = f"{m.start.year}Q{(m.start.month - 1) // 3 + 1}"
        y = str(m.start.year)
        for code in (q, y):
            if code not in codes:
                from sqm.domain.period import PeriodSpec

                s = PeriodSpec.parse(code)
                codes[code] = Period(
                    code=s.code, kind=s.kind, start=s.start, end=s.end, status="closed"
                )
    codes[months[-1].code].status = "open"
    ctx.session.add_all(codes.values())
    ctx.session.flush()
    ctx.periods = sorted((p for p in codes.values() if p.kind == "month"), key=lambda p: p.code)


def build_org(ctx: DemoContext) -> None:
    """Company, provinces, cities, districts, 300 stores and 40 competitor stores."""
    rng = ctx.rng("org")
    s = ctx.session
    company = OrgUnit(
        code="ZY", name_zh="中域电讯", name_en="Zhongyu Telecom", kind=UnitKind.COMPANY
    )
    place(s, company, None)
    ctx.company = company
    districts: list[tuple[OrgUnit, OrgUnit, bool, bool, float, float]] = []
    for pcode, pzh, pen, home, cities in GEOGRAPHY:
        prov = OrgUnit(code=pcode, name_zh=pzh, name_en=pen, kind=UnitKind.PROVINCE)
        place(s, prov, company)
        ctx.provinces.append(prov)
        for ccode, czh, cen, lat, lon, dists in cities:
            city = OrgUnit(
                code=f"{pcode}-{ccode}",
                name_zh=czh,
                name_en=cen,
                kind=UnitKind.CITY,
                lat=lat,
                lon=lon,
            )
            place(s, city, prov)
            ctx.cities.append(city)
            for i, (dzh, den, is_urban_district) in enumerate(dists, 1):
                dlat = lat + float(rng.normal(0, 0.06))
                dlon = lon + float(rng.normal(0, 0.06))
                d = OrgUnit(
                    code=f"{pcode}-{ccode}-D{i}",
                    name_zh=dzh,
                    name_en=den,
                    kind=UnitKind.DISTRICT,
                    area_type="urban" if is_urban_district else "county",
                    lat=dlat,
                    lon=dlon,
                )
                place(s, d, city)
                districts.append((d, city, is_urban_district, home, dlat, dlon))
    # Tiers: flagship stores in urban districts of every city first, partners mostly in counties.
    urban = [x for x in districts if x[2]]
    county = [x for x in districts if not x[2]]
    plan: list[tuple[StoreTier, tuple[OrgUnit, OrgUnit, bool, bool, float, float]]] = []
    for tier, n in TIER_COUNTS.items():
        pool = (
            urban
            if tier in (StoreTier.FLAGSHIP_CORE, StoreTier.FIRST_LEVEL)
            else urban + county + county
        )
        for k in range(n):
            plan.append((tier, pool[(k * 7 + int(rng.integers(0, 3))) % len(pool)]))
    seq: dict[str, int] = {}
    opened0 = date(2012, 1, 1)
    for tier, (d, city, is_urban, home, dlat, dlon) in plan:
        seq[d.code] = seq.get(d.code, 0) + 1
        part = STORE_NAME_PARTS[int(rng.integers(0, len(STORE_NAME_PARTS)))]
        tz = {
            "flagship_core": "旗舰店",
            "first_level": "营业厅",
            "supermarket": "超市店",
            "partner": "合作店",
        }[tier.value]
        te = {
            "flagship_core": "Flagship",
            "first_level": "Store",
            "supermarket": "Supermarket counter",
            "partner": "Partner store",
        }[tier.value]
        traffic = int(
            TIER_TRAFFIC[tier] * float(rng.lognormal(0, 0.35)) * (1.0 if is_urban else 0.7)
        )
        store = OrgUnit(
            code=f"{d.code}-S{seq[d.code]:02d}",
            name_zh=f"中域{city.name_zh.removesuffix('市')}{d.name_zh}{part}{tz}",
            name_en=f"Zhongyu {city.name_en} {d.name_en} {te} {seq[d.code]}",
            kind=UnitKind.STORE,
            tier=tier,
            in_province=home,
            area_type="urban" if is_urban else "county",
            traffic=traffic,
            customers=int(traffic * float(rng.uniform(2.5, 4.0))),
            lat=round(dlat + float(rng.normal(0, 0.02)), 6),
            lon=round(dlon + float(rng.normal(0, 0.02)), 6),
            opened_on=opened0 + timedelta(days=int(rng.integers(0, 4700))),
        )
        place(s, store, d)
        ctx.stores.append(store)
    # 40 competitor stores, near our urban stores, with the same checklist later.
    for k in range(40):
        d, city, is_urban, home, dlat, dlon = urban[(k * 5) % len(urban)]
        bzh, ben = COMPETITOR_BRANDS[k % len(COMPETITOR_BRANDS)]
        comp = OrgUnit(
            code=f"{d.code}-C{k % 4 + 1:02d}",
            name_zh=f"{bzh}{city.name_zh.removesuffix('市')}{d.name_zh}店",
            name_en=f"{ben} {city.name_en} {d.name_en}",
            kind=UnitKind.COMPETITOR_STORE,
            brand=ben,
            in_province=home,
            area_type="urban",
            traffic=int(4000 * float(rng.lognormal(0, 0.3))),
            lat=round(dlat + float(rng.normal(0, 0.02)), 6),
            lon=round(dlon + float(rng.normal(0, 0.02)), 6),
        )
        if s.scalar(select(OrgUnit.id).where(OrgUnit.code == comp.code)) is not None:
            comp.code = f"{d.code}-C{k + 1:02d}"
        place(s, comp, d)
        ctx.competitors.append(comp)
    s.flush()


def build_indicators(ctx: DemoContext) -> None:
    """The plan's indicator system (published) and its tier × stage weight profiles."""
    zh, en = plan_indicators.SYSTEM_NAME
    out = upsert_system(
        ctx.session, plan_indicators.SYSTEM_CODE, zh, en, plan_indicators.indicator_rows()
    )
    out.system.status = "published"
    codes = [p.code for p in ctx.periods]
    stage_change = codes[len(codes) // 2]
    for prof in plan_indicators.weight_profiles(codes[0], stage_change, codes[len(codes) // 2 - 1]):
        upsert_profile(ctx.session, system=out.system, **prof)


#: Demo logins: (user name, display name, role, scope resolver)
def _demo_logins(ctx: DemoContext) -> list[tuple[str, str, Role, OrgUnit]]:
    assert ctx.company is not None
    gz = next(c for c in ctx.cities if c.code == "GD-GZ")
    store = next(s for s in ctx.stores if s.path.startswith(gz.path))
    return [
        ("admin", "系统管理员", Role.ADMIN, ctx.company),
        ("analyst", "质量分析师 王敏", Role.QUALITY_ANALYST, ctx.company),
        ("exec", "总经理 陈立", Role.VIEWER, ctx.company),
        ("area.gz", "广州片区经理 李强", Role.AREA_MANAGER, gz),
        ("store.manager", f"店长 赵丽({store.name_zh})", Role.STORE_MANAGER, store),
        ("handler", "客服专员 周婷", Role.COMPLAINT_HANDLER, ctx.company),
        ("netops", "网优工程师 孙伟", Role.NETWORK_ENGINEER, ctx.company),
    ]


def build_users(ctx: DemoContext) -> None:
    """One demo login per role, and 20 inspectors with provincial territories."""
    for username, name, role, scope in _demo_logins(ctx):
        u = create_user(ctx.session, username, DEMO_PASSWORD, name)
        grant(ctx.session, None, u, role, scope)
        ctx.users[username] = u
    surnames = "张王李赵刘陈杨黄吴周徐孙马朱胡郭何林罗高"
    given = ["晓明", "海燕", "建华", "丽娟", "志强", "雪梅", "俊杰", "晓东", "秀英", "文博"]
    for i in range(20):
        prov = ctx.provinces[i % len(ctx.provinces)]
        u = create_user(
            ctx.session,
            f"inspector{i + 1:02d}",
            DEMO_PASSWORD,
            f"暗访员 {surnames[i]}{given[i % len(given)]}",
        )
        grant(ctx.session, None, u, Role.INSPECTOR, prov)
        ctx.inspectors.append(u)
        ctx.users[u.username] = u


def evaluate_all(ctx: DemoContext) -> None:
    """Score every demo month from what the earlier steps produced."""
    from sqm.services.evaluation.evaluate import evaluate_period

    for p in ctx.periods:
        evaluate_period(ctx.session, p.code)


def demo_logins_table() -> list[tuple[str, str]]:
    """(user name, role) of the demo logins, for printing."""
    return [
        ("admin", "admin"),
        ("analyst", "quality_analyst"),
        ("exec", "viewer"),
        ("area.gz", "area_manager"),
        ("store.manager", "store_manager"),
        ("handler", "complaint_handler"),
        ("netops", "network_engineer"),
        ("inspector01 … inspector20", "inspector"),
    ]


def run_demo(
    engine: Engine,
    *,
    seed: int = 20261125,
    last_period: str = DEMO_LAST_PERIOD,
    steps: list[tuple[str, str]] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoContext:
    """Fill an empty, migrated database with the demo, all in one transaction per run."""
    factory = make_sessionmaker(engine)
    steps = DEMO_STEPS if steps is None else steps
    with acting_as(SYSTEM), transaction(factory) as session:
        if session.scalar(select(OrgUnit.id).limit(1)) is not None:
            raise RuntimeError("the database is not empty; run `sqm demo --reset` to rebuild it")
        ctx = DemoContext(session=session, seed=seed, last_period=last_period)
        for i, (name, ref) in enumerate(steps):
            if progress:
                progress(name, i, len(steps))
            _step(ref)(ctx)
            session.flush()
        if progress:
            progress("done", len(steps), len(steps))
    return ctx
