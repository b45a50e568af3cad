"""Checking a record against the annex's fields and putting its values in one canonical form.

A record arrives as a mapping from a JSON or YAML file, the HMI or the API. Fields are named by
their key or by their Chinese name. Every problem is collected, so one refusal lists them all,
each with its place in the record, what is wrong and how to fix it.

The canonical form is plain JSON that the audit trail can hash: text stripped, a choice as its
key, a date as `YYYY-MM-DD`, a moment as UTC ISO 8601, a number as decimal text (never a
float, so no value changes on its way through), a quantity as `{"value", "unit"}`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ebr.audit.chain import utc_text
from ebr.decoction.errors import FieldProblem, InvalidRecordError
from ebr.decoction.fields import Condition, Field, FieldKind, Section, TextFormat
from serialization.errors import SerializationError
from serialization.uscc import validate_uscc

MAX_PARAMETERS = 50
MAX_UNIT_LENGTH = 16
MAX_PARAMETER_TEXT = 200
PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{2,30}(?:(?:ext|转)[0-9]{1,6})?")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
QUANTITY_TEXT = re.compile(r"\s*([-+]?[0-9]+(?:\.[0-9]+)?)\s*(\S.*?)\s*")
FILL_BASIC = "fill in every basic field (基本追溯信息, 必填)"
FIELD_LIST = "`tracegate decoction fields` lists the fields"


def validate(
    section: Section,
    payload: object,
    *,
    what: str,
    fixed: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The record's values in canonical form, or `InvalidRecordError` listing every problem.

    `fixed` holds values the record may repeat but not change (the batch's lot)."""
    checker = _Checker(fixed or {})
    values = checker.record(section.fields, payload, "")
    if checker.problems:
        raise InvalidRecordError(what, checker.problems)
    return values


def canonical_decimal(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "+0") else text


def describe(value: object) -> str:
    if isinstance(value, bool):
        return f"yes/no ({value})"
    if isinstance(value, int | float | Decimal):
        return f"the number {value}"
    if isinstance(value, Mapping):
        return "a group of fields"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


