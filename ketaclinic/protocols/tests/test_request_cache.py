"""A protocol entry is read once per request, and a change within the request is read at once (issue 15)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.protocols.errors import ProtocolMissing
from ketaclinic.protocols.models import ProtocolParameter
from ketaclinic.protocols.selectors import protocol_int, protocol_value, readings_cached
from ketaclinic.protocols.services import change_protocol_value

# How entries are read, with and without a request's cache: not under the cache every other test runs in.
pytestmark = [pytest.mark.django_db, pytest.mark.protocol_reads_uncached]


def test_within_a_request_an_entry_is_read_from_the_database_once(clinic) -> None:
    with readings_cached(), CaptureQueriesContext(connection) as captured:
        first = protocol_value("age_of_majority_years")
        again = [protocol_value("age_of_majority_years") for _ in range(5)]
        as_int = protocol_int("age_of_majority_years")
    assert len(captured.captured_queries) == 1
    assert again == [first] * 5
    assert as_int == first.value == 18


def test_within_a_request_the_protocol_is_read_in_one_query_whatever_is_asked(clinic) -> None:
    uncached = {
        (key, population): protocol_value(key, population=population)
        for key, population in [
            ("age_of_majority_years", "child"),
            ("age_of_majority_years", "all"),
            ("dose_range_max_mg_per_kg", "child"),
            ("dose_range_max_mg_per_kg", "older_adult"),
            ("dose_range_max_mg_per_kg", "adult"),
        ]
    }
    with readings_cached(), CaptureQueriesContext(connection) as captured:
        cached = {
            (key, population): protocol_value(key, population=population) for key, population in uncached
        }
        with pytest.raises(ProtocolMissing):
            protocol_value("no_such_entry")
    assert len(captured.captured_queries) == 1
    # Each population gets its own entry, or the 'all' entry when it has none: as read one at a time.
    assert cached == uncached


def test_a_population_without_its_own_entry_reads_the_all_entry_in_the_cache_too(clinic) -> None:
    with readings_cached():
        reading = protocol_value("age_of_majority_years", population="child")
    assert reading == protocol_value("age_of_majority_years")
    assert reading.population == "all"


def test_outside_a_request_every_read_asks_the_database(clinic) -> None:
    with CaptureQueriesContext(connection) as captured:
        protocol_value("age_of_majority_years")
        protocol_value("age_of_majority_years")
    assert len(captured.captured_queries) == 2


def test_a_change_within_the_request_is_read_at_once(clinic, clinician) -> None:
    parameter = ProtocolParameter.objects.get(key="age_of_majority_years", population="all")
    with readings_cached():
        assert protocol_int("age_of_majority_years") == 18
        change_protocol_value(
            by=clinician, parameter=parameter, value="19", source="State law", reason="Alabama", verified=True
        )
        reading = protocol_value("age_of_majority_years")
    assert (reading.value, reading.version) == (19, 2)


def test_a_request_does_not_see_the_previous_requests_cache(client_for, clinician, clinic) -> None:
    client = client_for(clinician)
    assert client.get("/api/protocol/age_of_majority_years").json()["value"] == "18"
    parameter = ProtocolParameter.objects.get(key="age_of_majority_years", population="all")
    change_protocol_value(
        by=clinician, parameter=parameter, value="21", source="State law", reason="Test", verified=True
    )
    assert client.get("/api/protocol/age_of_majority_years").json()["value"] == "21"
