"""From an OPC UA method call to a Python function and back: arguments checked and converted,
the caller's rights checked, errors turned into Bad status codes, never into a crash.

A refused call answers a Bad status code; the reason (what, where, how to fix) is logged and
given to the client as the `AdditionalInfo` of the offending input argument's DiagnosticInfo.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asyncua import ua
from asyncua.ua.status_codes import StatusCodes

from gateway.opcua_server.access import Caller, current_caller
from gateway.opcua_server.methods import MethodSpec

log = logging.getLogger("tracegate.opcua_server.calls")

INT_TYPES = frozenset(
    {
        ua.VariantType.SByte,
        ua.VariantType.Byte,
        ua.VariantType.Int16,
        ua.VariantType.UInt16,
        ua.VariantType.Int32,
        ua.VariantType.UInt32,
        ua.VariantType.Int64,
        ua.VariantType.UInt64,
    }
)
_RANGES = {"Int64": (-(2**63), 2**63 - 1), "UInt32": (0, 2**32 - 1)}
_OUTPUT_TYPES = {
    "Int64": ua.VariantType.Int64,
    "UInt32": ua.VariantType.UInt32,
    "String": ua.VariantType.String,
    "String[]": ua.VariantType.String,
    "Boolean": ua.VariantType.Boolean,
}

Handler = Callable[[Caller, list[Any]], Awaitable[list[Any]]]


class MethodCallError(Exception):
    """A call answered with a Bad status; `argument` is the index of the input at fault."""

    def __init__(self, status: int, message: str, *, argument: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.argument = argument


def bound_method(spec: MethodSpec, handler: Handler) -> Callable[..., Awaitable[Any]]:
    """The asyncua method callback for `spec`, calling `handler(caller, values)`."""

    async def call(parent: ua.NodeId, *arguments: Any) -> Any:
        caller = current_caller()
        try:
            if caller is None:
                raise MethodCallError(
                    StatusCodes.BadUserAccessDenied, f"{spec.name}: no client session"
                )
            if spec.writes and not caller.may_write:
                raise MethodCallError(
                    StatusCodes.BadUserAccessDenied,
                    f"{spec.name} changes records; {caller.describe()} may not call it "
                    "(it needs a supervisor or engineer account)",
                )
            values = _converted(spec, arguments)
            outputs = await handler(caller, values)
        except MethodCallError as refused:
            log.warning("%s refused: %s", spec.name, refused.message)
            return _refusal(refused, len(arguments))
        except Exception:
            log.exception("%s failed", spec.name)
            return _refusal(
                MethodCallError(
                    StatusCodes.BadInternalError,
                    f"{spec.name} failed inside the gateway; see the gateway's log",
                ),
                len(arguments),
            )
        return [
            ua.Variant(value, _OUTPUT_TYPES[output.data_type])
            for value, output in zip(outputs, spec.outputs, strict=True)
        ]

    call.__name__ = spec.name
    return call


def _converted(spec: MethodSpec, arguments: tuple[Any, ...]) -> list[Any]:
    if len(arguments) < len(spec.inputs):
        names = ", ".join(a.name for a in spec.inputs)
        raise MethodCallError(
            StatusCodes.BadArgumentsMissing,
            f"{spec.name} takes {len(spec.inputs)} arguments ({names}), got {len(arguments)}",
        )
    if len(arguments) > len(spec.inputs):
        raise MethodCallError(
            StatusCodes.BadTooManyArguments,
            f"{spec.name} takes {len(spec.inputs)} arguments, got {len(arguments)}",
        )
    values: list[Any] = []
    for index, (argument, raw) in enumerate(zip(spec.inputs, arguments, strict=True)):
        variant = raw if isinstance(raw, ua.Variant) else ua.Variant(raw)
        where = f"{spec.name} argument {argument.name}"
        if argument.data_type in _RANGES:
            if variant.VariantType not in INT_TYPES or isinstance(variant.Value, bool):
                raise MethodCallError(
                    StatusCodes.BadTypeMismatch,
                    f"{where} must be an {argument.data_type}, not {variant.VariantType.name}",
                    argument=index,
                )
            low, high = _RANGES[argument.data_type]
            if not low <= int(variant.Value) <= high:
                raise MethodCallError(
                    StatusCodes.BadOutOfRange,
                    f"{where} {variant.Value} is outside {low}..{high}",
                    argument=index,
                )
            values.append(int(variant.Value))
        elif argument.data_type == "String":
            if variant.VariantType is not ua.VariantType.String or variant.Value is None:
                raise MethodCallError(
                    StatusCodes.BadTypeMismatch,
                    f"{where} must be a String, not {variant.VariantType.name}",
                    argument=index,
                )
            values.append(str(variant.Value))
        else:
            values.append(variant.Value)
    return values


def _refusal(refused: MethodCallError, inputs: int) -> ua.CallMethodResult:
    result = ua.CallMethodResult()
    result.StatusCode = ua.StatusCode(ua.UInt32(refused.status))
    if refused.argument is None or refused.argument >= inputs:
        return result
    result.InputArgumentResults = [
        ua.StatusCode(ua.UInt32(refused.status if i == refused.argument else StatusCodes.Good))
        for i in range(inputs)
    ]
    result.InputArgumentDiagnosticInfos = [
        ua.DiagnosticInfo(AdditionalInfo=ua.String(refused.message))
        if i == refused.argument
        else ua.DiagnosticInfo()
        for i in range(inputs)
    ]
    return result
