"""A request that meets a database it cannot reach (PostgreSQL restarting) answers 503 with a message and
Retry-After, on pages and in the API, never a 500 traceback; the next request after the database is back
is served as usual."""

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.utils.html import escape

from ketaclinic.core.views import RETRY_AFTER_S, UNAVAILABLE_MESSAGE

pytestmark = pytest.mark.django_db


def _database_down(*args: object, **kwargs: object) -> None:
    raise OperationalError("connection to server at 127.0.0.1, port 5433 failed: Connection refused")


@pytest.mark.parametrize(("path", "json"), [("/patients/", False), ("/api/patients/?q=smith", True)])
def test_a_database_that_cannot_be_reached_answers_503_with_a_message(
    nurse, monkeypatch: pytest.MonkeyPatch, path: str, json: bool
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(nurse)
    with monkeypatch.context() as patch:
        patch.setattr(CursorWrapper, "execute", _database_down)
        response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_S)
    if json:
        assert response.json() == {"code": "unavailable", "message": UNAVAILABLE_MESSAGE}
    else:
        assert escape(UNAVAILABLE_MESSAGE) in response.content.decode()
        assert "Traceback" not in response.content.decode()
    assert client.get(path).status_code == 200


def test_any_other_error_keeps_the_plain_500_page(nurse, monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(nurse)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    with monkeypatch.context() as patch:
        patch.setattr(CursorWrapper, "execute", broken)
        response = client.get("/patients/")
    assert response.status_code == 500
    assert "Retry-After" not in response
