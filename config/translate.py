"""Pydantic's validation errors, retold for a plant engineer.

Pydantic says "Input should be a valid string"; a person editing YAML needs "YAML read this as
a number: write gtin: "09501101530003" in quotes". Each error keeps its path; the message and
hint are rewritten from the error type, the input and the model's own field descriptions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from config.fields import close_match_hint
from config.problems import Finding, InvalidValue, Loc
from config.yamlsource import SourceMap
from serialization.errors import CheckCharacterError, SerializationError


def describe(exc: BaseException) -> tuple[str, str | None]:
    """Message and hint of an error raised by a validator or by `serialization`."""
    if isinstance(exc, InvalidValue):
        return exc.message, exc.hint
    if isinstance(exc, SerializationError):
        message = exc.message
        if exc.position is not None and not isinstance(exc, CheckCharacterError):
            message += f" (character {exc.position + 1})"
        return message, exc.hint
    return str(exc), None


def translate(
    error: ValidationError, prefix: Loc, model: type[BaseModel], source: SourceMap
) -> list[Finding]:
    """One `Finding` per pydantic error; `prefix` is where the validated item sits."""
    findings = []
    for detail in error.errors(include_url=False):
        loc, message, hint = _retell(detail, model, source, prefix)
        findings.append(Finding((*prefix, *_untagged(model, loc)), message, hint))
    return findings


def _retell(
    detail: Mapping[str, Any], model: type[BaseModel], source: SourceMap, prefix: Loc
) -> tuple[Loc, str, str | None]:
    loc: Loc = tuple(detail["loc"])
    kind = detail["type"]
    value = detail["input"]
    ctx = detail.get("ctx") or {}
    key = next((part for part in reversed(loc) if isinstance(part, str)), "value")
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        exc = ctx["error"]
        message, hint = describe(exc)
        field = exc.field if isinstance(exc, SerializationError | InvalidValue) else None
        if field:
            inner = _model_at(model, loc)
            if inner is not None and field in inner.model_fields:
                loc = (*loc, field)
        return loc, message, hint
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        field = str(ctx.get("discriminator", "kind")).strip("'")
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", ""))) or list(
            _tagged_options(_annotation_at(model, loc))
        )
        where = (*loc, field)
        if kind == "union_tag_not_found":
            return where, "required, but missing", f"add {field}: one of {', '.join(choices)}"
        tag = ctx.get("tag")
        hint = close_match_hint(tag, choices) or f"one of {', '.join(choices)}"
        return where, f"{tag!r} is not one of: {', '.join(choices)}", hint
    if kind == "missing":
        info = _field_at(model, loc)
        about = f" ({info.description})" if info is not None and info.description else ""
        return loc, "required, but missing", f"add {key}:{about}"
    if kind == "extra_forbidden":
        inner = _model_at(model, loc[:-1])
        known = list(inner.model_fields) if inner is not None else []
        hint = close_match_hint(key, known) or (
            f"known keys: {', '.join(known)}" if known else None
        )
        return loc, f"unknown key {key!r}", hint
    if value is None and kind.endswith("_type"):
        return loc, "has no value", f"give {key} a value, or remove the key"
    if kind == "string_type":
        item = bool(loc) and isinstance(loc[-1], int)
        shown = (*prefix, *_untagged(model, loc))
        return (loc, *_not_text(value, None if item else key, source.text(shown)))
    if kind in ("int_type", "int_parsing", "int_from_float"):
        hint = "write it without quotes" if isinstance(value, str) else "e.g. 5000000 or 5_000_000"
        return loc, f"must be a whole number, not {value!r}", hint
    if kind in ("bool_type", "bool_parsing"):
        return loc, f"must be true or false, not {value!r}", None
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return (
            loc,
            f"{value!r} is not one of: {', '.join(choices)}",
            close_match_hint(value, choices),
        )
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return loc, _bound(kind, ctx, value), None
    if kind in ("too_short", "too_long"):
        return loc, _size(kind, ctx), None
    if kind == "string_too_short":
        return loc, "must not be empty", None
    if kind == "list_type":
        return loc, "must be a list", "write each entry on its own line, starting with '- '"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return loc, "must be a mapping of key: value lines", None
    return loc, detail["msg"], None


def _not_text(value: Any, key: str | None, written: str | None) -> tuple[str, str | None]:
    """`key` is None for a list item, which is quoted on its own."""
    shown = written if written is not None else str(value)
    quoted = f'write {key}: "{shown}"' if key else f'write "{shown}"'
    if isinstance(value, bool):
        return f"must be text: YAML read {shown} as {str(value).lower()}", quoted
    if isinstance(value, int | float):
        lost = " and would drop leading zeros" if shown.lstrip("+-").startswith("0") else ""
        return f"must be text in quotes: YAML read {shown} as a number{lost}", quoted
    return f"must be text, not {type(value).__name__}", None


def _bound(kind: str, ctx: dict[str, Any], value: object) -> str:
    words = {
        "greater_than_equal": ("ge", "at least"),
        "greater_than": ("gt", "more than"),
        "less_than_equal": ("le", "at most"),
        "less_than": ("lt", "less than"),
    }
    name, phrase = words[kind]
    return f"must be {phrase} {ctx.get(name)}, not {value}"


def _size(kind: str, ctx: dict[str, Any]) -> str:
    if kind == "too_short":
        count = ctx.get("min_length")
        return f"needs at least {count} entr{'y' if count == 1 else 'ies'}"
    count = ctx.get("max_length")
    return f"takes at most {count} entr{'y' if count == 1 else 'ies'}"


def _strip(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            options = [arg for arg in get_args(annotation) if arg is not NoneType]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _tagged_options(annotation: Any) -> dict[str, type[BaseModel]]:
    """The models of a union told apart by a `Literal` field, by that field's value."""
    annotation = _strip(annotation)
    if get_origin(annotation) not in (Union, UnionType):
        return {}
    options: dict[str, type[BaseModel]] = {}
    for option in get_args(annotation):
        if isinstance(option, type) and issubclass(option, BaseModel):
            for info in option.model_fields.values():
                if get_origin(info.annotation) is Literal and len(get_args(info.annotation)) == 1:
                    options[str(get_args(info.annotation)[0])] = option
                    break
    return options


