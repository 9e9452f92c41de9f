"""The labelled triage examples kept in the repository, and their deterministic train / held-out split."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from saleor_support_plugin.ai.offline.text import normalize

DATA = Path(__file__).resolve().parent.parent / "data" / "triage"
EXAMPLES = DATA / "examples"
HELDOUT_CSV = DATA / "heldout.csv"
CHALLENGE_CSV = DATA / "challenge.csv"
HELDOUT_ONE_IN = 5


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str
    language: str


def examples_load(directory: Path = EXAMPLES) -> list[Example]:
    """Every ``<language>: <text>`` line of every ``<intent>.txt`` file, in a stable order."""
    found: list[Example] = []
    for path in sorted(directory.glob("*.txt")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            language, sep, text = line.partition(": ")
            if not sep or not text.strip():
                raise ValueError(f"{path.name}:{number}: expected '<language>: <text>'")
            found.append(Example(text.replace("\\n", "\n").strip(), path.stem, language.strip()))
    return found


def is_heldout(example: Example) -> bool:
    """One example in five, chosen by a hash of its normalised text, so the split never depends on order."""
    digest = hashlib.sha256(f"{example.intent}|{normalize(example.text)}".encode()).digest()
    return digest[0] % HELDOUT_ONE_IN == 0


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    train = [e for e in examples if not is_heldout(e)]
    heldout = [e for e in examples if is_heldout(e)]
    return train, heldout


def csv_write(path: Path, examples: list[Example]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "language"])
        for example in examples:
            writer.writerow([example.text, example.intent, example.language])


def csv_read(path: Path, *, text_column: str, label_column: str) -> list[tuple[str, str]]:
    """``(text, label)`` rows of a CSV file with a header; rows with an empty text or label are skipped."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {text_column, label_column} - set(reader.fieldnames or ())
        if missing:
            raise KeyError(f"{path.name} has no column(s) {', '.join(sorted(missing))}; has {reader.fieldnames}")
        rows = [((row[text_column] or "").strip(), (row[label_column] or "").strip()) for row in reader]
    return [(text, label) for text, label in rows if text and label]
