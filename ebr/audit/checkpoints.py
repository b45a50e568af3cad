"""The site signing key: Ed25519, read from a file named in the settings, rotatable.

Only the public key ever reaches the database (`audit_keys`), so a database administrator can
rewrite rows but cannot produce a checkpoint signature that verifies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from ebr.audit.chain import key_id_for
from ebr.errors import StoreError


class SiteKeyError(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class SiteKey:
    key_id: str
    public_key_hex: str
    _private: Ed25519PrivateKey

    def sign(self, message: bytes) -> str:
        return self._private.sign(message).hex()

    @classmethod
    def load(cls, path: Path) -> SiteKey:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise SiteKeyError(
                f"cannot read the site signing key {path}: {error.strerror}",
                hint="create one with `tracegate audit create-key PATH` and name it in the "
                "settings",
            ) from error
        try:
            key = load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise SiteKeyError(
                f"{path} is not an unencrypted PEM private key",
                hint="create one with `tracegate audit create-key PATH`",
            ) from error
        if not isinstance(key, Ed25519PrivateKey):
            raise SiteKeyError(
                f"{path} holds a {type(key).__name__}, not an Ed25519 key",
                hint="the audit checkpoints are signed with Ed25519; create a new key",
            )
        return cls.from_private(key)

    @classmethod
    def from_private(cls, key: Ed25519PrivateKey) -> SiteKey:
        raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(key_id_for(raw), raw.hex(), key)


def create_site_key(path: Path) -> SiteKey:
    """Write a new private key readable by its owner only; an existing file is never replaced."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise SiteKeyError(
            f"{path} already exists; a signing key is never replaced in place",
            hint="to rotate, create the new key under a new name and point the settings at it",
        ) from error
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return SiteKey.from_private(key)
