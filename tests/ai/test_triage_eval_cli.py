"""``saleor-support triage-eval``: the evaluation report an operator runs on their own labelled data."""

from __future__ import annotations

import json

from saleor_support_plugin.ai.offline.dataset import HELDOUT_CSV
from saleor_support_plugin.cli import main


def test_reports_accuracy_macro_f1_per_intent_and_latency(capsys):
    code = main(["triage-eval", str(HELDOUT_CSV), "--text-column", "text", "--label-column", "label"])

    out = capsys.readouterr().out
    assert code == 0
    for needle in ("accuracy", "macro-F1", "p50", "p95", "PRECISION", "RECALL", "order_status", "confusions"):
        assert needle in out


def test_label_map_translates_and_skips(tmp_path, capsys):
    data = tmp_path / "theirs.csv"
    data.write_text(
        "utterance,intent\nwhere is my package,track_order\ni forgot my password,recover_password\nhello,greeting\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"track_order": "order_status", "recover_password": "account", "greeting": None}))

    code = main(
        [
            "triage-eval",
            str(data),
            "--text-column",
            "utterance",
            "--label-column",
            "intent",
            "--label-map",
            str(mapping),
        ]
    )

    out = capsys.readouterr().out
    assert code == 0 and "2 messages" in out and "1 rows skipped" in out and "accuracy   1.000" in out


def test_a_missing_column_is_a_usage_error(capsys):
    code = main(["triage-eval", str(HELDOUT_CSV), "--text-column", "nope"])

    assert code == 2 and "nope" in capsys.readouterr().err
