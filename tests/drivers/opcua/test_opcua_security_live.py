"""Security against real servers: trust list, refused downgrades, identities, policies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from drivers.base import LinkState, SecurityError
from drivers.opcua import Identity, OpcUaClient, OpcUaSettings, SecurityMode, SecurityPolicy
from simulators.line_plc.certs import CertificatePair, make_self_signed
from simulators.line_plc.server import APPLICATION_URI, LinePlcServer, PlcSecurity, plc_node_id
from simulators.ports import free_port

pytestmark = pytest.mark.asyncio(loop_scope="module")
CLIENT_URI = "urn:tracegate:test-gateway"
STATE = plc_node_id("PackML.State")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CertificatePair]:
    base = tmp_path_factory.mktemp("opcua-certs")
    return {
        "server": make_self_signed(base / "server", "server", application_uri=APPLICATION_URI),
        "impostor": make_self_signed(base / "impostor", "server", application_uri=APPLICATION_URI),
        "client": make_self_signed(base / "client", "client", application_uri=CLIENT_URI),
        "stranger": make_self_signed(base / "stranger", "stranger", application_uri=CLIENT_URI),
    }


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def secured_plc(certs: dict[str, CertificatePair]) -> AsyncIterator[LinePlcServer]:
    security = PlcSecurity(
        endpoints=("Basic256Sha256_SignAndEncrypt", "Aes256Sha256RsaPss_Sign"),
        certificate=certs["server"].certificate,
        private_key=certs["server"].private_key,
        users={"operator": "s3cret"},
    )
    async with LinePlcServer(port=free_port(), security=security) as server:
        yield server


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def open_plc() -> AsyncIterator[LinePlcServer]:
    async with LinePlcServer(port=free_port(), security=PlcSecurity(("None",))) as server:
        yield server


def secured(endpoint: str, certs: dict[str, CertificatePair], **kwargs: Any) -> OpcUaSettings:
    base: dict[str, Any] = {
        "name": "plc",
        "endpoint": endpoint,
        "policy": SecurityPolicy.BASIC256SHA256,
        "mode": SecurityMode.SIGN_AND_ENCRYPT,
        "identity": Identity.USERNAME,
        "username": "operator",
        "password": "s3cret",
        "client_certificate": certs["client"].certificate,
        "client_private_key": certs["client"].private_key,
        "trusted_server_certificates": (certs["server"].certificate,),
        "application_uri": CLIENT_URI,
        "connect_timeout_s": 3.0,
    }
    return OpcUaSettings(**{**base, **kwargs})


async def test_basic256sha256_sign_and_encrypt_with_username(
    secured_plc: LinePlcServer, certs: dict[str, CertificatePair]
) -> None:
    async with OpcUaClient(secured(secured_plc.endpoint, certs)) as client:
        assert client.health().state is LinkState.UP
        assert client.security_in_use == (
            "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256/SignAndEncrypt"
        )
        assert (await client.read([STATE]))[STATE].value == 2


async def test_aes256_sha256_rsapss_sign_with_certificate_identity(
    secured_plc: LinePlcServer, certs: dict[str, CertificatePair]
) -> None:
    settings = secured(
        secured_plc.endpoint,
        certs,
        policy=SecurityPolicy.AES256_SHA256_RSAPSS,
        mode=SecurityMode.SIGN,
        identity=Identity.CERTIFICATE,
        username=None,
        password=None,
    )
    async with OpcUaClient(settings) as client:
        assert client.health().state is LinkState.UP
        assert client.security_in_use is not None
        assert client.security_in_use.endswith("#Aes256_Sha256_RsaPss/Sign")
        assert (await client.read([STATE]))[STATE].value == 2


async def test_untrusted_server_certificate_is_refused_and_not_retried(
    secured_plc: LinePlcServer, certs: dict[str, CertificatePair]
) -> None:
    settings = secured(
        secured_plc.endpoint, certs, trusted_server_certificates=(certs["impostor"].certificate,)
    )
    client = OpcUaClient(settings)
    with pytest.raises(SecurityError, match="is not trusted") as caught:
        await client.open()
    assert caught.value.device == "plc"
    health = client.health()
    assert health.state is LinkState.DOWN
    assert health.last_error is not None
    assert "not trusted" in health.last_error
    assert health.error_count == 1


async def test_trust_directory_is_honoured(
    secured_plc: LinePlcServer, certs: dict[str, CertificatePair], tmp_path: Path
) -> None:
    (tmp_path / "server.der").write_bytes(certs["server"].certificate.read_bytes())
    settings = secured(
        secured_plc.endpoint, certs, trusted_server_certificates=(), trust_directory=tmp_path
    )
    async with OpcUaClient(settings) as client:
        assert client.health().state is LinkState.UP


async def test_none_only_server_is_refused_when_sign_and_encrypt_is_configured(
    open_plc: LinePlcServer, certs: dict[str, CertificatePair]
) -> None:
    client = OpcUaClient(secured(open_plc.endpoint, certs))
    with pytest.raises(SecurityError, match=r"no endpoint with Basic256Sha256/SignAndEncrypt"):
        await client.open()
    assert client.health().state is LinkState.DOWN
    assert client.security_in_use is None


async def test_wrong_password_is_a_security_error(
    secured_plc: LinePlcServer, certs: dict[str, CertificatePair]
) -> None:
    client = OpcUaClient(secured(secured_plc.endpoint, certs, password="wrong"))
    with pytest.raises(SecurityError, match=r"Bad(UserAccessDenied|IdentityTokenRejected)"):
        await client.open()


async def test_fact_asyncua_server_accepts_any_client_certificate_without_a_validator(
    secured_plc: LinePlcServer, certs: dict[str, CertificatePair]
) -> None:
    """Measured for issue 7: a server built on asyncua must set a certificate validator.

    The simulator sets none, so a client certificate the server has never seen is accepted.
    """
    settings = secured(
        secured_plc.endpoint,
        certs,
        client_certificate=certs["stranger"].certificate,
        client_private_key=certs["stranger"].private_key,
    )
    async with OpcUaClient(settings) as client:
        assert client.health().state is LinkState.UP
