"""The executed record's e-signatures: which actions are signed, the rules a site may not
lower, and the signer's checks made before anything is written.

`ESignatures.sign` runs in a transaction of its own and signs a record that already exists, so
a signed change is written first and signed right after. Everything the signature would refuse
(the session, the role, the user ID of a session's first signature, the password) is checked
before the change is written, so a wrong password leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ebr.audit.trail import AuditEvent
from ebr.execution.context import Context
from ebr.execution.errors import ExecutionError
from ebr.signatures import ESignatures, Meaning, Requirement, SignatureError, SignatureInfo
from ebr.users import PermissionDeniedError, Role, Session

RELEASE_ACTION = "batch_release"
REJECT_ACTION = "batch_reject"
AUDIT_REVIEW_ACTION = "batch_audit_review"
DEVIATION_CLOSE_ACTION = "deviation_close"
MANUAL_OVERRIDE_ACTION = "manual_override"
VALUE_VERIFICATION_ACTION = "ebr_value_verification"

SIGNATURE_DEFAULTS: Mapping[str, Requirement] = dict.fromkeys(
    (
        RELEASE_ACTION,
        REJECT_ACTION,
        AUDIT_REVIEW_ACTION,
        DEVIATION_CLOSE_ACTION,
        MANUAL_OVERRIDE_ACTION,
        VALUE_VERIFICATION_ACTION,
    ),
    Requirement.SINGLE,
)
"""Each of these steps is one person's signature; the second person of a manual value out of
its limits is the separate `ebr_value_verification` signature, so none is configurable."""

ENTRY_OBJECT = "ebr_entry"
DEVIATION_OBJECT = "ebr_deviation"


@dataclass(frozen=True, slots=True)
class SignatureRequest:
    """A person's signature as given: their session, their password, and their user ID
    (needed for the first signature of a session)."""

    session: Session
    password: str
    username: str | None = None


def execution_requirements(
    site: Mapping[str, Requirement | str] | None = None,
) -> dict[str, Requirement]:
    """The site's signature rules with the executed record's actions added; a site that
    configures one of them otherwise than `single` is refused."""
    rules = {action: Requirement(rule) for action, rule in (site or {}).items()}
    for action, default in SIGNATURE_DEFAULTS.items():
        configured = rules.setdefault(action, default)
        if configured is not default:
            raise ExecutionError(
                f"the site configures the signature of {action!r} as {configured.value}",
                hint=f"{action} is always signed by one person ({default.value}); "
                "remove it from the site's signature rules",
            )
    return rules


def check_rules(signatures: ESignatures) -> None:
    """Refuse signatures whose rules would let the executed record's actions go unsigned."""
    for action, default in SIGNATURE_DEFAULTS.items():
        try:
            configured = signatures.requirement(action)
        except SignatureError:
            raise ExecutionError(
                f"the e-signatures have no rule for {action!r}",
                hint="build the signatures' rules with execution_requirements(...)",
            ) from None
        if configured is not default:
            raise ExecutionError(
                f"the signature rule of {action!r} is {configured.value}, not {default.value}",
                hint="build the signatures' rules with execution_requirements(...)",
            )


def signer_ready(
    ctx: Context,
    request: SignatureRequest,
    *,
    roles: Iterable[Role],
    what: str,
    subject: tuple[str, str],
) -> Session:
    """The signer's session, renewed, once every check a signature makes has passed."""
    allowed = frozenset(roles)
    session = ctx.users.touch(request.session)
    why: str | None = None
    if session.role not in allowed:
        why = f"a {session.role.value} cannot sign {what}"
        error: Exception = PermissionDeniedError(
            f"{session.username} is {session.role.value}; {what} is signed by: "
            + ", ".join(sorted(role.value for role in allowed)),
            hint="ask someone with that role to sign",
        )
    elif request.username is not None and request.username != session.username:
        why = f"tried to sign as {request.username!r}"
        error = PermissionDeniedError(
            f"{session.username} cannot sign as {request.username!r}",
            hint="each person signs under their own account (no one signs for another)",
        )
    elif not session.signed and not request.username:
        error = SignatureError(
            "the first signature of a session needs the user ID and the password",
            hint="enter your user ID as well",
        )
    else:
        ctx.users.check_password(session.user_id, request.password)
        return session
    if why is not None:
        ctx.refuse(
            AuditEvent(
                "signature_refused",
                subject[0],
                subject[1],
                action="access",
                new={"why": why, "what": what},
                user_id=session.user_id,
                username=session.username,
            )
        )
    raise error


def sign(
    ctx: Context,
    request: SignatureRequest,
    *,
    action: str,
    object_type: str,
    object_id: int | str,
    meaning: Meaning,
) -> SignatureInfo:
    _, signature = ctx.signatures.sign(
        request.session,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        meaning=meaning,
        password=request.password,
        username=request.username,
    )
    return signature
