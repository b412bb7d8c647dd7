"""Pages show times in the clinic's zone; the database keeps UTC."""

import contextlib
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.cache import SessionStore
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from ketaclinic.accounts.middleware import ClinicTimeZoneMiddleware
from ketaclinic.accounts.selectors import display_time_zone_for
from ketaclinic.accounts.sessions import TIME_ZONE_KEY


@contextlib.contextmanager
def _verified(user: Any) -> Iterator[None]:
    with mock.patch("ketaclinic.accounts.context_processors.is_verified", return_value=True):
        yield


def _zone_seen_by_view(user: Any, session: SessionStore | None = None) -> tuple[str, SessionStore]:
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse("ok")

    request = RequestFactory().get("/home/")
    request.user = user
    request.session = session or SessionStore()
    ClinicTimeZoneMiddleware(view)(request)
    return seen[0], request.session


@pytest.mark.django_db
def test_staff_see_their_clinics_zone_and_it_is_remembered_for_the_session(clinic: Any, nurse: Any) -> None:
    clinic.time_zone = "America/Chicago"
    clinic.save(update_fields=["time_zone"])
    zone, session = _zone_seen_by_view(nurse)
    assert zone == "America/Chicago"
    assert session[TIME_ZONE_KEY] == "America/Chicago"
    assert timezone.get_current_timezone_name() == "UTC"


@pytest.mark.django_db
def test_a_person_without_clinics_sees_the_first_clinics_zone(clinic: Any, patient_user: Any) -> None:
    clinic.time_zone = "America/Denver"
    clinic.save(update_fields=["time_zone"])
    assert display_time_zone_for(patient_user) == "America/Denver"


@pytest.mark.django_db
def test_anonymous_visitors_see_utc_and_an_unknown_zone_falls_back_to_utc(nurse: Any) -> None:
    assert _zone_seen_by_view(AnonymousUser())[0] == "UTC"
    session = SessionStore()
    session[TIME_ZONE_KEY] = "Mars/Olympus_Mons"
    assert _zone_seen_by_view(nurse, session)[0] == "UTC"


@pytest.mark.django_db
def test_the_navigation_marks_the_most_specific_entry_as_current(custodian: Any) -> None:
    from ketaclinic.accounts.context_processors import navigation

    def current(path: str) -> list[str]:
        request = RequestFactory().get(path)
        request.user = custodian
        request.session = SessionStore()
        return [item["label"] for item in navigation(request)["nav_items"] if item["active"]]

    with _verified(custodian):
        assert current("/inventory/reports/") == ["Stock reports"]
        assert current("/inventory/draw/") == ["Controlled drugs"]
        assert current("/home/") == ["Home"]
        assert current("/elsewhere/") == []
