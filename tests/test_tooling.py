"""`make run` and its server: an icon, each log line once, links that follow HOST and PORT (issue 15)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.django_db
def test_favicon_ico_leads_to_the_served_icon(client, settings) -> None:
    # The test settings leave out the static files' middleware (config/settings/test.py); the server has it.
    settings.MIDDLEWARE = settings.SERVED_MIDDLEWARE
    assert settings.STATIC_MIDDLEWARE in settings.MIDDLEWARE
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (302, "/static/favicon.svg")
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"


def test_a_django_log_line_is_printed_once_under_make_run_settings() -> None:
    script = "import django, logging; django.setup(); logging.getLogger('django.request').warning('one line')"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "KETACLINIC_VAR_DIR": "/nonexistent",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert done.stderr.count("one line") == 1, done.stderr


def test_make_run_serves_and_links_on_the_chosen_host_and_port() -> None:
    done = subprocess.run(
        ["make", "-n", "run", "HOST=0.0.0.0", "PORT=8123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert 'KETACLINIC_BASE_URL="http://0.0.0.0:8123"' in done.stdout
    assert "--host 0.0.0.0 --port 8123" in done.stdout
    # `kill 0` in a trap on TERM signals the trap's own shell again, until bash overflows its stack.
    assert "kill 0" not in done.stdout
    assert "trap - EXIT INT TERM" in done.stdout


def test_links_in_e_mails_start_with_the_served_address() -> None:
    script = "from django.conf import settings; print(settings.KETACLINIC_BASE_URL)"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "KETACLINIC_BASE_URL": "http://0.0.0.0:8123/",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "http://0.0.0.0:8123"


def _collected(database_url: str, *paths: str) -> set[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-n", "0", *paths],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}


def test_the_postgresql_suite_leaves_out_only_the_tests_that_never_reach_the_database() -> None:
    """`make test-pg` runs what touches the database; the pure rules ran the same in `make test`."""
    pure = "ketaclinic/core/tests/test_units.py"
    with_database = "ketaclinic/core/tests/test_taskqueue.py"
    assert _collected("postgres://postgres@127.0.0.1:5432/test", pure, with_database) == {with_database}


def test_the_sqlite_suite_keeps_every_test(request: pytest.FixtureRequest) -> None:
    from conftest import pytest_collection_modifyitems

    items = [request.node]
    pytest_collection_modifyitems(request.config, items)
    assert items == [request.node]
