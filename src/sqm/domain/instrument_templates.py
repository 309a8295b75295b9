"""The survey instruments shipped with SQM.

- :func:`servqual` — SERVQUAL, 22 items in 5 dimensions, each rated for expectation and
  perception on a 7-point scale, plus importance of the dimensions by constant sum
  (Parasuraman, Zeithaml & Berry 1988, "SERVQUAL: a multiple-item scale for measuring
  consumer perceptions of service quality", J. Retailing 64(1) 12-40; items adapted to a
  telecom store / 营业厅).  SQ = Σᵢ (Pᵢ − Eᵢ).
- :func:`store_intercept` — the store intercept survey (门店拦截调查) of the chain's plan:
  13 perception items (服务主动性, 客户导向, 服务态度, 人员形象, 人员素质, 商品展示,
  服务流程, 现场管理, 服务环境, 服务设施, 服务展示, 服务效率, 售后解决能力), overall
  satisfaction and NPS, asked of customers who have just bought in the store.
- :func:`ecsi` — a satisfaction-index survey on the ECSI model (image, expectation,
  perceived quality, perceived value, satisfaction, complaints, loyalty; 10-point scales as
  in the ECSI studies, cf. Tenenhaus et al. 2005, "PLS path modeling", CSDA 48, 159-205).
- :func:`nps_csat` — a short NPS + CSAT form with a follow-up question for detractors.
- :func:`staff_survey` — the internal survey (内部调查): staff answer the SERVQUAL expectation
  items as they think customers would; the difference to customers' expectations is gap 1.

Every template is built fresh by its function (instruments are immutable values);
:data:`TEMPLATES` maps template codes to the builders.
"""

from __future__ import annotations

from collections.abc import Callable

from sqm.domain.instrument import (
    PROFILE_DIMENSION,
    Condition,
    ConditionOp,
    Dimension,
    Facet,
    Group,
    Instrument,
    Option,
    ProfileKind,
    Question,
    QuestionType,
    Text,
)

T = Text

AGREE_LOW = T("非常不同意", "Strongly disagree")
AGREE_HIGH = T("非常同意", "Strongly agree")
SAT_LOW = T("非常不满意", "Very dissatisfied")
SAT_HIGH = T("非常满意", "Very satisfied")

SERVQUAL_DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("tangibles", T("有形性", "Tangibles")),
    Dimension("reliability", T("可靠性", "Reliability")),
    Dimension("responsiveness", T("响应性", "Responsiveness")),
    Dimension("assurance", T("保证性", "Assurance")),
    Dimension("empathy", T("移情性", "Empathy")),
)

# (code, dimension, zh, en) — PZB 1988 items 1-22 in their order, worded for a telecom store.
SERVQUAL_ITEMS: tuple[tuple[str, str, str, str], ...] = (
    (
        "T1",
        "tangibles",
        "营业厅有现代化的设备（自助终端、体验机、叫号机）",
        "The store has up-to-date equipment (self-service kiosks, demo phones, queue system)",
    ),
    (
        "T2",
        "tangibles",
        "营业厅的设施外观吸引人",
        "The store's physical facilities are visually appealing",
    ),
    ("T3", "tangibles", "营业员穿着得体、整洁", "The staff are well dressed and neat"),
    (
        "T4",
        "tangibles",
        "宣传资料、价目表和业务单据清楚美观",
        "Leaflets, price lists and service forms are clear and appealing",
    ),
    (
        "R1",
        "reliability",
        "营业厅承诺在某时完成的事（如办卡、维修）会按时完成",
        "When the store promises to do something by a certain time (a SIM, a repair), it does so",
    ),
    (
        "R2",
        "reliability",
        "顾客遇到问题时，营业员真诚地帮助解决",
        "When a customer has a problem, the staff show a sincere interest in solving it",
    ),
    (
        "R3",
        "reliability",
        "营业厅第一次就把业务办对",
        "The store gets the service right the first time",
    ),
    (
        "R4",
        "reliability",
        "营业厅在承诺的时间提供服务",
        "The store provides its services at the time it promises",
    ),
    (
        "R5",
        "reliability",
        "账单、套餐和业务记录准确无误",
        "Bills, plans and service records are kept accurately",
    ),
    (
        "S1",
        "responsiveness",
        "营业员明确告知业务何时办好",
        "The staff tell customers exactly when a service will be done",
    ),
    ("S2", "responsiveness", "营业员提供快速的服务", "The staff give prompt service"),
    (
        "S3",
        "responsiveness",
        "营业员总是愿意帮助顾客",
        "The staff are always willing to help customers",
    ),
    (
        "S4",
        "responsiveness",
        "营业员再忙也会及时回应顾客",
        "The staff are never too busy to respond to a customer's request",
    ),
    (
        "A1",
        "assurance",
        "营业员的行为让顾客信任",
        "The behaviour of the staff instils confidence in customers",
    ),
    (
        "A2",
        "assurance",
        "在营业厅办理业务让人放心（资金、个人信息安全）",
        "Customers feel safe in their transactions (money, personal data)",
    ),
    ("A3", "assurance", "营业员始终礼貌待客", "The staff are consistently courteous"),
    (
        "A4",
        "assurance",
        "营业员有足够的业务知识回答顾客的问题",
        "The staff have the knowledge to answer customers' questions",
    ),
    ("E1", "empathy", "营业厅给予顾客个别的关注", "The store gives customers individual attention"),
    ("E2", "empathy", "营业员给予顾客个性化的服务", "The staff give customers personal attention"),
    (
        "E3",
        "empathy",
        "营业员了解顾客的具体需求",
        "The staff understand the specific needs of their customers",
    ),
    (
        "E4",
        "empathy",
        "营业厅把顾客的利益放在心上",
        "The store has customers' best interests at heart",
    ),
    ("E5", "empathy", "营业时间方便所有顾客", "The opening hours are convenient for all customers"),
)

