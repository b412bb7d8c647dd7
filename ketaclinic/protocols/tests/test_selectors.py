"""Selectors: the one way code reads protocol values, and the permission-checked page readers."""

from decimal import Decimal
from typing import Any

import pytest

from ketaclinic.accounts.models import User
from ketaclinic.core.errors import ErrorKind, NotFound, PermissionDenied
from ketaclinic.protocols.errors import InvalidPopulation, ProtocolErrorCode, ProtocolMissing
from ketaclinic.protocols.models import ProtocolParameter
from ketaclinic.protocols.selectors import (
    parameter_for_change,
    parameter_history,
    parameters_for,
    protocol_bool,
    protocol_decimal,
    protocol_decimals,
    protocol_int,
    protocol_value,
    reading_for,
)
from ketaclinic.protocols.services import change_protocol_value, load_protocol_defaults
from ketaclinic.protocols.tests.conftest import make_parameter
from ketaclinic.protocols.tests.shipped import SHIPPED_COUNT

# The reads as they are outside a request (test_request_cache.py reads within one).
pytestmark = [pytest.mark.django_db, pytest.mark.protocol_reads_uncached]

VIEWERS = ["clinician", "nurse", "custodian", "clinic_admin", "outsider"]
NOT_VIEWERS = ["front_desk", "billing_clerk", "patient_user", "guardian_user"]


def _bump(by: User, parameter: ProtocolParameter, value: str, *, times: int = 1) -> None:
    for index in range(times):
        change_protocol_value(
            by=by, parameter=parameter, value=value, source=f"Source {index}", reason="test", verified=True
        )


# protocol_value and its typed helpers


def test_reads_the_current_value_typed_with_its_version_and_source(clinician: User) -> None:
    parameter = make_parameter("test_dose", value="0.5", verified=False, source="Trial A")
    _bump(clinician, parameter, "0.6")
    reading = protocol_value("test_dose")
    newest = parameter.versions.get(version=2)
    assert reading.key == "test_dose"
    assert reading.population == "all"
    assert reading.value == Decimal("0.6")
    assert reading.unit == "mg/kg"
    assert reading.version == 2
    assert reading.value_id == newest.pk
    assert reading.verified is True
    assert reading.source == "Source 0"
    assert (reading.value_kind, reading.text) == ("decimal", "0.6")


def test_a_population_entry_wins_over_the_entry_for_all() -> None:
    make_parameter("test_dose", population="all", value="0.5")
    make_parameter("test_dose", population="child", value="0.3")
    child = protocol_value("test_dose", population="child")
    assert (child.value, child.population) == (Decimal("0.3"), "child")


@pytest.mark.parametrize("population", ["adult", "older_adult", "end_of_life", "all"])
def test_falls_back_to_the_entry_for_all_when_a_population_has_none(population: str) -> None:
    make_parameter("test_dose", population="all", value="0.5")
    make_parameter("test_dose", population="child", value="0.3")
    reading = protocol_value("test_dose", population=population)
    assert (reading.value, reading.population) == (Decimal("0.5"), "all")


def test_the_population_entry_wins_even_when_all_has_more_versions(clinician: User) -> None:
    everyone = make_parameter("test_dose", population="all", value="0.5")
    make_parameter("test_dose", population="older_adult", value="0.25")
    _bump(clinician, everyone, "0.55", times=3)
    reading = protocol_value("test_dose", population="older_adult")
    assert (reading.value, reading.version, reading.population) == (Decimal("0.25"), 1, "older_adult")


def test_shipped_dose_range_differs_for_older_adults_and_adults_fall_back_to_all() -> None:
    load_protocol_defaults()
    assert protocol_decimal("dose_range_max_mg_per_kg", population="adult") == Decimal("0.75")
    assert protocol_decimal("dose_range_max_mg_per_kg", population="older_adult") == Decimal("0.5")
    assert protocol_value("dose_range_max_mg_per_kg", population="adult").population == "all"