def _annotation_at(model: type[BaseModel], loc: Loc) -> Any:
    annotation: Any = model
    for part in loc:
        if annotation is None:
            break
        annotation = _step(annotation, part)
    return annotation


def _untagged(model: type[BaseModel], loc: Loc) -> Loc:
    """`loc` without the union tags pydantic inserts (`devices[0].opcua.endpoint`)."""
    kept: list[str | int] = []
    annotation: Any = model
    for part in loc:
        if annotation is not None and isinstance(part, str) and part in _tagged_options(annotation):
            annotation = _step(annotation, part)
            continue
        kept.append(part)
        annotation = None if annotation is None else _step(annotation, part)
    return tuple(kept)


def _step(annotation: Any, part: str | int) -> Any:
    tagged = _tagged_options(annotation)
    if isinstance(part, str) and part in tagged:
        return tagged[part]
    annotation = _strip(annotation)
    origin = get_origin(annotation)
    if isinstance(part, int):
        return get_args(annotation)[0] if origin is list else None
    if origin is dict:
        return get_args(annotation)[1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        info = annotation.model_fields.get(part)
        return None if info is None else info.annotation
    return None


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    annotation: Any = model
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return None
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _field_at(model: type[BaseModel], loc: Loc) -> FieldInfo | None:
    if not loc or not isinstance(loc[-1], str):
        return None
    parent = _model_at(model, loc[:-1])
    return None if parent is None else parent.model_fields.get(loc[-1])
