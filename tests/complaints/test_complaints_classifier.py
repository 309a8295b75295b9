"""Category suggestion from free text as a service: the Comcast titles, persistence and
corrections (the model's own tests — held-out scores, segmentation, input rules — are in
tests/methods/test_text_classifier.py).

Held-out texts come from templates the model never saw (odd-numbered templates when it was
trained on even-numbered ones), so the score measures generalisation, not memory.  The
English check uses the public Comcast titles, weakly labelled by keywords.  Scores are
computed with scikit-learn's accuracy_score and f1_score(average="macro").

Figures on this machine when written (reported in the closing note), 10 Chinese templates
per sub-category, trained on the 5 even-numbered ones: on texts from the 5 unseen templates,
sub-category accuracy 0.63, macro-F1 0.60, top-3 accuracy 0.85, category accuracy 0.75;
Comcast weakly-labelled category accuracy ≈ 0.56 (English model).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sqm.domain.complaint_texts import generate
from sqm.ingest.complaints import load_comcast
from sqm.methods.text_classifier import ComplaintClassifier, from_bytes, to_bytes, train
from sqm.services.complaints import classifier as service


def _corpus(n: int, seed: int, templates: str, language: str = "zh") -> tuple[list[str], list[str]]:
    gs = list(generate(n, seed=seed, templates=templates, language=language))  # type: ignore[arg-type]
    return [g.text for g in gs], [g.subcategory for g in gs]


@pytest.fixture(scope="module")
def zh_model() -> ComplaintClassifier:
    x, y = _corpus(1800, 1, "even")
    return train(x, y)


def _category(labels: list[str]) -> np.ndarray:
    return np.array([label.split(".")[0] for label in labels])


@pytest.mark.slow
def test_comcast_titles_weakly_labelled(comcast_full: Path) -> None:
    titles = load_comcast(comcast_full).complaints["text"].tolist()
    kw = {
        "billing": r"\b(bill|billing|billed|charg\w*|fees?|price|pricing|overcharg\w*|refund|payment|caps?|overage)\b",
        "connectivity": r"\b(internet|speeds?|slow\w*|outages?|connection|connectivity|disconnect\w*|wifi|modem|throttl\w*)\b",
        "service": r"\b(customer service|rude|representative|hold|call back|callback)\b",
    }
    rows = []
    for t in titles:
        hits = [k for k, p in kw.items() if re.search(p, t.lower())]
        if len(hits) == 1:
            rows.append((t, hits[0]))
    assert len(rows) > 1000
    x, y = _corpus(1500, 1, "all", "en")
    model = train(x, y)
    pred = model.predict([t for t, _ in rows])

    def group(code: str) -> str:
        c = code.split(".")[0]
        return "connectivity" if c in ("network", "broadband") else c

    acc = float(np.mean([group(p) == lab for p, (_, lab) in zip(pred, rows, strict=True)]))
    assert acc > 0.45  # three groups, the majority group alone would give 0.52; measured ≈ 0.56


@pytest.mark.slow
def test_persistence_round_trip_and_corrections(
    tmp_path: Path, zh_model: ComplaintClassifier
) -> None:
    texts = ["宽带网速只有几兆", "营业员态度恶劣"]
    again = from_bytes(to_bytes(zh_model))
    assert again.predict(texts) == zh_model.predict(texts)
    path = service.save(zh_model, tmp_path / "m.joblib")
    assert service.load_or_build(path).predict(texts) == zh_model.predict(texts)
    # A local phrase the generated corpus never uses: teach it with corrections.
    phrase = "孙悟空套餐被偷偷升档"
    corrections = [(phrase, "billing.tariff_dispute")] * 3
    model = service.retrain(corrections, n_zh=300, n_en=60)
    assert model.predict([phrase]) == ["billing.tariff_dispute"]
