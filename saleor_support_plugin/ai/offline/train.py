"""Train the offline intent model from the examples in the repository (``make train``).

Deterministic: the split is a hash of each text, the solver is seeded and the examples are read in file
order, so the same data gives byte-identical artefacts. Needs the ``train`` extra (scikit-learn); the
running app only needs numpy to use what this writes.

    python -m saleor_support_plugin.ai.offline.train [--out DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from saleor_support_plugin.ai.offline import text
from saleor_support_plugin.ai.offline.classifier import MODEL_DIR, MODEL_VERSION
from saleor_support_plugin.ai.offline.dataset import HELDOUT_CSV, Example, csv_write, examples_load, split

C = 1.0
SEED = 7
TEMPERATURES = np.round(np.arange(0.5, 12.01, 0.25), 2)


def _analyzer(raw: str) -> list[str]:
    return [name for name, count in text.features(raw).items() for _ in range(count)]


def _lexicon_examples() -> list[tuple[str, str]]:
    """Each cue phrase as a tiny labelled document, so its character n-grams are learned too."""
    data = json.loads((text.LEXICONS / "intent_keywords.json").read_text(encoding="utf-8"))
    return [(phrase.rstrip("*"), intent) for intent, phrases in data.items() if not intent.startswith("_")
            for phrase in phrases]  # fmt: skip


def _fit(docs: list[str], labels: list[str]):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=2, dtype=np.float32)
    matrix = vectorizer.fit_transform(docs)
    model = LinearSVC(C=C, random_state=SEED, max_iter=20_000).fit(matrix, labels)
    return vectorizer, model


def _temperature(docs: list[str], labels: list[str]) -> float:
    """Softmax temperature for the SVM margins that minimises log-loss on 5-fold out-of-fold predictions."""
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    margins: list[np.ndarray] = []
    truth: list[int] = []
    for fit_idx, val_idx in folds.split(docs, labels):
        vectorizer, model = _fit([docs[i] for i in fit_idx], [labels[i] for i in fit_idx])
        margins.append(model.decision_function(vectorizer.transform([docs[i] for i in val_idx])))
        classes = list(model.classes_)
        truth += [classes.index(labels[i]) for i in val_idx]
    scores, target = np.vstack(margins), np.array(truth)
    best, best_loss = 1.0, float("inf")
    for temperature in TEMPERATURES:
        z = scores * temperature
        z -= z.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(len(target)), target].mean()
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


def model_train(*, examples: list[Example], out_dir: Path) -> dict:
    """Fit on ``examples`` and write ``intent.json`` (vocabulary, labels) and ``intent.npz`` (weights)."""
    pairs = [(e.text, e.intent) for e in examples] + _lexicon_examples()
    docs, labels = [d for d, _ in pairs], [label for _, label in pairs]
    vectorizer, model = _fit(docs, labels)
    temperature = _temperature(docs, labels)
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "version": MODEL_VERSION,
        "labels": [str(c) for c in model.classes_],
        "temperature": temperature,
        "char_ngrams": list(text.CHAR_NGRAMS),
        "keyword_weight": text.KEYWORD_WEIGHT,
        "examples": len(examples),
        "vocabulary": vocabulary,
    }
    (out_dir / "intent.json").write_text(json.dumps(meta, ensure_ascii=False, separators=(",", ":")), "utf-8")
    with (out_dir / "intent.npz").open("wb") as handle:
        np.savez_compressed(
            handle,
            idf=vectorizer.idf_.astype(np.float32),
            coef=np.ascontiguousarray(model.coef_.T.astype(np.float32)),
            intercept=model.intercept_.astype(np.float32),
        )
    return {"features": len(vocabulary), "labels": len(model.classes_), "temperature": temperature}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="where to write intent.json / intent.npz")
    args = parser.parse_args(argv)
    train, heldout = split(examples_load())
    csv_write(HELDOUT_CSV, heldout)
    summary = model_train(examples=train, out_dir=args.out)
    print(f"trained on {len(train)} examples ({len(heldout)} held out → {HELDOUT_CSV.name}): {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