INTERCEPT_DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("staff", T("人员服务", "Staff")),
    Dimension("process", T("服务过程", "Process")),
    Dimension("environment", T("环境设施", "Environment and facilities")),
    Dimension("overall", T("总体评价", "Overall")),
)

# (code, dimension, short zh name, zh question, en question) — the 13 items of the plan.
INTERCEPT_ITEMS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "Q01",
        "staff",
        "服务主动性",
        "销售人员的服务主动性",
        "Staff take the initiative to serve you",
    ),
    (
        "Q02",
        "staff",
        "客户导向",
        "销售人员的消费引导，介绍最新潮流趋势",
        "Staff guide your choice and tell you about the latest products",
    ),
    ("Q03", "staff", "服务态度", "销售人员的热情度和态度", "Staff are warm and friendly"),
    (
        "Q04",
        "staff",
        "人员形象",
        "销售人员和门店管理人员的形象",
        "Appearance of sales staff and store managers",
    ),
    (
        "Q05",
        "staff",
        "人员素质",
        "销售人员的谈吐、言辞、语气、礼貌与尊重",
        "Staff speak politely and with respect",
    ),
    (
        "Q06",
        "environment",
        "商品展示",
        "门店商品展示有吸引力、利于选购",
        "Merchandise display is attractive and easy to browse",
    ),
    (
        "Q07",
        "process",
        "服务流程",
        "服务流程利于选购，给予顾客适当自由度",
        "The service flow makes buying easy and leaves you free to choose",
    ),
    (
        "Q08",
        "process",
        "现场管理",
        "销售人员的现场管理能力，出现意外时现场不慌乱",
        "Staff keep the floor under control, also when something goes wrong",
    ),
    (
        "Q09",
        "environment",
        "服务环境",
        "门店的舒适度、明亮度、整洁度",
        "The store is comfortable, bright and clean",
    ),
    (
        "Q10",
        "environment",
        "服务设施",
        "门店服务设施齐全，购物时可以休息（如凳、桌）",
        "Facilities are complete, with places to rest (seats, tables)",
    ),
    (
        "Q11",
        "environment",
        "服务展示",
        "服务标准的对外宣传展示，知晓门店的个性化服务",
        "Service standards and special services are displayed and known",
    ),
    (
        "Q12",
        "process",
        "服务效率",
        "收银、充值、下载等服务效率，无较长等候",
        "Paying, top-ups and downloads are quick, without long waits",
    ),
    ("Q13", "process", "售后解决能力", "售后问题的解决能力", "After-sales problems are solved"),
)

ECSI_DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("image", T("企业形象", "Image")),
    Dimension("expectation", T("顾客期望", "Expectation")),
    Dimension("quality", T("感知质量", "Perceived quality")),
    Dimension("value", T("感知价值", "Perceived value")),
    Dimension("satisfaction", T("顾客满意", "Satisfaction")),
    Dimension("complaints", T("顾客抱怨", "Complaints")),
    Dimension("loyalty", T("顾客忠诚", "Loyalty")),
)