class _Checker:
    def __init__(self, fixed: Mapping[str, str]) -> None:
        self.fixed = fixed
        self.problems: list[FieldProblem] = []

    def problem(self, path: str, field: Field | None, problem: str, fix: str) -> None:
        self.problems.append(FieldProblem(path, field.label if field else "", problem, fix))

    def record(self, fields: Sequence[Field], payload: object, prefix: str) -> dict[str, Any]:
        if not isinstance(payload, Mapping):
            self.problem(
                prefix or "record",
                None,
                f"is {describe(payload)}, not a set of fields",
                "write the fields as a mapping of field name to value",
            )
            return {}
        given = self._given(fields, payload, prefix)
        values: dict[str, Any] = {}
        for field in fields:
            path = _join(prefix, field.key)
            raw = given.get(field.key)
            present = field.key in given and not _blank(raw)
            if not self._may_hold(field, fields, values, path, raw if present else None):
                continue
            if not present:
                self._missing(field, fields, values, path)
                continue
            value = self.value(field, raw, path)
            if value is not None:
                values[field.key] = value
        return values

    def _given(
        self, fields: Sequence[Field], payload: Mapping[Any, Any], prefix: str
    ) -> dict[str, object]:
        by_name = {name: field for field in fields for name in (field.key, field.zh)}
        given: dict[str, object] = {}
        for name, raw in payload.items():
            field = by_name.get(name) if isinstance(name, str) else None
            path = _join(prefix, str(name))
            if field is None:
                self.problem(
                    path,
                    None,
                    "is not a field of this record",
                    f"remove or rename it; {FIELD_LIST}",
                )
            elif field.key in given:
                self.problem(
                    path,
                    field,
                    "is given twice (by its key and by its Chinese name)",
                    "give each field once",
                )
            else:
                given[field.key] = raw
        return given

    def _may_hold(
        self,
        field: Field,
        fields: Sequence[Field],
        values: Mapping[str, Any],
        path: str,
        raw: object,
    ) -> bool:
        """Whether the field is read from this record; refuses one given where it has no
        place (`raw` is None when the field is not given)."""
        present = raw is not None
        if field.kind is FieldKind.ATTACHMENT:
            if present:
                self.problem(
                    path,
                    field,
                    "is a file, not a value",
                    f"attach the file with `tracegate decoction attach --field {field.key}`",
                )
            return False
        if field.kind is FieldKind.RECORDS:
            if present:
                self.problem(
                    path,
                    field,
                    f"is kept in {field.kept_in} records, not here",
                    f"record it with `tracegate decoction add {field.kept_in}`",
                )
            return False
        if field.kept_in is not None:
            if present:
                self._fixed(field, raw, path)
            return False
        condition = field.allowed_when
        if condition is not None and not _holds(condition, values):
            if present:
                self.problem(
                    path,
                    field,
                    f"applies only when {_condition_text(condition, fields)}",
                    "leave it out",
                )
            return False
        return True

    def _fixed(self, field: Field, raw: object, path: str) -> None:
        expected = self.fixed.get(field.key)
        if isinstance(raw, str) and raw.strip() == expected:
            return
        self.problem(
            path,
            field,
            f"comes from the batch ({expected!r}) and cannot be written differently",
            "leave it out, or write it exactly as the batch has it",
        )

    def _missing(
        self, field: Field, fields: Sequence[Field], values: Mapping[str, Any], path: str
    ) -> None:
        if not field.required:
            return
        condition = field.required_when
        if condition is None:
            self.problem(path, field, "is missing: a basic field (必填)", FILL_BASIC)
        elif _holds(condition, values):
            when = _condition_text(condition, fields)
            self.problem(path, field, f"is missing: needed when {when}", f"give it when {when}")

    def value(self, field: Field, raw: object, path: str) -> Any:
        check = _KIND_CHECKS[field.kind]
        return check(self, field, raw, path)

    def text(self, field: Field, raw: object, path: str) -> str | None:
        if not isinstance(raw, str):
            self.problem(
                path,
                field,
                f"is {describe(raw)}, not text",
                "write it in quotes, as text (an unquoted number loses leading zeros)",
            )
            return None
        text = raw.strip()
        if field.max_length is not None and len(text) > field.max_length:
            self.problem(
                path,
                field,
                f"is {len(text)} characters long; at most {field.max_length} are kept",
                f"shorten it to {field.max_length} characters",
            )
            return None
        if field.text_format is not None and not self._formatted(field, text, path):
            return None
        return text

    def _formatted(self, field: Field, text: str, path: str) -> bool:
        if field.text_format is TextFormat.PHONE and not PHONE.fullmatch(text):
            self.problem(
                path,
                field,
                f"{text!r} is not a telephone number",
                "write digits, with an optional leading + and spaces or hyphens",
            )
            return False
        if field.text_format is TextFormat.EMAIL and not EMAIL.fullmatch(text):
            self.problem(path, field, f"{text!r} is not an email address", "write name@domain")
            return False
        if field.text_format is TextFormat.USCC:
            try:
                validate_uscc(text)
            except SerializationError as error:
                self.problem(
                    path,
                    field,
                    f"{text!r} is not a unified social credit code: {error}",
                    getattr(error, "hint", None) or "copy the 18 characters from the licence",
                )
                return False
        return True

    def choice(self, field: Field, raw: object, path: str) -> str | None:
        if isinstance(raw, str):
            wanted = raw.strip().casefold()
            for choice in field.choices:
                names = (choice.key, choice.zh, choice.en, *choice.aliases)
                if wanted in (name.casefold() for name in names):
                    return choice.key
        options = ", ".join(choice.label for choice in field.choices)
        self.problem(
            path, field, f"{describe(raw)} is not one of: {options}", f"write one of: {options}"
        )
        return None

    def yes_no(self, field: Field, raw: object, path: str) -> bool | None:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            answer = raw.strip().casefold()
            if answer in ("是", "yes", "true", "y"):
                return True
            if answer in ("否", "no", "false", "n"):
                return False
        self.problem(path, field, f"{describe(raw)} is not yes or no", "write 是 or 否 (yes or no)")
        return None

    def date_value(self, field: Field, raw: object, path: str) -> str | None:
        day = _date(raw)
        if day is None:
            self.problem(
                path,
                field,
                f"{describe(raw)} is not a date",
                "write the year, month and day as YYYY-MM-DD, e.g. 2026-11-01",
            )
            return None
        return day.isoformat()

    def date_range(self, field: Field, raw: object, path: str) -> dict[str, str] | None:
        ends = _ends(raw, ("from", "to"), (("start", "开始", "起"), ("end", "结束", "止")))
        start, end = (None, None) if ends is None else (_date(ends[0]), _date(ends[1]))
        if start is None or end is None:
            self.problem(
                path,
                field,
                f"{describe(raw)} is not a range of dates",
                "write from: YYYY-MM-DD and to: YYYY-MM-DD",
            )
            return None
        if start > end:
            self.problem(
                path, field, f"starts {start} after it ends {end}", "swap or correct the dates"
            )
            return None
        return {"from": start.isoformat(), "to": end.isoformat()}

    def moment(self, field: Field, raw: object, path: str) -> str | None:
        when = raw if isinstance(raw, datetime) else _datetime(raw)
        if when is None:
            self.problem(
                path,
                field,
                f"{describe(raw)} is not a date and time",
                "write ISO 8601 with the UTC offset, e.g. 2026-11-01T08:30:00+08:00",
            )
            return None
        if when.tzinfo is None:
            self.problem(
                path,
                field,
                f"{when.isoformat()} has no UTC offset",
                "add the offset, e.g. 2026-11-01T08:30:00+08:00",
            )
            return None
        return utc_text(when)

    def decimal(self, field: Field, raw: object, path: str) -> str | None:
        number = _decimal(raw)
        if number is None:
            self.problem(path, field, f"{describe(raw)} is not a number", "write a decimal number")
            return None
        if not self._in_bounds(field, number, path):
            return None
        return canonical_decimal(number)

    def _in_bounds(self, field: Field, number: Decimal, path: str) -> bool:
        low, high = field.minimum, field.maximum
        if (low is not None and number < low) or (high is not None and number > high):
            bounds = f"{'' if low is None else low} to {'' if high is None else high}".strip()
            self.problem(
                path,
                field,
                f"{canonical_decimal(number)} is out of range ({bounds})",
                f"write a value from {bounds}",
            )
            return False
        return True

    def decimal_range(self, field: Field, raw: object, path: str) -> dict[str, str] | None:
        ends = _ends(raw, ("low", "high"), (("from", "min", "最低"), ("to", "max", "最高")))
        low, high = (None, None) if ends is None else (_decimal(ends[0]), _decimal(ends[1]))
        unit = f" {field.unit}" if field.unit else ""
        if low is None or high is None:
            self.problem(
                path,
                field,
                f"{describe(raw)} is not a range of numbers",
                f"write low: and high: as numbers{unit}, or a list [low, high]",
            )
            return None
        if low > high:
            self.problem(path, field, f"low {low} is above high {high}", "swap or correct them")
            return None
        if not (self._in_bounds(field, low, path) and self._in_bounds(field, high, path)):
            return None
        return {"low": canonical_decimal(low), "high": canonical_decimal(high)}

    def quantity(self, field: Field, raw: object, path: str) -> dict[str, str] | None:
        value, unit = _quantity_parts(raw)
        number = _decimal(value)
        if number is None or not isinstance(unit, str) or not unit.strip():
            self.problem(
                path,
                field,
                f"{describe(raw)} is not a quantity with its unit",
                "write value: and unit:, e.g. value: 12.5 and unit: kg (or '12.5 kg')",
            )
            return None
        if number <= 0:
            self.problem(path, field, f"{number} is not above zero", "write the actual quantity")
            return None
        if len(unit.strip()) > MAX_UNIT_LENGTH:
            self.problem(
                path,
                field,
                f"unit {unit.strip()!r} is longer than {MAX_UNIT_LENGTH} characters",
                "use the unit's short form (kg, g, 袋, 件)",
            )
            return None
        return {"value": canonical_decimal(number), "unit": unit.strip()}

    def parameters(self, field: Field, raw: object, path: str) -> dict[str, Any] | None:
        if not isinstance(raw, Mapping) or len(raw) > MAX_PARAMETERS:
            self.problem(
                path,
                field,
                f"{describe(raw)} is not a set of at most {MAX_PARAMETERS} named parameters",
                "write name: value (or name: {value: …, unit: …}), e.g. 温度: {value: 180, "
                "unit: ℃}",
            )
            return None
        values: dict[str, Any] = {}
        for name, item in raw.items():
            where = _join(path, str(name))
            parameter = _parameter(item)
            if not isinstance(name, str) or not name.strip() or len(name) > 100:
                self.problem(
                    where, field, "has no usable name", "name it in at most 100 characters"
                )
            elif parameter is None:
                self.problem(
                    where,
                    field,
                    f"{describe(item)} is not a parameter value",
                    f"write a number or text of at most {MAX_PARAMETER_TEXT} characters, "
                    f"optionally with a unit of at most {MAX_UNIT_LENGTH}",
                )
            else:
                values[name.strip()] = parameter
        return values if len(values) == len(raw) else None

    def group(self, field: Field, raw: object, path: str) -> dict[str, Any] | None:
        before = len(self.problems)
        values = self.record(field.parts, raw, path)
        return values if len(self.problems) == before else None

    def items(self, field: Field, raw: object, path: str) -> list[dict[str, Any]] | None:
        entries = [raw] if isinstance(raw, Mapping) else raw
        if not isinstance(entries, list):
            self.problem(path, field, f"is {describe(raw)}, not a list", "write a list of entries")
            return None
        before = len(self.problems)
        values = [
            self.record(field.parts, entry, f"{path}[{index}]")
            for index, entry in enumerate(entries, start=1)
        ]
        return values if len(self.problems) == before else None


