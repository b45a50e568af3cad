"""`GET /api/trace/code/{code}` and `GET /api/trace/batch/{batch_id}` (docs/trace.md)."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Query

from ebr.code_lookup import UnknownCodeError, find_code_key
from ebr.trace import PAGE, BatchTrace, CodeTrace, trace_batch, trace_code
from ebr.users import Session
from gateway.api.auth import current_user
from gateway.api.context import ApiContext, api_context
from gateway.api.problems import ApiProblemError, from_store_error, problem_responses

MAX_ID: Final = 2**63 - 1
DEFAULT_PAGE: Final = 1000

router = APIRouter(prefix="/api/trace", tags=["trace"], responses=problem_responses(401, 404, 422))


@router.get(
    "/code/{code:path}",
    response_model=CodeTrace,
    summary="Trace one code: history, containers, contents, batch and product, shipments",
)
def get_code_trace(
    code: Annotated[
        str,
        Path(description="the code as printed (any form a reader gives) or its key"),
    ],
    context: Annotated[ApiContext, Depends(api_context)],
    _user: Annotated[Session, Depends(current_user)],
) -> CodeTrace:
    engine = context.store.engine
    try:
        key = find_code_key(engine, code, context.recognition)
    except UnknownCodeError as error:
        raise from_store_error(error, where="path parameter code") from None
    trace = trace_code(engine, key)
    if trace is None:
        raise ApiProblemError(
            404,
            "Not found",
            f"code {key} disappeared while it was traced",
            where="path parameter code",
            fix="trace it again",
        )
    return trace


@router.get(
    "/batch/{batch_id}",
    response_model=BatchTrace,
    summary="Trace one batch: every unit, case and pallet with its state and parent, a page "
    "at a time",
)
def get_batch_trace(
    batch_id: Annotated[int, Path(ge=1, le=MAX_ID, description="the batch id")],
    context: Annotated[ApiContext, Depends(api_context)],
    _user: Annotated[Session, Depends(current_user)],
    cursor: Annotated[
        int, Query(ge=0, le=MAX_ID, description="next_cursor of the page before; 0 first")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE, description="codes per page")] = DEFAULT_PAGE,
) -> BatchTrace:
    trace = trace_batch(context.store.engine, batch_id, cursor=cursor, limit=limit)
    if trace is None:
        raise ApiProblemError(
            404,
            "Not found",
            f"batch {batch_id} is not known to this site",
            where="path parameter batch_id",
            fix="check the batch id",
        )
    return trace
