"""`POST /api/recall`: mark a batch, or a set of codes, recalled (QA or supervisor)."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Self

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ebr.code_lookup import UnknownCodeError, find_code_key
from ebr.errors import StoreError
from ebr.recall import (
    MAX_REASON_LENGTH,
    RecallOutcome,
    recall_batch,
    recall_codes,
)
from ebr.users import Session
from gateway.api.auth import current_user
from gateway.api.context import ApiContext, api_context
from gateway.api.problems import from_store_error, problem_responses
from gateway.api.trace_routes import MAX_ID

MAX_CODES = 100_000
router = APIRouter(prefix="/api", tags=["recall"])
RESPONSES = problem_responses(401, 403, 404, 409, 422)


class RecallRequest(BaseModel):
    """Exactly one of `batch_id` and `codes`."""

    model_config = ConfigDict(extra="forbid")

    batch_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    codes: list[Annotated[str, Field(min_length=1, max_length=500)]] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CODES,
        description="codes as printed or their keys; what is packed in them is recalled too",
    )
    reason: str = Field(min_length=1, max_length=MAX_REASON_LENGTH)

    @model_validator(mode="after")
    def one_scope(self) -> Self:
        if (self.batch_id is None) == (self.codes is None):
            raise ValueError("give either batch_id or codes, not both and not neither")
        return self


class JournalRef(BaseModel):
    batch_id: int
    seq: int


class RecallSummary(BaseModel):
    recalled: int = Field(description="codes that became recalled (Inactive) now")
    already_recalled: int
    unchanged: dict[str, int] = Field(
        description="codes that are no product on the market and stay as they are, by state"
    )
    journal: list[JournalRef] = Field(description="the codes.recalled events written")


@router.post(
    "/recall",
    response_model=RecallSummary,
    responses=RESPONSES,
    summary="Mark a batch or a set of codes recalled, with a reason, as the logged-in user",
)
def post_recall(
    request: RecallRequest,
    context: Annotated[ApiContext, Depends(api_context)],
    user: Annotated[Session, Depends(current_user)],
) -> RecallSummary:
    store = context.store
    where = "body.batch_id" if request.batch_id is not None else "body.codes"
    try:
        if request.batch_id is not None:
            outcome = recall_batch(
                store.engine, user, request.batch_id, reason=request.reason, audit=store.audit
            )
        else:
            keys = _keys(context, request.codes or [])
            outcome = recall_codes(
                store.engine, user, keys, reason=request.reason, audit=store.audit
            )
    except StoreError as error:
        raise from_store_error(error, where=where) from None
    return _summary(outcome)


def _keys(context: ApiContext, codes: list[str]) -> list[str]:
    keys = []
    for index, code in enumerate(codes):
        try:
            keys.append(find_code_key(context.store.engine, code, context.recognition))
        except UnknownCodeError as error:
            raise from_store_error(error, where=f"body.codes.{index}") from None
    return keys


def _summary(outcome: RecallOutcome) -> RecallSummary:
    return RecallSummary(
        recalled=len(outcome.recalled),
        already_recalled=len(outcome.already_recalled),
        unchanged=dict(Counter(outcome.unchanged.values())),
        journal=[JournalRef(batch_id=batch, seq=seq) for batch, seq in outcome.entries],
    )
