"""Secrets passed through logging never reach the log: by field name, in a message's text, in a
URL, in an HTTP credential — from our loggers and from a protocol library's."""

from __future__ import annotations

import io
import json
import logging
import string

from hypothesis import given
from hypothesis import strategies as st

from gateway.logs import configure_logging, get_logger
from gateway.observability.redaction import REDACTED, redact_secrets, scrub_text

SECRET = "Hunter2-s3cret"


def logged(write: object) -> list[dict[str, object]]:
    stream = io.StringIO()
    configure_logging(level="INFO", stream=stream)
    write()  # type: ignore[operator]
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_password_field_and_a_secret_in_text_are_redacted() -> None:
    def write() -> None:
        log = get_logger("tracegate.test")
        log.info("user.login", username="op1", password=SECRET)
        log.info("uplink", config={"url": "https://mes", "token": SECRET, "retries": 3})
        log.info(f"connecting with password={SECRET} to the PLC")
        log.warning("database", url=f"postgresql://tracegate:{SECRET}@db:5432/tracegate")

    records = logged(write)
    assert SECRET not in json.dumps(records)
    assert records[0]["password"] == REDACTED
    assert records[0]["username"] == "op1"
    assert records[1]["config"] == {"url": "https://mes", "token": REDACTED, "retries": 3}
    assert records[2]["event"] == f"connecting with password={REDACTED} to the PLC"
    assert records[3]["url"] == f"postgresql://tracegate:{REDACTED}@db:5432/tracegate"


def test_a_library_logging_a_credential_through_the_standard_library_is_redacted() -> None:
    def write() -> None:
        logging.getLogger("httpx").warning("retrying with Authorization: Bearer %s", SECRET)
        logging.getLogger("asyncua").error("cannot connect to opc.tcp://gw:%s@plc:4840", SECRET)
        try:
            raise ValueError(f"login refused for secret={SECRET}")
        except ValueError:
            logging.getLogger("tracegate.line").exception("device failed")

    records = logged(write)
    assert len(records) == 3
    assert SECRET not in json.dumps(records)
    assert records[0]["logger"] == "httpx"
    assert records[0]["event"] == f"retrying with Authorization: Bearer {REDACTED}"
    assert "secret=[redacted]" in str(records[2]["exception"])


SECRET_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "+-._~=", min_size=4).map(
    lambda text: "S3" + text
)
"""Token-like (what base64 and URL-safe secrets are made of); "S3" keeps it from being a word
of the surrounding text."""


@given(
    secret=SECRET_TEXT,
    field=st.sampled_from(["password", "db_password", "api_key", "Authorization", "token"]),
)
def test_whatever_a_secret_field_holds_is_redacted(secret: str, field: str) -> None:
    event = redact_secrets(None, "info", {"event": "x", field: secret, "nested": {field: secret}})
    assert event[field] == REDACTED
    assert event["nested"] == {field: REDACTED}


@given(secret=SECRET_TEXT, user=st.text(alphabet=string.ascii_lowercase, min_size=1))
def test_a_secret_in_a_url_or_a_pair_never_survives(secret: str, user: str) -> None:
    for text in (
        f"mqtt://{user}:{secret}@broker:1883/x",
        f"password={secret}",
        f"PGPASSWORD: '{secret}'",
        f"Authorization: Basic {secret}",
    ):
        assert secret not in scrub_text(text), text


def test_ordinary_text_is_left_alone() -> None:
    text = "unit 42 rejected: no_image (camera-1 at tcp://10.0.0.5:4001)"
    assert scrub_text(text) == text