_KIND_CHECKS: dict[FieldKind, Callable[[_Checker, Field, object, str], Any]] = {
    FieldKind.TEXT: _Checker.text,
    FieldKind.CHOICE: _Checker.choice,
    FieldKind.YES_NO: _Checker.yes_no,
    FieldKind.DATE: _Checker.date_value,
    FieldKind.DATE_RANGE: _Checker.date_range,
    FieldKind.DATETIME: _Checker.moment,
    FieldKind.DECIMAL: _Checker.decimal,
    FieldKind.DECIMAL_RANGE: _Checker.decimal_range,
    FieldKind.QUANTITY: _Checker.quantity,
    FieldKind.PARAMETERS: _Checker.parameters,
    FieldKind.GROUP: _Checker.group,
    FieldKind.LIST: _Checker.items,
}


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _blank(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, Mapping | list | tuple):
        return len(raw) == 0
    return False


def _holds(condition: Condition, values: Mapping[str, Any]) -> bool:
    return values.get(condition.field) in condition.values


def _condition_text(condition: Condition, fields: Sequence[Field]) -> str:
    for field in fields:
        if field.key == condition.field:
            names = [c.zh for c in field.choices if c.key in condition.values]
            return f"{field.zh} ({field.key}) is {' or '.join(names or condition.values)}"
    return f"{condition.field} is {' or '.join(condition.values)}"


