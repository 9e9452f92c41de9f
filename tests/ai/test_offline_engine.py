"""The offline engine: taxonomy in sync, the shipped model's quality gate, language and signal rules."""

from __future__ import annotations

import json

import pytest

from saleor_support_plugin.ai.offline import triage_offline
from saleor_support_plugin.ai.offline.classifier import MODEL_DIR, intent_classifier
from saleor_support_plugin.ai.offline.dataset import HELDOUT_CSV, csv_read, examples_load, is_heldout, split
from saleor_support_plugin.ai.offline.language import language_detect
from saleor_support_plugin.ai.prompting import triage_draft_schema
from saleor_support_plugin.ai.schemas import INTENTS, MONEY_INTENTS
from saleor_support_plugin.models import CaseReason
from saleor_support_plugin.models.ai import MONEY_REASONS


def test_intents_are_the_case_reasons_everywhere():
    assert list(INTENTS) == list(CaseReason.values)
    assert triage_draft_schema()["properties"]["intent"]["enum"] == list(INTENTS)
    assert set(intent_classifier().labels) == set(INTENTS)
    assert {str(r) for r in MONEY_REASONS} == MONEY_INTENTS


def test_every_intent_has_at_least_forty_examples_in_several_languages():
    examples = examples_load()
    for intent in INTENTS:
        mine = [e for e in examples if e.intent == intent]
        assert len(mine) >= 40, intent
        assert {"en", "pt", "es", "vi", "ru", "th", "no", "zh"} <= {e.language for e in mine}, intent


def test_the_held_out_file_is_the_current_split():
    _, heldout = split(examples_load())
    rows = csv_read(HELDOUT_CSV, text_column="text", label_column="label")
    assert rows == [(e.text, e.intent) for e in heldout]
    assert all(is_heldout(e) for e in heldout)


def test_held_out_accuracy_is_at_least_ninety_percent():
    """Quality gate on the shipped artefact (deterministic: fixed file, fixed weights)."""
    rows = csv_read(HELDOUT_CSV, text_column="text", label_column="label")
    correct = sum(triage_offline(text).intent == label for text, label in rows)
    assert correct / len(rows) >= 0.90


def test_model_artefact_is_plain_arrays_and_json():
    meta = json.loads((MODEL_DIR / "intent.json").read_text(encoding="utf-8"))
    assert meta["labels"] and meta["vocabulary"] and meta["temperature"] > 0


def test_training_is_reproducible(tmp_path):
    pytest.importorskip("sklearn")
    from saleor_support_plugin.ai.offline.train import model_train

    sample = [e for i, e in enumerate(examples_load()) if i % 4 == 0]
    model_train(examples=sample, out_dir=tmp_path / "a")
    model_train(examples=sample, out_dir=tmp_path / "b")

    for name in ("intent.json", "intent.npz"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Where is my order? I ordered last week.", "en"),
        ("Olá, onde está o meu pedido?", "pt"),
        ("Hola, ¿dónde está mi pedido?", "es"),
        ("Đơn hàng của tôi đang ở đâu?", "vi"),
        ("don hang cua minh bao gio giao vay shop", "vi"),
        ("Где мой заказ?", "ru"),
        ("พัสดุของฉันอยู่ที่ไหน", "th"),
        ("Hei, hvor er pakken min?", "no"),
        ("我的订单到哪里了？", "zh"),
    ],
)
def test_language_detection(text, code):
    assert language_detect(text).code == code


def test_sentiment_and_urgency_rules():
    angry = triage_offline("This is a SCAM!!! Third time I write, I want my money back TODAY or I call my lawyer")
    happy = triage_offline("Thank you so much, the sofa is perfect and arrived early!")

    assert (angry.sentiment, angry.urgency) == (-2, "high")
    assert happy.sentiment >= 1 and happy.urgency == "low"
