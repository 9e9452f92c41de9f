"""The offline intent model at run time: TF-IDF features → linear scores → softmax, in numpy.

The weights are trained by ``train.py`` from our own examples and stored as plain arrays (``intent.npz``,
no pickle) plus a JSON vocabulary, so loading needs neither scikit-learn nor trust in a pickle.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from saleor_support_plugin.ai.offline import text

MODEL_DIR = Path(__file__).resolve().parent.parent / "data" / "model"
MODEL_VERSION = "intent-svm-1"
MAX_CONFIDENCE = 0.999


@dataclass(frozen=True, slots=True)
class IntentScores:
    """Every intent with its probability, best first."""

    ranked: tuple[tuple[str, float], ...]

    @property
    def intent(self) -> str:
        return self.ranked[0][0]

    @property
    def confidence(self) -> float:
        return self.ranked[0][1]

    def probability(self, intent: str) -> float:
        return dict(self.ranked).get(intent, 0.0)


class IntentClassifier:
    def __init__(self, model_dir: Path) -> None:
        meta = json.loads((model_dir / "intent.json").read_text(encoding="utf-8"))
        if meta["char_ngrams"] != list(text.CHAR_NGRAMS) or meta["keyword_weight"] != text.KEYWORD_WEIGHT:
            raise ValueError(f"{model_dir} was trained with other features; run `make train`")
        with np.load(model_dir / "intent.npz", allow_pickle=False) as arrays:
            self._idf = arrays["idf"]
            self._coef = arrays["coef"]
            self._intercept = arrays["intercept"]
        self.labels: tuple[str, ...] = tuple(meta["labels"])
        self.version: str = meta["version"]
        self._temperature = float(meta["temperature"])
        self._index = {name: i for i, name in enumerate(meta["vocabulary"])}

    def scores(self, message: str) -> IntentScores:
        known = [(self._index[name], count) for name, count in text.features(message).items() if name in self._index]
        if known:
            idx = np.fromiter((i for i, _ in known), dtype=np.int64, count=len(known))
            tf = np.fromiter((1.0 + math.log(c) for _, c in known), dtype=np.float32, count=len(known))
            weights = tf * self._idf[idx]
            weights /= np.linalg.norm(weights) or 1.0
            margins = weights @ self._coef[idx] + self._intercept
        else:
            margins = self._intercept.copy()
        z = margins * self._temperature
        z = np.exp(z - z.max())
        probs = z / z.sum()
        order = np.argsort(-probs, kind="stable")
        # A text classifier is never certain; capping keeps a 1.0 autopilot threshold meaning "never".
        return IntentScores(tuple((self.labels[i], min(round(float(probs[i]), 4), MAX_CONFIDENCE)) for i in order))


@cache
def intent_classifier(model_dir: Path = MODEL_DIR) -> IntentClassifier:
    return IntentClassifier(model_dir)
