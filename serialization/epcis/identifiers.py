"""The URIs that name codes, places and parties in EPCIS events.

GS1 codes are written as EPC pure-identity URIs (`urn:epc:id:sgtin:…`, `urn:epc:id:sscc:…`),
which every EPCIS repository reads; the site as an SGLN, a party as a PGLN. All of them need
the GS1 company prefix length, which the key does not carry (it comes from master data).

NMPA 20-digit drug codes, national important-product trace codes and plant template codes are
not GS1 keys: no EPC URI or Digital Link exists for them. They are written as
`{base}:{scheme}:{code}` under a URN base (default `urn:tracegate`), or
`{base}/{scheme}/{code}` under an HTTP(S) base the site controls, the code percent-encoded
except for unreserved characters; `docs/epcis.md` explains the choice.

`canonical_digital_link` is the EPCIS event hash's normalisation (CBV 2.0 §8.9 rules 17, 18):
EPC URIs become constrained canonical GS1 Digital Link URIs, other URIs stay as they are.
"""

from __future__ import annotations

from urllib.parse import quote

from serialization.codes import SchemeName
from serialization.epcis.errors import EpcisError
from serialization.errors import CodeFormatError
from serialization.gs1.checkdigit import check_digit, validate_check_digit
from serialization.gs1.epc import parse_epc_uri, sgtin_uri, sscc_uri
from serialization.gs1.validate import validate_element

DEFAULT_PRIVATE_BASE = "urn:tracegate"
DIGITAL_LINK_DOMAIN = "https://id.gs1.org"
SGLN_PREFIX = "urn:epc:id:sgln:"
PGLN_PREFIX = "urn:epc:id:pgln:"
_GS1_SCHEMES = (SchemeName.GS1, SchemeName.SSCC)


def code_uri(
    key: str,
    scheme: SchemeName,
    *,
    company_prefix_length: int | None,
    private_base: str = DEFAULT_PRIVATE_BASE,
) -> str:
    """The URI of one code, from its key (`01{gtin}21{serial}`, `00{sscc}` or the code)."""
    if scheme in _GS1_SCHEMES:
        if company_prefix_length is None:
            raise EpcisError(
                f"code {key} is a GS1 code but its GS1 company prefix is not known",
                field="company_prefix",
                hint="configure the product's (or the site's) gs1_company_prefix",
            )
        if scheme is SchemeName.SSCC and key.startswith("00"):
            return sscc_uri(key[2:], company_prefix_length)
        if scheme is SchemeName.GS1 and key.startswith("01") and key[16:18] == "21":
            return sgtin_uri(key[2:16], key[18:], company_prefix_length)
        raise EpcisError(
            f"code key {key!r} is not a {scheme.value} key",
            field="key",
            hint="a GS1 key is 01{GTIN-14}21{serial}, an SSCC key 00{SSCC}",
        )
    return private_uri(scheme, key, private_base)


def private_uri(scheme: SchemeName, code: str, base: str = DEFAULT_PRIVATE_BASE) -> str:
    """The URI of a code that is not a GS1 key, under `base`."""
    if not code:
        raise EpcisError("empty code", field="code", hint="give the whole code")
    escaped = quote(code, safe="")
    if base.startswith(("https://", "http://")):
        return f"{base.rstrip('/')}/{scheme.value}/{escaped}"
    if base.startswith("urn:") and len(base) > len("urn:") and not base.endswith(":"):
        return f"{base}:{scheme.value}:{escaped}"
    raise EpcisError(
        f"{base!r} cannot be the base of code URIs",
        field="private_base",
        hint="use a URN base such as urn:tracegate or an https:// base your company controls",
    )


def _gln_parts(gln: str, company_prefix_length: int, what: str) -> tuple[str, str]:
    if len(gln) != 13 or not (gln.isascii() and gln.isdigit()):
        raise CodeFormatError(
            f"a GLN has 13 digits, not {gln!r}", field=what, hint="keep leading zeros"
        )
    validate_check_digit(gln, field=what)
    if not 6 <= company_prefix_length <= 12:
        raise CodeFormatError(
            f"a GS1 company prefix has 6 to 12 digits, not {company_prefix_length}",
            field="company_prefix_length",
            hint="take the prefix length from the GS1 membership record",
        )
    return gln[:company_prefix_length], gln[company_prefix_length:12]


