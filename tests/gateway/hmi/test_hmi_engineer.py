"""The engineer's screens: only an engineer acts (a supervisor may look; operators and QA are
refused), every action needs the CSRF token; simulator control is refused off demo mode; the
configuration check shows a planted error; certificates are trusted and rejected, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from drivers.opcua.app_certificate import application_certificate
from gateway.opcua_server.certificates import create_server_certificate, thumbprint
from gateway.opcua_server.settings import settings_from_config
from tests.gateway.hmi.engineer_fixtures import ACTIONS, PAGES, EngineerHmi, engineer_hmi
from tests.gateway.hmi.hmi_fixtures import token_of

__all__ = ["engineer_hmi"]
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def client_certificate(common_name: str) -> x509.Certificate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return application_certificate(
        key,
        application_uri=f"urn:test:{common_name}",
        common_name=common_name,
        not_before=datetime.now(UTC) - timedelta(minutes=1),
        valid_days=30,
    )


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


async def test_an_action_without_the_csrf_token_is_refused(engineer_hmi: EngineerHmi) -> None:
    await engineer_hmi.log_in("eng.zhao")
    for path in ACTIONS:
        refused = await engineer_hmi.http.post(path, data={"file": "x", "reason": "r"})
        assert refused.status_code == 403, (path, refused.text)
        assert "no CSRF token" in refused.text


async def test_only_an_engineer_may_act(engineer_hmi: EngineerHmi) -> None:
    for username in ("op.li", "qa.wang", "sup.chen"):
        token = await engineer_hmi.log_in(username)
        for path in ACTIONS:
            refused = await engineer_hmi.http.post(
                path, data={"csrf_token": token, "rate_upm": "100"}
            )
            assert refused.status_code == 403, (username, path, refused.text)
            assert f"{username} (" in refused.text
            assert "may not do this" in refused.text
            assert "ask someone with the role engineer" in refused.text


async def test_operators_and_qa_do_not_see_the_engineers_screens(
    engineer_hmi: EngineerHmi,
) -> None:
    for username in ("op.li", "qa.wang"):
        await engineer_hmi.log_in(username)
        for path in PAGES:
            page = await engineer_hmi.http.get(path)
            assert page.status_code == 403, (username, path)
            assert "may not see the engineer&#39;s screens" in page.text
        line = await engineer_hmi.http.get("/line")
        assert 'href="/engineer/devices"' not in line.text, "no engineer links in their navigation"


async def test_a_supervisor_may_look_but_gets_no_controls(engineer_hmi: EngineerHmi) -> None:
    await engineer_hmi.log_in("sup.chen")
    for path in PAGES:
        page = await engineer_hmi.http.get(path)
        assert page.status_code == 200, (path, page.text)
        assert 'href="/engineer/devices"' in page.text
        assert "only an engineer may change anything here" in page.text
    devices = await engineer_hmi.http.get("/engineer/devices")
    assert 'action="/engineer/devices/check"' not in devices.text


async def test_every_configured_device_is_listed_before_any_check(
    engineer_hmi: EngineerHmi,
) -> None:
    await engineer_hmi.log_in("eng.zhao")
    page = await engineer_hmi.http.get("/engineer/devices")
    assert page.status_code == 200
    configured = [device for line in engineer_hmi.config.lines for device in line.devices]
    assert len(configured) == 9
    for device in configured:
        assert f"<td>{device.id}</td>" in page.text
        assert f"<td>{device.kind}</td>" in page.text
    assert page.text.count("not checked yet") == 9


async def test_simulator_control_is_refused_when_the_line_is_not_simulated(
    engineer_hmi: EngineerHmi,
) -> None:
    token = await engineer_hmi.log_in("eng.zhao")
    page = await engineer_hmi.http.get("/engineer/simulator")
    assert 'id="not-demo"' in page.text
    for setting in ("rate", "defects", "camera"):
        refused = await engineer_hmi.http.post(
            f"/engineer/simulator/{setting}", data={"csrf_token": token, "rate_upm": "600"}
        )
        assert refused.status_code == 409
        assert "simulator control works in demo mode only" in refused.text
        assert "make demo" in refused.text


async def test_the_configuration_check_shows_a_planted_error(engineer_hmi: EngineerHmi) -> None:
    await engineer_hmi.log_in("eng.zhao")
    valid = await engineer_hmi.http.get("/engineer/config")
    assert valid.status_code == 200
    assert "✔ Valid" in valid.text
    text = engineer_hmi.site_file.read_text(encoding="utf-8")
    planted = text.replace("kind: printer-tcp", "kind: printer-telepathy", 1)
    assert planted != text
    engineer_hmi.site_file.write_text(planted, encoding="utf-8")
    line = 1 + planted[: planted.index("printer-telepathy")].count("\n")
    page = await engineer_hmi.http.get("/engineer/config")
    assert page.status_code == 200
    assert "✖ Not valid" in page.text
    assert "printer-telepathy" in page.text
    assert f"<td>{line}</td>" in page.text, "the finding names the line in the file"
    assert "lines[0].devices[1]" in page.text
    chinese = await engineer_hmi.http.post(
        "/language",
        data={"csrf_token": token_of(page), "language": "zh_CN", "next": "/engineer/config"},
    )
    assert chinese.status_code == 303
    assert "✖ 无效" in (await engineer_hmi.http.get("/engineer/config")).text


async def test_certificates_are_listed_trusted_and_rejected_with_an_audit_entry(
    engineer_hmi: EngineerHmi,
) -> None:
    settings = settings_from_config(engineer_hmi.config)
    assert settings.certificate
    assert settings.private_key
    assert settings.trust_dir
    assert settings.rejected_dir
    server = create_server_certificate(
        settings.certificate,
        settings.private_key,
        application_uri=settings.application_uri,
        host="127.0.0.1",
        common_name="tracegate test site",
    )
    client = client_certificate("MES client")
    settings.rejected_dir.mkdir(parents=True)
    refused_file = settings.rejected_dir / "mes.der"
    refused_file.write_bytes(der(client))
    token = await engineer_hmi.log_in("eng.zhao")

    page = await engineer_hmi.http.get("/engineer/certificates")
    assert page.status_code == 200
    assert server.thumbprint in page.text
    assert "CN=tracegate test site" in page.text
    assert thumbprint(client) in page.text
    assert "CN=MES client" in page.text
    assert "This server" in page.text
    assert "✖ Rejected" in page.text

    no_reason = await engineer_hmi.http.post(
        "/engineer/certificates/trust", data={"csrf_token": token, "file": "mes.der"}
    )
    assert no_reason.status_code == 400
    assert "a reason is needed to trust a certificate" in no_reason.text
    assert refused_file.exists(), "nothing was moved"
    unknown = await engineer_hmi.http.post(
        "/engineer/certificates/trust",
        data={"csrf_token": token, "file": "../mes.der", "reason": "MES"},
    )
    assert unknown.status_code == 400
    assert "no certificate" in unknown.text

    trusted = await engineer_hmi.http.post(
        "/engineer/certificates/trust",
        data={"csrf_token": token, "file": "mes.der", "reason": "the MES server of line 1"},
    )
    assert trusted.status_code == 303, trusted.text
    assert not refused_file.exists()
    [trusted_file] = list(settings.trust_dir.iterdir())
    assert trusted_file.read_bytes() == der(client)
    [entry] = engineer_hmi.site.trail.entries(event="opcua_client_certificate_trusted")
    assert entry.object_id == thumbprint(client)
    assert entry.username == "eng.zhao"
    assert entry.reason == "the MES server of line 1"
    assert entry.old["state"] == "rejected"
    assert entry.new["state"] == "trusted"

    rejected = await engineer_hmi.http.post(
        "/engineer/certificates/reject",
        data={"csrf_token": token, "file": trusted_file.name, "reason": "MES replaced"},
    )
    assert rejected.status_code == 303
    assert list(settings.trust_dir.iterdir()) == []
    assert [p.read_bytes() for p in settings.rejected_dir.iterdir()] == [der(client)]
    assert engineer_hmi.site.events("opcua_client_certificate_rejected") == [thumbprint(client)]
    listed = await engineer_hmi.http.get("/engineer/certificates?done=reject")
    assert "The certificate is rejected from the client's next session." in listed.text