ECSI_ITEMS: tuple[tuple[str, str, str, str], ...] = (
    ("IMAG1", "image", "该运营商值得信赖", "The operator can be trusted"),
    (
        "IMAG2",
        "image",
        "该运营商在业内稳定、有实力",
        "The operator is stable and firmly established",
    ),
    ("IMAG3", "image", "该运营商对社会有贡献", "The operator contributes to society"),
    ("IMAG4", "image", "该运营商关心顾客", "The operator is concerned with its customers"),
    ("IMAG5", "image", "该运营商创新、有前瞻性", "The operator is innovative and forward looking"),
    (
        "EXPE1",
        "expectation",
        "入网前对总体质量的期望",
        "Expectations of the overall quality when you joined",
    ),
    (
        "EXPE2",
        "expectation",
        "入网前对满足个人需求的期望",
        "Expectations that it would meet your personal needs",
    ),
    (
        "EXPE3",
        "expectation",
        "入网前对服务可靠性的期望",
        "Expectations of how often things would go wrong",
    ),
    ("QUAL1", "quality", "总体感知质量", "Overall perceived quality"),
    ("QUAL2", "quality", "网络质量和覆盖", "Network quality and coverage"),
    ("QUAL3", "quality", "营业厅和客服的服务质量", "Customer service in stores and on the hotline"),
    ("QUAL4", "quality", "业务和套餐的质量", "Quality of the services and plans you use"),
    ("QUAL5", "quality", "账单清晰准确", "Clear and correct bills"),
    ("VAL1", "value", "相对于价格，服务质量如何", "Quality given the price you pay"),
    ("VAL2", "value", "相对于质量，价格是否合理", "Price given the quality you get"),
    ("SAT1", "satisfaction", "总体满意度", "Overall satisfaction"),
    ("SAT2", "satisfaction", "与您的期望相比", "Fulfilment of your expectations"),
    ("SAT3", "satisfaction", "与理想的运营商相比", "Compared with an ideal operator"),
    (
        "COMP1",
        "complaints",
        "如果投诉过，问题处理得如何",
        "If you complained, how well was it handled",
    ),
    ("LOY1", "loyalty", "下次仍会选择该运营商", "You would choose this operator again"),
    (
        "LOY2",
        "loyalty",
        "若竞争对手降价 10%，仍不转网",
        "You would stay if a competitor were 10% cheaper",
    ),
    ("LOY3", "loyalty", "会向朋友推荐该运营商", "You would recommend the operator to friends"),
)


def _likert(
    code: str,
    dimension: str,
    zh: str,
    en: str,
    *,
    qtype: QuestionType = QuestionType.LIKERT,
    points: int = 5,
    low: Text = SAT_LOW,
    high: Text = SAT_HIGH,
    facet: Facet | None = None,
    item: str | None = None,
    required: bool = True,
) -> Question:
    return Question(
        code=code,
        qtype=qtype,
        text=T(zh, en),
        dimension=dimension,
        points=points,
        low=low,
        high=high,
        facet=facet,
        item=item,
        required=required,
    )


def _choice(code: str, zh: str, en: str, options: list[tuple[str, str]], **kw: object) -> Question:
    return Question(
        code=code,
        qtype=QuestionType.SINGLE,
        text=T(zh, en),
        dimension=PROFILE_DIMENSION,
        options=tuple(Option(i + 1, T(z, e)) for i, (z, e) in enumerate(options)),
        **kw,  # type: ignore[arg-type]
    )


SEGMENT_QUESTION = _choice(
    "segment",
    "您是以下哪类客户？",
    "Which kind of customer are you?",
    [
        ("普通客户（个人/家庭）", "Ordinary customer (personal / family)"),
        ("政企客户（单位业务）", "Business customer (company account)"),
    ],
    profile=ProfileKind.SEGMENT,
)
SEGMENT_CODES: dict[int, str] = {1: "ordinary", 2: "business"}


def _profile_group(*, product: bool = True) -> Group:
    questions = [
        SEGMENT_QUESTION,
        _choice(
            "age_band",
            "您的年龄",
            "Your age",
            [
                ("24 岁及以下", "24 or younger"),
                ("25–34 岁", "25–34"),
                ("35–44 岁", "35–44"),
                ("45–59 岁", "45–59"),
                ("60 岁及以上", "60 or older"),
            ],
            profile=ProfileKind.AGE_BAND,
        ),
        _choice(
            "tenure",
            "您使用本运营商服务多久了？",
            "How long have you been a customer?",
            [
                ("不到 1 年", "Less than 1 year"),
                ("1–3 年", "1–3 years"),
                ("3–5 年", "3–5 years"),
                ("5 年以上", "More than 5 years"),
            ],
            profile=ProfileKind.TENURE,
        ),
    ]
    if product:
        questions.append(
            _choice(
                "product",
                "您今天主要办理/购买的是",
                "What did you mainly come for today?",
                [
                    ("手机终端", "A phone"),
                    ("号卡/套餐", "A SIM or plan"),
                    ("宽带", "Broadband"),
                    ("缴费/充值", "Paying a bill / top-up"),
                    ("售后/维修", "After-sales / repair"),
                    ("其他", "Other"),
                ],
                profile=ProfileKind.PRODUCT,
            )
        )
    return Group("profile", T("关于您", "About you"), tuple(questions))


