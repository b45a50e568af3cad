"""The content of a recipe version: what a master batch record prescribes, read from JSON.

One parse turns what a person or the enterprise sent into `RecipeContent`, refusing anything
unknown, missing or out of range by its path (`materials[0].issue_per_unit`). `to_dict` gives
the normalised JSON that is stored and hashed. The canonical JSON of the audit trail has no
floats (their text is not stable across languages), so decimal values (limits, percentages,
issue ratios) are kept as decimal strings such as `"180.5"`; counts are integers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

from ebr.audit.chain import canonical_plain, sha256_hex
from ebr.recipes.errors import RecipeError
from serialization.rules import PackagingLevel

MAX_NAME: Final = 200
MAX_ITEMS: Final = 200
LEVEL_ORDER: Final = tuple(PackagingLevel)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RecipeLevel:
    level: PackagingLevel
    quantity: int | None
    """How many of the level below one holds; None for the unit level."""
    coding_rule: str


@dataclass(frozen=True, slots=True)
class RecipeMaterial:
    id: str
    name: str
    unit: str
    issue_per_unit: Decimal
    """Issued per unit of the order's quantity (1 label per unit, 0.005 cases per unit…)."""
    issue_extra: int
    """Issued on top, for set-up and the challenge test."""
    reconciliation_low_pct: Decimal
    reconciliation_high_pct: Decimal

    def issue_quantity(self, order_quantity: int) -> Decimal:
        return self.issue_per_unit * order_quantity + self.issue_extra


@dataclass(frozen=True, slots=True)
class ProcessParameter:
    name: str
    tag: str
    unit: str
    low: Decimal | None
    high: Decimal | None


@dataclass(frozen=True, slots=True)
class InProcessCheck:
    name: str
    interval_minutes: int


@dataclass(frozen=True, slots=True)
class YieldLimits:
    low_pct: Decimal
    high_pct: Decimal


@dataclass(frozen=True, slots=True)
class RecipeContent:
    levels: tuple[RecipeLevel, ...]
    lines: tuple[str, ...]
    clearance_checklist: tuple[str, ...]
    materials: tuple[RecipeMaterial, ...]
    parameters: tuple[ProcessParameter, ...]
    checks: tuple[InProcessCheck, ...]
    yield_limits: YieldLimits
    reconciliation_tolerance: int
    """Units by which the count reconciliation may be off before it is a breach."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "levels": levels_as_json(self.levels),
            "lines": list(self.lines),
            "clearance_checklist": list(self.clearance_checklist),
            "materials": [
                {
                    "id": m.id,
                    "name": m.name,
                    "unit": m.unit,
                    "issue_per_unit": decimal_text(m.issue_per_unit),
                    "issue_extra": m.issue_extra,
                    "reconciliation_low_pct": decimal_text(m.reconciliation_low_pct),
                    "reconciliation_high_pct": decimal_text(m.reconciliation_high_pct),
                }
                for m in self.materials
            ],
            "parameters": [
                {
                    "name": p.name,
                    "tag": p.tag,
                    "unit": p.unit,
                    "low": None if p.low is None else decimal_text(p.low),
                    "high": None if p.high is None else decimal_text(p.high),
                }
                for p in self.parameters
            ],
            "checks": [
                {"name": c.name, "interval_minutes": c.interval_minutes} for c in self.checks
            ],
            "yield_limits": {
                "low_pct": decimal_text(self.yield_limits.low_pct),
                "high_pct": decimal_text(self.yield_limits.high_pct),
            },
            "reconciliation_tolerance": self.reconciliation_tolerance,
        }

    def sha256(self) -> str:
        return content_sha256(self.to_dict())


def content_sha256(content: Mapping[str, Any]) -> str:
    """SHA-256 of the content's canonical JSON (sorted keys, no whitespace, UTF-8)."""
    return sha256_hex(canonical_plain(content))


