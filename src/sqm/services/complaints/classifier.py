"""The complaint category suggester as a service: train, persist under var/, retrain from corrections.

The shipped model is trained on generated Chinese and English complaint texts
(:mod:`sqm.domain.complaint_texts`); every category a handler confirms or corrects is a
labelled example, and :func:`retrain` folds those corrections in (weighted above the
generated texts) so the suggestions learn the operator's own wording.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from sqm.domain.complaint_texts import generate
from sqm.methods.text_classifier import ComplaintClassifier, from_bytes, to_bytes, train

DEFAULT_PATH = Path("var") / "models" / "complaint_classifier.pkl"
CORRECTION_WEIGHT = 3.0


def _base_corpus(n_zh: int, n_en: int, seed: int) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for lang, n in (("zh", n_zh), ("en", n_en)):
        for g in generate(n, seed=seed, language="zh" if lang == "zh" else "en"):
            texts.append(g.text)
            labels.append(g.subcategory)
    return texts, labels


def build_default(n_zh: int = 3000, n_en: int = 1500, seed: int = 0) -> ComplaintClassifier:
    """Train the shipped model on generated Chinese and English complaints (about 10 s)."""
    texts, labels = _base_corpus(n_zh, n_en, seed)
    return train(texts, labels, seed=seed)


def retrain(
    corrections: Iterable[tuple[str, str]], n_zh: int = 3000, n_en: int = 1500, seed: int = 0
) -> ComplaintClassifier:
    """Train again on the generated corpus plus confirmed/corrected (text, sub-category) pairs.

    Corrections weigh :data:`CORRECTION_WEIGHT` times a generated text, so a handful of real
    examples of a local phrasing moves the model.
    """
    texts, labels = _base_corpus(n_zh, n_en, seed)
    weights = [1.0] * len(texts)
    for text, label in corrections:
        texts.append(text)
        labels.append(label)
        weights.append(CORRECTION_WEIGHT)
    return train(texts, labels, sample_weight=weights, seed=seed)


def model_path() -> Path:
    """Where the model lives: ``$SQM_MODEL_DIR/complaint_classifier.pkl``, else
    ``<settings.data_dir>/models/complaint_classifier.pkl`` (``./var/models/`` by default)."""
    base = os.environ.get("SQM_MODEL_DIR")
    if base:
        return Path(base) / DEFAULT_PATH.name
    from sqm.config import get_settings

    return Path(get_settings().data_dir) / "models" / DEFAULT_PATH.name


def save(classifier: ComplaintClassifier, path: Path | None = None) -> Path:
    """Write the model atomically (write to a temporary file, then rename)."""
    target = path or model_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(to_bytes(classifier))
    tmp.replace(target)
    return target


def load_or_build(path: Path | None = None) -> ComplaintClassifier:
    """The persisted model, or a freshly trained default (saved for next time)."""
    target = path or model_path()
    if target.exists():
        return from_bytes(target.read_bytes())
    model = build_default()
    save(model, target)
    return model


_LOADED: dict[Path, ComplaintClassifier] = {}


def suggest_if_available(text: str, path: Path | None = None) -> tuple[str, float] | None:
    """The best sub-category for ``text`` and its probability, if a trained model is on disk.

    Never trains on the request path (training takes seconds): without a model file the
    answer is None and the handler picks the category.
    """
    best = suggest_top(text, top=1, path=path)
    return best[0] if best else None


def suggest_top(text: str, top: int = 3, path: Path | None = None) -> list[tuple[str, float]]:
    """The ``top`` most probable sub-categories of ``text`` (empty without a model on disk)."""
    target = path or model_path()
    if not text.strip():
        return []
    model = _LOADED.get(target)
    if model is None:
        if not target.exists():
            return []
        model = from_bytes(target.read_bytes())
        _LOADED[target] = model
    return [(sg.label, sg.probability) for sg in model.suggest([text], top=top)[0]]