def _nps(required: bool = True) -> Question:
    return Question(
        code="nps",
        qtype=QuestionType.NPS,
        text=T(
            "您有多大可能向亲友推荐本门店？",
            "How likely are you to recommend this store to a friend or colleague?",
        ),
        dimension="overall",
        low=T("完全不可能", "Not at all likely"),
        high=T("非常可能", "Extremely likely"),
        required=required,
    )


def servqual() -> Instrument:
    """The SERVQUAL questionnaire: 22 paired items (7-point expectation and perception) and
    importance of the five dimensions by a constant sum of 100 points.

    >>> inst = servqual()
    >>> len(inst.questions), len(inst.items_by_dimension(Facet.EXPECTATION))
    (27, 5)
    """
    groups = []
    for dim in SERVQUAL_DIMENSIONS:
        items = [
            _likert(
                code,
                d,
                zh,
                en,
                qtype=QuestionType.PAIRED,
                points=7,
                low=AGREE_LOW,
                high=AGREE_HIGH,
            )
            for code, d, zh, en in SERVQUAL_ITEMS
            if d == dim.code
        ]
        groups.append(Group(dim.code, dim.name, tuple(items)))
    importance = Question(
        code="imp",
        qtype=QuestionType.CONSTANT_SUM,
        text=T(
            "请把 100 分分配给以下五个方面，越重要分越多",
            "Share 100 points among these five aspects, more points for what matters more to you",
        ),
        dimension="tangibles",
        parts=tuple(d.code for d in SERVQUAL_DIMENSIONS),
    )
    groups.append(Group("importance", T("各方面的重要性", "Importance"), (importance,)))
    groups.append(_profile_group())
    return Instrument(
        code="servqual",
        name=T("营业厅服务质量调查（SERVQUAL）", "Store service quality survey (SERVQUAL)"),
        kind="servqual",
        dimensions=SERVQUAL_DIMENSIONS,
        groups=tuple(groups),
        intro=T(
            "每一句话请打两个分：左边是您对一家优秀营业厅的期望，右边是您对本营业厅的实际感受。1 = 非常不同意，7 = 非常同意。",
            "Rate each statement twice: first what you expect of an excellent store, then what you found in this store. 1 = strongly disagree, 7 = strongly agree.",
        ),
        thanks=T("感谢您的宝贵意见！", "Thank you for your feedback!"),
    )


def store_intercept() -> Instrument:
    """The store intercept survey: the plan's 13 perception items (5-point satisfaction),
    overall satisfaction and NPS, with a profile group.

    >>> [q.code for q in store_intercept().questions][:3]
    ['Q01', 'Q02', 'Q03']
    """
    items = [
        _likert(code, dim, f"{short}：{zh}", en) for code, dim, short, zh, en in INTERCEPT_ITEMS
    ]
    # Screens keep the plan's item order; dimensions (staff/process/environment) are for analysis.
    groups = [
        Group("page1", T("销售人员", "Sales staff"), tuple(items[0:5])),
        Group("page2", T("门店与流程", "Store and flow"), tuple(items[5:9])),
        Group("page3", T("设施与效率", "Facilities and efficiency"), tuple(items[9:13])),
    ]
    overall = _likert(
        "overall",
        "overall",
        "总体而言，您对本门店的服务满意吗？",
        "Overall, how satisfied are you with this store's service?",
    )
    improve = Question(
        code="improve",
        qtype=QuestionType.TEXT,
        text=T("您希望本门店最需要改进的是什么？", "What should this store improve first?"),
        dimension="overall",
        required=False,
        max_length=500,
    )
    groups.append(Group("overall", T("总体评价", "Overall"), (overall, _nps(), improve)))
    groups.append(_profile_group())
    return Instrument(
        code="intercept",
        name=T("门店拦截调查", "Store intercept survey"),
        kind="intercept",
        dimensions=INTERCEPT_DIMENSIONS,
        groups=tuple(groups),
        intro=T(
            "您刚在本店完成购买，请就以下方面为本店打分（1 = 非常不满意，5 = 非常满意）。",
            "You have just shopped here: please rate the store (1 = very dissatisfied, 5 = very satisfied).",
        ),
        thanks=T("感谢您的评价！", "Thank you for your rating!"),
    )


