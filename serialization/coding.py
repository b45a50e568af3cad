"""Making a product level's codes for one lot, fast.

A `CodeFactory` validates everything that is fixed for the lot once (GTIN, dates, lot,
national segments, template values) and then turns each serial into a code by joining
strings: the allocator makes tens of thousands of codes a second through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from serialization.codes import SchemeName
from serialization.errors import CodeFormatError
from serialization.gs1.ai import lookup
from serialization.gs1.checkdigit import check_digit, gtin14
from serialization.gs1.dates import format_date
from serialization.gs1.element import Element, encode, validate_element
from serialization.national import AttributeId, build_national_code, parse_national_code
from serialization.nmpa import parse_nmpa20
from serialization.rules import Carrier, CodingRule, LotData, ProductMaster
from serialization.template import CodeTemplate

SERIAL_AI = "21"
_SAMPLE_SERIAL = "0"
_FILLED_AIS = ("01", "10", "11", "17", "21")
_SERIAL_ATTRIBUTES = (AttributeId.SERIAL, AttributeId.LOGISTIC_UNIT, AttributeId.TRADE_UNIT)


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A code as handed to the line: identity, serial, the data to print, the text beside it."""

    key: str
    serial: str
    data: str
    hri: str


def symbology_for(rule: CodingRule) -> str:
    """The symbology identifier a reader reports for this rule's carrier."""
    gs1 = rule.scheme in (SchemeName.GS1, SchemeName.SSCC)
    return {
        Carrier.DATAMATRIX: "]d2" if gs1 else "]d1",
        Carrier.GS1_128: "]C1",
        Carrier.CODE128: "]C0",
        Carrier.QR: "]Q3" if gs1 else "]Q1",
    }[rule.carrier]


