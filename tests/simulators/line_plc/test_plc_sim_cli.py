"""`python -m simulators.line_plc`: bad arguments stop it with a message that says what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.line_plc.__main__ import build_parser, main, security_from


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--port", "1", "--security", "Foo"], "unknown \\['Foo'\\]; choose from None"),
        (["--port", "1", "--security", "Basic256Sha256_SignAndEncrypt"], "need --cert-dir"),
        (["--port", "1", "--rate", "0"], "rate_upm must be > 0"),
        (["--port", "1", "--user", "bob"], "expected NAME:PASSWORD"),
        (["--port", "1", "--missed-rejects", "2"], "missed_reject_rate must be in"),
    ],
)
def test_bad_arguments_exit_with_a_hint(argv: list[str], complaint: str) -> None:
    with pytest.raises(SystemExit, match=complaint):
        main(argv)


def test_secured_endpoints_get_a_self_signed_certificate_once(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["--port", "1", "--security", "None,Aes256Sha256RsaPss_SignAndEncrypt",
         "--cert-dir", str(tmp_path), "--user", "op:pw"]
    )  # fmt: skip
    first = security_from(args)
    assert first.certificate == tmp_path / "server.der"
    assert first.users == {"op": "pw"}
    before = first.certificate.read_bytes()
    assert security_from(args).certificate.read_bytes() == before  # type: ignore[union-attr]
