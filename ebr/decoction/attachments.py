"""What a file attached to a decoction pieces record is, judged by its content.

The annex allows JPG, WORD and PDF (some fields JPG only) up to 10 MiB (photos 3 MiB). The type
is read from the bytes: JPEG's FF D8 FF, PDF's `%PDF-`, and for DOCX a ZIP archive holding
`word/document.xml` (only the archive's directory is read, nothing is unpacked). The name is
not trusted: a file whose name promises another type than its content (a JPG called
`report.pdf`, a program renamed `.pdf`) is refused, so the record never holds a name that lies
about its file; the error says what the content is and which extension it needs.

Content is stored base64-encoded in the database, next to its SHA-256 (see
`ebr.decoction.models`); `decoded` recomputes the hash on every read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from ebr.decoction.errors import AttachmentCorruptError, AttachmentRejectedError
from ebr.decoction.fields import MEDIA_NAMES, MIB, Field, MediaType

MAX_FILENAME = 255
EXTENSIONS = {
    MediaType.JPEG: (".jpg", ".jpeg"),
    MediaType.DOCX: (".docx",),
    MediaType.PDF: (".pdf",),
}
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
KNOWN_OTHERS = (
    (b"MZ", "a Windows program (MZ executable)"),
    (b"\x7fELF", "a program (ELF executable)"),
    (OLE2, "a legacy Office file (.doc/.xls, OLE2)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
)


@dataclass(frozen=True, slots=True)
class CheckedFile:
    filename: str
    media_type: MediaType
    size: int
    sha256: str


def check_file(field: Field, filename: str, content: bytes) -> CheckedFile:
    """The file as it will be recorded, or `AttachmentRejectedError` saying why not."""
    rule = field.attachment
    if rule is None:
        raise AttachmentRejectedError(
            f"{field.label} is not a file field", hint="attach files to a file field"
        )
    name = clean_filename(filename)
    where = f"{name} for {field.label}"
    if not content:
        raise AttachmentRejectedError(f"{where} is empty", hint="attach the file with its content")
    if len(content) > rule.max_bytes:
        raise AttachmentRejectedError(
            f"{where} is {len(content):,} bytes, {len(content) - rule.max_bytes:,} over the "
            f"limit of {rule.max_bytes:,} bytes ({rule.max_bytes // MIB} MiB)",
            hint="attach a smaller file: scan at a lower resolution or split the document",
        )
    media = sniff(content)
    allowed = " or ".join(MEDIA_NAMES[m] for m in rule.media)
    if media is None or media not in rule.media:
        found = MEDIA_NAMES[media] if media is not None else describe_content(content)
        legacy = "; save a legacy .doc as DOCX or PDF" if content.startswith(OLE2) else ""
        raise AttachmentRejectedError(
            f"{where}: the content is {found}, and {field.zh} takes {allowed} only",
            hint=f"attach a {allowed} file{legacy}",
        )
    extension = PurePosixPath(name).suffix.casefold()
    if extension not in EXTENSIONS[media]:
        raise AttachmentRejectedError(
            f"{where}: the content is {MEDIA_NAMES[media]}, but the name ends in "
            f"{extension or 'no extension'}",
            hint=f"rename the file to end in {EXTENSIONS[media][0]} (or attach the file the "
            "name promises)",
        )
    return CheckedFile(name, media, len(content), hashlib.sha256(content).hexdigest())


def sniff(content: bytes) -> MediaType | None:
    if content.startswith(b"\xff\xd8\xff"):
        return MediaType.JPEG
    if content.startswith(b"%PDF-"):
        return MediaType.PDF
    if content.startswith(b"PK\x03\x04") and _is_word_document(content):
        return MediaType.DOCX
    return None


def describe_content(content: bytes) -> str:
    for magic, what in KNOWN_OTHERS:
        if content.startswith(magic):
            return what
    if content.startswith(b"PK\x03\x04"):
        return "a ZIP archive that is not a Word document (no word/document.xml)"
    return f"not a known file type (it starts with {content[:8].hex(' ').upper()})"


def clean_filename(filename: str) -> str:
    """The file's own name, without any folders, as it will be recorded."""
    name = PureWindowsPath(PurePosixPath(filename).name).name.strip()
    if not name or name in (".", "..") or any(ord(char) < 32 for char in name):
        raise AttachmentRejectedError(
            f"{filename!r} is not a usable file name",
            hint="give the file a name with its extension, e.g. report.pdf",
        )
    if len(name) > MAX_FILENAME:
        raise AttachmentRejectedError(
            f"the file name is {len(name)} characters long; at most {MAX_FILENAME} are kept",
            hint="shorten the file name",
        )
    return name


def encoded(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


def decoded(stored: str, *, sha256: str, size: int, what: str) -> bytes:
    """The stored content, after checking it still is what was recorded."""
    try:
        content = base64.b64decode(stored.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        content = None
    if content is None or len(content) != size or hashlib.sha256(content).hexdigest() != sha256:
        raise AttachmentCorruptError(
            f"{what}: the stored content does not match the SHA-256 {sha256} recorded when it "
            "was attached; it was changed in the database",
            hint="do not use this copy; restore the attachment from a verified backup and "
            "report the finding to QA (the audit trail records it)",
        )
    return content


def _is_word_document(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