class CodeFactory:
    """Codes of one product level in one lot. Raises `CodeFormatError` on bad fixed parts."""

    def __init__(self, rule: CodingRule, product: ProductMaster, lot: LotData) -> None:
        self.rule = rule
        self.product = product
        self.lot = lot
        self.symbology = symbology_for(rule)
        makers: dict[SchemeName, Callable[[], Callable[[str], IssuedCode]]] = {
            SchemeName.GS1: self._gs1,
            SchemeName.SSCC: self._sscc,
            SchemeName.NATIONAL: self._national,
            SchemeName.TEMPLATE: self._template,
            SchemeName.NMPA20: self._nmpa20,
        }
        self._issue = makers[rule.scheme]()

    def issue(self, serial: str) -> IssuedCode:
        """The code for a serial drawn by a generator the rule's format already constrains."""
        return self._issue(serial)

    def issue_checked(self, serial: str) -> IssuedCode:
        """The code for a serial from outside (an import): the serial is validated first."""
        if self.rule.scheme is SchemeName.GS1:
            validate_element(SERIAL_AI, serial)
        code = self._issue(serial)
        if self.rule.scheme in (SchemeName.NATIONAL, SchemeName.TEMPLATE):
            self.from_data(code.data)
        return code

    def from_data(self, data: str) -> IssuedCode:
        """An imported whole code: validated against the rule and this product's master data."""
        scheme = self.rule.scheme
        if scheme is SchemeName.NMPA20:
            drug_ids = [self.product.nmpa_drug_id] if self.product.nmpa_drug_id else []
            parsed = parse_nmpa20(data, drug_ids=drug_ids)
            return IssuedCode(key=data, serial=parsed.serial, data=data, hri=data)
        if scheme is SchemeName.NATIONAL:
            national = parse_national_code(data, self.rule.national_format)
            identity = self.product.national
            if identity is not None:
                expected = (identity.uscc, identity.product_class, identity.origin)
                found = (national.uscc, national.product_class, national.origin)
                if expected != found:
                    raise CodeFormatError(
                        "the code belongs to another product or company: "
                        f"{' / '.join(found)} is not {' / '.join(expected)}",
                        field="code",
                        position=0,
                        hint="import codes of this product only",
                    )
            wanted = self.rule.national_attribute_id
            if wanted is not None and national.attribute_id != wanted:
                raise CodeFormatError(
                    f"attribute id {national.attribute_id.value} is not this rule's {wanted}",
                    field="attribute_id",
                    hint="import codes made for this product level only",
                )
            return IssuedCode(key=data, serial=national.attribute_code, data=data, hri=data)
        if scheme is SchemeName.TEMPLATE:
            template = self._compiled_template()
            values = template.parse(data)
            for name, expected_value in self._template_values().items():
                if name in values and values[name] != expected_value:
                    raise CodeFormatError(
                        f"field {name} is {values[name]!r}, this product's is {expected_value!r}",
                        field=name,
                        hint="the code belongs to another product or lot",
                    )
            return IssuedCode(key=data, serial=values.get("serial", ""), data=data, hri=data)
        raise CodeFormatError(
            f"{scheme.value} codes are imported as serials, not as whole codes",
            field="code",
            hint="import a list of serials (column `serial`) for this product",
        )

    def _gs1(self) -> Callable[[str], IssuedCode]:
        ais = self.rule.gs1_ais
        repeated = sorted({ai for ai in ais if ais.count(ai) > 1})
        if repeated:
            raise CodeFormatError(
                f"coding rule {self.rule.id!r} lists AI ({repeated[0]}) more than once",
                field="ais",
                hint="list each AI once, in print order",
            )
        if "01" not in ais or SERIAL_AI not in ais:
            raise CodeFormatError(
                f"coding rule {self.rule.id!r} lacks AI (01) or (21)",
                field="ais",
                hint="a serialised GS1 code carries the GTIN (01) and the serial (21)",
            )
        if self.product.gtin is None:
            raise CodeFormatError(
                f"product {self.product.id!r} has no GTIN", field="gtin", hint="add its GTIN"
            )
        gtin = gtin14(self.product.gtin, field="gtin")
        values: dict[str, str] = {"01": gtin, "10": self.lot.lot}
        if self.lot.expiry is not None:
            try:
                values["17"] = format_date(self.lot.expiry, day_zero=self.rule.expiry_day_zero)
            except CodeFormatError as error:
                raise CodeFormatError(
                    f"expiry {error.message}", field="(17)", hint=error.hint
                ) from None
        if self.lot.production_date is not None:
            values["11"] = format_date(self.lot.production_date)
        data_parts: list[str] = []
        hri_parts: list[str] = []
        for index, ai in enumerate(ais):
            if ai not in _FILLED_AIS:
                raise CodeFormatError(
                    f"the gateway cannot fill AI ({ai}) from product and lot data",
                    field="ais",
                    hint="use AIs 01, 10, 11, 17 and 21",
                )
            if ai == SERIAL_AI:
                data_parts.append(ai)
                hri_parts.append(f"({ai})")
                data_parts.append("\0")
                hri_parts.append("\0")
            else:
                if ai not in values:
                    missing = {"17": "expiry date", "11": "production date"}.get(ai, ai)
                    raise CodeFormatError(
                        f"AI ({ai}) needs the lot's {missing}",
                        field=ai,
                        hint=f"give the batch its {missing}",
                    )
                validate_element(ai, values[ai])
                data_parts.append(ai + values[ai])
                hri_parts.append(f"({ai}){values[ai]}")
            last = index == len(ais) - 1
            if not last and not lookup(ai).predefined_length:
                data_parts.append("\x1d")
        data_before, data_after = "".join(data_parts).split("\0")
        hri_before, hri_after = "".join(hri_parts).split("\0")
        key_prefix = "01" + gtin + SERIAL_AI
        sample = [Element(ai, values.get(ai, _SAMPLE_SERIAL)) for ai in ais]
        if encode(sample) != data_before + _SAMPLE_SERIAL + data_after:
            raise AssertionError("GS1 data layout disagrees with the element-string encoder")

        def make(serial: str) -> IssuedCode:
            return IssuedCode(
                key=key_prefix + serial,
                serial=serial,
                data=data_before + serial + data_after,
                hri=hri_before + serial + hri_after,
            )

        return make

    def _sscc(self) -> Callable[[str], IssuedCode]:
        prefix = self.product.company_prefix
        extension = self.rule.sscc_extension
        if prefix is None or not prefix.isdigit() or not 6 <= len(prefix) <= 12:
            raise CodeFormatError(
                f"product {self.product.id!r} has no valid GS1 company prefix for SSCCs",
                field="company_prefix",
                hint="give the product (or the site) its 6-12 digit GS1 company prefix",
            )
        if len(extension) != 1 or not extension.isdigit():
            raise CodeFormatError(
                f"SSCC extension digit {extension!r} is not one digit",
                field="extension",
                hint="use a digit 0-9",
            )
        body_prefix = extension + prefix
        serial_length = 17 - len(body_prefix)

        def make(serial: str) -> IssuedCode:
            if len(serial) != serial_length or not serial.isdigit():
                raise CodeFormatError(
                    f"SSCC serial reference {serial!r} is not {serial_length} digits",
                    field="serial",
                    hint=f"with company prefix {prefix} the serial reference has "
                    f"{serial_length} digits",
                )
            body = body_prefix + serial
            sscc = body + check_digit(body)
            return IssuedCode(key="00" + sscc, serial=serial, data="00" + sscc, hri=f"(00){sscc}")

        return make

    def _national(self) -> Callable[[str], IssuedCode]:
        identity = self.product.national
        attribute = self.rule.national_attribute_id
        if identity is None:
            raise CodeFormatError(
                f"product {self.product.id!r} has no national trace code identity",
                field="national",
                hint="add `national: {product_class, origin}` to the product",
            )
        if attribute is None or attribute not in {a.value for a in _SERIAL_ATTRIBUTES}:
            if attribute is None:
                problem = "the rule has no attribute id"
            elif attribute in {a.value for a in AttributeId}:
                problem = f"attribute id {attribute} identifies a batch, not one unit"
            else:
                problem = f"attribute id {attribute} is not one of 1-6"
            raise CodeFormatError(
                problem,
                field="attribute_id",
                hint="use 2 (serial) for units or 6 (logistic unit) for cases and pallets",
            )
        sample = build_national_code(
            identity.uscc,
            identity.product_class,
            identity.origin,
            attribute,
            _SAMPLE_SERIAL,
            fmt=self.rule.national_format,
        )
        prefix = sample[: -len(_SAMPLE_SERIAL)]

        def make(serial: str) -> IssuedCode:
            code = prefix + serial
            return IssuedCode(key=code, serial=serial, data=code, hri=code)

        return make

    def _template_values(self) -> dict[str, str]:
        values = dict(self.product.template_values)
        values["lot"] = self.lot.lot
        if self.product.gtin:
            values["gtin"] = self.product.gtin.rjust(14, "0")
        if self.product.nmpa_drug_id:
            values["drug_id"] = self.product.nmpa_drug_id
        if self.lot.expiry is not None:
            values["expiry"] = self.lot.expiry.strftime("%y%m%d")
        return values

    def _compiled_template(self) -> CodeTemplate:
        if self.rule.template is None:
            raise CodeFormatError(
                f"coding rule {self.rule.id!r} has no template", field="template", hint="add one"
            )
        return CodeTemplate.compile(self.rule.template, self.rule.check)

    def _template(self) -> Callable[[str], IssuedCode]:
        template = self._compiled_template()
        values = {
            name: value
            for name, value in self._template_values().items()
            if name in template.field_names
        }
        template.render({**values, "serial": _SAMPLE_SERIAL * (template.serial_width or 1)})

        def make(serial: str) -> IssuedCode:
            code = template.render({**values, "serial": serial})
            return IssuedCode(key=code, serial=serial, data=code, hri=code)

        return make

    def _nmpa20(self) -> Callable[[str], IssuedCode]:
        if self.product.nmpa_drug_id is None:
            raise CodeFormatError(
                f"product {self.product.id!r} has no NMPA drug identification code",
                field="nmpa_drug_id",
                hint="add the 7-digit drug ID to the product",
            )

        def make(serial: str) -> IssuedCode:
            raise CodeFormatError(
                "20-digit drug traceability codes are issued by the platform, not generated",
                field="serial",
                hint="import the issued codes with `tracegate codes import FILE`",
            )

        return make


def serial_key(rule: CodingRule, product: ProductMaster, serial: str) -> str:
    """The identity of the code a serial gives, for schemes whose identity has no lot in it.

    Validates the serial as an outside input; raises `CodeFormatError` for schemes whose codes
    are imported whole (NMPA 20-digit, template) rather than as serials.
    """
    if rule.scheme in (SchemeName.GS1, SchemeName.SSCC, SchemeName.NATIONAL):
        lot = LotData(lot="0")
        if rule.scheme is SchemeName.GS1:
            validate_element(SERIAL_AI, serial)
            return "01" + gtin14(product.gtin or "", field="gtin") + SERIAL_AI + serial
        return CodeFactory(rule, product, lot).issue_checked(serial).key
    raise CodeFormatError(
        f"{rule.scheme.value} codes are imported whole, not as serials",
        field="serial",
        hint="import a list of whole codes (column `code`) for this product",
    )
