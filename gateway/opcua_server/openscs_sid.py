"""SID classes: how tracegate's product levels appear to OPEN-SCS, and how a SID class's serial
numbers are read and written in each serial number format.

One SID class per product level in the store. Its `SIDClassID`:

- GS1 unit level of a product with a GTIN and a company prefix: the EPC pattern URI of all its
  SGTINs, `urn:epc:idpat:sgtin:{company prefix}.{indicator}{item reference}.*`;
- every other product level: `urn:tracegate:sidclass:{product id}:{level}`.

The tracegate URN is accepted for every class (also for SGTIN classes), and so is the 14-digit
GTIN under the selection key `GTIN` (unit level).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from gateway.opcua_server.openscs_model import OpenScsError, ReturnStatus, SnFormat
from serialization.codes import SchemeName
from serialization.errors import SerializationError
from serialization.gs1.checkdigit import gtin14
from serialization.gs1.epc import parse_epc_uri, sgtin_uri, sscc_uri
from serialization.rules import CodingRule, PackagingLevel, ProductMaster, SerialGenerator

TRACEGATE_URN = "urn:tracegate:sidclass:"
SELECTION_KEYS = ("SIDClassID", "GTIN")
WHOLE_CODE_SCHEMES = frozenset({SchemeName.NMPA20, SchemeName.TEMPLATE})
"""Schemes whose codes have no serial of their own to exchange: only LITERAL applies."""


@dataclass(frozen=True, slots=True)
class SidClass:
    id: str
    product: ProductMaster
    level: PackagingLevel
    rule: CodingRule
    owner: str

    @property
    def urn(self) -> str:
        return f"{TRACEGATE_URN}{self.product.id}:{self.level.value}"

    @property
    def is_sgtin(self) -> bool:
        return self.id.startswith("urn:epc:idpat:sgtin:")

    @property
    def pooled(self) -> bool:
        """Its serials come from the enterprise (pushed or imported), not from a generator."""
        spec = self.rule.serial
        return spec is None or spec.generator is SerialGenerator.IMPORTED

    @property
    def description(self) -> str:
        return f"{self.product.name} ({self.product.id}), {self.level.value} level"

    @property
    def allowed_characters(self) -> str:
        if self.rule.serial is not None:
            return self.rule.serial.alphabet
        return "0123456789"

    @property
    def syntax(self) -> str:
        rule, product = self.rule, self.product
        length = f"{rule.serial.length} characters" if rule.serial else "issuer-defined"
        match rule.scheme:
            case SchemeName.GS1:
                return f"GS1: (01) GTIN {product.gtin} + (21) serial of {length}"
            case SchemeName.SSCC:
                return f"GS1 SSCC (00), 18 digits, company prefix {product.company_prefix}"
            case SchemeName.NMPA20:
                return f"NMPA drug traceability code, 20 digits, drug id {product.nmpa_drug_id}"
            case SchemeName.NATIONAL:
                return (
                    "national important-product trace code, attribute id "
                    f"{rule.national_attribute_id}, attribute code of {length}"
                )
            case SchemeName.TEMPLATE:
                return f"template {rule.template} with check {rule.check}"
        return rule.scheme.value

    def read(self, fmt: SnFormat, text: str) -> tuple[str, str]:
        """(kind, value) for the store's importer: kind `serial` or `code`.

        Raises `SerializationError` for a malformed value (the caller says which one)."""
        if fmt is SnFormat.LITERAL:
            return "code", text
        if fmt is SnFormat.SERIAL_ONLY:
            return "serial", text
        identity = parse_epc_uri(text)
        if identity.kind != "sgtin" or identity.gtin != gtin_key(self.product):
            raise SerializationError(
                f"{text!r} is not an SGTIN of GTIN {self.product.gtin}",
                hint=f"send SGTINs of SID class {self.id} only",
            )
        assert identity.serial is not None
        return "serial", identity.serial

    def write(self, fmt: SnFormat, *, key: str, serial: str, data: str | None) -> str:
        """A code of this class in `fmt`; `check_format` has said that `fmt` applies."""
        if fmt is SnFormat.SERIAL_ONLY:
            return serial
        if fmt is SnFormat.LITERAL:
            return data if data is not None else key
        prefix_length = len(self.product.company_prefix or "")
        if self.rule.scheme is SchemeName.SSCC:
            return sscc_uri(key[2:], prefix_length)
        return sgtin_uri(self.product.gtin or "", serial, prefix_length)

    def check_format(self, fmt: SnFormat, *, reading: bool, codes_have_data: bool = True) -> None:
        """Refuse a format this class's codes cannot be read (`reading`) or written in.

        `codes_have_data`: the codes written carry their printed form (allocated codes do;
        serials imported alone get theirs, with the batch's lot and expiry, at allocation)."""
        whole = self.rule.scheme in WHOLE_CODE_SCHEMES
        problem = None
        if fmt is SnFormat.SERIAL_ONLY and whole:
            problem = f"{self.rule.scheme.value} codes are exchanged whole", "use LITERAL"
        elif fmt is SnFormat.LITERAL and not (reading or codes_have_data or whole):
            problem = (
                "these serials get their printed form (lot, expiry) only when allocated",
                "use SERIALONLY" + (" or EPCURI" if self.is_sgtin else ""),
            )
        elif fmt is SnFormat.EPC_URI and not (
            self.is_sgtin or (not reading and self.rule.scheme is SchemeName.SSCC)
        ):
            problem = "EPC URIs are exchanged for SGTIN classes only", "use SERIALONLY"
        if problem is not None:
            raise OpenScsError(
                ReturnStatus.INVALID_SERIAL_NUMBERS_FORMAT,
                f"SID class {self.id}: {fmt.value} does not apply: {problem[0]}",
                argument="SNFormat",
                hint=problem[1],
            )


def gtin_key(product: ProductMaster) -> str | None:
    return gtin14(product.gtin, field="gtin") if product.gtin else None


def sid_class_for(
    product: ProductMaster, level: PackagingLevel, rule: CodingRule, owner: str
) -> SidClass:
    sid_id = f"{TRACEGATE_URN}{product.id}:{level.value}"
    if (
        rule.scheme is SchemeName.GS1
        and level is PackagingLevel.UNIT
        and product.gtin
        and product.company_prefix
    ):
        uri = sgtin_uri(product.gtin, "0", len(product.company_prefix))
        sid_id = "urn:epc:idpat:sgtin:" + uri.removeprefix("urn:epc:id:sgtin:")[:-1] + "*"
    return SidClass(sid_id, product, level, rule, owner)


class SidClassIndex:
    """The store's SID classes, and the pool selection that names one of them."""

    def __init__(self, classes: Iterable[SidClass]) -> None:
        self._classes = list(classes)
        self._by_name: dict[str, SidClass] = {}
        self._by_gtin: dict[str, SidClass] = {}
        for sid in self._classes:
            self._by_name[sid.id] = sid
            self._by_name[sid.urn] = sid
            if sid.is_sgtin:
                self._by_gtin[gtin_key(sid.product) or ""] = sid

    def __iter__(self) -> Iterator[SidClass]:
        return iter(self._classes)

    def get(self, sid_id: str) -> SidClass | None:
        return self._by_name.get(sid_id)

    def select(self, criteria: Mapping[str, str], fallback: str = "") -> SidClass:
        """The class named by `PoolSelectionCriteria` (`SIDClassID` or `GTIN`), else by
        `fallback` (a collection's `AssociatedPoolID` or a request's `SNCollectionID`)."""
        unknown = sorted(set(criteria) - set(SELECTION_KEYS))
        if unknown:
            raise self._error(f"unknown selection key(s) {', '.join(unknown)}")
        found: list[SidClass] = []
        if "SIDClassID" in criteria:
            found.append(self._named(criteria["SIDClassID"], "SIDClassID"))
        if "GTIN" in criteria:
            found.append(self._by_gtin_key(criteria["GTIN"]))
        if not found and fallback:
            found.append(self._named(fallback, "the collection id"))
        if not found:
            raise self._error("no SID class selected")
        if any(sid is not found[0] for sid in found):
            raise self._error(
                f"the criteria name different SID classes: {', '.join(s.id for s in found)}"
            )
        return found[0]

    def _named(self, name: str, source: str) -> SidClass:
        sid = self._by_name.get(name)
        if sid is None:
            raise self._error(f"{source} {name!r} is not a SID class of this gateway")
        return sid

    def _by_gtin_key(self, gtin: str) -> SidClass:
        try:
            key = gtin14(gtin.strip(), field="GTIN")
        except SerializationError as error:
            raise self._error(str(error)) from None
        sid = self._by_gtin.get(key)
        if sid is None:
            raise self._error(f"GTIN {gtin} is not the unit level of a product of this gateway")
        return sid

    def _error(self, message: str) -> OpenScsError:
        known = ", ".join(s.id for s in self._classes[:10]) or "none configured"
        return OpenScsError(
            ReturnStatus.INVALID_SELECTION_CRITERIA,
            message,
            argument="PoolSelectionCriteria",
            hint=f"give SIDClassID=<id> or GTIN=<14 digits>; SID classes: {known}",
        )
