"""Text normalisation and features shared by training (``train.py``) and inference (``classifier.py``).

Both sides must produce identical features, so this module is the only place that decides them. The
features are deliberately language-agnostic: character n-grams inside words (robust to typos, inflection
and missing accents), word unigrams and bigrams, character 1-3-grams over Thai and Chinese runs (no spaces
there), one feature per intent whose multilingual cue phrases occur (``data/lexicons/intent_keywords.json``),
and topic x ask crosses (``intent_facets.json``) that separate e.g. "where is my refund" from "refund me".
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

LEXICONS = Path(__file__).resolve().parent.parent / "data" / "lexicons"

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]{1,60}?)\s*\}\}")
_URL = re.compile(r"https?://\S+|www\.\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
# Letters and digits, plus Thai vowel and tone marks (combining marks, so not \w, but part of the word).
_WORD = re.compile(r"(?:[^\W_]|[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e])+(?:'[^\W_]+)?")
_UNSPACED_RUN = re.compile(r"[\u0e00-\u0e7f\u3400-\u4dbf\u4e00-\u9fff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Scripts whose combining marks carry spelling that shoppers often leave out (café/cafe, não/nao, Việt/Viet).
_FOLDABLE = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff\u0400-\u04ff]")
_SPECIAL_FOLDS = str.maketrans({"đ": "d", "ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "ı": "i", "ё": "е", "й": "и"})
CHAR_NGRAMS = (2, 4)
UNSPACED_NGRAMS = (1, 2, 3)
KEYWORD_WEIGHT = 3  # repeated so a cue survives sublinear TF next to hundreds of n-grams
MAX_CHARS = 1200  # the ask is nearly always near the top; quoted threads and signatures only add noise
# Where a signature or a mobile footer starts: everything after it is noise for the intent.
_SIGNATURE = re.compile(
    r"^(?:--\s*|__+|sent from my .*|enviado d[oe] (?:meu|mi) .*|отправлено с .*|sendt fra min .*|von meinem .* gesendet"
    r"|envoyé de mon .*|get outlook for .*)$",
    re.IGNORECASE | re.MULTILINE,
)


def message_body(text: str) -> str:
    """The shopper's own words of a multi-line message: quoted replies and the signature cut off."""
    if "\n" not in text:
        return text
    from saleor_support_plugin.mail import text_strip_quoted

    body = text_strip_quoted(text)
    cut = _SIGNATURE.search(body)
    if cut and cut.start() > 0:
        body = body[: cut.start()]
    return body.strip() or text


def _fold(text: str) -> str:
    out: list[str] = []
    base_foldable = False
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if not base_foldable:
                out.append(ch)
            continue
        base_foldable = bool(_FOLDABLE.match(ch))
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out)).translate(_SPECIAL_FOLDS)


