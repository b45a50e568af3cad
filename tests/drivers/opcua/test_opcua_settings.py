"""Invalid OPC UA settings are refused up front, each with a hint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drivers.base import UsageError
from drivers.opcua.settings import Identity, OpcUaSettings, SecurityMode, SecurityPolicy

CERT, KEY, TRUST = Path("c.der"), Path("k.pem"), (Path("s.der"),)
SECURED: dict[str, Any] = {
    "policy": SecurityPolicy.BASIC256SHA256,
    "mode": SecurityMode.SIGN_AND_ENCRYPT,
    "client_certificate": CERT,
    "client_private_key": KEY,
    "trusted_server_certificates": TRUST,
}


USER: dict[str, Any] = {"identity": Identity.USERNAME, "username": "op", "password": "pw"}


def make(**kwargs: Any) -> OpcUaSettings:
    return OpcUaSettings(**{"name": "plc", "endpoint": "opc.tcp://127.0.0.1:4840", **kwargs})


def test_plain_and_secured_settings_are_accepted() -> None:
    assert not make().secured
    secured = make(**SECURED, identity=Identity.USERNAME, username="op", password="pw")
    assert secured.secured
    assert "pw" not in repr(secured)
    make(**{**SECURED, "policy": SecurityPolicy.AES256_SHA256_RSAPSS, "mode": SecurityMode.SIGN})
    make(**SECURED, identity=Identity.CERTIFICATE)


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"endpoint": "http://plc:4840"}, "not an opc.tcp URL"),
        ({"name": ""}, "name is empty"),
        ({"mode": SecurityMode.SIGN_AND_ENCRYPT}, "policy None with mode SignAndEncrypt"),
        ({**SECURED, "mode": SecurityMode.NONE}, "policy Basic256Sha256 with mode None"),
        ({**SECURED, "client_private_key": None}, "without a client certificate"),
        ({**SECURED, "trusted_server_certificates": ()}, "without a trust list"),
        ({"identity": Identity.USERNAME, "username": "op", "password": "pw"}, "username identity"),
        (
            {**SECURED, "mode": SecurityMode.SIGN, **USER},
            "username identity over mode Sign",
        ),
        ({**SECURED, "identity": Identity.USERNAME, "username": "op"}, "without username and"),
        ({"username": "op", "password": "pw"}, "given with identity anonymous"),
        ({"identity": Identity.CERTIFICATE}, "certificate identity needs"),
        ({"reconnect_cap_s": 10.0}, "reconnect_cap_s = 10.0"),
        ({"request_timeout_s": 0}, "request_timeout_s = 0"),
        ({"stale_after_s": 0.05, "publishing_interval_ms": 100}, "stale_after_s"),
    ],
)
def test_invalid_combinations_raise_usage_error_with_a_hint(
    kwargs: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(UsageError, match=complaint) as caught:
        make(**kwargs)
    assert caught.value.hint
    assert caught.value.device == (kwargs.get("name", "plc") or None)


def test_tag_aliases_resolve_to_node_ids() -> None:
    settings = make(tags={"total": "ns=1;s=Line.Counters.Total"})
    assert settings.node_id("total") == "ns=1;s=Line.Counters.Total"
    assert settings.node_id("ns=1;s=X") == "ns=1;s=X"
