"""Attachments judged by content: JPG, DOCX and PDF only (photos JPG only), a name that promises
another type than the content is refused, and the size limits hold to the byte."""

from __future__ import annotations

import pytest

from ebr.decoction import fields as annex
from ebr.decoction.attachments import check_file, clean_filename, decoded, encoded
from ebr.decoction.errors import AttachmentCorruptError, AttachmentRejectedError
from ebr.decoction.fields import MIB, MediaType
from tests.ebr.decoction.decoction_fixtures import docx, jpeg, pdf

REPORT = annex.PRODUCTION.field("product_inspection_report")
PHOTO = annex.SELF_GROWN.field("origin_photos")


def _refused(field: annex.Field, name: str, content: bytes) -> AttachmentRejectedError:
    with pytest.raises(AttachmentRejectedError) as refused:
        check_file(field, name, content)
    return refused.value


@pytest.mark.parametrize(
    ("name", "content", "media"),
    [
        ("报告.PDF", pdf(), MediaType.PDF),
        ("scan.jpeg", jpeg(), MediaType.JPEG),
        ("scan.jpg", jpeg(), MediaType.JPEG),
        ("report.docx", docx(), MediaType.DOCX),
    ],
)
def test_the_three_types_are_recognised_by_content(
    name: str, content: bytes, media: MediaType
) -> None:
    checked = check_file(REPORT, f"C:\\scans\\{name}", content)
    assert (checked.filename, checked.media_type, checked.size) == (name, media, len(content))


def test_a_name_that_lies_about_the_content_is_refused() -> None:
    error = _refused(REPORT, "report.pdf", jpeg())
    assert error.message == (
        "report.pdf for 中药饮片检验报告 (decoction pieces inspection report): the content is "
        "JPG, but the name ends in .pdf"
    )
    assert error.hint is not None
    assert "rename the file to end in .jpg" in error.hint


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"MZ\x90\x00" + bytes(60), "a Windows program (MZ executable)"),
        (docx(document=False), "a ZIP archive that is not a Word document (no word/document.xml)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(8), "a legacy Office file (.doc/.xls, OLE2)"),
        (b"hello, world", "not a known file type (it starts with 68 65 6C 6C 6F 2C 20 77)"),
    ],
)
def test_other_content_is_refused_whatever_its_name(content: bytes, what: str) -> None:
    error = _refused(REPORT, "report.pdf", content)
    assert error.message == (
        f"report.pdf for 中药饮片检验报告 (decoction pieces inspection report): the content is "
        f"{what}, and 中药饮片检验报告 takes JPG or DOCX (Word) or PDF only"
    )


def test_a_legacy_word_file_gets_a_hint_to_convert_it() -> None:
    error = _refused(REPORT, "report.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(8))
    assert (
        error.hint == "attach a JPG or DOCX (Word) or PDF file; save a legacy .doc as DOCX or PDF"
    )


def test_ten_mebibytes_are_accepted_and_one_byte_more_is_refused() -> None:
    assert check_file(REPORT, "big.pdf", pdf(10 * MIB)).size == 10_485_760
    error = _refused(REPORT, "big.pdf", pdf(10 * MIB + 1))
    assert error.message == (
        "big.pdf for 中药饮片检验报告 (decoction pieces inspection report) is 10,485,761 bytes, "
        "1 over the limit of 10,485,760 bytes (10 MiB)"
    )


def test_photos_are_jpg_only_and_at_most_three_mebibytes() -> None:
    assert check_file(PHOTO, "field.jpg", jpeg(3 * MIB)).size == 3 * MIB
    too_big = _refused(PHOTO, "f.jpg", jpeg(3 * MIB + 1)).message
    assert too_big.endswith("is 3,145,729 bytes, 1 over the limit of 3,145,728 bytes (3 MiB)")
    assert "产地图片 takes JPG only" in _refused(PHOTO, "f.pdf", pdf()).message


def test_empty_files_and_unusable_names_are_refused() -> None:
    assert _refused(REPORT, "empty.pdf", b"").message.endswith("is empty")
    for name in ("", "..", "a\nb.pdf", "x" * 252 + ".pdf"):
        with pytest.raises(AttachmentRejectedError):
            clean_filename(name)
    assert clean_filename("../../etc/report.pdf") == "report.pdf"


def test_stored_content_is_checked_against_its_hash() -> None:
    content = pdf(1000)
    checked = check_file(REPORT, "r.pdf", content)
    stored = encoded(content)
    assert decoded(stored, sha256=checked.sha256, size=checked.size, what="r.pdf") == content
    tampered = encoded(content[:-1] + b"!")
    with pytest.raises(AttachmentCorruptError) as corrupt:
        decoded(tampered, sha256=checked.sha256, size=checked.size, what="r.pdf")
    assert f"does not match the SHA-256 {checked.sha256}" in corrupt.value.message
    with pytest.raises(AttachmentCorruptError):
        decoded("not base64!", sha256=checked.sha256, size=checked.size, what="r.pdf")
