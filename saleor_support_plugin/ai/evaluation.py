"""Scoring a triage engine on a labelled set: accuracy, macro-F1, per-intent precision/recall, confusions."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class IntentScore:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class EvalReport:
    total: int
    correct: int
    per_intent: list[IntentScore]
    confusions: list[tuple[str, str, int]]  # (expected, predicted, count), most frequent first
    latencies_ms: list[float] = field(default_factory=list)
    skipped: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def macro_f1(self) -> float:
        scored = [s.f1 for s in self.per_intent if s.support]
        return sum(scored) / len(scored) if scored else 0.0

    def latency_percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    @property
    def latency_median(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0


def evaluate(pairs: list[tuple[str, str]], *, latencies_ms: list[float] | None = None, skipped: int = 0) -> EvalReport:
    """``pairs`` are (expected, predicted)."""
    expected = Counter(e for e, _ in pairs)
    predicted = Counter(p for _, p in pairs)
    hits = Counter(e for e, p in pairs if e == p)
    scores = []
    for intent in sorted(set(expected) | set(predicted)):
        precision = hits[intent] / predicted[intent] if predicted[intent] else 0.0
        recall = hits[intent] / expected[intent] if expected[intent] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(IntentScore(intent, precision, recall, f1, expected[intent]))
    confusions = Counter((e, p) for e, p in pairs if e != p)
    return EvalReport(
        total=len(pairs),
        correct=sum(hits.values()),
        per_intent=scores,
        confusions=[(e, p, n) for (e, p), n in confusions.most_common()],
        latencies_ms=list(latencies_ms or []),
        skipped=skipped,
    )