@lru_cache(maxsize=256)  # the same message is normalised for intent, facets, signals and the safety check
def normalize(text: str) -> str:
    """Lower case, accents folded (Latin and Cyrillic only; Thai marks are letters), placeholders unwrapped,
    e-mails/URLs/digits replaced by stable tokens, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _PLACEHOLDER.sub(lambda m: " " + m.group(1) + " ", text)
    text = _URL.sub(" url ", text)
    text = _EMAIL.sub(" email ", text)
    text = text.casefold().replace("’", "'")
    text = _DIGITS.sub("0", _fold(text))
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class _Cue:
    tokens: tuple[str, ...]
    prefix: bool  # the last token may continue (``refund*`` matches "refunded")
    group: str


@dataclass(frozen=True, slots=True)
class CueIndex:
    """Cue phrases compiled for one pass over the words of a message (regex alternations were ~40x slower)."""

    exact: dict[str, tuple[_Cue, ...]]
    prefixes: dict[str, tuple[_Cue, ...]]
    prefix_lengths: tuple[int, ...]
    unspaced: tuple[tuple[str, str], ...]  # Thai and Chinese cues: plain substring search


def _is_unspaced_script(phrase: str) -> bool:
    return any("\u0e00" <= ch <= "\u0e7f" or _HAN.match(ch) for ch in phrase)


def _cue_index(groups: dict[str, list[str]]) -> CueIndex:
    exact: dict[str, list[_Cue]] = {}
    prefixes: dict[str, list[_Cue]] = {}
    unspaced: list[tuple[str, str]] = []
    for group, phrases in groups.items():
        for raw in phrases:
            phrase = normalize(raw.rstrip("*"))
            if not phrase:
                continue
            if _is_unspaced_script(phrase):
                unspaced.append((phrase, group))
                continue
            tokens = tuple(_WORD.findall(phrase))
            if not tokens:
                continue
            cue = _Cue(tokens, raw.endswith("*"), group)
            target = prefixes if cue.prefix and len(tokens) == 1 else exact
            target.setdefault(tokens[0], []).append(cue)
    return CueIndex(
        exact={k: tuple(v) for k, v in exact.items()},
        prefixes={k: tuple(v) for k, v in prefixes.items()},
        prefix_lengths=tuple(sorted({len(k) for k in prefixes})),
        unspaced=tuple(unspaced),
    )


@cache
def cue_index(file_name: str) -> CueIndex:
    """The cue-phrase groups of a lexicon file, compiled (keys starting with ``_`` are comments)."""
    data = json.loads((LEXICONS / file_name).read_text(encoding="utf-8"))
    return _cue_index({name: phrases for name, phrases in data.items() if not name.startswith("_")})


def _matches(cue: _Cue, words: list[str], start: int) -> bool:
    end = start + len(cue.tokens)
    if end > len(words):
        return False
    *head, last = cue.tokens
    if any(words[start + 1 + i] != token for i, token in enumerate(head[1:])):
        return False
    word = words[end - 1]
    if len(cue.tokens) == 1:
        return True
    return word.startswith(last) if cue.prefix else word == last


def cue_hits(normalized: str, file_name: str, *, words: list[str] | None = None) -> dict[str, int]:
    """How many cue phrases of each group occur in already-normalised text."""
    index = cue_index(file_name)
    words = _WORD.findall(normalized) if words is None else words
    hits: dict[str, int] = {}
    for i, word in enumerate(words):
        found = list(index.exact.get(word, ()))
        for length in index.prefix_lengths:
            if length > len(word):
                break
            found += index.prefixes.get(word[:length], ())
        for cue in found:
            if _matches(cue, words, i):
                hits[cue.group] = hits.get(cue.group, 0) + 1
    if index.unspaced and _UNSPACED_RUN.search(normalized):
        for phrase, group in index.unspaced:
            count = normalized.count(phrase)
            if count:
                hits[group] = hits.get(group, 0) + count
    return hits


def _char_ngrams(word: str, counts: Counter[str]) -> None:
    padded = f" {word} "
    low, high = CHAR_NGRAMS
    for n in range(low, min(high, len(padded)) + 1):
        for i in range(len(padded) - n + 1):
            counts["c:" + padded[i : i + n]] += 1


def _run_ngrams(run: str, counts: Counter[str]) -> None:
    """Thai and Chinese are written without spaces: n-grams over the whole run stand in for words."""
    run = run[:200]
    for n in UNSPACED_NGRAMS:
        for i in range(len(run) - n + 1):
            counts["u:" + run[i : i + n]] += 1


def features(text: str) -> Counter[str]:
    """Feature counts of one message (raw text in, normalised here)."""
    norm = normalize(message_body(text)[:MAX_CHARS])
    counts: Counter[str] = Counter()
    words = _WORD.findall(norm)
    spaced: list[str] = []
    for word in words:
        if _UNSPACED_RUN.match(word):
            _run_ngrams(word, counts)
            continue
        spaced.append(word)
        _char_ngrams(word[:40], counts)
        counts["w:" + word] += 1
    for left, right in zip(spaced, spaced[1:], strict=False):
        counts[f"b:{left}_{right}"] += 1
    for intent, count in cue_hits(norm, "intent_keywords.json", words=words).items():
        counts["k:" + intent] += count * KEYWORD_WEIGHT
    facets = cue_hits(norm, "intent_facets.json", words=words)
    topics = [f for f in facets if f.startswith("topic_")]
    for facet in facets:
        counts["f:" + facet] += KEYWORD_WEIGHT
        if not facet.startswith("topic_"):
            for topic in topics:
                counts[f"x:{topic}+{facet}"] += KEYWORD_WEIGHT
    if not counts:
        counts["empty"] = 1
    return counts
