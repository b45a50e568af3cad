"""Plant-specific code formats described by a template.

A template is literal text plus fields:

- ``{name:N}``: a field exactly N characters wide;
- ``{name:MIN-MAX}``: a field MIN to MAX characters wide. A reader must be able to tell where
  it ends, so it must be followed either by literal text whose first character cannot occur in
  a field (a delimiter such as ``-`` or ``/``), or only by fixed-width parts up to the end;
- ``{check}``: at most once, the ISO/IEC 7064 check character(s) of the system named when
  compiling (``mod11_10``, ``mod37_36`` or ``mod97_10``).

Field values use the check system's alphabet (digits for ``mod11_10``, ``0-9A-Z`` otherwise),
or ``0-9A-Z`` when there is no check. Literal text is printable ASCII without spaces or braces.

**What the check covers:** every character before ``{check}`` that belongs to the system's
alphabet, in order. That is all the field values before it and the literal characters in the
alphabet; literal characters outside it (``-`` in any system, letters under ``mod11_10``) are
left out, as GRid and IBAN leave out their printed separators. Parts after ``{check}`` are not
covered. Example, ``mod37_36`` over ``TG{lot:1-6}-{serial:4}{check}``: the code
``TGA1-K7NP`` + check is checked over ``TGA1K7NP``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

from serialization.codes import SchemeName, TraceCode
from serialization.errors import CheckCharacterError, CodeFormatError
from serialization.iso7064 import ALPHANUMERIC, check_system

DATAMATRIX_SYMBOLOGY = "]d1"
CHECK_FIELD = "check"

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_WIDTH = re.compile(r"([0-9]+)(?:-([0-9]+))?")
_LITERAL_CHARS = frozenset(string.digits + string.ascii_letters + string.punctuation) - {"{", "}"}


@dataclass(frozen=True, slots=True)
class TemplateField:
    name: str
    min_width: int
    max_width: int

    @property
    def fixed(self) -> bool:
        return self.min_width == self.max_width


@dataclass(frozen=True, slots=True)
class _Literal:
    text: str


@dataclass(frozen=True, slots=True)
class _Check:
    width: int


_Element = TemplateField | _Literal | _Check


def _template_error(message: str, position: int | None, hint: str) -> CodeFormatError:
    return CodeFormatError(message, field="template", position=position, hint=hint)


def _parse_placeholder(inner: str, position: int) -> TemplateField | None:
    """The field ``{inner}`` starting at `position`, or None for ``{check}``."""
    name, colon, width = inner.partition(":")
    if name == CHECK_FIELD:
        if colon:
            raise _template_error(
                "{check} takes no width",
                position,
                "write {check}; its width comes from the check system",
            )
        return None
    if not _NAME.fullmatch(name):
        raise _template_error(
            f"{name!r} is not a field name",
            position + 1,
            "start with a lower-case letter; then lower-case letters, digits or _",
        )
    widths = _WIDTH.fullmatch(width) if colon else None
    if widths is None:
        raise _template_error(
            f"field {name} has no valid width",
            position + 1 + len(name),
            f"write {{{name}:N}} for N characters or {{{name}:MIN-MAX}} for a range",
        )
    low = int(widths.group(1))
    high = int(widths.group(2) or low)
    if not 1 <= low <= high:
        raise _template_error(
            f"field {name} has width {width}",
            position + 2 + len(name),
            "widths start at 1 and the minimum may not exceed the maximum",
        )
    return TemplateField(name, low, high)


def _tokenize(template: str, check_width: int) -> list[tuple[_Element, int]]:
    elements: list[tuple[_Element, int]] = []
    literal_start = 0
    literal = ""
    index = 0
    while index < len(template):
        char = template[index]
        if char == "{":
            end = template.find("}", index)
            nested = template.find("{", index + 1, end if end >= 0 else None)
            if end < 0 or nested >= 0:
                raise _template_error(
                    "unclosed '{'", index, "close every field with '}', e.g. {serial:12}"
                )
            if literal:
                elements.append((_Literal(literal), literal_start))
                literal = ""
            placeholder = _parse_placeholder(template[index + 1 : end], index)
            elements.append((placeholder or _Check(check_width), index))
            index = end + 1
            continue
        if char not in _LITERAL_CHARS:
            raise _template_error(
                f"{char!r} cannot be literal text in a code",
                index,
                "use printable ASCII without spaces; braces only around fields",
            )
        if not literal:
            literal_start = index
        literal += char
        index += 1
    if literal:
        elements.append((_Literal(literal), literal_start))
    return elements


def _width(element: _Element) -> int | None:
    if isinstance(element, _Literal):
        return len(element.text)
    if isinstance(element, _Check):
        return element.width
    return element.min_width if element.fixed else None


@dataclass(frozen=True, slots=True)
class CodeTemplate:
    """A compiled template; build it with `CodeTemplate.compile`."""

    source: str
    check: str | None
    alphabet: str
    """Characters field values may use."""
    elements: tuple[_Element, ...]

    @classmethod
    def compile(cls, template: str, check: str | None = None) -> CodeTemplate:
        """Compile `template`; `check` names the system of its ``{check}`` field, if any."""
        system = check_system(check) if check is not None else None
        tokens = _tokenize(template, system.length if system else 0)
        elements = tuple(element for element, _ in tokens)
        names = [e.name for e in elements if isinstance(e, TemplateField)]
        checks = [position for element, position in tokens if isinstance(element, _Check)]
        if not names:
            raise _template_error(
                "the template has no fields", None, "add at least one field, e.g. {serial:12}"
            )
        for element, position in tokens:
            if isinstance(element, TemplateField) and names.count(element.name) > 1:
                raise _template_error(
                    f"field {element.name} appears twice",
                    position,
                    "give every field its own name",
                )
        if len(checks) > 1:
            raise _template_error("{check} appears twice", checks[1], "keep one {check}")
        if checks and system is None:
            raise _template_error(
                "the template has {check} but no check system is configured",
                checks[0],
                "set the check system: mod11_10, mod37_36 or mod97_10",
            )
        if system is not None and not checks:
            raise _template_error(
                f"a {check} check system is configured but the template has no {{check}}",
                None,
                "add {check} where the check character goes, or remove the check system",
            )
        if checks and not any(
            isinstance(e, TemplateField) for e in elements[: _index_of_check(elements)]
        ):
            raise _template_error(
                "{check} must come after a field",
                checks[0],
                "place {check} after the fields it protects, usually at the end",
            )
        alphabet = system.alphabet if system else ALPHANUMERIC
        for index, (element, position) in enumerate(tokens):
            if isinstance(element, TemplateField) and not element.fixed:
                if _delimited(elements, index, alphabet) or _fixed_tail(elements, index):
                    continue
                raise _template_error(
                    f"variable-width field {element.name} has no clear end",
                    position,
                    "follow it with a delimiter such as '-' or '/', or with fixed-width parts only",
                )
        return cls(template, check, alphabet, elements)

    @property
    def fields(self) -> tuple[TemplateField, ...]:
        return tuple(e for e in self.elements if isinstance(e, TemplateField))

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def width(self, name: str) -> tuple[int, int]:
        """Shortest and longest value of field `name`."""
        for template_field in self.fields:
            if template_field.name == name:
                return template_field.min_width, template_field.max_width
        raise CodeFormatError(
            f"the template has no field {name}",
            field=name,
            hint=f"its fields are {', '.join(self.field_names)}",
        )

    @property
    def serial_width(self) -> int | None:
        """Width of the ``serial`` field (its longest if variable); None without one."""
        return self.width("serial")[1] if "serial" in self.field_names else None

    def render(self, values: Mapping[str, str]) -> str:
        """The code for `values`, one per field; error positions index into the bad value."""
        for name in values:
            if name not in self.field_names:
                hint = f"this template's fields are {', '.join(self.field_names)}"
                if name == CHECK_FIELD:
                    hint = "the check character is computed; leave it out"
                raise CodeFormatError(
                    f"{name} is not a field of {self.source}", field=name, hint=hint
                )
        out: list[str] = []
        for element in self.elements:
            if isinstance(element, _Literal):
                out.append(element.text)
            elif isinstance(element, _Check):
                out.append(self._compute_check("".join(out)))
            else:
                if element.name not in values:
                    raise CodeFormatError(
                        f"no value for field {element.name}",
                        field=element.name,
                        hint=f"give every field of {self.source}",
                    )
                value = values[element.name]
                self._check_value(element, value, 0)
                out.append(value)
        return "".join(out)

    def parse(self, text: str) -> dict[str, str]:
        """The field values of `text` (not the check), after verifying its check character.

        Error positions index into `text`.
        """
        return self._split(text)[0]

    def _split(self, text: str) -> tuple[dict[str, str], str | None]:
        values: dict[str, str] = {}
        check: str | None = None
        position = 0
        for index, element in enumerate(self.elements):
            if isinstance(element, _Literal):
                self._expect_literal(text, position, element.text)
                position += len(element.text)
            elif isinstance(element, _Check):
                self._verify_check(text, position, element.width)
                check = text[position : position + element.width]
                position += element.width
            else:
                value = self._read_field(text, position, index)
                values[element.name] = value
                position += len(value)
        if position < len(text):
            raise CodeFormatError(
                f"unexpected {text[position:]!r} after the end of the code",
                field="template",
                position=position,
                hint=f"the code follows {self.source}; remove the extra characters",
            )
        return values, check

    def _compute_check(self, before: str) -> str:
        assert self.check is not None
        body = "".join(char for char in before if char in self.alphabet)
        return check_system(self.check).compute(body)

    def _check_value(self, element: TemplateField, value: str, offset: int) -> None:
        for index, char in enumerate(value):
            if char not in self.alphabet:
                hint = (
                    f"write {char!r} in upper case"
                    if char.upper() in self.alphabet and char.islower()
                    else "digits only"
                    if self.alphabet == string.digits
                    else "digits and upper-case letters A-Z only"
                )
                raise CodeFormatError(
                    f"{char!r} cannot appear in field {element.name}",
                    field=element.name,
                    position=offset + index,
                    hint=hint,
                )
        if not element.min_width <= len(value) <= element.max_width:
            excess = len(value) > element.max_width
            takes = (
                f"exactly {element.min_width}"
                if element.fixed
                else f"{element.min_width} to {element.max_width}"
            )
            raise CodeFormatError(
                f"field {element.name} has {len(value)} characters; it takes {takes}",
                field=element.name,
                position=offset + (element.max_width if excess else len(value)),
                hint=f"check the {element.name} value against the template {self.source}",
            )

    def _expect_literal(self, text: str, position: int, literal: str) -> None:
        found = text[position : position + len(literal)]
        if found == literal:
            return
        first_bad = next(
            (i for i, (a, b) in enumerate(zip(found, literal, strict=False)) if a != b),
            len(found),
        )
        raise CodeFormatError(
            f"expected {literal!r}, found {found!r}",
            field="literal",
            position=position + first_bad,
            hint=f"the code follows {self.source}; this text is fixed",
        )

    def _verify_check(self, text: str, position: int, width: int) -> None:
        assert self.check is not None
        found = text[position : position + width]
        if len(found) < width:
            raise CodeFormatError(
                "the code ends before its check character",
                field=CHECK_FIELD,
                position=len(text),
                hint=f"the code follows {self.source}; scan or copy it whole",
            )
        expected = self._compute_check(text[:position])
        if found != expected:
            raise CheckCharacterError(
                f"{self.check} check should be {expected}, not {found}",
                expected=expected,
                found=found,
                field=CHECK_FIELD,
                position=position,
                hint="re-read or re-type the code; one of its characters is wrong",
            )

    def _read_field(self, text: str, position: int, index: int) -> str:
        element = self.elements[index]
        assert isinstance(element, TemplateField)
        if element.fixed:
            end = position + element.min_width
        elif _delimited(self.elements, index, self.alphabet):
            end = position
            while end < len(text) and text[end] in self.alphabet:
                end += 1
        else:
            tail = sum(_width(e) or 0 for e in self.elements[index + 1 :])
            end = max(position, len(text) - tail)
        value = text[position:end]
        if len(value) < element.min_width and end >= len(text):
            raise CodeFormatError(
                f"the code ends inside field {element.name}",
                field=element.name,
                position=len(text),
                hint=f"the code follows {self.source}; scan or copy it whole",
            )
        self._check_value(element, value, position)
        return value


def _index_of_check(elements: tuple[_Element, ...]) -> int:
    return next(i for i, e in enumerate(elements) if isinstance(e, _Check))


def _delimited(elements: tuple[_Element, ...], index: int, alphabet: str) -> bool:
    """Whether the element after `index` is literal text no field value can run into."""
    following = elements[index + 1] if index + 1 < len(elements) else None
    return isinstance(following, _Literal) and following.text[0] not in alphabet


def _fixed_tail(elements: tuple[_Element, ...], index: int) -> bool:
    return all(_width(e) is not None for e in elements[index + 1 :])


def template_trace_code(template: CodeTemplate, text: str) -> TraceCode:
    """`text`, parsed by `template`, as a `TraceCode` for a non-GS1 DataMatrix."""
    values, check = template._split(text)
    fields = tuple((name, values[name]) for name in template.field_names)
    if check is not None:
        fields += ((CHECK_FIELD, check),)
    return TraceCode(
        scheme=SchemeName.TEMPLATE,
        key=text,
        data=text,
        hri=text,
        fields=fields,
        symbology=DATAMATRIX_SYMBOLOGY,
    )
