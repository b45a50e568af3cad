"""HTTPS for the HMI: served with a configured certificate and key, fetched by a client that
trusts exactly that certificate, with Secure cookies; bad TLS settings are refused clearly."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Engine

from drivers.opcua.app_certificate import application_certificate
from gateway.hmi import HmiSettings, LineConsole, create_hmi_app, serving_hmi
from gateway.observability.http_server import HttpServeError, ListenAddress
from tests.ebr.audit.audit_users import Site

WAIT_S = 60.0


def certificate_for_localhost(folder: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = application_certificate(
        key,
        application_uri="urn:tracegate:test:hmi",
        common_name="tracegate HMI test",
        not_before=datetime.now(UTC) - timedelta(minutes=5),
        valid_days=2,
        extra_names=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    certificate_file, key_file = folder / "hmi.pem", folder / "hmi.key.pem"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_file, key_file


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_hmi_is_served_over_https_with_secure_cookies(
    engine: Engine, tmp_path: Path
) -> None:
    certificate, key = certificate_for_localhost(tmp_path)
    site = Site(engine)
    settings = HmiSettings(certificate=certificate, private_key=key)
    assert settings.secure_cookies, "HTTPS turns Secure cookies on"
    app = create_hmi_app(site.users, LineConsole(site.users), line_name="Line 1", settings=settings)
    trusting = ssl.create_default_context(cafile=str(certificate))
    async with serving_hmi(app, ListenAddress("127.0.0.1", 0)) as url:
        assert url.startswith("https://127.0.0.1:")
        async with httpx.AsyncClient(verify=trusting, timeout=WAIT_S) as client:
            page = await client.get(f"{url}login")
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(timeout=WAIT_S) as untrusting:
                await untrusting.get(f"{url}login")
    assert page.status_code == 200
    assert "<h1>Log in</h1>" in page.text
    cookie = page.headers["set-cookie"]
    assert "tg_login=" in cookie
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs both a certificate and its private key"):
        HmiSettings(certificate=tmp_path / "hmi.pem")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_missing_or_mismatched_tls_files_are_refused_before_serving(
    engine: Engine, tmp_path: Path
) -> None:
    site = Site(engine)
    certificate, _key = certificate_for_localhost(tmp_path)
    (tmp_path / "other").mkdir()
    _other_certificate, other_key = certificate_for_localhost(tmp_path / "other")
    for given_key, message in (
        (tmp_path / "missing.key.pem", "does not exist"),
        (other_key, "cannot serve HTTPS"),
    ):
        settings = HmiSettings(certificate=certificate, private_key=given_key)
        console = LineConsole(site.users)
        app = create_hmi_app(site.users, console, line_name="Line 1", settings=settings)
        with pytest.raises(HttpServeError, match=message) as refused:
            async with serving_hmi(app, ListenAddress("127.0.0.1", 0)):
                pass
        assert refused.value.hint
