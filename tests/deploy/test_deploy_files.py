"""The deployment material: the systemd unit verifies, the compose file holds together, the
production example site file loads."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import load_site

DEPLOY = Path(__file__).parents[2] / "deploy"
EXECUTABLE = "/opt/tracegate/venv/bin/tracegate"


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip(
            "!!! systemd-analyze IS MISSING: the unit was NOT verified; "
            "install the Debian package systemd (make services does it as root) !!!"
        )
    fake = tmp_path / "tracegate"
    fake.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    fake.chmod(0o755)
    unit = (DEPLOY / "tracegate.service").read_text(encoding="utf-8")
    assert EXECUTABLE in unit
    copy = tmp_path / "tracegate.service"
    copy.write_text(unit.replace(EXECUTABLE, str(fake)), encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "tracegate.service" not in result.stderr, result.stderr


def test_the_unit_has_the_required_hardening() -> None:
    lines = set((DEPLOY / "tracegate.service").read_text(encoding="utf-8").splitlines())
    for line in (
        "User=tracegate",
        "StateDirectory=tracegate",
        "ConfigurationDirectory=tracegate",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "Restart=on-failure",
        "SupplementaryGroups=dialout",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    ):
        assert line in lines


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_compose_file_holds_together() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"gateway", "postgres", "mosquitto"}
    for name, service in services.items():
        assert "image" in service, name
        test = service["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL"), name
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists() or source.startswith("./secrets"), source
            else:
                assert source in compose["volumes"], (name, source)
        for needed, condition in service.get("depends_on", {}).items():
            assert needed in services
            assert condition == {"condition": "service_healthy"}
        for secret in service.get("secrets", []):
            assert secret in compose["secrets"]
    assert services["gateway"]["command"][:4] == ["tracegate", "--log-level", "INFO", "opcua"]


def test_the_production_example_loads() -> None:
    config = load_site(DEPLOY / "site.example.yaml")
    assert config.database_url.startswith("postgresql+psycopg://")
    assert config.site.gln is not None
    assert config.uplinks is not None
    assert {d.type for d in config.uplinks.destinations} == {"site-database", "mqtt"}
    assert config.opcua_server is not None
    assert all(s.policy != "None" for s in config.opcua_server.security)