def decimal_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def parse_content(data: Any) -> RecipeContent:
    """The content in `data` (a JSON object), or `RecipeError` naming the path at fault."""
    fields = _Object(data, "content")
    content = RecipeContent(
        levels=_levels(fields.items("levels", minimum=1)),
        lines=tuple(_unique(fields.items("lines", minimum=1), _text, "lines", key=lambda x: x)),
        clearance_checklist=tuple(
            _text(item, path) for item, path in fields.items("clearance_checklist", minimum=1)
        ),
        materials=tuple(
            _unique(fields.items("materials"), _material, "materials", key=lambda m: m.id)
        ),
        parameters=tuple(
            _unique(fields.items("parameters"), _parameter, "parameters", key=lambda p: p.name)
        ),
        checks=tuple(_unique(fields.items("checks"), _check, "checks", key=lambda c: c.name)),
        yield_limits=_yield_limits(fields.get("yield_limits"), "yield_limits"),
        reconciliation_tolerance=_count(
            fields.get("reconciliation_tolerance"), "reconciliation_tolerance"
        ),
    )
    fields.done()
    return content


class _Object:
    """A JSON object read key by key; `done` refuses the keys no one asked for."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise RecipeError(
                f"recipe {path} must be a JSON object, not {type(data).__name__}",
                hint="see the content fields in ebr/recipes/content.py",
                field=path,
            )
        self._data = data
        self._path = path
        self._read: set[str] = set()

    def path(self, key: str) -> str:
        return key if self._path == "content" else f"{self._path}.{key}"

    def get(self, key: str, *, optional: bool = False) -> Any:
        self._read.add(key)
        if key not in self._data:
            if optional:
                return None
            raise RecipeError(
                f"recipe {self.path(key)} is missing",
                hint=f"add {key!r}; it is required",
                field=self.path(key),
            )
        return self._data[key]

    def items(self, key: str, *, minimum: int = 0) -> list[tuple[Any, str]]:
        value = self.get(key)
        where = self.path(key)
        if not isinstance(value, list):
            raise RecipeError(
                f"recipe {where} must be a list, not {type(value).__name__}",
                hint="write it as a JSON array",
                field=where,
            )
        if not minimum <= len(value) <= MAX_ITEMS:
            raise RecipeError(
                f"recipe {where} has {len(value)} entries; it needs {minimum} to {MAX_ITEMS}",
                hint=f"give at least {minimum}" if len(value) < minimum else "split it",
                field=where,
            )
        return [(item, f"{where}[{index}]") for index, item in enumerate(value)]

    def done(self) -> None:
        unknown = sorted(str(key) for key in self._data if key not in self._read)
        if unknown:
            raise RecipeError(
                f"recipe {self.path(unknown[0])} is not a known field",
                hint=f"the fields here are {', '.join(sorted(self._read))}; check the spelling",
                field=self.path(unknown[0]),
            )


def _levels(items: list[tuple[Any, str]]) -> tuple[RecipeLevel, ...]:
    levels = _unique(items, _level, "levels", key=lambda lv: lv.level.value)
    ordered = sorted(levels, key=lambda lv: LEVEL_ORDER.index(lv.level))
    if ordered[0].level is not PackagingLevel.UNIT:
        raise RecipeError(
            "recipe levels have no unit level",
            hint="every packaging recipe codes its units; add the unit level",
            field="levels",
        )
    return tuple(ordered)


def _level(data: Any, path: str) -> RecipeLevel:
    fields = _Object(data, path)
    name = _text(fields.get("level"), fields.path("level"))
    try:
        level = PackagingLevel(name)
    except ValueError:
        raise RecipeError(
            f"recipe {fields.path('level')} {name!r} is not a packaging level",
            hint=f"use one of {', '.join(lv.value for lv in PackagingLevel)}",
            field=fields.path("level"),
        ) from None
    quantity = fields.get("quantity", optional=True)
    if level is PackagingLevel.UNIT and quantity is not None:
        raise RecipeError(
            f"recipe {fields.path('quantity')}: the unit level holds no quantity",
            hint="leave quantity out (or null) for the unit level",
            field=fields.path("quantity"),
        )
    if level is not PackagingLevel.UNIT:
        quantity = _count(quantity, fields.path("quantity"), minimum=1)
    rule = _text(fields.get("coding_rule"), fields.path("coding_rule"))
    fields.done()
    return RecipeLevel(level, quantity, rule)


def _material(data: Any, path: str) -> RecipeMaterial:
    fields = _Object(data, path)
    low = _decimal(fields.get("reconciliation_low_pct"), fields.path("reconciliation_low_pct"))
    high = _decimal(fields.get("reconciliation_high_pct"), fields.path("reconciliation_high_pct"))
    _ordered(low, high, fields.path("reconciliation_low_pct"))
    per_unit = _decimal(fields.get("issue_per_unit"), fields.path("issue_per_unit"))
    if per_unit <= 0:
        raise RecipeError(
            f"recipe {fields.path('issue_per_unit')} must be more than 0, not {per_unit}",
            hint="give what is issued per unit of the order, e.g. 1 label per unit",
            field=fields.path("issue_per_unit"),
        )
    extra = fields.get("issue_extra", optional=True)
    material = RecipeMaterial(
        id=_text(fields.get("id"), fields.path("id")),
        name=_text(fields.get("name"), fields.path("name")),
        unit=_text(fields.get("unit"), fields.path("unit")),
        issue_per_unit=per_unit,
        issue_extra=0 if extra is None else _count(extra, fields.path("issue_extra")),
        reconciliation_low_pct=low,
        reconciliation_high_pct=high,
    )
    fields.done()
    return material


def _parameter(data: Any, path: str) -> ProcessParameter:
    fields = _Object(data, path)
    low_value = fields.get("low", optional=True)
    high_value = fields.get("high", optional=True)
    low = None if low_value is None else _decimal(low_value, fields.path("low"))
    high = None if high_value is None else _decimal(high_value, fields.path("high"))
    if low is None and high is None:
        raise RecipeError(
            f"recipe {path} has neither low nor high",
            hint="a process parameter needs at least one limit",
            field=fields.path("low"),
        )
    if low is not None and high is not None:
        _ordered(low, high, fields.path("low"))
    parameter = ProcessParameter(
        name=_text(fields.get("name"), fields.path("name")),
        tag=_text(fields.get("tag"), fields.path("tag")),
        unit=_text(fields.get("unit"), fields.path("unit")),
        low=low,
        high=high,
    )
    fields.done()
    return parameter


def _check(data: Any, path: str) -> InProcessCheck:
    fields = _Object(data, path)
    check = InProcessCheck(
        name=_text(fields.get("name"), fields.path("name")),
        interval_minutes=_count(
            fields.get("interval_minutes"), fields.path("interval_minutes"), minimum=1
        ),
    )
    fields.done()
    return check


def _yield_limits(data: Any, path: str) -> YieldLimits:
    fields = _Object(data, path)
    low = _decimal(fields.get("low_pct"), fields.path("low_pct"))
    high = _decimal(fields.get("high_pct"), fields.path("high_pct"))
    _ordered(low, high, fields.path("low_pct"))
    if low < 0:
        raise RecipeError(
            f"recipe {fields.path('low_pct')} {low} is below 0",
            hint="a yield is a percentage of the order's quantity",
            field=fields.path("low_pct"),
        )
    fields.done()
    return YieldLimits(low, high)


def _unique(
    items: list[tuple[Any, str]],
    parse: Callable[[Any, str], T],
    where: str,
    *,
    key: Callable[[T], str],
) -> list[T]:
    parsed: list[T] = []
    seen: dict[str, str] = {}
    for item, path in items:
        value = parse(item, path)
        name = key(value)
        if name in seen:
            raise RecipeError(
                f"recipe {path} repeats {name!r} (already at {seen[name]})",
                hint=f"each entry of {where} is named once",
                field=path,
            )
        seen[name] = path
        parsed.append(value)
    return parsed


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise RecipeError(
            f"recipe {path} must be text of 1 to {MAX_NAME} characters, not {value!r}",
            hint="write it as a JSON string",
            field=path,
        )
    return value


def _count(value: Any, path: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RecipeError(
            f"recipe {path} must be a whole number of at least {minimum}, not {value!r}",
            hint="write it without quotes or decimals",
            field=path,
        )
    return value


def _decimal(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RecipeError(
            f"recipe {path} must be a number, not {value!r}",
            hint='write it as a number or a decimal string, e.g. 180.5 or "180.5"',
            field=path,
        )
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise RecipeError(
            f"recipe {path} {value!r} is not a finite decimal number",
            hint='write it as a number or a decimal string, e.g. 180.5 or "180.5"',
            field=path,
        )
    return number


def _ordered(low: Decimal, high: Decimal, path: str) -> None:
    if low > high:
        raise RecipeError(
            f"recipe {path}: low {low} is above high {high}",
            hint="swap them, or correct the one that is wrong",
            field=path,
        )


def levels_as_json(levels: Sequence[RecipeLevel]) -> list[dict[str, Any]]:
    return [
        {"level": lv.level.value, "quantity": lv.quantity, "coding_rule": lv.coding_rule}
        for lv in levels
    ]
