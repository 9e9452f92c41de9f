"""``saleor-support triage-eval FILE.csv``: score the configured triage engine on a labelled CSV.

Offline engine by default; with ``--installation`` whose model is enabled (or ``--engine llm``) every row
goes to that model (real calls, real cost; nothing is stored). Labels from another taxonomy are mapped
with ``--label-map`` (JSON object: their label → our intent, or null to skip the row).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from saleor_support_plugin.ai.evaluation import EvalReport, evaluate
from saleor_support_plugin.ai.schemas import INTENTS
from saleor_support_plugin.cli import EXIT_OK, EXIT_USAGE, CliError
from saleor_support_plugin.cli.output import table


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("triage-eval", help="accuracy, macro-F1 and latency of triage on a labelled CSV")
    parser.add_argument("file", type=Path, metavar="FILE.csv", help="CSV with a header row")
    parser.add_argument("--text-column", default="text", metavar="C", help="column with the message (default: text)")
    parser.add_argument("--label-column", default="label", metavar="L", help="column with the intent (default: label)")
    parser.add_argument("--label-map", type=Path, metavar="MAP.json", help="JSON object mapping labels to intents")
    parser.add_argument("--engine", choices=["auto", "offline", "llm"], default="auto", help="default: auto")
    parser.add_argument("--installation", metavar="URL", help="use this installation's model settings")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N rows")
    parser.add_argument("--confusions", type=int, default=10, metavar="N", help="confusion pairs to list")


def _rows(args: argparse.Namespace) -> tuple[list[tuple[str, str]], int]:
    from saleor_support_plugin.ai.offline.dataset import csv_read

    if not args.file.exists():
        raise CliError(f"no such file: {args.file}", exit_code=EXIT_USAGE)
    try:
        rows = csv_read(args.file, text_column=args.text_column, label_column=args.label_column)
    except KeyError as exc:
        raise CliError(str(exc).strip("'\""), exit_code=EXIT_USAGE) from exc
    mapping: dict[str, str | None] = {}
    if args.label_map:
        try:
            mapping = json.loads(args.label_map.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read label map {args.label_map}: {exc}", exit_code=EXIT_USAGE) from exc
    kept: list[tuple[str, str]] = []
    skipped = 0
    for text, label in rows[: args.limit] if args.limit else rows:
        intent = mapping.get(label, label)  # a label mapped to null is skipped like an unknown one
        if intent not in INTENTS:
            skipped += 1
            continue
        kept.append((text, intent))
    if not kept:
        raise CliError("no row has a label that is (or maps to) one of our intents", exit_code=EXIT_USAGE)
    return kept, skipped


def _offline(rows: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[float], str]:
    from saleor_support_plugin.ai.offline import ENGINE_NAME, offline_warm_up, triage_offline

    offline_warm_up()
    pairs, latencies = [], []
    for text, intent in rows:
        started = time.perf_counter()
        predicted = triage_offline(text).intent
        latencies.append((time.perf_counter() - started) * 1000)
        pairs.append((intent, predicted))
    return pairs, latencies, ENGINE_NAME


def _llm(rows: list[tuple[str, str]], installation) -> tuple[list[tuple[str, str]], list[float], str]:  # noqa: ANN001
    from saleor_support_plugin.ai.offline import triage_offline
    from saleor_support_plugin.ai.pipeline import triage_draft_llm
    from saleor_support_plugin.ai.prompting import PROMPT_VERSION, PromptInput, prompt_messages
    from saleor_support_plugin.ai.redaction import pii_redact
    from saleor_support_plugin.models import LlmProvider
    from saleor_support_plugin.services.ai_settings import chat_client_for

    provider = LlmProvider.objects.filter(installation=installation, is_enabled=True).first()
    if provider is None:
        raise CliError("this installation has no enabled model; use --engine offline", exit_code=EXIT_USAGE)
    client = chat_client_for(provider)
    pairs, latencies = [], []
    for text, intent in rows:
        messages = prompt_messages(PromptInput(pii_redact(text).text, "No order is linked to this conversation.", ()))
        started = time.perf_counter()
        outcome = triage_draft_llm(client=client, messages=messages, on_call=lambda record: None)
        latencies.append((time.perf_counter() - started) * 1000)
        predicted = outcome.answer.intent if outcome.answer else triage_offline(text).intent
        pairs.append((intent, predicted))
    return pairs, latencies, f"llm:{provider.model} / {PROMPT_VERSION}"


def report_text(report: EvalReport, *, engine: str, source: str, confusions: int = 10) -> str:
    out = [f"Triage evaluation of {engine} on {source}: {report.total} messages"]
    if report.skipped:
        out[0] += f" ({report.skipped} rows skipped: label not mapped to an intent)"
    out += [
        f"  accuracy   {report.accuracy:.3f}  ({report.correct}/{report.total})",
        f"  macro-F1   {report.macro_f1:.3f}",
        f"  latency    p50 {report.latency_percentile(50):.2f} ms   p95 {report.latency_percentile(95):.2f} ms",
        "",
        "Per intent",
    ]
    rows = [(s.intent, f"{s.precision:.2f}", f"{s.recall:.2f}", f"{s.f1:.2f}", s.support) for s in report.per_intent]
    out.append(table(["INTENT", "PRECISION", "RECALL", "F1", "SUPPORT"], rows))
    out += ["", f"Most frequent confusions (expected → predicted), {len(report.confusions)} kinds"]
    top = [(e, p, n) for e, p, n in report.confusions[:confusions]]
    out.append(table(["EXPECTED", "PREDICTED", "COUNT"], top) if top else "  none")
    return "\n".join(out)


def command_triage_eval(args: argparse.Namespace) -> int:
    from saleor_support_plugin.cli.commands import _installation

    rows, skipped = _rows(args)
    installation = _installation(args.installation, required=args.engine == "llm")
    use_llm = args.engine == "llm" or (args.engine == "auto" and installation is not None)
    pairs, latencies, engine = _llm(rows, installation) if use_llm else _offline(rows)
    report = evaluate(pairs, latencies_ms=latencies, skipped=skipped)
    print(report_text(report, engine=engine, source=args.file.name, confusions=args.confusions))
    return EXIT_OK