def test_reading_a_missing_key_raises_protocol_missing() -> None:
    with pytest.raises(ProtocolMissing) as caught:
        protocol_value("no_such_key", population="child")
    error = caught.value
    assert (error.code, error.kind, error.key, error.population) == (
        ProtocolErrorCode.MISSING,
        ErrorKind.NOT_FOUND,
        "no_such_key",
        "child",
    )
    assert error.message.startswith("There is no protocol value 'no_such_key' for population 'child'")
    assert isinstance(error, NotFound)


def test_reading_an_unknown_population_is_refused() -> None:
    make_parameter("test_dose")
    with pytest.raises(InvalidPopulation) as caught:
        protocol_value("test_dose", population="teenager")
    assert (caught.value.code, caught.value.field, caught.value.kind) == (
        ProtocolErrorCode.INVALID_POPULATION,
        "population",
        ErrorKind.INVALID,
    )


def test_reading_a_value_costs_one_query(clinician: User, django_assert_num_queries: Any) -> None:
    parameter = make_parameter("test_dose", value="0.5")
    make_parameter("test_dose", population="child", value="0.3")
    _bump(clinician, parameter, "0.6", times=4)
    with django_assert_num_queries(1):
        protocol_value("test_dose", population="adult")
    with django_assert_num_queries(1):
        protocol_value("test_dose", population="child")


def test_typed_helpers_return_the_type_their_name_says() -> None:
    make_parameter("test_decimal", value="0.75")
    make_parameter("test_count", value="6", value_kind="integer", unit="infusions")
    make_parameter("test_flag", value="true", value_kind="boolean", unit="")
    make_parameter("test_list", value="10, 50, 100", value_kind="decimal_list", unit="mg/mL")
    assert protocol_decimal("test_decimal") == Decimal("0.75")
    assert protocol_decimal("test_count") == Decimal(6)
    assert protocol_int("test_count") == 6
    assert protocol_bool("test_flag") is True
    assert protocol_decimals("test_list") == (Decimal(10), Decimal(50), Decimal(100))


@pytest.mark.parametrize(
    ("reader", "key"),
    [
        (protocol_int, "test_decimal"),
        (protocol_int, "test_flag"),
        (protocol_decimal, "test_flag"),
        (protocol_bool, "test_count"),
        (protocol_decimals, "test_decimal"),
    ],
)
def test_typed_helpers_refuse_an_entry_of_another_kind(reader: Any, key: str) -> None:
    make_parameter("test_decimal", value="0.75")
    make_parameter("test_count", value="6", value_kind="integer")
    make_parameter("test_flag", value="false", value_kind="boolean")
    with pytest.raises(TypeError):
        reader(key)


# parameters_for: the protocol page's list


def test_lists_every_parameter_with_its_current_version(clinician: User) -> None:
    dose = make_parameter("test_dose", value="0.5", verified=False, name="Dose")
    make_parameter("test_age", value="18", value_kind="integer", unit="years", category="consent", name="Age")
    _bump(clinician, dose, "0.6")
    rows = parameters_for(viewer=clinician, category="", search="")
    by_key = {row.key: row for row in rows if row.key.startswith("test_")}
    assert (by_key["test_dose"].value, by_key["test_dose"].version, by_key["test_dose"].verified) == (
        "0.6",
        2,
        True,
    )
    assert by_key["test_dose"].value_id == dose.versions.get(version=2).pk
    assert by_key["test_dose"].needs_confirmation is False
    assert (by_key["test_age"].value, by_key["test_age"].version, by_key["test_age"].needs_confirmation) == (
        "18",
        1,
        True,
    )
    assert (by_key["test_age"].category_label, by_key["test_age"].population_label) == (
        "Consent",
        "All patients",
    )


def test_list_is_ordered_by_category_then_name(clinician: User) -> None:
    # The clinic fixture has loaded the shipped defaults: the list holds all of them.
    rows = parameters_for(viewer=clinician)
    assert len(rows) == SHIPPED_COUNT
    assert [(row.category, row.name) for row in rows] == sorted((row.category, row.name) for row in rows)


