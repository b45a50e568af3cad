"""Security of the MES server with real clients: the client trust list, anonymous sessions,
gateway accounts and their roles, the endpoints offered, the minimum publishing interval."""

from __future__ import annotations

from pathlib import Path

import pytest
from asyncua import ua
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaError
from sqlalchemy import Engine

from gateway.opcua_server import OpcUaServerError, ServerSettings
from gateway.opcua_server.certificates import (
    certificate_files,
    create_server_certificate,
    move_certificate,
)
from simulators.line_plc.certs import CertificatePair, make_self_signed
from tests.gateway.opcua_server.mes_fixtures import (
    MES,
    OPERATOR,
    make_plant,
    mes_client,
    serving,
    settings,
)

CLIENT_URI = "urn:test:mes"
SECURE = "Basic256Sha256,SignAndEncrypt"


def secured_settings(pki: Path) -> ServerSettings:
    base = settings(
        security=(("Basic256Sha256", "SignAndEncrypt"), ("Aes256Sha256RsaPss", "Sign")),
        certificate=pki / "server.der",
        private_key=pki / "server.key.pem",
        trust_dir=pki / "trusted",
        rejected_dir=pki / "rejected",
    )
    create_server_certificate(
        base.certificate,  # type: ignore[arg-type]
        base.private_key,  # type: ignore[arg-type]
        application_uri=base.application_uri,
        host="127.0.0.1",
        common_name="tracegate test",
    )
    return base


def client_pair(tmp_path: Path, name: str) -> CertificatePair:
    return make_self_signed(tmp_path / name, name, application_uri=CLIENT_URI)


async def test_an_untrusted_client_certificate_is_refused_kept_and_trusted_on_request(
    engine: Engine, tmp_path: Path
) -> None:
    plant = make_plant(engine, units=3, cases=0)
    plant.commission(plant.units)
    secured = secured_settings(tmp_path / "pki")
    client = client_pair(tmp_path, "mes-client")
    assert secured.trust_dir is not None
    assert secured.rejected_dir is not None
    async with serving(plant, secured) as server:
        with pytest.raises((UaError, OSError)):
            async with mes_client(
                server.endpoint,
                security=SECURE,
                certificate=client.certificate,
                private_key=client.private_key,
            ):
                pass
        (rejected,) = certificate_files(secured.rejected_dir)
        assert rejected.read_bytes() == client.certificate.read_bytes()
        move_certificate(rejected.name, secured.rejected_dir, secured.trust_dir, verb="trust")
        async with mes_client(
            server.endpoint,
            security=SECURE,
            certificate=client.certificate,
            private_key=client.private_key,
        ) as mes:
            records, _last, _more = await mes.get_records(0)
            assert len(records) == 3
        async with mes_client(
            server.endpoint,
            security="Aes256Sha256RsaPss,Sign",
            certificate=client.certificate,
            private_key=client.private_key,
        ) as mes:
            assert len((await mes.get_records(0))[0]) == 3
            endpoints = await mes.client.get_endpoints()
    offered = {(e.SecurityPolicyUri.rpartition("#")[2], e.SecurityMode.name) for e in endpoints}
    assert offered == {
        ("Basic256Sha256", "SignAndEncrypt"),
        ("Aes256_Sha256_RsaPss", "Sign"),
    }


