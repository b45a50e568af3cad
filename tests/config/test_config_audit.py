"""The site audit key and the `audit` / `maintenance` sections of the site file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from config import CheckReport, Problem, Severity, load_site
from config.operations import AuditSection, BackupSection, ClockSection

Check = Callable[[str], CheckReport]
At = Callable[[CheckReport, str], list[Problem]]


def with_site_keys(base: str, extra: str) -> str:
    return base.replace("  timezone: Asia/Shanghai\n", f"  timezone: Asia/Shanghai\n{extra}", 1)


def test_defaults_when_the_sections_are_absent(base_site: str, tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(base_site, encoding="utf-8")
    config = load_site(path)
    assert config.audit == AuditSection(checkpoint_every=1000, checkpoint_minutes=15)
    assert config.maintenance.clock == ClockSection()
    assert config.maintenance.clock.tolerance_ms == 1000
    assert config.maintenance.backup.full_cron == "0 2 * * *"
    assert config.maintenance.backup.retention_years == 5
    assert config.audit_key_path is None


def test_audit_key_path_is_relative_to_the_site_file(base_site: str, tmp_path: Path) -> None:
    text = with_site_keys(base_site, "  audit_key_file: keys/audit.pem\n")
    text += (
        "\naudit:\n  checkpoint_every: 50\n  checkpoint_minutes: 5\n"
        "maintenance:\n  clock:\n    ntp_server: ntp.plant.local\n    tolerance_ms: 500\n"
        "  backup:\n    directory: /srv/backups\n    every_hours: 6\n"
        "    incremental_minutes: 15\n    retention_years: 7\n"
    )
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    config = load_site(path)
    assert config.audit_key_path == (tmp_path / "keys" / "audit.pem").resolve()
    assert config.audit.checkpoint_every == 50
    assert config.audit.checkpoint_minutes == 5
    assert config.maintenance.clock.ntp_server == "ntp.plant.local"
    backup = config.maintenance.backup
    assert backup.every_hours == 6
    assert backup.directory_path(config.base_dir) == Path("/srv/backups")


def test_a_missing_audit_key_is_a_warning_with_the_command(
    base_site: str, check: Check, problems_at: At
) -> None:
    report = check(with_site_keys(base_site, "  audit_key_file: keys/audit.pem\n"))
    assert report.config is not None
    [problem] = problems_at(report, "site.audit_key_file")
    assert problem.severity is Severity.WARNING
    assert "does not exist" in problem.message
    assert problem.hint is not None
    assert problem.hint.startswith("tracegate audit create-key ")
    assert problem.hint.endswith("keys/audit.pem")


def test_an_existing_key_gives_no_warning(
    base_site: str, check: Check, problems_at: At, tmp_path: Path
) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "audit.pem").write_text("placeholder", encoding="utf-8")
    report = check(with_site_keys(base_site, "  audit_key_file: keys/audit.pem\n"))
    assert problems_at(report, "site.audit_key_file") == []


def test_bad_values_are_errors_at_their_keys(base_site: str, check: Check, problems_at: At) -> None:
    text = base_site + (
        "\naudit:\n  checkpoint_every: 0\n"
        "maintenance:\n  backup:\n    retention_years: 3\n    full_cron: nightly\n"
        "  clock:\n    tolerance_ms: 0\n"
    )
    report = check(text)
    assert report.config is None
    assert problems_at(report, "audit.checkpoint_every")
    [retention] = problems_at(report, "maintenance.backup.retention_years")
    assert "below the five" in retention.message
    assert problems_at(report, "maintenance.backup.full_cron")
    assert problems_at(report, "maintenance.clock.tolerance_ms")


def test_one_full_backup_schedule_only() -> None:
    assert BackupSection(every_hours=12).every_hours == 12
    with pytest.raises(ValidationError, match="both say when full backups run"):
        BackupSection(every_hours=12, full_cron="0 3 * * *")


def test_unknown_keys_in_the_new_sections_are_errors(base_site: str, check: Check) -> None:
    report = check(base_site + "\naudit:\n  checkpoint_evry: 10\n")
    assert report.config is None
    assert any(p.location.startswith("audit") for p in report.problems)