def test_list_filters_by_category_and_search(clinician: User) -> None:
    consent = parameters_for(viewer=clinician, category="consent")
    assert sorted(row.key for row in consent) == [
        "age_of_majority_years",
        "assent_from_age_years",
        "portal_invitation_valid_days",
        "portal_own_view_from_age_years",
    ]
    found = parameters_for(viewer=clinician, search="  Aldrete ")
    assert sorted(row.key for row in found) == [
        "aldrete_discharge_minimum",
        "aldrete_full_marks_required_on",
        "discharge_score_scale",
        "recommend_bp_slow_return",  # cites the Aldrete circulation band
        "spo2_stop_below_percent",
    ]
    assert [row.key for row in parameters_for(viewer=clinician, category="dosing", search="Fava")] == [
        "dose_hard_stop_mg_per_kg",
        "dose_standard_mg_per_kg",
    ]
    assert parameters_for(viewer=clinician, search="no such words") == []


def test_list_costs_one_query_however_many_versions_exist(
    clinician: User, django_assert_num_queries: Any
) -> None:
    dose = ProtocolParameter.objects.get(key="dose_standard_mg_per_kg")
    with django_assert_num_queries(1):
        parameters_for(viewer=clinician)
    _bump(clinician, dose, "0.6", times=5)
    with django_assert_num_queries(1):
        rows = parameters_for(viewer=clinician)
    assert next(row for row in rows if row.key == "dose_standard_mg_per_kg").version == 6


@pytest.mark.parametrize("role", VIEWERS)
def test_staff_who_may_view_the_protocol_get_the_list(request: pytest.FixtureRequest, role: str) -> None:
    load_protocol_defaults()  # the outsider's fixture does not build the clinic that loads them
    assert len(parameters_for(viewer=request.getfixturevalue(role))) == SHIPPED_COUNT


@pytest.mark.parametrize("role", NOT_VIEWERS)
def test_others_may_not_list_the_protocol(request: pytest.FixtureRequest, role: str) -> None:
    with pytest.raises(PermissionDenied):
        parameters_for(viewer=request.getfixturevalue(role))


@pytest.mark.parametrize("role", NOT_VIEWERS)
def test_others_may_not_read_a_value_through_the_checked_reader(
    request: pytest.FixtureRequest, role: str
) -> None:
    with pytest.raises(PermissionDenied):
        reading_for(viewer=request.getfixturevalue(role), key="dose_standard_mg_per_kg")


# parameter_history


def test_history_lists_every_version_newest_first(clinician: User) -> None:
    parameter = make_parameter("test_dose")
    _bump(clinician, parameter, "0.6")
    _bump(clinician, parameter, "0.7")
    history = parameter_history(viewer=clinician, parameter_id=parameter.pk)
    assert [version.version for version in history.versions] == [3, 2, 1]
    assert history.current is not None
    assert (history.current.version, history.current.value) == (3, "0.7")
    assert history.parameter == parameter
    assert history.needs_confirmation is False


def test_history_of_an_unknown_parameter_is_not_found(clinician: User) -> None:
    with pytest.raises(NotFound):
        parameter_history(viewer=clinician, parameter_id=999_999)


def test_history_is_refused_to_those_who_may_not_view(front_desk: User, parameter: ProtocolParameter) -> None:
    with pytest.raises(PermissionDenied):
        parameter_history(viewer=front_desk, parameter_id=parameter.pk)


def test_a_nurse_may_read_the_history_but_not_open_it_for_change(
    nurse: User, parameter: ProtocolParameter
) -> None:
    assert parameter_history(viewer=nurse, parameter_id=parameter.pk).parameter == parameter
    with pytest.raises(PermissionDenied):
        parameter_for_change(viewer=nurse, parameter_id=parameter.pk)
