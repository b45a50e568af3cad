"""How codes, places and parties are named in EPCIS, and the Digital Link form the event hash
uses. EPC URI vectors are those of ../shared/docs/codes.md §1.5 (cross-checked with epcpy)."""

from __future__ import annotations

import pytest

from serialization.codes import SchemeName
from serialization.epcis import EpcisError
from serialization.epcis.identifiers import (
    canonical_digital_link,
    code_uri,
    pgln_uri,
    private_uri,
    sgln_uri,
)
from serialization.errors import CheckCharacterError, CodeFormatError


def test_gs1_codes_are_epc_uris() -> None:
    key = "010950110153000321" + "7Q2XK9PZ4M"
    assert code_uri(key, SchemeName.GS1, company_prefix_length=7) == (
        "urn:epc:id:sgtin:9501101.053000.7Q2XK9PZ4M"
    )
    assert code_uri(key, SchemeName.GS1, company_prefix_length=9) == (
        "urn:epc:id:sgtin:950110153.0000.7Q2XK9PZ4M"
    )
    assert code_uri("00376123450000010008", SchemeName.SSCC, company_prefix_length=7) == (
        "urn:epc:id:sscc:7612345.3000001000"
    )


def test_a_gs1_code_needs_its_company_prefix_and_a_gs1_key() -> None:
    with pytest.raises(EpcisError, match="GS1 company prefix is not known"):
        code_uri("0109501101530003217Q2X", SchemeName.GS1, company_prefix_length=None)
    with pytest.raises(EpcisError, match="is not a sscc key"):
        code_uri("0109501101530003217Q2X", SchemeName.SSCC, company_prefix_length=7)


@pytest.mark.parametrize(
    ("scheme", "code", "uri"),
    [
        (SchemeName.NMPA20, "81234560000000011234", "urn:tracegate:nmpa20:81234560000000011234"),
        (
            SchemeName.NATIONAL,
            "91110000101623741K.27010101.110105.2.ABC123",
            "urn:tracegate:national:91110000101623741K.27010101.110105.2.ABC123",
        ),
        (SchemeName.TEMPLATE, "TGBJ1/2-X%Y", "urn:tracegate:template:TGBJ1%2F2-X%25Y"),
    ],
)
def test_other_codes_are_private_uris(scheme: SchemeName, code: str, uri: str) -> None:
    assert code_uri(code, scheme, company_prefix_length=None) == uri


def test_a_site_may_name_other_codes_under_its_own_https_base() -> None:
    assert private_uri(SchemeName.NMPA20, "81234560000000011234", "https://id.example.cn/") == (
        "https://id.example.cn/nmpa20/81234560000000011234"
    )
    for bad in ("ftp://x", "urn:", "tracegate"):
        with pytest.raises(EpcisError, match="cannot be the base of code URIs"):
            private_uri(SchemeName.NMPA20, "1", bad)


def test_places_and_parties_are_sgln_and_pgln() -> None:
    assert sgln_uri("9501101000001", 7) == "urn:epc:id:sgln:9501101.00000.0"
    assert sgln_uri("0614141073467", 7, "1234") == "urn:epc:id:sgln:0614141.07346.1234"
    assert pgln_uri("4012345000009", 7) == "urn:epc:id:pgln:4012345.00000"
    with pytest.raises(CheckCharacterError, match="check digit should be 1"):
        sgln_uri("9501101000002", 7)
    with pytest.raises(CodeFormatError, match="a GLN has 13 digits"):
        pgln_uri("950110100001", 7)
    with pytest.raises(CodeFormatError, match="6 to 12 digits"):
        sgln_uri("9501101000001", 13)


@pytest.mark.parametrize(
    ("uri", "link"),
    [
        (
            "urn:epc:id:sgtin:0614141.107346.2017",
            "https://id.gs1.org/01/10614141073464/21/2017",
        ),
        (
            "urn:epc:id:sgtin:9501101.053000.A1%2FB2",
            "https://id.gs1.org/01/09501101530003/21/A1%2FB2",
        ),
        (
            "urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()",
            "https://id.gs1.org/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29",
        ),
        ("urn:epc:id:sscc:7612345.3000001000", "https://id.gs1.org/00/376123450000010008"),
        ("urn:epc:id:sgln:0614141.07346.1234", "https://id.gs1.org/414/0614141073467/254/1234"),
        ("urn:epc:id:sgln:4012345.00022.0", "https://id.gs1.org/414/4012345000221"),
        ("urn:epc:id:pgln:4000001.98765", "https://id.gs1.org/417/4000001987658"),
        (
            "https://brand.example/shop/01/09501101530003/10/AB/21/7Q2?17=270500",
            "https://id.gs1.org/01/09501101530003/21/7Q2",
        ),
        ("https://brand.example/01/09501101530003/10/AB", "https://id.gs1.org/01/09501101530003/10/AB"),
        ("http://transaction.acme.com/po/12345678", "http://transaction.acme.com/po/12345678"),
        ("urn:tracegate:nmpa20:81234560000000011234", "urn:tracegate:nmpa20:81234560000000011234"),
    ],
)  # fmt: skip
def test_the_hash_names_gs1_identifiers_by_their_canonical_digital_link(
    uri: str, link: str
) -> None:
    assert canonical_digital_link(uri) == link


def test_a_malformed_epc_uri_is_refused() -> None:
    with pytest.raises(CodeFormatError, match="not a well-formed EPC URI"):
        canonical_digital_link("urn:epc:id:sgln:4012345")
    with pytest.raises(CodeFormatError, match="12 digits together"):
        canonical_digital_link("urn:epc:id:pgln:4012345.0000")
