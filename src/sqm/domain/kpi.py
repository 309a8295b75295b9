"""Network KPI definitions: declared, not hand-coded.

A KPI is a ratio of sums over a measurement table (15-minute cell counters or active
test results): ``scale × Σ numerator / Σ denominator``, summed over every cell and
interval of the group before dividing (never a mean of per-cell ratios), or a
time-weighted mean ``Σ value·weight / Σ weight``. Numerator, denominator, value and
weight are small arithmetic expressions over column names (``+ − × /``, numbers,
parentheses), parsed here once so every engine compiles the same definition.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from enum import StrEnum

from sqm.domain.errors import RuleError
from sqm.domain.indicator import Direction

__all__ = [
    "Aggregation",
    "Direction",
    "Expression",
    "KpiDefinition",
    "KpiDefinitionError",
    "KpiFamily",
    "MeasurementSource",
    "Thresholds",
]


class KpiDefinitionError(RuleError):
    """A KPI declaration breaks a rule; the message names the KPI, the field and the rule."""


class Aggregation(StrEnum):
    RATIO_OF_SUMS = "ratio_of_sums"  # scale · Σ num / Σ den
    TIME_WEIGHTED_MEAN = "time_weighted_mean"  # Σ value·weight / Σ weight


class MeasurementSource(StrEnum):
    COUNTERS = "counters"  # one row per cell and 15-minute interval
    TESTS = "tests"  # one row per active test (dial / drive / crowd test)


class KpiFamily(StrEnum):
    """The KPI categories of 3GPP TS 32.450 / TS 28.554 and ETSI TS 102 250-2."""

    ACCESSIBILITY = "accessibility"
    RETAINABILITY = "retainability"
    MOBILITY = "mobility"
    INTEGRITY = "integrity"
    AVAILABILITY = "availability"
    UTILISATION = "utilisation"
    SERVICE = "service"  # ETSI TS 102 250-2 service parameters from active tests


_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.USub,
    ast.Name,
    ast.Load,
    ast.Constant,
)


@dataclass(frozen=True)
class Expression:
    """An arithmetic expression over measurement columns, e.g. ``"ho_att - ho_succ"``.

    >>> Expression.parse("ho_att - ho_succ").columns
    ('ho_att', 'ho_succ')
    >>> Expression.parse("(a + b) * 8").sql()
    '((a + b) * 8)'
    """

    text: str
    tree: ast.expr = field(compare=False, repr=False)
    columns: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, *, where: str = "expression") -> Expression:
        """Parse ``text``; raise :class:`KpiDefinitionError` naming ``where`` if it is not allowed."""
        try:
            module = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise KpiDefinitionError(f"{where}: {text!r} is not an arithmetic expression") from exc
        names: list[str] = []
        for node in ast.walk(module):
            if not isinstance(node, _ALLOWED):
                raise KpiDefinitionError(
                    f"{where}: {text!r} uses {type(node).__name__}; only column names, numbers, "
                    "+ - * / and parentheses are allowed"
                )
            if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
                raise KpiDefinitionError(f"{where}: {text!r} has a non-numeric constant")
            if isinstance(node, ast.Name):
                if not _NAME.match(node.id):
                    raise KpiDefinitionError(
                        f"{where}: column {node.id!r} must be lower_snake_case"
                    )
                if node.id not in names:
                    names.append(node.id)
        return cls(text=text.strip(), tree=module.body, columns=tuple(names))

    def sql(self, column_prefix: str = "") -> str:
        """The expression as SQL text (DuckDB and Spark SQL read it the same way)."""
        return _to_sql(self.tree, column_prefix)


_OPS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def _to_sql(node: ast.expr, prefix: str) -> str:
    if isinstance(node, ast.Name):
        return f"{prefix}{node.id}"
    if isinstance(node, ast.Constant):
        return repr(float(node.value)) if isinstance(node.value, float) else str(node.value)
    if isinstance(node, ast.UnaryOp):
        return f"(-{_to_sql(node.operand, prefix)})"
    if isinstance(node, ast.BinOp):
        left, right = _to_sql(node.left, prefix), _to_sql(node.right, prefix)
        if isinstance(node.op, ast.Div):
            # NULLIF keeps a zero denominator inside one row from raising in any engine.
            return f"({left} / NULLIF({right}, 0))"
        return f"({left} {_OPS[type(node.op)]} {right})"
    raise KpiDefinitionError(f"unsupported node {type(node).__name__}")  # pragma: no cover


@dataclass(frozen=True)
class Thresholds:
    """Verdict bands in the KPI's unit: ``target`` is good, beyond ``critical`` is bad.

    For a higher-is-better KPI: value ≥ target → ok; value < critical → critical;
    otherwise warning. Mirrored for lower-is-better.
    """

    target: float
    critical: float

    def verdict(self, value: float | None, direction: Direction) -> str | None:
        """ "ok", "warning" or "critical" for ``value``; None when there is no value.

        >>> Thresholds(99.0, 97.0).verdict(98.0, Direction.HIGHER_IS_BETTER)
        'warning'
        """
        if value is None:
            return None
        if direction is Direction.HIGHER_IS_BETTER:
            return (
                "ok" if value >= self.target else "critical" if value < self.critical else "warning"
            )
        return "ok" if value <= self.target else "critical" if value > self.critical else "warning"


@dataclass(frozen=True)
class KpiDefinition:
    """One declared KPI.

    ``numerator``/``denominator`` (ratio of sums) or ``numerator`` = value and
    ``denominator`` = weight (time-weighted mean); ``failures`` is what a cell
    contributes to the worst-cell ranking and ``traffic`` its weight for impact;
    ``samples`` is what the minimum-sample guard counts (default: the denominator).
    ``services`` restricts test-result KPIs to those services.
    """

    code: str
    label_en: str
    label_zh: str
    family: KpiFamily
    source: MeasurementSource
    aggregation: Aggregation
    numerator: Expression
    denominator: Expression
    unit: str
    direction: Direction
    standard: str
    scale: float = 1.0
    thresholds: Thresholds | None = None
    min_samples: float = 0.0
    samples: Expression | None = None
    failures: Expression | None = None
    traffic: Expression | None = None
    services: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    description: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        """Every measurement column the KPI reads."""
        out: list[str] = []
        for e in (self.numerator, self.denominator, self.samples, self.failures, self.traffic):
            if e is not None:
                out.extend(c for c in e.columns if c not in out)
        return tuple(out)

    @property
    def sample_expression(self) -> Expression:
        """What the minimum-sample guard counts (attempts, tests, or the weight)."""
        return self.samples or self.denominator

    def label(self, locale: str = "en") -> str:
        """The label in ``locale`` ("zh…" gives Chinese, anything else English)."""
        return self.label_zh if locale.lower().startswith("zh") else self.label_en
