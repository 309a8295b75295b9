"""Survey instruments: questions, dimensions, conditions, versions and answer validation.

An *instrument* (问卷) is what a customer or a member of staff answers. It is made of
question *groups* (one screen each on a phone), every question belongs to a *dimension*
(SERVQUAL tangibles, the intercept item "service attitude", the ECSI block "loyalty", or
``profile`` for respondent profile questions) and every text is bilingual (zh, en).

A question yields one or more *answer fields*; a field is a column of the answers table:

- Likert / CSAT / NPS / single choice / open text → one field named after the question code;
- a paired expectation/perception item (SERVQUAL) → ``<code>_e`` and ``<code>_p``;
- importance by constant sum → one field per part, ``<code>_<part>``, summing to 100;
- multiple choice → one field holding the list of chosen option codes.

Instruments are versioned by a content hash: editing an instrument that already has
answers makes a new version (:func:`revise`), so answers keep the version they were given on.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqm.domain.errors import RuleError

LANGUAGES: tuple[str, ...] = ("zh", "en")
CONSTANT_SUM_TOTAL = 100
PROFILE_DIMENSION = "profile"


class QuestionType(StrEnum):
    """The kinds of question an instrument can hold."""

    LIKERT = "likert"
    PAIRED = "paired"  # expectation and perception of the same item (SERVQUAL)
    CONSTANT_SUM = "constant_sum"  # distribute 100 points of importance over parts
    NPS = "nps"  # 0-10 likelihood to recommend
    CSAT = "csat"  # 1-5 satisfaction with labelled points
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"


class Facet(StrEnum):
    """What a rating measures: what the customer expects, or what they perceived."""

    EXPECTATION = "expectation"
    PERCEPTION = "perception"


class ProfileKind(StrEnum):
    """Respondent profile questions that analysis and quotas rely on."""

    SEGMENT = "segment"  # business / ordinary customer (政企客户 / 普通客户)
    AGE_BAND = "age_band"
    TENURE = "tenure"
    PRODUCT = "product"


class ConditionOp(StrEnum):
    """Comparison used by show/skip conditions."""

    EQ = "eq"
    NE = "ne"
    IN = "in"
    GE = "ge"
    LE = "le"
    ANSWERED = "answered"


@dataclass(frozen=True)
class Text:
    """A bilingual text: Chinese and English.

    >>> Text("服务态度", "Service attitude").get("en")
    'Service attitude'
    """

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """Return the text in ``lang`` ("zh" or "en"); other languages fall back to Chinese."""
        return self.en if lang == "en" else self.zh

    def to_dict(self) -> dict[str, str]:
        """Return ``{"zh": ..., "en": ...}``."""
        return {"zh": self.zh, "en": self.en}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> Text:
        """Build from ``{"zh": ..., "en": ...}``."""
        return cls(zh=str(data["zh"]), en=str(data["en"]))


@dataclass(frozen=True)
class Option:
    """One choice of a single/multiple-choice question: a numeric code and its label."""

    code: int
    label: Text


@dataclass(frozen=True)
class Dimension:
    """A dimension that items belong to (e.g. SERVQUAL ``reliability``)."""

    code: str
    name: Text


@dataclass(frozen=True)
class Condition:
    """Show a question or group only when the answer to ``field`` satisfies ``op value``.

    >>> Condition("segment", ConditionOp.EQ, 1).holds({"segment": 1})
    True
    >>> Condition("nps", ConditionOp.LE, 6).holds({})
    False
    """

    field: str
    op: ConditionOp
    value: Any = None

    def holds(self, answers: Mapping[str, Any]) -> bool:
        """Whether the condition is met by ``answers``; an unanswered field never meets it
        (except that ``ne`` on an unanswered field is not met either: nothing to compare)."""
        got: Any = answers.get(self.field)
        if _is_blank(got):
            return False
        if self.op is ConditionOp.ANSWERED:
            return True
        if isinstance(got, list):
            # A multiple-choice answer meets eq/in when any chosen option matches.
            if self.op is ConditionOp.EQ:
                return self.value in got
            if self.op is ConditionOp.IN:
                return any(v in got for v in self.value)
            if self.op is ConditionOp.NE:
                return self.value not in got
            return False
        if self.op is ConditionOp.EQ:
            return bool(got == self.value)
        if self.op is ConditionOp.NE:
            return bool(got != self.value)
        if self.op is ConditionOp.IN:
            return got in self.value
        try:
            if self.op is ConditionOp.GE:
                return float(got) >= float(self.value)
            return float(got) <= float(self.value)
        except (TypeError, ValueError):
            return False

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"field": self.field, "op": self.op.value, "value": value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Condition:
        """Build from :meth:`to_dict` output."""
        value = data.get("value")
        if isinstance(value, list):
            value = tuple(value)
        return cls(field=str(data["field"]), op=ConditionOp(data["op"]), value=value)


@dataclass(frozen=True)
class AnswerField:
    """One column of the answers table produced by a question.

    ``minimum``/``maximum`` bound numeric fields; ``value_labels`` label coded values
    (used for SPSS value labels); ``item`` names the underlying item of a paired question
    so that ``T1_e`` and ``T1_p`` can be matched.
    """

    name: str
    question: str
    qtype: QuestionType
    dimension: str
    label: Text
    facet: Facet | None = None
    item: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    value_labels: tuple[tuple[int, Text], ...] = ()
    profile: ProfileKind | None = None

    @property
    def numeric(self) -> bool:
        """Whether the field holds one number (ratings, codes, constant-sum points)."""
        return self.qtype not in (QuestionType.TEXT, QuestionType.MULTIPLE)


@dataclass(frozen=True)
class Question:
    """One question of an instrument.

    ``points`` is the scale length of Likert/paired/CSAT questions (5 or 7); ``low``/``high``
    label the scale ends. ``parts`` are the dimension codes a constant-sum question shares
    100 points over. ``facet`` marks a single Likert rating as expectation or perception
    (the staff survey rates expectations only); ``item`` ties such a rating to a SERVQUAL item.
    """

    code: str
    qtype: QuestionType
    text: Text
    dimension: str
    required: bool = True
    points: int = 5
    low: Text | None = None
    high: Text | None = None
    options: tuple[Option, ...] = ()
    parts: tuple[str, ...] = ()
    facet: Facet | None = None
    item: str | None = None
    profile: ProfileKind | None = None
    show_if: Condition | None = None
    max_choices: int | None = None
    max_length: int = 2000

    def fields(self, dimensions: Mapping[str, Dimension] | None = None) -> list[AnswerField]:
        """Return the answer fields this question produces (see the module docstring)."""
        q = self
        if q.qtype is QuestionType.PAIRED:
            return [
                AnswerField(
                    name=f"{q.code}_{suffix}",
                    question=q.code,
                    qtype=q.qtype,
                    dimension=q.dimension,
                    label=Text(f"{q.text.zh}（{tag_zh}）", f"{q.text.en} ({tag_en})"),
                    facet=facet,
                    item=q.item or q.code,
                    minimum=1,
                    maximum=q.points,
                    value_labels=_scale_labels(q),
                )
                for suffix, facet, tag_zh, tag_en in (
                    ("e", Facet.EXPECTATION, "期望", "expectation"),
                    ("p", Facet.PERCEPTION, "感知", "perception"),
                )
            ]
        if q.qtype is QuestionType.CONSTANT_SUM:
            dims = dimensions or {}
            return [
                AnswerField(
                    name=f"{q.code}_{part}",
                    question=q.code,
                    qtype=q.qtype,
                    dimension=part,
                    label=Text(
                        f"{q.text.zh}：{dims[part].name.zh if part in dims else part}",
                        f"{q.text.en}: {dims[part].name.en if part in dims else part}",
                    ),
                    minimum=0,
                    maximum=CONSTANT_SUM_TOTAL,
                )
                for part in q.parts
            ]
        lo, hi = q.scale_range()
        return [
            AnswerField(
                name=q.code,
                question=q.code,
                qtype=q.qtype,
                dimension=q.dimension,
                label=q.text,
                facet=q.facet,
                item=q.item,
                minimum=lo,
                maximum=hi,
                value_labels=_scale_labels(q)
                if q.qtype in (QuestionType.LIKERT, QuestionType.CSAT, QuestionType.NPS)
                else tuple((o.code, o.label) for o in q.options),
                profile=q.profile,
            )
        ]

    def scale_range(self) -> tuple[float | None, float | None]:
        """Return the allowed (minimum, maximum) of a rating, or (None, None)."""
        if self.qtype in (QuestionType.LIKERT, QuestionType.PAIRED, QuestionType.CSAT):
            return 1, self.points
        if self.qtype is QuestionType.NPS:
            return 0, 10
        return None, None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (omits defaults to keep templates readable)."""
        out: dict[str, Any] = {
            "code": self.code,
            "type": self.qtype.value,
            "text": self.text.to_dict(),
            "dimension": self.dimension,
        }
        if not self.required:
            out["required"] = False
        if self.qtype in (QuestionType.LIKERT, QuestionType.PAIRED, QuestionType.CSAT):
            out["points"] = self.points
        if self.low is not None:
            out["low"] = self.low.to_dict()
        if self.high is not None:
            out["high"] = self.high.to_dict()
        if self.options:
            out["options"] = [{"code": o.code, "label": o.label.to_dict()} for o in self.options]
        if self.parts:
            out["parts"] = list(self.parts)
        for key in ("facet", "item", "profile", "max_choices"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value.value if isinstance(value, StrEnum) else value
        if self.show_if is not None:
            out["show_if"] = self.show_if.to_dict()
        if self.max_length != 2000:
            out["max_length"] = self.max_length
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Question:
        """Build from :meth:`to_dict` output."""
        return cls(
            code=str(data["code"]),
            qtype=QuestionType(data["type"]),
            text=Text.from_dict(data["text"]),
            dimension=str(data["dimension"]),
            required=bool(data.get("required", True)),
            points=int(data.get("points", 5)),
            low=Text.from_dict(data["low"]) if "low" in data else None,
            high=Text.from_dict(data["high"]) if "high" in data else None,
            options=tuple(
                Option(int(o["code"]), Text.from_dict(o["label"])) for o in data.get("options", [])
            ),
            parts=tuple(str(p) for p in data.get("parts", [])),
            facet=Facet(data["facet"]) if "facet" in data else None,
            item=str(data["item"]) if "item" in data else None,
            profile=ProfileKind(data["profile"]) if "profile" in data else None,
            show_if=Condition.from_dict(data["show_if"]) if "show_if" in data else None,
            max_choices=int(data["max_choices"]) if "max_choices" in data else None,
            max_length=int(data.get("max_length", 2000)),
        )


@dataclass(frozen=True)
class Group:
    """A group of questions shown together (one screen on a phone)."""

    code: str
    title: Text
    questions: tuple[Question, ...]
    show_if: Condition | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        out: dict[str, Any] = {
            "code": self.code,
            "title": self.title.to_dict(),
            "questions": [q.to_dict() for q in self.questions],
        }
        if self.show_if is not None:
            out["show_if"] = self.show_if.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Group:
        """Build from :meth:`to_dict` output."""
        return cls(
            code=str(data["code"]),
            title=Text.from_dict(data["title"]),
            questions=tuple(Question.from_dict(q) for q in data["questions"]),
            show_if=Condition.from_dict(data["show_if"]) if "show_if" in data else None,
        )


@dataclass(frozen=True)
class Instrument:
    """A versioned, bilingual questionnaire.

    ``kind`` names the template family (``servqual``, ``intercept``, ``ecsi``, ``nps_csat``,
    ``staff``, or ``custom``); ``audience`` is ``customer`` or ``staff``.
    """

    code: str
    name: Text
    dimensions: tuple[Dimension, ...]
    groups: tuple[Group, ...]
    version: int = 1
    kind: str = "custom"
    audience: str = "customer"
    intro: Text | None = None
    thanks: Text | None = None

    def __post_init__(self) -> None:
        check_instrument(self)

    @property
    def questions(self) -> list[Question]:
        """All questions in display order."""
        return [q for g in self.groups for q in g.questions]

    def question(self, code: str) -> Question:
        """Return the question with ``code`` or raise ``KeyError``."""
        for q in self.questions:
            if q.code == code:
                return q
        raise KeyError(code)

    def dimension_map(self) -> dict[str, Dimension]:
        """Dimensions by code."""
        return {d.code: d for d in self.dimensions}

    @functools.cached_property
    def _fields(self) -> tuple[AnswerField, ...]:
        # an instrument is immutable, so its fields are worked out once
        dims = self.dimension_map()
        return tuple(f for q in self.questions for f in q.fields(dims))

    @functools.cached_property
    def _field_map(self) -> dict[str, AnswerField]:
        return {f.name: f for f in self._fields}

    def fields(self) -> list[AnswerField]:
        """All answer fields (columns of the answers table) in display order."""
        return list(self._fields)

    def field_map(self) -> dict[str, AnswerField]:
        """Answer fields by name."""
        return dict(self._field_map)

    def items_by_dimension(self, facet: Facet | None = None) -> dict[str, list[str]]:
        """Rating fields per dimension, optionally only those of one facet.

        >>> from sqm.domain.instrument_templates import servqual
        >>> servqual().items_by_dimension(Facet.PERCEPTION)["tangibles"]
        ['T1_p', 'T2_p', 'T3_p', 'T4_p']
        """
        out: dict[str, list[str]] = {}
        for f in self.fields():
            if f.qtype not in (QuestionType.LIKERT, QuestionType.PAIRED):
                continue
            if facet is not None and f.facet is not facet:
                continue
            out.setdefault(f.dimension, []).append(f.name)
        return out

    def content(self) -> dict[str, Any]:
        """The instrument's content without its version number (what the hash covers)."""
        return {
            "code": self.code,
            "name": self.name.to_dict(),
            "kind": self.kind,
            "audience": self.audience,
            "intro": self.intro.to_dict() if self.intro else None,
            "thanks": self.thanks.to_dict() if self.thanks else None,
            "dimensions": [{"code": d.code, "name": d.name.to_dict()} for d in self.dimensions],
            "groups": [g.to_dict() for g in self.groups],
        }

    @property
    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`content` (hex); equal content, equal hash."""
        canonical = json.dumps(
            self.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict including the version and content hash."""
        return {**self.content(), "version": self.version, "content_hash": self.content_hash}

    def to_json(self) -> str:
        """Pretty JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Instrument:
        """Build from :meth:`to_dict` output; a stated ``content_hash`` must match the content."""
        inst = cls(
            code=str(data["code"]),
            name=Text.from_dict(data["name"]),
            kind=str(data.get("kind", "custom")),
            audience=str(data.get("audience", "customer")),
            intro=Text.from_dict(data["intro"]) if data.get("intro") else None,
            thanks=Text.from_dict(data["thanks"]) if data.get("thanks") else None,
            dimensions=tuple(
                Dimension(str(d["code"]), Text.from_dict(d["name"])) for d in data["dimensions"]
            ),
            groups=tuple(Group.from_dict(g) for g in data["groups"]),
            version=int(data.get("version", 1)),
        )
        stated = data.get("content_hash")
        if stated is not None and stated != inst.content_hash:
            raise RuleError(
                f"instrument {inst.code!r}: content_hash {stated!r} does not match its content "
                f"({inst.content_hash!r}); the definition was altered after it was hashed"
            )
        return inst

    @classmethod
    def from_json(cls, text: str) -> Instrument:
        """Build from JSON text."""
        return cls.from_dict(json.loads(text))


def check_instrument(inst: Instrument) -> None:
    """Raise :class:`RuleError` when an instrument breaks a structural rule.

    Rules: unique question codes and field names, every question in a declared dimension,
    Likert scales of 5 or 7 points, choice questions with unique option codes, constant-sum
    parts that are declared dimensions, conditions that refer to an earlier field.
    """
    dims = {d.code for d in inst.dimensions} | {PROFILE_DIMENSION}
    seen_q: set[str] = set()
    seen_f: set[str] = set()
    earlier: set[str] = set()
    dim_map = {d.code: d for d in inst.dimensions}
    for group in inst.groups:
        if group.show_if is not None and group.show_if.field not in earlier:
            raise RuleError(
                f"group {group.code!r}: show_if refers to {group.show_if.field!r}, which is not "
                "a field of an earlier question"
            )
        for q in group.questions:
            where = f"instrument {inst.code!r}, question {q.code!r}"
            if not q.code.isidentifier():
                raise RuleError(f"{where}: code must be a letter-led identifier")
            if q.code in seen_q:
                raise RuleError(f"{where}: question code used twice")
            seen_q.add(q.code)
            if q.dimension not in dims:
                raise RuleError(
                    f"{where}: dimension {q.dimension!r} is not declared (have {sorted(dims)})"
                )
            if q.qtype in (QuestionType.LIKERT, QuestionType.PAIRED) and q.points not in (5, 7, 10):
                # 10 points is the ECSI/ACSI convention; 5 and 7 are the usual Likert lengths.
                raise RuleError(f"{where}: Likert scales have 5, 7 or 10 points, got {q.points}")
            if q.qtype is QuestionType.CSAT and q.points not in (3, 5, 7):
                raise RuleError(f"{where}: CSAT scales have 3, 5 or 7 points, got {q.points}")
            if q.qtype in (QuestionType.SINGLE, QuestionType.MULTIPLE):
                codes = [o.code for o in q.options]
                if len(codes) < 2 or len(set(codes)) != len(codes):
                    raise RuleError(f"{where}: needs at least two options with unique codes")
            if q.qtype is QuestionType.CONSTANT_SUM:
                if len(q.parts) < 2:
                    raise RuleError(f"{where}: constant sum needs at least two parts")
                missing = [p for p in q.parts if p not in dims]
                if missing:
                    raise RuleError(f"{where}: parts {missing} are not declared dimensions")
            if q.show_if is not None and q.show_if.field not in earlier:
                raise RuleError(
                    f"{where}: show_if refers to {q.show_if.field!r}, which is not a field of an "
                    "earlier question"
                )
            for f in q.fields(dim_map):
                if f.name in seen_f:
                    raise RuleError(f"{where}: answer field {f.name!r} produced twice")
                seen_f.add(f.name)
                earlier.add(f.name)


def _scale_labels(q: Question) -> tuple[tuple[int, Text], ...]:
    lo, hi = q.scale_range()
    if lo is None or hi is None:
        return ()
    labels: list[tuple[int, Text]] = []
    if q.low is not None:
        labels.append((int(lo), q.low))
    if q.high is not None:
        labels.append((int(hi), q.high))
    return tuple(labels)


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and value.strip() == "":
        return True
    return isinstance(value, list | tuple) and len(value) == 0


# ---------------------------------------------------------------- versions


def revise(current: Instrument, edited: Instrument, *, has_answers: bool) -> Instrument:
    """Return the instrument to keep after an edit, applying the versioning rule.

    - same content (equal hash) → ``current`` unchanged;
    - content changed and no answers exist yet → the edit replaces it, same version number;
    - content changed after answers exist → a new version (``current.version + 1``), so the
      answers already given keep the version they were given on.

    >>> from sqm.domain.instrument_templates import nps_csat
    >>> a = nps_csat()
    >>> b = replace(a, name=Text("门店快评", "Store quick check"))
    >>> revise(a, b, has_answers=True).version
    2
    """
    if edited.code != current.code:
        raise RuleError(
            f"edited: code {edited.code!r} differs from {current.code!r}; a revision keeps the code"
        )
    if edited.content_hash == current.content_hash:
        return current
    version = current.version + 1 if has_answers else current.version
    return replace(edited, version=version)


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class FieldError:
    """A validation problem with one answer field, with a message in both languages."""

    field: str
    rule: str
    message: Text

    def to_dict(self) -> dict[str, str]:
        """JSON-ready dict: field, rule, zh, en."""
        return {
            "field": self.field,
            "rule": self.rule,
            "zh": self.message.zh,
            "en": self.message.en,
        }


def visible_questions(inst: Instrument, answers: Mapping[str, Any]) -> list[Question]:
    """Questions shown to a respondent given their answers (group and question conditions)."""
    out: list[Question] = []
    for g in inst.groups:
        if g.show_if is not None and not g.show_if.holds(answers):
            continue
        out.extend(q for q in g.questions if q.show_if is None or q.show_if.holds(answers))
    return out


def validate_answers(
    inst: Instrument,
    answers: Mapping[str, Any],
    *,
    groups: Iterable[str] | None = None,
) -> list[FieldError]:
    """Check one respondent's answers against the instrument; return field-level errors.

    Rules checked: unknown fields; required questions answered (only when shown); answers
    to hidden questions; numbers within the scale (integers for ratings); choice codes among
    the options and at most ``max_choices`` chosen; constant-sum parts are whole numbers 0–100
    that add up to exactly 100; open text within ``max_length``. ``groups`` restricts the
    check to some groups (the phone page validates one group at a time). An empty list
    means the answers are valid.

    >>> from sqm.domain.instrument_templates import nps_csat
    >>> [e.rule for e in validate_answers(nps_csat(), {"nps": 11, "csat": 4, "segment": 1})]
    ['range']
    """
    errors: list[FieldError] = []
    fmap = inst.field_map()
    for name in answers:
        if name not in fmap:
            errors.append(
                FieldError(
                    name,
                    "unknown",
                    Text(f"问卷中没有字段“{name}”", f"No field {name!r} in this survey"),
                )
            )
    wanted = set(groups) if groups is not None else None
    shown = {q.code for q in visible_questions(inst, answers)}
    dims = inst.dimension_map()
    for g in inst.groups:
        if wanted is not None and g.code not in wanted:
            continue
        for q in g.questions:
            q_fields = q.fields(dims)
            given = {f.name: answers.get(f.name) for f in q_fields}
            answered = {k: v for k, v in given.items() if not _is_blank(v)}
            if q.code not in shown:
                for name in answered:
                    errors.append(
                        FieldError(
                            name,
                            "hidden",
                            Text(
                                "此题按条件不应回答",
                                "This question is skipped for your earlier answers",
                            ),
                        )
                    )
                continue
            errors.extend(_check_question(q, q_fields, given, answered))
    return errors


def _check_question(
    q: Question,
    q_fields: Sequence[AnswerField],
    given: Mapping[str, Any],
    answered: Mapping[str, Any],
) -> list[FieldError]:
    errors: list[FieldError] = []
    if q.qtype is QuestionType.CONSTANT_SUM:
        if not answered:
            if q.required:
                errors.append(_required(q_fields[0].name))
            return errors
        total = 0.0
        ok = True
        for f in q_fields:
            value = given[f.name]
            num = 0.0 if _is_blank(value) else _as_number(value)
            if num is None or num != int(num) or not 0 <= num <= CONSTANT_SUM_TOTAL:
                errors.append(
                    FieldError(
                        f.name,
                        "range",
                        Text("请填写 0 到 100 之间的整数", "Enter a whole number from 0 to 100"),
                    )
                )
                ok = False
                continue
            total += num
        if ok and total != CONSTANT_SUM_TOTAL:
            errors.append(
                FieldError(
                    q.code,
                    "constant_sum",
                    Text(
                        f"各项分值之和须为 100，现为 {total:g}",
                        f"The points must add up to 100; they add up to {total:g}",
                    ),
                )
            )
        return errors
    for f in q_fields:
        value = given[f.name]
        if _is_blank(value):
            if q.required:
                errors.append(_required(f.name))
            continue
        if q.qtype is QuestionType.TEXT:
            if not isinstance(value, str):
                errors.append(FieldError(f.name, "type", Text("请填写文字", "Enter text")))
            elif len(value) > q.max_length:
                errors.append(
                    FieldError(
                        f.name,
                        "length",
                        Text(f"最多 {q.max_length} 个字", f"At most {q.max_length} characters"),
                    )
                )
            continue
        if q.qtype is QuestionType.MULTIPLE:
            chosen = value if isinstance(value, list | tuple) else [value]
            codes = {o.code for o in q.options}
            bad = [c for c in chosen if _as_number(c) not in codes]
            if bad:
                errors.append(_not_an_option(f.name, bad[0]))
            elif len(set(chosen)) != len(chosen):
                errors.append(
                    FieldError(f.name, "duplicate", Text("选项重复", "An option is chosen twice"))
                )
            elif q.max_choices is not None and len(chosen) > q.max_choices:
                errors.append(
                    FieldError(
                        f.name,
                        "max_choices",
                        Text(f"最多选择 {q.max_choices} 项", f"Choose at most {q.max_choices}"),
                    )
                )
            continue
        num = _as_number(value)
        if q.qtype is QuestionType.SINGLE:
            if num is None or num not in {o.code for o in q.options}:
                errors.append(_not_an_option(f.name, value))
            continue
        lo, hi = f.minimum, f.maximum
        if (
            num is None
            or num != int(num)
            or (lo is not None and num < lo)
            or (hi is not None and num > hi)
        ):
            errors.append(
                FieldError(
                    f.name,
                    "range",
                    Text(
                        f"请选择 {lo:g} 到 {hi:g} 之间的整数",
                        f"Choose a whole number from {lo:g} to {hi:g}",
                    )
                    if lo is not None and hi is not None
                    else Text("请填写数字", "Enter a number"),
                )
            )
    return errors


def _required(name: str) -> FieldError:
    return FieldError(name, "required", Text("此题必答", "This question is required"))


def _not_an_option(name: str, value: Any) -> FieldError:
    return FieldError(
        name, "option", Text(f"“{value}”不是本题的选项", f"{value!r} is not one of the options")
    )


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def coerce_answers(inst: Instrument, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return answers with numeric fields as ``int``/``float`` and blanks dropped.

    Use after :func:`validate_answers` returned no errors, e.g. on form posts where every
    value arrives as a string.
    """
    fmap = inst.field_map()
    out: dict[str, Any] = {}
    for name, value in answers.items():
        f = fmap.get(name)
        if f is None or _is_blank(value):
            continue
        if f.qtype is QuestionType.MULTIPLE:
            chosen = value if isinstance(value, list | tuple) else [value]
            out[name] = sorted(int(float(c)) for c in chosen)
        elif f.qtype is QuestionType.TEXT:
            out[name] = str(value)
        else:
            num = _as_number(value)
            out[name] = int(num) if num is not None and num == int(num) else num
    return out
