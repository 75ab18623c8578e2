"""Token types, and which of them are generic: shared by many concepts, so evidence of none.

A neuron's response to a concept only means something about the concept if it is carried by
the concept's own content. Punctuation, special tokens and word pieces that occur across most
concepts (``the``, ``##s``, ``.``) are *generic*: a response carried by them is an artifact of
what the texts have in common, not of what they are about.
"""
from __future__ import annotations

import math
import re
import unicodedata

import numpy as np

#: Word-piece / byte-level / sentence-piece markers stripped to get a token's type.
SUBWORD_MARKERS = ("##", "\u0120", "\u2581", "\u010a")  # "##ing", "Ġthe", "▁the", "Ċ"
SPECIAL_TOKEN = re.compile(r"^(\[[A-Z]+\]|<\|?[^<>]*\|?>)$")  # [CLS], [SEP], <s>, <|endoftext|>
#: A type found in at least this fraction of the concepts (and in two or more) is generic.
GENERIC_CONCEPT_FRACTION = 0.5


def token_type(token: str) -> str:
    """Case- and marker-insensitive form: ``'The'``, ``' the'``, ``'Ġthe'`` and ``'▁the'`` are one type."""
    stripped = token.strip()
    for marker in SUBWORD_MARKERS:
        stripped = stripped.replace(marker, "")
    return stripped.lower() or token


def is_symbolic(token_or_type: str) -> bool:
    """Punctuation, symbols, whitespace or a special token: never content, whatever the concept."""
    text = token_or_type.strip()
    if not text or SPECIAL_TOKEN.match(text):
        return True
    return all(unicodedata.category(ch)[0] in "PSZ" for ch in text)


def generic_types(types: np.ndarray, concept_codes: np.ndarray, n_concepts: int,
                  fraction: float = GENERIC_CONCEPT_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """Per-token type ids and a boolean per type: is it generic (symbolic, or spread over many concepts)?

    ``types`` are token types [tokens]; ``concept_codes`` the concept index of each token.
    """
    uniq, type_ids = np.unique(types, return_inverse=True)
    seen = np.zeros((len(uniq), n_concepts), dtype=bool)
    seen[type_ids, concept_codes] = True
    coverage = seen.sum(axis=1)
    needed = max(2, math.ceil(fraction * n_concepts))
    generic = (coverage >= needed) | np.array([is_symbolic(u) for u in uniq.tolist()], dtype=bool)
    return type_ids, generic
