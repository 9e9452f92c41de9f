"""A tokenizer-free token estimate, for the budget pre-check and the fake server in tests.

Real counts come back from the server in ``usage`` and are what ``LlmCall`` records; this only has to be
close enough (UTF-8 bytes / 3.5 tracks BPE vocabularies within ~20% for Latin text and slightly
over-counts Chinese and Thai, which is the safe direction for a budget).
"""

from __future__ import annotations

import math

PER_MESSAGE_OVERHEAD = 4


def token_estimate(text: str) -> int:
    return math.ceil(len((text or "").encode("utf-8")) / 3.5)


def messages_token_estimate(messages: list[dict]) -> int:
    return sum(token_estimate(str(m.get("content", ""))) + PER_MESSAGE_OVERHEAD for m in messages)
