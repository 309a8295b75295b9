"""The shipped complaint vocabulary: categories, channels, classes and statuses.

Everything here is bilingual (Chinese first, as the operators' plans are written)
and stable: codes are what the store and the API carry; names are what pages show.

The categories follow the complaint headings Chinese operators and the regulator
use in their published complaint statistics (网络质量、资费计费、服务态度、终端产品、
宽带装维、增值业务、携号转网、个人信息保护).  Complaints forwarded by the regulator
(工信部/通信管理局转办, 申诉) form a distinct, stricter class with shorter time limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from sqm.domain.errors import RuleError


@dataclass(frozen=True, slots=True)
class SubCategory:
    """A leaf of the taxonomy, e.g. ``network.no_signal`` (无信号/弱覆盖)."""

    code: str
    name_zh: str
    name_en: str

    @property
    def category(self) -> str:
        """Code of the parent category (the part before the dot)."""
        return self.code.split(".", 1)[0]

    def name(self, lang: str = "zh") -> str:
        """Display name in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.name_zh if lang.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class Category:
    """A top-level complaint category with its sub-categories."""

    code: str
    name_zh: str
    name_en: str
    subcategories: tuple[SubCategory, ...]

    def name(self, lang: str = "zh") -> str:
        """Display name in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.name_zh if lang.startswith("zh") else self.name_en


def _cat(code: str, zh: str, en: str, subs: list[tuple[str, str, str]]) -> Category:
    return Category(
        code, zh, en, tuple(SubCategory(f"{code}.{s}", szh, sen) for s, szh, sen in subs)
    )


CATEGORIES: tuple[Category, ...] = (
    _cat(
        "network",
        "网络覆盖与质量",
        "Network coverage and quality",
        [
            ("no_signal", "无信号或弱覆盖", "No signal or weak coverage"),
            ("call_drop", "掉话与通话质量差", "Dropped calls and poor voice quality"),
            ("slow_data", "上网速度慢", "Slow mobile data"),
            ("outage", "网络中断或故障", "Network outage"),
        ],
    ),
    _cat(
        "billing",
        "资费与计费",
        "Billing and charges",
        [
            ("overcharge", "乱扣费或多收费", "Overcharging or unexpected deductions"),
            ("tariff_dispute", "套餐资费争议", "Tariff or plan dispute"),
            ("refund", "退费不到位", "Refund not received"),
            ("invoice", "账单与发票问题", "Bill or invoice problem"),
        ],
    ),
    _cat(
        "service",
        "服务态度",
        "Service attitude",
        [
            ("rude_staff", "工作人员态度恶劣", "Rude or unhelpful staff"),
            ("long_wait", "排队或等待时间过长", "Long waiting time"),
            ("wrong_info", "解释错误或误导", "Wrong or misleading information"),
            ("no_callback", "承诺回复未兑现", "Promised call-back never came"),
        ],
    ),
    _cat(
        "product",
        "产品与终端",
        "Product and handset",
        [
            ("handset_fault", "手机或终端故障", "Handset or device fault"),
            ("sim_card", "SIM卡问题", "SIM card problem"),
            ("warranty", "保修与售后", "Warranty and after-sales"),
        ],
    ),
    _cat(
        "broadband",
        "宽带装维",
        "Broadband installation and repair",
        [
            ("install_delay", "装机延误", "Installation delay"),
            ("repair_delay", "报修处理慢", "Slow repair"),
            ("bb_disconnect", "宽带频繁断线", "Broadband keeps disconnecting"),
            ("bb_speed", "宽带网速不达标", "Broadband slower than contracted"),
        ],
    ),
    _cat(
        "vas",
        "增值业务与订购",
        "Value-added services and subscriptions",
        [
            ("unsolicited_sub", "未经同意订购业务", "Subscribed without consent"),
            ("unsubscribe", "退订困难", "Cannot unsubscribe"),
            ("content_fee", "信息费争议", "Content-fee dispute"),
        ],
    ),
    _cat(
        "porting",
        "携号转网",
        "Number porting",
        [
            ("port_refused", "携转被拒或设限", "Porting refused or obstructed"),
            ("port_delay", "携转办理慢", "Slow porting"),
        ],
    ),
    _cat(
        "privacy",
        "个人信息保护",
        "Privacy",
        [
            ("data_leak", "个人信息泄露", "Personal data leaked"),
            ("spam", "骚扰电话与垃圾短信", "Spam calls and messages"),
            ("realname", "实名登记问题", "Real-name registration problem"),
        ],
    ),
)

_CAT_BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}
_SUB_BY_CODE: dict[str, SubCategory] = {s.code: s for c in CATEGORIES for s in c.subcategories}


def category(code: str) -> Category:
    """Return the category with ``code``; raise ``KeyError`` naming the known codes.

    >>> category("billing").name_en
    'Billing and charges'
    """
    try:
        return _CAT_BY_CODE[code]
    except KeyError:
        raise KeyError(
            f"unknown complaint category {code!r}; known: {sorted(_CAT_BY_CODE)}"
        ) from None


def subcategory(code: str) -> SubCategory:
    """Return the sub-category with ``code`` (``"<category>.<leaf>"``).

    >>> subcategory("network.slow_data").name_zh
    '上网速度慢'
    """
    try:
        return _SUB_BY_CODE[code]
    except KeyError:
        raise KeyError(f"unknown complaint sub-category {code!r}") from None


def all_subcategories() -> Iterator[SubCategory]:
    """Every sub-category, in taxonomy order.

    >>> next(all_subcategories()).code
    'network.no_signal'
    """
    for c in CATEGORIES:
        yield from c.subcategories


class Channel(StrEnum):
    """Where the complaint came in (一点接入: every channel lands in one queue)."""

    HOTLINE = "hotline"
    APP = "app"
    WEB = "web"
    SOCIAL = "social_media"
    STORE = "store_counter"
    EMAIL = "email"
    REGULATOR = "regulator"

    @property
    def name_zh(self) -> str:
        """Chinese display name."""
        return _CHANNEL_NAMES[self][0]

    @property
    def name_en(self) -> str:
        """English display name."""
        return _CHANNEL_NAMES[self][1]


_CHANNEL_NAMES: dict[Channel, tuple[str, str]] = {
    Channel.HOTLINE: ("客服热线", "Hotline"),
    Channel.APP: ("手机营业厅APP", "App"),
    Channel.WEB: ("网上营业厅", "Web"),
    Channel.SOCIAL: ("社交媒体", "Social media"),
    Channel.STORE: ("营业厅柜台", "Store counter"),
    Channel.EMAIL: ("电子邮件", "E-mail"),
    Channel.REGULATOR: ("监管部门转办", "Forwarded by the regulator"),
}


class ComplaintClass(StrEnum):
    """Handling class, which selects the SLA policy.

    ``regulator`` complaints (申诉, forwarded by the regulator) are stricter: shorter limits,
    and the operator's answer is itself reported back to the regulator.
    ``escalated`` marks a customer threatening to go to the regulator or the media (越级投诉风险).
    """

    ORDINARY = "ordinary"
    ESCALATED = "escalated"
    REGULATOR = "regulator"


def default_class(channel: Channel) -> ComplaintClass:
    """The class a complaint gets from its channel alone.

    >>> default_class(Channel.REGULATOR)
    <ComplaintClass.REGULATOR: 'regulator'>
    """
    return ComplaintClass.REGULATOR if channel is Channel.REGULATOR else ComplaintClass.ORDINARY


class Status(StrEnum):
    """Life-cycle of a complaint ticket."""

    NEW = "new"  # 待受理
    ACKNOWLEDGED = "acknowledged"  # 已受理 (first response given)
    IN_PROGRESS = "in_progress"  # 处理中
    PENDING_CUSTOMER = "pending_customer"  # 待客户反馈 (SLA clock may pause)
    RESOLVED = "resolved"  # 已解决 (awaiting customer confirmation / satisfaction)
    CLOSED = "closed"  # 已归档
    REOPENED = "reopened"  # 重新打开
    CANCELLED = "cancelled"  # 撤诉/无效

    @property
    def name_zh(self) -> str:
        """Chinese display name."""
        return _STATUS_NAMES[self][0]

    @property
    def name_en(self) -> str:
        """English display name."""
        return _STATUS_NAMES[self][1]

    @property
    def is_open(self) -> bool:
        """True while the complaint still needs work (its resolution clock runs)."""
        return self not in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)


_STATUS_NAMES: dict[Status, tuple[str, str]] = {
    Status.NEW: ("待受理", "New"),
    Status.ACKNOWLEDGED: ("已受理", "Acknowledged"),
    Status.IN_PROGRESS: ("处理中", "In progress"),
    Status.PENDING_CUSTOMER: ("待客户反馈", "Waiting for customer"),
    Status.RESOLVED: ("已解决", "Resolved"),
    Status.CLOSED: ("已归档", "Closed"),
    Status.REOPENED: ("重新打开", "Reopened"),
    Status.CANCELLED: ("已撤销", "Cancelled"),
}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(
        {Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED, Status.CANCELLED}
    ),
    Status.ACKNOWLEDGED: frozenset(
        {Status.IN_PROGRESS, Status.PENDING_CUSTOMER, Status.RESOLVED, Status.CANCELLED}
    ),
    Status.IN_PROGRESS: frozenset({Status.PENDING_CUSTOMER, Status.RESOLVED, Status.CANCELLED}),
    Status.PENDING_CUSTOMER: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CANCELLED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
    Status.REOPENED: frozenset({Status.IN_PROGRESS, Status.PENDING_CUSTOMER, Status.RESOLVED}),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.CANCELLED: frozenset(),
}


class TransitionError(RuleError):
    """A status change the life-cycle does not allow."""


def check_transition(current: Status, new: Status) -> None:
    """Raise :class:`TransitionError` unless ``current → new`` is an allowed step.

    >>> check_transition(Status.NEW, Status.ACKNOWLEDGED)
    >>> check_transition(Status.CLOSED, Status.NEW)
    Traceback (most recent call last):
    ...
    sqm.domain.complaint_taxonomy.TransitionError: status cannot go from closed to new; allowed: reopened
    """
    allowed = TRANSITIONS[current]
    if new not in allowed:
        names = ", ".join(sorted(s.value for s in allowed)) or "none (final status)"
        raise TransitionError(
            f"status cannot go from {current.value} to {new.value}; allowed: {names}"
        )
