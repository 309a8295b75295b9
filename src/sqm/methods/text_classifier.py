"""Complaint category suggestion from free text (Chinese first, English too).

A linear model over TF-IDF features: words from jieba segmentation (Chinese) or
lower-cased word tokens (English), plus character 1–2-grams, which carry Chinese
meaning even where segmentation splits a term wrongly.  Logistic regression gives a
probability per sub-category, so the page can show the top suggestions with their
confidence and a person confirms or corrects (corrections go into the next training).

Pure numerics: texts and labels in, a fitted model out; persistence is the caller's
(:mod:`sqm.services.complaints.classifier`), via :func:`to_bytes` / :func:`from_bytes`.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import FeatureUnion, Pipeline

from sqm.lazy import lazy_import
from sqm.methods._validation import MethodInputError

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_import("numpy")

__all__ = [
    "ComplaintClassifier",
    "Evaluation",
    "Suggestion",
    "from_bytes",
    "to_bytes",
    "tokenize",
    "train",
]

_HAN = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+(?:'[a-z]+)?|\$?\d+")


def tokenize(text: str) -> list[str]:
    """Words of a complaint: jieba segmentation for Chinese runs, word tokens for the rest.

    >>> tokenize("宽带网速慢 slow Internet")
    ['宽带', '网速慢', 'slow', 'internet']
    """
    import jieba  # imported lazily: loading its dictionary takes a second

    out: list[str] = []
    for piece in _WORD.findall(text.lower()):
        if _HAN.match(piece):
            out.extend(w for w in jieba.lcut(piece) if w.strip())
        else:
            out.append(piece)
    return out


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One suggested label with the model's probability for it."""

    label: str
    probability: float


@dataclass(frozen=True)
class Evaluation:
    """Held-out quality of a classifier: accuracy, macro-F1 and top-3 accuracy."""

    n: int
    accuracy: float
    macro_f1: float
    top3_accuracy: float


class ComplaintClassifier:
    """A fitted complaint classifier: :meth:`suggest`, :meth:`predict`, :meth:`evaluate`."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    @property
    def labels(self) -> list[str]:
        """The labels the model knows, in its internal order."""
        return [str(c) for c in self.pipeline.classes_]

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The most probable label of each text."""
        return [str(p) for p in self.pipeline.predict(_texts(texts))]

    def suggest(self, texts: Sequence[str], top: int = 3) -> list[list[Suggestion]]:
        """The ``top`` most probable labels of each text, most probable first."""
        proba = self.pipeline.predict_proba(_texts(texts))
        order = np.argsort(-proba, axis=1)[:, :top]
        labels = self.labels
        return [
            [Suggestion(labels[j], float(row[j])) for j in idx]
            for row, idx in zip(proba, order, strict=True)
        ]

    def evaluate(self, texts: Sequence[str], labels: Sequence[str]) -> Evaluation:
        """Accuracy, macro-F1 (unweighted mean of per-label F1) and top-3 accuracy on ``texts``.

        Reference: scikit-learn ``accuracy_score`` and ``f1_score(average="macro")``.
        """
        texts = _texts(texts)
        if len(labels) != len(texts):
            raise MethodInputError(
                f"labels must have one value per text ({len(texts)}), got {len(labels)}"
            )
        pred = self.predict(texts)
        top3 = self.suggest(texts, top=3)
        hit3 = np.mean([y in {s.label for s in s3} for y, s3 in zip(labels, top3, strict=True)])
        return Evaluation(
            n=len(texts),
            accuracy=float(accuracy_score(labels, pred)),
            macro_f1=float(f1_score(labels, pred, average="macro", zero_division=0)),
            top3_accuracy=float(hit3),
        )


def _texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise MethodInputError("texts must be a sequence of strings, got a single string")
    out = [("" if t is None else str(t)) for t in texts]
    if not out:
        raise MethodInputError("texts is empty")
    return out


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    sample_weight: Sequence[float] | None = None,
    c: float = 2.0,
    seed: int = 0,
) -> ComplaintClassifier:
    """Fit the TF-IDF (jieba words + character 1–2-grams) + logistic-regression classifier.

    ``sample_weight`` lets confirmed corrections count more than generated texts.

    >>> m = train(["网速很慢", "上网太慢了", "乱扣费", "多扣话费"], ["net", "net", "bill", "bill"])
    >>> m.predict(["扣费不对"])
    ['bill']
    """
    x = _texts(texts)
    if len(labels) != len(x):
        raise MethodInputError(f"labels must have one value per text ({len(x)}), got {len(labels)}")
    if len(set(labels)) < 2:
        raise MethodInputError("labels must contain at least two different categories")
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    tokenizer=tokenize, token_pattern=None, lowercase=False, sublinear_tf=True
                ),
            ),
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)),
        ]
    )
    model = LogisticRegression(C=c, max_iter=2000, random_state=seed)
    pipe = Pipeline([("features", features), ("model", model)])
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    pipe.fit(x, list(labels), model__sample_weight=weights)
    return ComplaintClassifier(pipe)


def to_bytes(classifier: ComplaintClassifier) -> bytes:
    """Serialise a fitted classifier (pickle)."""
    return pickle.dumps(classifier.pipeline, protocol=pickle.HIGHEST_PROTOCOL)


def from_bytes(data: bytes) -> ComplaintClassifier:
    """Load a classifier written by :func:`to_bytes` (only load files you wrote: pickle)."""
    pipeline = pickle.loads(data)  # only our own model files are loaded (see the docstring)
    if not isinstance(pipeline, Pipeline):
        raise MethodInputError(
            f"data does not hold a complaint classifier, got {type(pipeline).__name__}"
        )
    return ComplaintClassifier(pipeline)