def sgln_uri(gln: str, company_prefix_length: int, extension: str = "0") -> str:
    """`urn:epc:id:sgln:{prefix}.{location ref}.{extension}`; extension "0" means none."""
    prefix, reference = _gln_parts(gln, company_prefix_length, "gln")
    if extension != "0":
        validate_element("254", extension)
    return f"{SGLN_PREFIX}{prefix}.{reference}.{quote(extension, safe='')}"


def pgln_uri(gln: str, company_prefix_length: int) -> str:
    """`urn:epc:id:pgln:{prefix}.{party ref}`: a GLN naming a party (owner, possessor)."""
    prefix, reference = _gln_parts(gln, company_prefix_length, "party_gln")
    return f"{PGLN_PREFIX}{prefix}.{reference}"


def canonical_digital_link(uri: str) -> str:
    """The constrained canonical GS1 Digital Link of an EPC URI or Digital Link, else `uri`."""
    if uri.startswith(("urn:epc:id:sgtin:", "urn:epc:id:sscc:")):
        identity = parse_epc_uri(uri)
        if identity.kind == "sscc":
            return f"{DIGITAL_LINK_DOMAIN}/00/{identity.sscc}"
        serial = uri.split(".", 2)[2]
        return f"{DIGITAL_LINK_DOMAIN}/01/{identity.gtin}/21/{_dl_escaped(serial)}"
    if uri.startswith(SGLN_PREFIX):
        prefix, reference, extension = _split(uri, SGLN_PREFIX, 3)
        gln = _with_check_digit(prefix + reference)
        suffix = "" if extension == "0" else f"/254/{_dl_escaped(extension)}"
        return f"{DIGITAL_LINK_DOMAIN}/414/{gln}{suffix}"
    if uri.startswith(PGLN_PREFIX):
        prefix, reference = _split(uri, PGLN_PREFIX, 2)
        return f"{DIGITAL_LINK_DOMAIN}/417/{_with_check_digit(prefix + reference)}"
    if uri.startswith(("https://", "http://")):
        return _constrained_digital_link(uri) or uri
    return uri


_DL_ESCAPES = str.maketrans({c: f"%{ord(c):02X}" for c in "!()*+,:"})


def _dl_escaped(epc_text: str) -> str:
    """An EPC URI component as a Digital Link path value: what the EPC URI escaped stays
    escaped, and the characters a Digital Link escapes besides (`!()*+,:`) are escaped too,
    as the GS1 reference implementation of the event hash does."""
    return epc_text.translate(_DL_ESCAPES)


def _split(uri: str, prefix: str, count: int) -> list[str]:
    parts = uri.removeprefix(prefix).split(".", count - 1)
    if len(parts) != count or not all(parts[:-1]) or not all(p.isdigit() for p in parts[:2]):
        raise CodeFormatError(
            f"{uri!r} is not a well-formed EPC URI",
            position=len(prefix),
            hint="check it against the GS1 Tag Data Standard",
        )
    return parts


def _with_check_digit(body: str) -> str:
    if len(body) != 12:
        raise CodeFormatError(
            f"company prefix and reference must have 12 digits together, not {len(body)}",
            hint="check the EPC URI against the GS1 Tag Data Standard",
        )
    return body + check_digit(body)


_FINEST = {"01": (("21",), ("10",)), "414": (("254",),), "00": (), "417": ()}
"""Primary keys whose Digital Links the hash constrains, and the qualifiers it keeps (the
first present group wins: an SGTIN's serial makes the lot superfluous)."""


def _constrained_digital_link(uri: str) -> str | None:
    """Custom domain replaced, query string dropped, only the finest key kept (rule 18)."""
    path = uri.split("://", 1)[1].split("#", 1)[0].split("?", 1)[0]
    segments = path.split("/")[1:]
    for index in range(len(segments) - 1):
        key = segments[index]
        if key in _FINEST and segments[index + 1]:
            pairs = dict(zip(segments[index + 2 :: 2], segments[index + 3 :: 2], strict=False))
            kept = f"/{key}/{segments[index + 1]}"
            for group in _FINEST[key]:
                if all(ai in pairs for ai in group):
                    kept += "".join(f"/{ai}/{pairs[ai]}" for ai in group)
                    break
            return DIGITAL_LINK_DOMAIN + kept
    return None
