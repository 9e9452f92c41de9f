"""Language of a shopper message as a BCP-47 tag (``en``, ``pt``, ``zh``…), with a confidence.

Scripts decide on their own where they can (Thai, Han, kana, Hangul, Cyrillic, Arabic, Hebrew, Greek,
Devanagari); Vietnamese is recognised by its letters or, typed without accents, by its function words.
Latin-script text goes to py3langid (BSD-3-Clause; its model ships inside the package, trained by the
langid.py authors), limited to the languages shoppers are likely to use, which makes it faster and more
accurate on short texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from saleor_support_plugin.ai.offline.text import normalize

LATIN_LANGUAGES = ["en", "pt", "es", "fr", "de", "it", "nl", "no", "sv", "da", "fi", "pl", "cs", "ro", "tr", "id",
                   "hu", "sk", "hr", "lt", "lv", "et", "sl", "ca", "ms"]  # fmt: skip
CYRILLIC_LANGUAGES = ["ru", "uk", "bg", "sr", "mk", "be", "kk"]
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh", re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")),
    ("cyrillic", re.compile(r"[\u0400-\u04ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
)
_VIETNAMESE_LETTERS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)
_VIETNAMESE_WORDS = frozenset(
    {"khong", "cua", "minh", "toi", "ban", "giup", "duoc", "nhe", "voi", "roi", "chua", "vay", "shop", "oi", "em",
     "anh", "chi", "hang", "don", "giao", "nhan", "tien", "hoan", "bao", "gio", "lam", "sao", "the", "nao", "cho",
     "xin", "cam", "on", "dat", "huy", "doi", "tra", "mua", "ship"}
)  # fmt: skip
_WORDS = re.compile(r"[a-z]+")
# Written Danish and Norwegian Bokmål differ in a handful of everyday words; py3langid mixes them up on short
# texts. Our shoppers write Norwegian far more often, so a tie goes to Norwegian.
_NORWEGIAN = frozenset(
    {"hva", "dere", "hei", "takk", "ble", "meg", "deg", "kjopt", "noen", "pakken", "hvordan", "ogsa"}
)
_DANISH = frozenset({"hvad", "jeres", "hej", "tak", "blev", "mig", "dig", "kobt", "nogen", "pakke", "hvordan", "af"})
MIN_LATIN_CONFIDENCE = 0.5


@dataclass(frozen=True, slots=True)
class DetectedLanguage:
    code: str
    confidence: float


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    # One model for both alphabets: a Cyrillic text never scores well for a Latin language and vice versa.
    identifier.set_languages(LATIN_LANGUAGES + CYRILLIC_LANGUAGES)
    return identifier


def _script(text: str) -> str | None:
    letters = sum(ch.isalpha() for ch in text) or 1
    for name, pattern in _SCRIPTS:
        if len(pattern.findall(text)) / letters >= 0.3:
            return name
    return None


def _looks_vietnamese(text: str) -> bool:
    if len(_VIETNAMESE_LETTERS.findall(text)) >= 2:
        return True
    words = _WORDS.findall(text.lower())
    hits = sum(w in _VIETNAMESE_WORDS for w in words)
    return hits >= 3 and hits / max(len(words), 1) >= 0.4


def _danish_or_norwegian(text: str) -> str:
    words = set(_WORDS.findall(normalize(text)))
    return "da" if len(words & _DANISH) > len(words & _NORWEGIAN) else "no"


def language_detect(text: str, *, hint: str = "") -> DetectedLanguage:
    """Best guess for ``text``. ``hint`` (e.g. the order's language) wins when the text is too short to tell."""
    sample = (text or "")[:1000]
    script = _script(sample)
    if script == "cyrillic":
        code, prob = _identifier().classify(sample)
        return DetectedLanguage(code, round(float(prob), 3))
    if script is not None:
        return DetectedLanguage(script, 0.99)
    if not any(ch.isalpha() for ch in sample):
        return DetectedLanguage(hint or "und", 0.0)
    if _looks_vietnamese(sample):
        return DetectedLanguage("vi", 0.95)
    code, prob = _identifier().classify(sample)
    if code in ("da", "no"):
        code = _danish_or_norwegian(sample)
    if prob < MIN_LATIN_CONFIDENCE and hint:
        return DetectedLanguage(hint.split("-")[0].split("_")[0].lower(), round(float(prob), 3))
    return DetectedLanguage(code, round(float(prob), 3))
