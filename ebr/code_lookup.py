"""Which stored code a text stands for: its key, or any form a person or a reader hands over
(element string, HRI, Digital Link, EPC URI, NMPA 20 digits, national or template code),
read by `serialization.recognize` as the rework station reads a scan."""

from __future__ import annotations

from sqlalchemy import Engine, select

from ebr.errors import NotFoundError
from ebr.models import Code
from serialization.recognize import RecognitionContext, describe_error, recognize, unalias_gs

GS = "\x1d"
MAX_TEXT_LENGTH = 500
FORMS = (
    "the code as printed (GS1 element string or HRI with parentheses, Digital Link, EPC URI, "
    "NMPA 20 digits, national or template code) or its key"
)


class UnknownCodeError(NotFoundError):
    """The text is no code, or a code this site never issued."""


def find_code_key(engine: Engine, text: str, context: RecognitionContext | None = None) -> str:
    """The key of the stored code `text` names; `UnknownCodeError` saying why there is none."""
    code = unalias_gs(text).strip(" \t\r\n")
    if not code:
        raise UnknownCodeError("no code given", hint=f"give {FORMS}")
    if len(code) > MAX_TEXT_LENGTH or any(ord(c) < 32 and c != GS for c in code):
        raise UnknownCodeError(
            f"{text[:40]!r}… is no code: longer than {MAX_TEXT_LENGTH} characters or holding "
            "control characters (only the GS separator belongs in a code)"
            if len(code) > MAX_TEXT_LENGTH
            else f"{text!r} is no code: it holds control characters other than the GS separator",
            hint=f"give {FORMS}",
        )
    recognition = recognize(code, context)
    candidates = [code, *(reading.code.key for reading in recognition.readings)]
    with engine.connect() as conn:
        stored = set(conn.execute(select(Code.key).where(Code.key.in_(candidates))).scalars())
    for candidate in candidates:
        if candidate in stored:
            return candidate
    best = recognition.best
    if best is not None:
        raise UnknownCodeError(
            f"{best.code.scheme.value} code {best.code.key} was never issued by this site",
            hint="check that the pack is this site's product; a code no site issued may be "
            "counterfeit: set the pack aside for QA",
        )
    reasons = "; ".join(
        f"not a {name}: {describe_error(error)}" for name, error in recognition.rejections
    )
    raise UnknownCodeError(
        f"{text!r} is not a code this site can read" + (f" ({reasons})" if reasons else ""),
        hint=f"give {FORMS}",
    )
