"""Our own CBV checks: the official JSON schema lets a misspelled `bizStep` through (any string
that looks like a URI passes as a private vocabulary), so every standard-vocabulary value
tracegate writes or reads is checked against the CBV 2.0 terms here.

A value may be written as the bare term (`commissioning`, as EPCIS JSON-LD does), as its CBV
Web URI (`https://ref.gs1.org/cbv/BizStep-commissioning`) or as its URN
(`urn:epcglobal:cbv:bizstep:commissioning`, as EPCIS XML does). Private vocabularies are
refused: tracegate has none.
"""

from __future__ import annotations

import difflib
from enum import Enum

from serialization.epcis import cbv_terms
from serialization.epcis.errors import VocabularyError

CBV_WEB = "https://ref.gs1.org/cbv/"
CBV_URN = "urn:epcglobal:cbv:"


class Vocabulary(Enum):
    """A CBV standard vocabulary: (field name, terms, CBV class, URN word)."""

    BIZ_STEP = ("bizStep", cbv_terms.BIZ_STEPS, "BizStep", "bizstep")
    DISPOSITION = ("disposition", cbv_terms.DISPOSITIONS, "Disp", "disp")
    BIZ_TRANSACTION_TYPE = ("bizTransaction type", cbv_terms.BIZ_TRANSACTION_TYPES, "BTT", "btt")
    SOURCE_DESTINATION_TYPE = (
        "source/destination type",
        cbv_terms.SOURCE_DESTINATION_TYPES,
        "SDT",
        "sdt",
    )

    def __init__(self, field: str, terms: frozenset[str], cls: str, urn_word: str) -> None:
        self.field = field
        self.terms = terms
        self.cls = cls
        self.urn_word = urn_word

    def web_uri(self, term: str) -> str:
        return f"{CBV_WEB}{self.cls}-{term}"

    def urn(self, term: str) -> str:
        return f"{CBV_URN}{self.urn_word}:{term}"


def cbv_term(vocabulary: Vocabulary, value: object) -> str:
    """The bare CBV term `value` names, in any of its three forms, or `VocabularyError`."""
    if not isinstance(value, str):
        raise VocabularyError(
            f"{value!r} is not a text value",
            field=vocabulary.field,
            hint=f"give a CBV 2.0 {vocabulary.field}, e.g. {_example(vocabulary)!r}",
        )
    bare = value
    for prefix in (f"{CBV_WEB}{vocabulary.cls}-", f"{CBV_URN}{vocabulary.urn_word}:"):
        if value.startswith(prefix):
            bare = value.removeprefix(prefix)
            break
    if bare in vocabulary.terms:
        return bare
    terms = sorted(vocabulary.terms)
    close = [term for term in terms if term.lower() == bare.lower()]
    close = close or difflib.get_close_matches(bare, terms, n=3, cutoff=0.6)
    hint = (
        f"did you mean {_alternatives(close)}?"
        if close
        else f"the CBV 2.0 terms are {', '.join(terms)}"
    )
    raise VocabularyError(
        f"{value!r} is not a CBV 2.0 {vocabulary.field}",
        field=vocabulary.field,
        hint=f"{hint}; tracegate uses no private vocabulary",
    )


def _alternatives(terms: list[str]) -> str:
    quoted = [repr(term) for term in terms]
    return " or ".join([", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 1 else quoted)


def _example(vocabulary: Vocabulary) -> str:
    return sorted(vocabulary.terms)[0]
