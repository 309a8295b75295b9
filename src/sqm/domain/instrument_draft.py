"""Editing an instrument: a *draft* holds every field as the analyst typed it.

An :class:`~sqm.domain.instrument.Instrument` is immutable and always valid; an editor
needs the opposite — something that can be half-filled, re-ordered and wrong for a
while. A :class:`InstrumentDraft` is that: plain strings in a tree of groups, questions
and options. This module

- turns an instrument into a draft (:func:`draft_of`) and a draft into flat
  ``key → values`` pairs (:func:`flatten`) and back (:func:`unflatten`) — the keys are
  the names of the editor's form fields, e.g. ``g0.q2.zh`` (group 0, question 2, Chinese
  text) or ``g1.q0.o3.code`` (an option's code);
- applies the editor's structural edits (:func:`apply_edit`: add / remove / move a
  question, an option, a group, a dimension);
- checks a draft field by field (:func:`check_draft`) and, when every rule holds, builds
  the instrument. Every problem is reported under the key of the field it concerns, with a
  message in Chinese and English, so a page can show it next to that field.

Round trip: ``check_draft(unflatten(flatten(draft_of(inst))))`` gives back an instrument
with the same content hash as ``inst``, so saving an untouched instrument changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqm.domain.errors import RuleError
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
from sqm.domain.instrument_templates import SAT_HIGH, SAT_LOW, SEGMENT_CODES

#: Kinds of instrument the analysis knows (see :mod:`sqm.domain.instrument_templates`).
KINDS: tuple[str, ...] = ("servqual", "intercept", "ecsi", "nps_csat", "staff", "custom")
AUDIENCES: tuple[str, ...] = ("customer", "staff")

RATING_TYPES = frozenset(
    {QuestionType.LIKERT, QuestionType.PAIRED, QuestionType.CSAT, QuestionType.NPS}
)
CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTIPLE})
#: Scale lengths offered per question type (10 points is the ECSI convention).
POINTS: dict[QuestionType, tuple[int, ...]] = {
    QuestionType.LIKERT: (5, 7, 10),
    QuestionType.PAIRED: (5, 7, 10),
    QuestionType.CSAT: (3, 5, 7),
}

INSTRUMENT_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,47}$")
INTEGER = re.compile(r"^-?\d+$")
NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")
NAME_MAX = 200
TEXT_MAX = 1000
LONG_TEXT_MAX = 4000
MAX_LENGTH_LIMIT = 10_000


# ---------------------------------------------------------------- the draft


@dataclass
class ConditionDraft:
    """A show/skip condition as typed: the earlier answer field, the comparison, the value
    (a list for ``in`` is comma-separated: ``"1, 2"``). All empty means "always shown"."""

    field: str = ""
    op: str = ""
    value: str = ""

    @property
    def empty(self) -> bool:
        """Whether nothing was entered (the question or group is always shown)."""
        return not (self.field.strip() or self.op.strip() or self.value.strip())


@dataclass
class OptionDraft:
    """One choice of a single/multiple-choice question."""

    code: str = ""
    zh: str = ""
    en: str = ""


@dataclass
class DimensionDraft:
    """A dimension items belong to."""

    code: str = ""
    zh: str = ""
    en: str = ""


@dataclass
class QuestionDraft:
    """One question as typed; which fields matter depends on ``qtype``."""

    code: str = ""
    qtype: str = QuestionType.LIKERT.value
    zh: str = ""
    en: str = ""
    dimension: str = ""
    required: bool = True
    points: str = "5"
    low_zh: str = ""
    low_en: str = ""
    high_zh: str = ""
    high_en: str = ""
    options: list[OptionDraft] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    facet: str = ""
    item: str = ""
    profile: str = ""
    max_choices: str = ""
    max_length: str = "2000"
    show_if: ConditionDraft = field(default_factory=ConditionDraft)

    @property
    def type(self) -> QuestionType | None:
        """The question type, or None when the typed value is not one."""
        try:
            return QuestionType(self.qtype)
        except ValueError:
            return None


@dataclass
class GroupDraft:
    """A screen of questions."""

    code: str = ""
    zh: str = ""
    en: str = ""
    questions: list[QuestionDraft] = field(default_factory=list)
    show_if: ConditionDraft = field(default_factory=ConditionDraft)


@dataclass
class InstrumentDraft:
    """A whole instrument as typed in the editor."""

    code: str = ""
    name_zh: str = ""
    name_en: str = ""
    kind: str = "custom"
    audience: str = "customer"
    intro_zh: str = ""
    intro_en: str = ""
    thanks_zh: str = ""
    thanks_en: str = ""
    dimensions: list[DimensionDraft] = field(default_factory=list)
    groups: list[GroupDraft] = field(default_factory=list)

    def answer_fields(self) -> list[tuple[str, str]]:
        """``(field name, question code)`` of every answer field the draft would produce, in
        order (a paired item gives ``code_e`` and ``code_p``, a constant sum ``code_part``).

        >>> d = InstrumentDraft(groups=[GroupDraft(questions=[QuestionDraft("T1", "paired")])])
        >>> [f for f, _ in d.answer_fields()]
        ['T1_e', 'T1_p']
        """
        return [(f, q.code) for g in self.groups for q in g.questions for f in question_fields(q)]


def question_fields(q: QuestionDraft) -> list[str]:
    """The answer fields a drafted question would produce (see :mod:`sqm.domain.instrument`).

    >>> question_fields(QuestionDraft("imp", "constant_sum", parts=["a", "b"]))
    ['imp_a', 'imp_b']
    """
    code = q.code.strip()
    if not code:
        return []
    if q.type is QuestionType.PAIRED:
        return [f"{code}_e", f"{code}_p"]
    if q.type is QuestionType.CONSTANT_SUM:
        return [f"{code}_{p}" for p in q.parts]
    return [code]


# ---------------------------------------------------------------- instrument → draft


def _cond_draft(c: Condition | None) -> ConditionDraft:
    if c is None:
        return ConditionDraft()
    if c.value is None:
        value = ""
    elif isinstance(c.value, tuple | list):
        value = ", ".join(str(v) for v in c.value)
    else:
        value = str(c.value)
    return ConditionDraft(c.field, c.op.value, value)


def _text_pair(t: Text | None) -> tuple[str, str]:
    return (t.zh, t.en) if t is not None else ("", "")


def draft_of(inst: Instrument) -> InstrumentDraft:
    """The draft of an instrument, ready to edit.

    >>> from sqm.domain.instrument_templates import nps_csat
    >>> d = draft_of(nps_csat())
    >>> d.groups[0].questions[2].show_if
    ConditionDraft(field='nps', op='le', value='6')
    """
    groups = []
    for g in inst.groups:
        questions = []
        for q in g.questions:
            low_zh, low_en = _text_pair(q.low)
            high_zh, high_en = _text_pair(q.high)
            questions.append(
                QuestionDraft(
                    code=q.code,
                    qtype=q.qtype.value,
                    zh=q.text.zh,
                    en=q.text.en,
                    dimension=q.dimension,
                    required=q.required,
                    points=str(q.points),
                    low_zh=low_zh,
                    low_en=low_en,
                    high_zh=high_zh,
                    high_en=high_en,
                    options=[OptionDraft(str(o.code), o.label.zh, o.label.en) for o in q.options],
                    parts=list(q.parts),
                    facet=q.facet.value if q.facet else "",
                    item=q.item or "",
                    profile=q.profile.value if q.profile else "",
                    max_choices="" if q.max_choices is None else str(q.max_choices),
                    max_length=str(q.max_length),
                    show_if=_cond_draft(q.show_if),
                )
            )
        groups.append(GroupDraft(g.code, g.title.zh, g.title.en, questions, _cond_draft(g.show_if)))
    intro_zh, intro_en = _text_pair(inst.intro)
    thanks_zh, thanks_en = _text_pair(inst.thanks)
    return InstrumentDraft(
        code=inst.code,
        name_zh=inst.name.zh,
        name_en=inst.name.en,
        kind=inst.kind,
        audience=inst.audience,
        intro_zh=intro_zh,
        intro_en=intro_en,
        thanks_zh=thanks_zh,
        thanks_en=thanks_en,
        dimensions=[DimensionDraft(d.code, d.name.zh, d.name.en) for d in inst.dimensions],
        groups=groups,
    )


# ---------------------------------------------------------------- flat form keys

_TOP: tuple[str, ...] = (
    "code",
    "name_zh",
    "name_en",
    "kind",
    "audience",
    "intro_zh",
    "intro_en",
    "thanks_zh",
    "thanks_en",
)
_QUESTION: tuple[str, ...] = (
    "code",
    "type",
    "zh",
    "en",
    "dimension",
    "points",
    "low_zh",
    "low_en",
    "high_zh",
    "high_en",
    "facet",
    "item",
    "profile",
    "max_choices",
    "max_length",
)
_COND = ("if_field", "if_op", "if_value")
_D = re.compile(r"^d(\d+)\.(\w+)$")
_G = re.compile(r"^g(\d+)\.(\w+)$")
_Q = re.compile(r"^g(\d+)\.q(\d+)\.(\w+)$")
_O = re.compile(r"^g(\d+)\.q(\d+)\.o(\d+)\.(\w+)$")


def flatten(draft: InstrumentDraft) -> dict[str, list[str]]:
    """The draft as form fields ``key → values`` (what :func:`unflatten` reads back).

    >>> d = InstrumentDraft("x", groups=[GroupDraft("p1", questions=[QuestionDraft("q1")])])
    >>> flatten(d)["g0.q0.code"], flatten(d)["g0.q0.required"]
    (['q1'], ['1'])
    """
    out: dict[str, list[str]] = {}
    for key in _TOP:
        out[key] = [getattr(draft, key)]
    for i, d in enumerate(draft.dimensions):
        out.update({f"d{i}.code": [d.code], f"d{i}.zh": [d.zh], f"d{i}.en": [d.en]})
    for i, g in enumerate(draft.groups):
        p = f"g{i}."
        out.update({p + "code": [g.code], p + "zh": [g.zh], p + "en": [g.en]})
        out.update(_flat_cond(p, g.show_if))
        for j, q in enumerate(g.questions):
            qp = f"{p}q{j}."
            for key in _QUESTION:
                out[qp + key] = [q.qtype if key == "type" else getattr(q, key)]
            if q.required:
                out[qp + "required"] = ["1"]
            out[qp + "parts"] = list(q.parts)
            out.update(_flat_cond(qp, q.show_if))
            for k, o in enumerate(q.options):
                op = f"{qp}o{k}."
                out.update({op + "code": [o.code], op + "zh": [o.zh], op + "en": [o.en]})
    return out


def _flat_cond(prefix: str, c: ConditionDraft) -> dict[str, list[str]]:
    return {
        prefix + "if_field": [c.field],
        prefix + "if_op": [c.op],
        prefix + "if_value": [c.value],
    }


def unflatten(form: Mapping[str, Sequence[str]]) -> InstrumentDraft:
    """A draft from form fields; an entity exists when its ``code`` key was sent.

    Unknown keys are ignored; a missing text is the empty string; indices need not be
    contiguous (order follows them).

    >>> unflatten({"code": ["x"], "g0.code": ["p"], "g0.q0.code": ["a"]}).groups[0].questions[0].code
    'a'
    """

    def one(key: str) -> str:
        values = form.get(key) or [""]
        return str(values[0]).strip()

    def cond(prefix: str) -> ConditionDraft:
        return ConditionDraft(
            one(prefix + "if_field"), one(prefix + "if_op"), one(prefix + "if_value")
        )

    dims: set[int] = set()
    groups: set[int] = set()
    questions: dict[int, set[int]] = {}
    options: dict[tuple[int, int], set[int]] = {}
    for key in form:
        if m := _D.match(key):
            if m.group(2) == "code":
                dims.add(int(m.group(1)))
        elif m := _G.match(key):
            if m.group(2) == "code":
                groups.add(int(m.group(1)))
        elif m := _Q.match(key):
            if m.group(3) == "code":
                questions.setdefault(int(m.group(1)), set()).add(int(m.group(2)))
        elif (m := _O.match(key)) and m.group(4) == "code":
            options.setdefault((int(m.group(1)), int(m.group(2))), set()).add(int(m.group(3)))
    draft = InstrumentDraft(
        code=one("code"),
        name_zh=one("name_zh"),
        name_en=one("name_en"),
        kind=one("kind") or "custom",
        audience=one("audience") or "customer",
        intro_zh=one("intro_zh"),
        intro_en=one("intro_en"),
        thanks_zh=one("thanks_zh"),
        thanks_en=one("thanks_en"),
    )
    draft.dimensions = [
        DimensionDraft(one(f"d{i}.code"), one(f"d{i}.zh"), one(f"d{i}.en")) for i in sorted(dims)
    ]
    for i in sorted(groups):
        p = f"g{i}."
        group = GroupDraft(one(p + "code"), one(p + "zh"), one(p + "en"), show_if=cond(p))
        for j in sorted(questions.get(i, set())):
            qp = f"{p}q{j}."
            q = QuestionDraft(
                code=one(qp + "code"),
                qtype=one(qp + "type"),
                zh=one(qp + "zh"),
                en=one(qp + "en"),
                dimension=one(qp + "dimension"),
                points=one(qp + "points"),
                low_zh=one(qp + "low_zh"),
                low_en=one(qp + "low_en"),
                high_zh=one(qp + "high_zh"),
                high_en=one(qp + "high_en"),
                facet=one(qp + "facet"),
                item=one(qp + "item"),
                profile=one(qp + "profile"),
                max_choices=one(qp + "max_choices"),
                max_length=one(qp + "max_length"),
                required=bool(one(qp + "required")),
                parts=[str(v).strip() for v in form.get(qp + "parts") or [] if str(v).strip()],
                show_if=cond(qp),
            )
            q.options = [
                OptionDraft(one(f"{qp}o{k}.code"), one(f"{qp}o{k}.zh"), one(f"{qp}o{k}.en"))
                for k in sorted(options.get((i, j), set()))
            ]
            group.questions.append(q)
        draft.groups.append(group)
    return draft


# ---------------------------------------------------------------- structural edits

EDITS: tuple[str, ...] = (
    "add_dimension",
    "remove_dimension",
    "add_group",
    "remove_group",
    "group_up",
    "group_down",
    "add_question",
    "remove_question",
    "question_up",
    "question_down",
    "add_option",
    "remove_option",
    "refresh",
)


def _free_code(prefix: str, taken: Iterable[str]) -> str:
    used = set(taken)
    n = 1
    while f"{prefix}{n}" in used:
        n += 1
    return f"{prefix}{n}"


def new_question(draft: InstrumentDraft) -> QuestionDraft:
    """A fresh 5-point satisfaction question with an unused code (``q1``, ``q2`` …) in the
    first declared dimension."""
    taken = [q.code for g in draft.groups for q in g.questions]
    return QuestionDraft(
        code=_free_code("q", taken),
        dimension=draft.dimensions[0].code if draft.dimensions else "",
        low_zh=SAT_LOW.zh,
        low_en=SAT_LOW.en,
        high_zh=SAT_HIGH.zh,
        high_en=SAT_HIGH.en,
    )


def apply_edit(draft: InstrumentDraft, edit: str) -> tuple[InstrumentDraft, str]:
    """Apply one structural edit and return the draft and the anchor to scroll to.

    ``edit`` is ``name`` or ``name:i[:j[:k]]`` with indices of group ``i``, question ``j``,
    option ``k`` (or dimension ``i``). ``refresh`` changes nothing but fills in what a
    question of its (possibly just changed) type needs: two option rows for a choice
    question, the scale ends for a rating.

    >>> d, anchor = apply_edit(InstrumentDraft(groups=[GroupDraft("p1")]), "add_question:0")
    >>> [q.code for q in d.groups[0].questions], anchor
    (['q1'], 'g0-q0')
    """
    name, _, rest = edit.partition(":")
    if name not in EDITS:
        raise RuleError(f"edit: unknown editor action {edit!r}")
    parts = rest.split(":") if rest else []
    if not all(x.isdigit() for x in parts):
        raise RuleError(f"edit: bad indices in {edit!r}")
    idx = [int(x) for x in parts]
    anchor = ""
    try:
        if name == "add_dimension":
            taken = [d.code for d in draft.dimensions]
            draft.dimensions.append(DimensionDraft(_free_code("dim", taken)))
            anchor = "dimensions"
        elif name == "remove_dimension":
            del draft.dimensions[idx[0]]
            anchor = "dimensions"
        elif name == "add_group":
            taken = [g.code for g in draft.groups]
            draft.groups.append(GroupDraft(_free_code("page", taken)))
            anchor = f"g{len(draft.groups) - 1}"
        elif name == "remove_group":
            del draft.groups[idx[0]]
            anchor = "groups"
        elif name in ("group_up", "group_down"):
            i = idx[0]
            k = i - 1 if name == "group_up" else i + 1
            if 0 <= k < len(draft.groups):
                draft.groups[i], draft.groups[k] = draft.groups[k], draft.groups[i]
                i = k
            anchor = f"g{i}"
        elif name == "add_question":
            group = draft.groups[idx[0]]
            group.questions.append(new_question(draft))
            anchor = f"g{idx[0]}-q{len(group.questions) - 1}"
        elif name == "remove_question":
            del draft.groups[idx[0]].questions[idx[1]]
            anchor = f"g{idx[0]}"
        elif name in ("question_up", "question_down"):
            qs = draft.groups[idx[0]].questions
            j = idx[1]
            k = j - 1 if name == "question_up" else j + 1
            if j >= len(qs):
                raise IndexError(j)
            if 0 <= k < len(qs):
                qs[j], qs[k] = qs[k], qs[j]
                j = k
            anchor = f"g{idx[0]}-q{j}"
        elif name == "add_option":
            q = draft.groups[idx[0]].questions[idx[1]]
            q.options.append(OptionDraft(str(_next_option_code(q))))
            anchor = f"g{idx[0]}-q{idx[1]}"
        elif name == "remove_option":
            del draft.groups[idx[0]].questions[idx[1]].options[idx[2]]
            anchor = f"g{idx[0]}-q{idx[1]}"
        elif name == "refresh" and len(idx) == 2:
            anchor = f"g{idx[0]}-q{idx[1]}"
            if idx[1] >= len(draft.groups[idx[0]].questions):
                raise IndexError(idx[1])
    except IndexError as exc:
        raise RuleError(f"edit: {edit!r} points at nothing in the draft") from exc
    for g in draft.groups:
        for q in g.questions:
            _fill_for_type(q)
    return draft, anchor


def _next_option_code(q: QuestionDraft) -> int:
    codes = [int(o.code) for o in q.options if INTEGER.match(o.code)]
    return max(codes, default=0) + 1


def _fill_for_type(q: QuestionDraft) -> None:
    """What a question of its type needs to be edited: two option rows for a choice, scale
    ends for a rating, a scale length that the type offers."""
    t = q.type
    if t in CHOICE_TYPES:
        while len(q.options) < 2:
            q.options.append(OptionDraft(str(_next_option_code(q))))
    if t in RATING_TYPES and not (q.low_zh or q.low_en or q.high_zh or q.high_en):
        q.low_zh, q.low_en, q.high_zh, q.high_en = SAT_LOW.zh, SAT_LOW.en, SAT_HIGH.zh, SAT_HIGH.en
    if t in POINTS and q.points not in {str(p) for p in POINTS[t]}:
        q.points = "5"


# ---------------------------------------------------------------- checking

REQUIRED = Text("必填", "Required")
_IDENTIFIER_RULE = Text(
    "代码以字母开头，只含字母、数字和下划线（最多 48 个）",
    "A code starts with a letter and has only letters, digits and _ (at most 48)",
)
_INSTRUMENT_CODE_RULE = Text(
    "代码以字母开头，只含字母、数字、_ 和 -（最多 64 个）",
    "A code starts with a letter and has only letters, digits, _ and - (at most 64)",
)


def code_problem(code: str, *, instrument: bool = False) -> Text | None:
    """What is wrong with a code (of an instrument when ``instrument``; else of a
    dimension, group, question or item), or None when it is fine.

    >>> code_problem("q1") is None, code_problem("1q").en[:24], code_problem("").en
    (True, 'A code starts with a let', 'Required')
    """
    if not code:
        return REQUIRED
    if instrument:
        return None if INSTRUMENT_CODE.match(code) else _INSTRUMENT_CODE_RULE
    return None if IDENTIFIER.match(code) else _IDENTIFIER_RULE


class _Errors:
    """Collects field errors (first message per field wins)."""

    def __init__(self) -> None:
        self.by_key: dict[str, Text] = {}

    def add(self, key: str, zh: str, en: str) -> None:
        self.by_key.setdefault(key, Text(zh, en))

    def required(self, key: str, value: str) -> bool:
        if not value:
            self.by_key.setdefault(key, REQUIRED)
            return False
        return True

    def code(self, key: str, value: str, *, instrument: bool = False) -> bool:
        """Record what is wrong with a code; True when it is fine."""
        problem = code_problem(value, instrument=instrument)
        if problem is not None:
            self.by_key.setdefault(key, problem)
        return problem is None

    def text(self, key: str, value: str, limit: int = TEXT_MAX, *, needed: bool = True) -> None:
        if needed and not self.required(key, value):
            return
        if len(value) > limit:
            self.add(key, f"最多 {limit} 个字符", f"At most {limit} characters")

    def pair(self, prefix: str, zh: str, en: str, *, limit: int = TEXT_MAX) -> None:
        """A bilingual text that is optional as a whole, but needs both languages once given."""
        if zh or en:
            self.text(f"{prefix}_zh", zh, limit)
            self.text(f"{prefix}_en", en, limit)


def _scalar(raw: str) -> Any:
    if INTEGER.match(raw):
        return int(raw)
    if NUMBER.match(raw):
        return float(raw)
    return raw


def _check_condition(
    errors: _Errors,
    prefix: str,
    c: ConditionDraft,
    earlier: Mapping[str, QuestionDraft],
) -> Condition | None:
    """The condition typed under ``prefix`` (``g0.`` or ``g0.q1.``), or None when empty or
    wrong (errors recorded)."""
    if c.empty:
        return None
    ok = True
    q = earlier.get(c.field)
    if not c.field:
        errors.add(prefix + "if_field", "请选择前面的题目", "Choose an earlier question")
        ok = False
    elif q is None:
        errors.add(
            prefix + "if_field",
            f"“{c.field}”不是前面题目的答案字段",
            f"{c.field!r} is not an answer field of an earlier question",
        )
        ok = False
    try:
        op = ConditionOp(c.op)
    except ValueError:
        errors.add(prefix + "if_op", "请选择比较方式", "Choose a comparison")
        return None
    if op is ConditionOp.ANSWERED:
        return Condition(c.field, op) if ok else None
    if not c.value:
        errors.add(prefix + "if_value", "请填写比较的值", "Enter the value to compare with")
        return None
    raw = [v.strip() for v in c.value.split(",")] if op is ConditionOp.IN else [c.value]
    if any(not v for v in raw):
        errors.add(prefix + "if_value", "值之间用逗号分隔", "Separate the values by commas")
        return None
    values = [_scalar(v) for v in raw]
    t = q.type if q is not None else None
    if op in (ConditionOp.GE, ConditionOp.LE):
        if not all(isinstance(v, int | float) for v in values):
            errors.add(prefix + "if_value", "请填写数字", "Enter a number")
            return None
        if t in (QuestionType.TEXT, QuestionType.MULTIPLE):
            errors.add(
                prefix + "if_op",
                "文字题和多选题不能比较大小",
                "Open-text and multiple-choice answers cannot be compared by size",
            )
            return None
    if q is not None and t in CHOICE_TYPES:
        codes = {_scalar(o.code) for o in q.options}
        bad = [v for v in values if v not in codes]
        if bad and op is not ConditionOp.GE and op is not ConditionOp.LE:
            errors.add(
                prefix + "if_value",
                f"“{bad[0]}”不是该题的选项代码",
                f"{bad[0]!r} is not an option code of that question",
            )
            return None
    if not ok:
        return None
    value: Any = tuple(values) if op is ConditionOp.IN else values[0]
    return Condition(c.field, op, value)


def _check_question(
    errors: _Errors,
    p: str,
    q: QuestionDraft,
    dims: set[str],
    earlier: Mapping[str, QuestionDraft],
) -> Question | None:
    start = len(errors.by_key)
    errors.code(p + "code", q.code)
    t = q.type
    if t is None:
        errors.add(p + "type", "请选择题型", "Choose a question type")
    errors.text(p + "zh", q.zh)
    errors.text(p + "en", q.en)
    if errors.required(p + "dimension", q.dimension) and q.dimension not in dims:
        errors.add(
            p + "dimension",
            f"维度“{q.dimension}”未定义",
            f"Dimension {q.dimension!r} is not declared",
        )
    points = int(q.points) if INTEGER.match(q.points) else 0
    if t in POINTS and points not in POINTS[t]:
        errors.add(
            p + "points",
            "量表点数可为 " + "、".join(str(x) for x in POINTS[t]),
            "Scale points may be " + ", ".join(str(x) for x in POINTS[t]),
        )
    if t in RATING_TYPES:
        for end in ("low_zh", "low_en", "high_zh", "high_en"):
            errors.text(p + end, getattr(q, end), NAME_MAX)
    options: list[Option] = []
    if t in CHOICE_TYPES:
        if len(q.options) < 2:
            errors.add(p + "options", "至少需要两个选项", "At least two options are needed")
        seen: set[int] = set()
        for k, o in enumerate(q.options):
            op = f"{p}o{k}."
            code: int | None = None
            if errors.required(op + "code", o.code):
                if not INTEGER.match(o.code) or not 0 <= int(o.code) <= 999:
                    errors.add(op + "code", "选项代码是 0–999 的整数", "Option codes are 0–999")
                elif int(o.code) in seen:
                    errors.add(op + "code", "选项代码重复", "This option code is used twice")
                else:
                    code = int(o.code)
                    seen.add(code)
            errors.text(op + "zh", o.zh, NAME_MAX)
            errors.text(op + "en", o.en, NAME_MAX)
            if code is not None:
                options.append(Option(code, Text(o.zh, o.en)))
    max_choices: int | None = None
    if t is QuestionType.MULTIPLE and q.max_choices:
        if not INTEGER.match(q.max_choices) or not 1 <= int(q.max_choices) <= len(q.options):
            errors.add(
                p + "max_choices",
                f"填写 1 到 {len(q.options)} 之间的整数，或留空",
                f"Enter a whole number from 1 to {len(q.options)}, or leave it empty",
            )
        else:
            max_choices = int(q.max_choices)
    max_length = 2000
    if t is QuestionType.TEXT:
        if not INTEGER.match(q.max_length) or not 1 <= int(q.max_length) <= MAX_LENGTH_LIMIT:
            errors.add(
                p + "max_length",
                f"填写 1 到 {MAX_LENGTH_LIMIT} 之间的整数",
                f"Enter a whole number from 1 to {MAX_LENGTH_LIMIT}",
            )
        else:
            max_length = int(q.max_length)
    if t is QuestionType.CONSTANT_SUM:
        real = dims - {PROFILE_DIMENSION}
        if len(q.parts) < 2:
            errors.add(
                p + "parts", "至少选择两个维度来分配分值", "Choose at least two dimensions to share"
            )
        elif len(set(q.parts)) != len(q.parts) or any(x not in real for x in q.parts):
            errors.add(p + "parts", "只能选择已定义的维度", "Choose declared dimensions only")
    facet: Facet | None = None
    if t is QuestionType.LIKERT and q.facet:
        try:
            facet = Facet(q.facet)
        except ValueError:
            errors.add(p + "facet", "请选择期望或感知", "Choose expectation or perception")
    item = q.item if t in (QuestionType.LIKERT, QuestionType.PAIRED) and q.item else None
    if item is not None:
        errors.code(p + "item", item)
    profile: ProfileKind | None = None
    if q.profile:
        try:
            profile = ProfileKind(q.profile)
        except ValueError:
            errors.add(p + "profile", "请选择画像类别", "Choose a kind of profile question")
    if profile is not None:
        if t not in CHOICE_TYPES:
            errors.add(
                p + "profile",
                "画像题须为单选或多选题",
                "A profile question is a single or multiple choice",
            )
        elif q.dimension != PROFILE_DIMENSION:
            errors.add(
                p + "dimension",
                "画像题属于“profile”维度",
                "A profile question belongs to the dimension 'profile'",
            )
        if profile is ProfileKind.SEGMENT:
            _check_segment(errors, p, q)
    show_if = _check_condition(errors, p, q.show_if, earlier)
    if len(errors.by_key) > start or t is None:
        return None
    return Question(
        code=q.code,
        qtype=t,
        text=Text(q.zh, q.en),
        dimension=q.dimension,
        required=q.required,
        points=points if t in POINTS else 5,
        low=Text(q.low_zh, q.low_en) if t in RATING_TYPES else None,
        high=Text(q.high_zh, q.high_en) if t in RATING_TYPES else None,
        options=tuple(options),
        parts=tuple(q.parts) if t is QuestionType.CONSTANT_SUM else (),
        facet=facet,
        item=item,
        profile=profile,
        show_if=show_if,
        max_choices=max_choices,
        max_length=max_length,
    )


def _check_segment(errors: _Errors, p: str, q: QuestionDraft) -> None:
    """Interlocked quotas read the customer segment from the answer ``segment`` coded as
    :data:`SEGMENT_CODES`; a segment question that differs would fill no quota cell."""
    if q.code != "segment":
        errors.add(
            p + "code",
            "客户类型题的代码须为 segment（配额按它统计）",
            "The segment question's code must be 'segment' (quotas count by it)",
        )
    if q.type is not QuestionType.SINGLE:
        errors.add(p + "type", "客户类型题须为单选题", "The segment question is a single choice")
    codes = sorted(int(o.code) for o in q.options if INTEGER.match(o.code))
    if codes != sorted(SEGMENT_CODES):
        pairs = "、".join(f"{c} = {n}" for c, n in SEGMENT_CODES.items())
        errors.add(
            p + "options",
            f"客户类型的选项代码须为 {pairs}",
            f"The segment options must be coded {pairs}",
        )


def check_draft(draft: InstrumentDraft) -> tuple[Instrument | None, dict[str, Text]]:
    """Check every field of a draft; return the instrument (version 1) when all rules hold,
    else ``None`` and the problems by field key.

    Rules beyond the instrument's own (:func:`sqm.domain.instrument.check_instrument`):
    every text in both Chinese and English; rating scales with both ends labelled; codes
    that are identifiers; at least one group, each with at least one question; conditions
    that refer to an earlier answer with a value of the right kind (an option code of a
    choice question); a profile question in the dimension ``profile``; the segment
    question coded as the quotas read it.

    >>> from sqm.domain.instrument_templates import nps_csat
    >>> d = draft_of(nps_csat())
    >>> d.groups[0].questions[0].en = ""
    >>> inst, errors = check_draft(d)
    >>> inst is None, errors["g0.q0.en"].en
    (True, 'Required')
    """
    errors = _Errors()
    errors.code("code", draft.code, instrument=True)
    errors.text("name_zh", draft.name_zh, NAME_MAX)
    errors.text("name_en", draft.name_en, NAME_MAX)
    errors.pair("intro", draft.intro_zh, draft.intro_en, limit=LONG_TEXT_MAX)
    errors.pair("thanks", draft.thanks_zh, draft.thanks_en, limit=LONG_TEXT_MAX)
    if draft.kind not in KINDS:
        errors.add("kind", "未知的问卷类别", "Unknown kind of instrument")
    if draft.audience not in AUDIENCES:
        errors.add("audience", "请选择顾客或员工", "Choose customers or staff")
    dimensions: list[Dimension] = []
    for i, d in enumerate(draft.dimensions):
        p = f"d{i}."
        if errors.code(p + "code", d.code):
            if d.code == PROFILE_DIMENSION:
                errors.add(
                    p + "code",
                    "“profile”是画像题的内置维度",
                    "'profile' is the built-in dimension of profile questions",
                )
            elif d.code in {x.code for x in dimensions}:
                errors.add(p + "code", "维度代码重复", "This dimension code is used twice")
        errors.text(p + "zh", d.zh, NAME_MAX)
        errors.text(p + "en", d.en, NAME_MAX)
        dimensions.append(Dimension(d.code, Text(d.zh, d.en)))
    dim_codes = {d.code for d in draft.dimensions} | {PROFILE_DIMENSION}
    if not draft.groups:
        errors.add("groups", "问卷至少需要一页题目", "An instrument needs at least one group")
    groups: list[Group] = []
    group_codes: set[str] = set()
    question_codes: set[str] = set()
    produced: dict[str, str] = {}  # answer field → question code
    earlier: dict[str, QuestionDraft] = {}
    complete = True
    for i, g in enumerate(draft.groups):
        p = f"g{i}."
        if errors.code(p + "code", g.code):
            if g.code in group_codes:
                errors.add(p + "code", "页代码重复", "This group code is used twice")
            group_codes.add(g.code)
        errors.text(p + "zh", g.zh, NAME_MAX)
        errors.text(p + "en", g.en, NAME_MAX)
        if not g.questions:
            errors.add(f"g{i}", "这一页还没有题目", "This group has no question yet")
        g_show = _check_condition(errors, p, g.show_if, earlier)
        questions: list[Question] = []
        for j, qd in enumerate(g.questions):
            qp = f"{p}q{j}."
            if qd.code and qd.code in question_codes:
                errors.add(qp + "code", "题目代码重复", "This question code is used twice")
            question_codes.add(qd.code)
            for name in question_fields(qd):
                if name in produced and produced[name] != qd.code:
                    errors.add(
                        qp + "code",
                        f"答案字段“{name}”与题目“{produced[name]}”重复",
                        f"Answer field {name!r} is also produced by question {produced[name]!r}",
                    )
            question = _check_question(errors, qp, qd, dim_codes, earlier)
            for name in question_fields(qd):
                produced.setdefault(name, qd.code)
                earlier[name] = qd
            if question is None:
                complete = False
            else:
                questions.append(question)
        if complete:
            groups.append(Group(g.code, Text(g.zh, g.en), tuple(questions), g_show))
    if errors.by_key or not complete:
        return None, errors.by_key
    try:
        inst = Instrument(
            code=draft.code,
            name=Text(draft.name_zh, draft.name_en),
            dimensions=tuple(dimensions),
            groups=tuple(groups),
            kind=draft.kind,
            audience=draft.audience,
            intro=Text(draft.intro_zh, draft.intro_en) if draft.intro_zh else None,
            thanks=Text(draft.thanks_zh, draft.thanks_en) if draft.thanks_zh else None,
        )
    except RuleError as exc:  # a rule of the instrument itself not caught above
        return None, {"": Text(str(exc), str(exc))}
    return inst, {}


def renamed(inst: Instrument, code: str, name: Text) -> Instrument:
    """``inst`` under another code and name, as version 1 (a copy of a template).

    >>> from sqm.domain.instrument_templates import nps_csat
    >>> renamed(nps_csat(), "quick_gz", Text("广州快评", "Guangzhou quick rating")).code
    'quick_gz'
    """
    return replace(inst, code=code, name=name, version=1)