async def test_a_trusted_certificate_of_another_application_is_refused(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plant = make_plant(engine, units=1, cases=0)
    secured = secured_settings(tmp_path / "pki")
    client = client_pair(tmp_path, "mes-client")
    assert secured.trust_dir is not None
    secured.trust_dir.mkdir(parents=True)
    (secured.trust_dir / "mes.der").write_bytes(client.certificate.read_bytes())
    async with serving(plant, secured) as server:
        with pytest.raises((UaError, OSError)):
            async with mes_client(
                server.endpoint,
                security=SECURE,
                certificate=client.certificate,
                private_key=client.private_key,
                application_uri="urn:test:impostor",
            ):
                pass
    assert "the client says it is urn:test:impostor" in caplog.text


async def test_anonymous_sessions_are_refused_unless_allowed_and_never_write(
    engine: Engine,
) -> None:
    plant = make_plant(engine, units=2, cases=0)
    plant.commission(plant.units)
    async with serving(plant) as server:
        with pytest.raises(UaError):
            async with mes_client(server.endpoint, user=None):
                pass
    anonymous_allowed = settings(allow_anonymous=True)
    async with (
        serving(plant, anonymous_allowed) as server,
        mes_client(server.endpoint, user=None) as anonymous,
    ):
        records, last, _more = await anonymous.get_records(0)
        assert len(records) == 2
        refused = await anonymous.call(
            "Acknowledge",
            ua.Variant(MES, ua.VariantType.String),
            ua.Variant(last, ua.VariantType.Int64),
        )
        assert refused.StatusCode.value == StatusCodes.BadUserAccessDenied
        no_cursor = await anonymous.call(
            "GetRecords",
            ua.Variant(-1, ua.VariantType.Int64),
            ua.Variant(0, ua.VariantType.UInt32),
        )
        assert no_cursor.StatusCode.value == StatusCodes.BadInvalidArgument


async def test_accounts_log_on_with_their_password_and_only_write_roles_acknowledge(
    engine: Engine,
) -> None:
    plant = make_plant(engine, units=2, cases=0)
    plant.commission(plant.units)
    async with serving(plant) as server:
        with pytest.raises(UaError):
            async with mes_client(server.endpoint, password="Wrong-password-2026"):
                pass
        async with mes_client(server.endpoint, user=OPERATOR) as operator:
            records, last, _more = await operator.get_records(0)
            assert len(records) == 2
            refused = await operator.call(
                "Acknowledge",
                ua.Variant(OPERATOR, ua.VariantType.String),
                ua.Variant(last, ua.VariantType.Int64),
            )
            assert refused.StatusCode.value == StatusCodes.BadUserAccessDenied
            assert (await operator.get_records(-1))[0] == records
        async with mes_client(server.endpoint) as mes:
            assert await mes.acknowledge(last) == last


async def test_a_subscription_never_publishes_faster_than_the_minimum(engine: Engine) -> None:
    plant = make_plant(engine, units=1, cases=0)
    minimum = settings(min_publishing_interval_ms=250.0)
    async with serving(plant, minimum) as server, mes_client(server.endpoint) as mes:
        revised = []
        for requested in (0.0, 1.0, 1000.0):
            params = ua.CreateSubscriptionParameters(
                RequestedPublishingInterval=requested,
                RequestedLifetimeCount=1000,
                RequestedMaxKeepAliveCount=10,
                PublishingEnabled=True,
            )
            result = await mes.client.uaclient.create_subscription(params, lambda _r: None)
            revised.append(result.RevisedPublishingInterval)
    assert revised == [250.0, 250.0, 1000.0]


async def test_secured_endpoints_need_the_server_certificate(
    engine: Engine, tmp_path: Path
) -> None:
    plant = make_plant(engine, units=1, cases=0)
    missing = settings(
        security=(("Basic256Sha256", "SignAndEncrypt"),),
        certificate=tmp_path / "none.der",
        private_key=tmp_path / "none.pem",
        trust_dir=tmp_path / "trusted",
        rejected_dir=tmp_path / "rejected",
    )
    with pytest.raises(OpcUaServerError, match="tracegate certs create"):
        async with serving(plant, missing):
            pass


async def test_security_none_is_refused_off_loopback(engine: Engine) -> None:
    plant = make_plant(engine, units=1, cases=0)
    with pytest.raises(OpcUaServerError, match="not a loopback address"):
        async with serving(plant, settings(endpoint="opc.tcp://0.0.0.0:4999")):
            pass
