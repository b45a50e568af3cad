"""`make test`'s dependency audit: pip-audit over the packages installed in the venv.

Fails, listing them, when an installed package has a known vulnerability. When the
vulnerability service cannot be asked (no network, a proxy, a mirror that does not know the
packages) the audit did not happen: that is said loudly, as DEPENDENCY AUDIT SKIPPED with the
reason, and does not fail the build. tracegate itself (installed editable) is not audited.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

TIMEOUT_S = 55
REQUEST_TIMEOUT_S = 15


def main() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    if not pip_audit.exists():
        return skipped(f"{pip_audit} is not installed (pip install -e '.[dev]')")
    command = [
        str(pip_audit),
        "--format",
        "json",
        "--skip-editable",
        "--progress-spinner",
        "off",
        "--timeout",
        str(REQUEST_TIMEOUT_S),
    ]
    try:
        done = subprocess.run(  # noqa: S603 - our own venv's pip-audit, fixed arguments
            command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return skipped(f"pip-audit took longer than {TIMEOUT_S} s")
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        return skipped(last_line(done.stderr) or f"pip-audit exited with {done.returncode}")
    return judge(report["dependencies"])


def judge(dependencies: list[dict[str, Any]]) -> int:
    vulnerable = [d for d in dependencies if d.get("vulns")]
    unaudited = [d for d in dependencies if "skip_reason" in d]
    if vulnerable:
        print("DEPENDENCY AUDIT FAILED: known vulnerabilities in installed packages:")
        for dependency in vulnerable:
            for vuln in dependency["vulns"]:
                fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
                name = f"{dependency['name']} {dependency['version']}"
                print(f"  {name}: {vuln['id']} (fixed in {fixed})")
        print("fix: upgrade them (and their pins in pyproject.toml), then run `make test` again")
        return 1
    if dependencies and len(unaudited) == len(dependencies):
        return skipped(
            f"the vulnerability service knew none of the {len(dependencies)} packages "
            f"(e.g. {unaudited[0]['skip_reason']})"
        )
    audited = len(dependencies) - len(unaudited)
    print(f"dependency audit: {audited} packages, no known vulnerabilities", end="")
    print(f"; {len(unaudited)} not known to the service" if unaudited else "")
    return 0


def skipped(reason: str) -> int:
    print("!" * 78)
    print(f"DEPENDENCY AUDIT SKIPPED: {reason}")
    print("!" * 78)
    return 0


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


if __name__ == "__main__":
    sys.exit(main())
