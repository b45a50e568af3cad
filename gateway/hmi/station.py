"""The manual aggregation and rework station driven by a handheld scanner: each operation of
`gateway.line.rework.ReworkStation` from the scanned fields of one form, said for the operator
(what was done, or the station's refusal with its hint)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final

from ebr.users import Session
from gateway.hmi.actions import Failure
from gateway.hmi.console import LineConsole, actor_of
from gateway.hmi.forms import field
from gateway.hmi.texts import N_
from gateway.line.rework import Reason, ReworkError, ReworkStation
from gateway.line.supervisor import LineActionError

Form = dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class Operation:
    title: str
    fields: tuple[str, ...]
    """The form's fields in scanning order: case, unit, units (one per line), reason, sample."""


OPERATIONS: Final = {
    "identify": Operation(N_("Identify a code"), ("code",)),
    "add": Operation(N_("Add a unit to a case"), ("case", "unit")),
    "remove": Operation(N_("Take a unit out of a case"), ("case", "unit")),
    "unpack": Operation(N_("Unpack a case"), ("case", "note")),
    "relabel": Operation(N_("Replace a case label"), ("reason", "case")),
    "pack": Operation(N_("Pack units into a new case"), ("units",)),
    "sample": Operation(N_("Take a sample"), ("unit", "destructive", "note")),
    "destroy": Operation(N_("Destroy a unit"), ("reason", "unit")),
}
REASONS: Final = {
    Reason.DAMAGED: N_("Damaged"),
    Reason.SAMPLED: N_("Sampled"),
    Reason.DESTROYED: N_("Destroyed"),
    Reason.RECALLED: N_("Recalled"),
    Reason.EXPIRED: N_("Expired"),
    Reason.REPACKAGED: N_("Repackaged"),
}


@dataclass(frozen=True, slots=True)
class Done:
    message: str
    """English, for the catalog; `values` fill its placeholders."""
    values: dict[str, str]


async def run_operation(
    console: LineConsole, session: Session, operation: str, form: Form
) -> Done | Failure:
    """Do `operation` with the scanned `form`; a refusal is returned, nothing half-done."""
    if operation not in OPERATIONS:
        return Failure(
            f"no station operation {operation!r}",
            f"use one of: {', '.join(OPERATIONS)}",
            404,
        )
    missing = _missing(operation, form)
    if missing is not None:
        return missing
    try:
        station = console.running().rework
        done = await _DO[operation](station, session, form)
    except LineActionError as error:
        return Failure(error.message, error.hint or "")
    except ReworkError as error:
        return Failure(error.message, error.hint or "", 422)
    finally:
        console.changed()
    return done


def _missing(operation: str, form: Form) -> Failure | None:
    for name in OPERATIONS[operation].fields:
        if name in ("destructive", "note"):
            continue
        value = field(form, name).strip()
        if not value:
            return Failure(f"the {name} field is empty", f"scan or enter the {name}", 400)
        if name == "reason" and value not in {reason.value for reason in Reason}:
            choices = ", ".join(reason.value for reason in Reason)
            return Failure(f"{value!r} is not a reason", f"choose one of: {choices}", 400)
    if operation in ("unpack", "sample") and not field(form, "note").strip():
        return Failure("the reason is empty", "say why, e.g. the sample plan's name", 400)
    return None


def scanned(form: Form, name: str) -> str:
    return field(form, name).strip()


async def _identify(station: ReworkStation, _session: Session, form: Form) -> Done:
    info = station.identify(scanned(form, "code"))
    return Done(
        N_("Code {key}: {level}, {state}, batch {batch}, in {parent}"),
        {
            "key": info.key,
            "level": info.level or "—",
            "state": info.state.label,
            "batch": str(info.batch_id),
            "parent": info.parent_key or "—",
        },
    )


async def _add(station: ReworkStation, session: Session, form: Form) -> Done:
    await station.add_child(scanned(form, "case"), scanned(form, "unit"), actor_of(session))
    return Done(N_("Unit added to case {case}."), {"case": scanned(form, "case")})


async def _remove(station: ReworkStation, session: Session, form: Form) -> Done:
    await station.remove_child(scanned(form, "case"), scanned(form, "unit"), actor_of(session))
    return Done(N_("Unit taken out of case {case}."), {"case": scanned(form, "case")})


async def _unpack(station: ReworkStation, session: Session, form: Form) -> Done:
    await station.unpack(scanned(form, "case"), actor_of(session), scanned(form, "note"))
    return Done(N_("Case {case} unpacked."), {"case": scanned(form, "case")})


async def _relabel(station: ReworkStation, session: Session, form: Form) -> Done:
    key = await station.replace_label(
        scanned(form, "case"), actor_of(session), Reason(scanned(form, "reason"))
    )
    return Done(N_("New case label {key}: print it and put it on the case."), {"key": key})


async def _pack(station: ReworkStation, session: Session, form: Form) -> Done:
    units = [line.strip() for line in field(form, "units").splitlines() if line.strip()]
    key = await station.reaggregate(units, actor_of(session))
    return Done(
        N_("{count} units packed into the new case {key}."), {"count": str(len(units)), "key": key}
    )


async def _sample(station: ReworkStation, session: Session, form: Form) -> Done:
    destructive = bool(field(form, "destructive"))
    await station.sample(
        scanned(form, "unit"),
        actor_of(session),
        destructive=destructive,
        reason=scanned(form, "note"),
    )
    return Done(N_("Unit sampled (destructive).") if destructive else N_("Unit sampled."), {})


async def _destroy(station: ReworkStation, session: Session, form: Form) -> Done:
    await station.destroy(scanned(form, "unit"), actor_of(session), Reason(scanned(form, "reason")))
    return Done(N_("Unit destroyed."), {})


_DO: Final[dict[str, Callable[[ReworkStation, Session, Form], Coroutine[Any, Any, Done]]]] = {
    "identify": _identify,
    "add": _add,
    "remove": _remove,
    "unpack": _unpack,
    "relabel": _relabel,
    "pack": _pack,
    "sample": _sample,
    "destroy": _destroy,
}
