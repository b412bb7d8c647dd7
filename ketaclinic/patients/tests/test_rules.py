import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.patients import rules
from ketaclinic.patients.rules import ConsentAction, ConsentEvent, ConsentStatus

T0 = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def test_age_counts_completed_years_only() -> None:
    assert rules.age_in_years(dt.date(2010, 6, 15), dt.date(2026, 6, 14)) == 15
    assert rules.age_in_years(dt.date(2010, 6, 15), dt.date(2026, 6, 15)) == 16


def test_leap_day_birthday_turns_older_on_first_of_march() -> None:
    assert rules.age_in_years(dt.date(2008, 2, 29), dt.date(2026, 2, 28)) == 17
    assert rules.age_in_years(dt.date(2008, 2, 29), dt.date(2026, 3, 1)) == 18


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)), st.integers(0, 120))
def test_age_on_nth_birthday_is_n(birth: dt.date, years: int) -> None:
    try:
        birthday = birth.replace(year=birth.year + years)
    except ValueError:  # 29 February in a common year
        birthday = dt.date(birth.year + years, 3, 1)
    assert rules.age_in_years(birth, birthday) == years


@pytest.mark.parametrize(("age", "minor"), [(4, True), (17, True), (18, False), (80, False)])
def test_minor_is_below_age_of_majority(age: int, minor: bool) -> None:
    assert rules.is_minor(age, 18) is minor


@pytest.mark.parametrize(("age", "expected"), [(6, False), (7, True), (17, True), (18, False)])
def test_assent_is_sought_from_assent_age_until_majority(age: int, expected: bool) -> None:
    assert rules.assent_expected(age, assent_from_age_years=7, age_of_majority_years=18) is expected


def test_minor_without_consenting_guardian_needs_one() -> None:
    assert rules.needs_consenting_guardian(12, 18, 0) is True
    assert rules.needs_consenting_guardian(12, 18, 1) is False
    assert rules.needs_consenting_guardian(30, 18, 0) is False


def event(
    record_id: int, action: ConsentAction, version: int = 1, minutes: int = 0, corrected: bool = False
) -> ConsentEvent:
    return ConsentEvent(record_id, action, version, T0 + dt.timedelta(minutes=minutes), corrected)


def test_consent_status_follows_the_latest_record() -> None:
    assert rules.consent_status([], current_form_version=1) is ConsentStatus.NONE
    given_ = [event(1, ConsentAction.GIVEN)]
    assert rules.consent_status(given_, current_form_version=1) is ConsentStatus.CURRENT
    withdrawn = [*given_, event(2, ConsentAction.WITHDRAWN, minutes=5)]
    assert rules.consent_status(withdrawn, current_form_version=1) is ConsentStatus.WITHDRAWN
    again = [*withdrawn, event(3, ConsentAction.GIVEN, minutes=10)]
    assert rules.consent_status(again, current_form_version=1) is ConsentStatus.CURRENT


def test_consent_on_older_text_is_outdated() -> None:
    assert rules.consent_status([event(1, ConsentAction.GIVEN, version=1)], current_form_version=2) is (
        ConsentStatus.OUTDATED
    )


def test_corrected_consent_records_do_not_count() -> None:
    assert rules.consent_status([event(1, ConsentAction.GIVEN, corrected=True)], current_form_version=1) is (
        ConsentStatus.NONE
    )


def test_names_normalise_without_accents_or_punctuation() -> None:
    assert rules.normalise_name("Zoë O'Neil-Smith") == "zoe oneilsmith"


def test_search_splits_names_date_and_record_number() -> None:
    terms = rules.parse_search("marsh 1988-03-14 main-00001")
    assert terms.names == ("marsh",)
    assert terms.date_of_birth == dt.date(1988, 3, 14)
    assert terms.record_number == "MAIN-00001"
    assert rules.parse_search("03/14/1988").date_of_birth == dt.date(1988, 3, 14)


@given(st.text(max_size=60))
def test_search_parsing_never_fails(query: str) -> None:
    terms = rules.parse_search(query)
    assert all(name == rules.normalise_name(name) for name in terms.names)


def test_record_numbers_are_zero_padded_with_clinic_code() -> None:
    assert rules.record_number("main", 42) == "MAIN-00042"
