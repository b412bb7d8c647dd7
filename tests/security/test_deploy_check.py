"""`manage.py check --deploy` with production settings reports nothing: HTTPS-only cookies, HSTS (with
subdomains and preload), SSL redirect, no debug, a long random secret key, and the security headers."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    env = {
        name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "KETACLINIC_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        KETACLINIC_CHAIN_KEY=secrets.token_urlsafe(40),
        KETACLINIC_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path}/deploy.sqlite3",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
