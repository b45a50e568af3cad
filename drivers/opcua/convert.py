"""asyncua values and status codes → neutral TagValue / Quality, and the errors we raise."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from asyncua import ua
from asyncua.ua.uaerrors import UaStatusCodeError

from drivers.base import (
    DeviceFaultError,
    DriverError,
    Quality,
    SecurityError,
    TagScalar,
    TagValue,
    UsageError,
)

SECURITY_STATUS_NAMES = frozenset(
    {
        "BadCertificateInvalid",
        "BadCertificateUntrusted",
        "BadCertificateTimeInvalid",
        "BadCertificateHostNameInvalid",
        "BadCertificateUriInvalid",
        "BadCertificateUseNotAllowed",
        "BadCertificateIssuerUseNotAllowed",
        "BadCertificateRevoked",
        "BadSecurityChecksFailed",
        "BadSecurityPolicyRejected",
        "BadSecurityModeRejected",
        "BadIdentityTokenInvalid",
        "BadIdentityTokenRejected",
        "BadUserAccessDenied",
    }
)
USAGE_STATUS_NAMES = frozenset(
    {
        "BadNodeIdUnknown",
        "BadNodeIdInvalid",
        "BadAttributeIdInvalid",
        "BadTypeMismatch",
        "BadNotWritable",
        "BadWriteNotSupported",
        "BadOutOfRange",
        "BadInvalidState",
        "BadMethodInvalid",
        "BadArgumentsMissing",
        "BadTooManyArguments",
        "BadInvalidArgument",
    }
)


def utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def quality_of(status: ua.StatusCode | None) -> Quality:
    if status is None or status.is_good():
        return Quality.GOOD
    if status.is_uncertain():
        return Quality.UNCERTAIN
    return Quality.BAD


def scalar(value: Any) -> TagScalar | None:
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    if isinstance(value, ua.LocalizedText):
        return value.Text
    if isinstance(value, datetime):
        return utc(value).isoformat()  # type: ignore[union-attr]
    if isinstance(value, ua.StatusCode):
        return value.name
    return str(value)


def tag_value(data: ua.DataValue, received: datetime) -> TagValue:
    quality = quality_of(data.StatusCode)
    variant = data.Value
    value = None if variant is None or quality is Quality.BAD else scalar(variant.Value)
    return TagValue(
        value=value,
        quality=quality,
        source_time=utc(data.SourceTimestamp),
        received_time=received,
    )


def status_name(error: UaStatusCodeError) -> str:
    return ua.StatusCode(error.code).name


def driver_error(error: UaStatusCodeError, *, device: str, doing: str) -> DriverError:
    name = status_name(error)
    message = f"{doing}: the server answered {name}"
    if name in SECURITY_STATUS_NAMES:
        return SecurityError(
            message,
            device=device,
            hint="check the identity, the certificates on both sides and the server's trust list",
        )
    if name in USAGE_STATUS_NAMES:
        return UsageError(
            message, device=device, hint="check the node id, the value type and state"
        )
    return DeviceFaultError(message, device=device)


def variant_for(value: TagScalar, vtype: ua.VariantType, *, tag: str, device: str) -> ua.Variant:
    expected: dict[ua.VariantType, type | tuple[type, ...]] = {
        ua.VariantType.Boolean: bool,
        ua.VariantType.String: str,
        ua.VariantType.ByteString: bytes,
        ua.VariantType.Float: (int, float),
        ua.VariantType.Double: (int, float),
    }
    wanted = expected.get(vtype, int)
    wrong_bool = isinstance(value, bool) and vtype is not ua.VariantType.Boolean
    if wrong_bool or not isinstance(value, wanted):
        raise UsageError(
            f"tag {tag}: value {value!r} does not fit the node's type {vtype.name}",
            device=device,
            hint=f"write a {vtype.name} value",
        )
    if vtype in (ua.VariantType.Float, ua.VariantType.Double):
        value = float(value)
    return ua.Variant(value, vtype)
