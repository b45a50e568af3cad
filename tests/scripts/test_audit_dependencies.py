"""`make test`'s dependency audit: vulnerabilities fail it, an audit that could not happen is
reported as skipped, loudly, without failing."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_dependencies.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


AUDITED = {"name": "httpx", "version": "0.28.1", "vulns": []}
UNKNOWN = {"name": "tiny", "skip_reason": "Dependency not found on PyPI: tiny (1.0)"}


def test_a_vulnerable_package_fails_the_audit_with_its_fix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    vulnerable = {
        "name": "jinja2",
        "version": "3.1.2",
        "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}],
    }
    assert load().judge([AUDITED, vulnerable, UNKNOWN]) == 1
    out = capsys.readouterr().out
    assert "DEPENDENCY AUDIT FAILED" in out
    assert "jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in out


def test_a_service_that_knows_no_package_means_the_audit_was_skipped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert load().judge([UNKNOWN, UNKNOWN]) == 0
    assert "DEPENDENCY AUDIT SKIPPED: the vulnerability service knew none of the 2" in (
        capsys.readouterr().out
    )


def test_a_clean_audit_says_how_much_it_covered(capsys: pytest.CaptureFixture[str]) -> None:
    assert load().judge([AUDITED, AUDITED, UNKNOWN]) == 0
    assert capsys.readouterr().out == (
        "dependency audit: 2 packages, no known vulnerabilities; 1 not known to the service\n"
    )