def _date(raw: object) -> date | None:
    if isinstance(raw, datetime):
        return None
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            return None
    return None


def _datetime(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.strip())
    except ValueError:
        return None


def _decimal(raw: object) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    try:
        if isinstance(raw, int | Decimal):
            number = Decimal(raw)
        elif isinstance(raw, float):
            number = Decimal(repr(raw))
        elif isinstance(raw, str):
            number = Decimal(raw.strip())
        else:
            return None
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _ends(
    raw: object, keys: tuple[str, str], aliases: tuple[tuple[str, ...], tuple[str, ...]]
) -> tuple[object, object] | None:
    if isinstance(raw, list | tuple) and len(raw) == 2:
        return raw[0], raw[1]
    if isinstance(raw, str) and raw.count("/") == 1:
        first, second = raw.split("/")
        return first, second
    if not isinstance(raw, Mapping):
        return None
    found: list[object] = []
    for key, others in zip(keys, aliases, strict=True):
        names = [name for name in (key, *others) if name in raw]
        if len(names) != 1:
            return None
        found.append(raw[names[0]])
    if len(raw) != 2:
        return None
    return found[0], found[1]


def _quantity_parts(raw: object) -> tuple[object, object]:
    if isinstance(raw, Mapping) and set(raw) == {"value", "unit"}:
        return raw["value"], raw["unit"]
    if isinstance(raw, str):
        matched = QUANTITY_TEXT.fullmatch(raw)
        if matched:
            return matched.group(1), matched.group(2)
    return None, None


def _parameter(item: object) -> dict[str, str] | None:
    if isinstance(item, Mapping):
        if not set(item) <= {"value", "unit"}:
            return None
        value, unit = item.get("value"), item.get("unit")
    else:
        value, unit = item, None
    if unit is not None and (not isinstance(unit, str) or len(unit.strip()) > MAX_UNIT_LENGTH):
        return None
    number = None if isinstance(value, str) else _decimal(value)
    if number is not None:
        text = canonical_decimal(number)
    elif isinstance(value, str) and value.strip() and len(value.strip()) <= MAX_PARAMETER_TEXT:
        text = value.strip()
    else:
        return None
    parameter = {"value": text}
    if unit is not None and unit.strip():
        parameter["unit"] = unit.strip()
    return parameter