def ecsi() -> Instrument:
    """The satisfaction-index survey on the ECSI model (22 items, 10-point scales).

    >>> sorted(ecsi().items_by_dimension())[:3]
    ['complaints', 'expectation', 'image']
    """
    groups = []
    for dim in ECSI_DIMENSIONS:
        items = [
            _likert(
                code, d, zh, en, points=10, low=T("很差", "Very poor"), high=T("很好", "Excellent")
            )
            for code, d, zh, en in ECSI_ITEMS
            if d == dim.code
        ]
        groups.append(Group(dim.code, dim.name, tuple(items)))
    groups.append(_profile_group(product=False))
    return Instrument(
        code="ecsi",
        name=T("顾客满意度指数调查", "Customer satisfaction index survey"),
        kind="ecsi",
        dimensions=ECSI_DIMENSIONS,
        groups=tuple(groups),
        intro=T(
            "请用 1–10 分评价（1 = 很差，10 = 很好）。",
            "Please rate from 1 (very poor) to 10 (excellent).",
        ),
        thanks=T("感谢您的参与！", "Thank you for taking part!"),
    )


def nps_csat() -> Instrument:
    """The short form: NPS (0-10), CSAT (5 points), a reason for low scores, the segment.

    >>> [f.name for f in nps_csat().fields()]
    ['nps', 'csat', 'reason', 'segment']
    """
    csat = Question(
        code="csat",
        qtype=QuestionType.CSAT,
        text=T("您对本次服务满意吗？", "How satisfied are you with today's service?"),
        dimension="overall",
        points=5,
        low=SAT_LOW,
        high=SAT_HIGH,
    )
    reason = Question(
        code="reason",
        qtype=QuestionType.TEXT,
        text=T("请告诉我们哪里做得不好", "Please tell us what went wrong"),
        dimension="overall",
        required=False,
        max_length=500,
        show_if=Condition("nps", ConditionOp.LE, 6),
    )
    return Instrument(
        code="nps_csat",
        name=T("门店快评", "Quick store rating"),
        kind="nps_csat",
        dimensions=(Dimension("overall", T("总体评价", "Overall")),),
        groups=(
            Group("rating", T("您的评价", "Your rating"), (_nps(), csat, reason, SEGMENT_QUESTION)),
        ),
        thanks=T("感谢您的评价！", "Thank you for your rating!"),
    )


def staff_survey() -> Instrument:
    """The internal staff survey: the 22 SERVQUAL expectation items as staff think customers
    would answer them (fields ``T1_e`` … ``E5_e``, the same names as the customers'
    expectations, so gap 1 = staff − customer per item), plus the staff member's role.

    >>> staff_survey().field_map()["T1_e"].item
    'T1'
    """
    groups = []
    for dim in SERVQUAL_DIMENSIONS:
        items = [
            _likert(
                f"{code}_e",
                d,
                f"您认为顾客期望：{zh}",
                f"Customers would expect: {en[0].lower()}{en[1:]}",
                points=7,
                low=AGREE_LOW,
                high=AGREE_HIGH,
                facet=Facet.EXPECTATION,
                item=code,
            )
            for code, d, zh, en in SERVQUAL_ITEMS
            if d == dim.code
        ]
        groups.append(Group(dim.code, dim.name, tuple(items)))
    role = _choice(
        "role",
        "您的岗位",
        "Your role",
        [
            ("营业员", "Sales staff"),
            ("店长", "Store manager"),
            ("片区经理", "Area manager"),
            ("职能部门", "Head office"),
        ],
    )
    groups.append(Group("profile", T("关于您", "About you"), (role,)))
    return Instrument(
        code="staff",
        name=T("内部服务质量调查（员工）", "Internal service quality survey (staff)"),
        kind="staff",
        audience="staff",
        dimensions=SERVQUAL_DIMENSIONS,
        groups=tuple(groups),
        intro=T(
            "请站在顾客的角度，估计顾客对一家优秀营业厅的期望（1 = 非常不同意，7 = 非常同意）。",
            "Put yourself in the customer's place: how much would customers expect each of these of an excellent store? (1 = strongly disagree, 7 = strongly agree)",
        ),
        thanks=T("感谢您的参与！", "Thank you for taking part!"),
    )


TEMPLATES: dict[str, Callable[[], Instrument]] = {
    "servqual": servqual,
    "intercept": store_intercept,
    "ecsi": ecsi,
    "nps_csat": nps_csat,
    "staff": staff_survey,
}
