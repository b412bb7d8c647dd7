"""Search parameters: parsing, refusals (400) and matching. Pure: no database."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ErrorKind
from ketaclinic.interop.fhir.errors import BadSearch
from ketaclinic.interop.fhir.params import DateRange, matches, parse_date, parse_reference, parse_search

UTC = dt.UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024", DateRange(dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2025, 1, 1, tzinfo=UTC))),
        ("2024-02", DateRange(dt.datetime(2024, 2, 1, tzinfo=UTC), dt.datetime(2024, 3, 1, tzinfo=UTC))),
        (
            "eq2024-12-31",
            DateRange(dt.datetime(2024, 12, 31, tzinfo=UTC), dt.datetime(2025, 1, 1, tzinfo=UTC)),
        ),
        ("ge2024-03-01", DateRange(dt.datetime(2024, 3, 1, tzinfo=UTC), None)),
        ("gt2024-03-01", DateRange(dt.datetime(2024, 3, 2, tzinfo=UTC), None)),
        ("le2024-03", DateRange(None, dt.datetime(2024, 4, 1, tzinfo=UTC))),
        ("lt2024-03-01", DateRange(None, dt.datetime(2024, 3, 1, tzinfo=UTC))),
        (
            "2024-03-01T10:30:00Z",
            DateRange(
                dt.datetime(2024, 3, 1, 10, 30, tzinfo=UTC), dt.datetime(2024, 3, 1, 10, 30, 1, tzinfo=UTC)
            ),
        ),
    ],
)
def test_parse_date(value: str, expected: DateRange) -> None:
    assert parse_date(value, parameter="date") == expected


@pytest.mark.parametrize("value", ["yesterday", "2024-13", "2024-02-30", "ne2024", "24-01-01"])
def test_unreadable_dates_are_refused(value: str) -> None:
    with pytest.raises(BadSearch) as refused:
        parse_date(value, parameter="date")
    assert refused.value.kind == ErrorKind.INVALID
    assert refused.value.field == "date"


@given(
    st.datetimes(
        min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2098, 12, 31), timezones=st.just(UTC)
    )
)
def test_a_day_admits_exactly_its_own_moments(moment: dt.datetime) -> None:
    day = moment.date().isoformat()
    assert parse_date(day, parameter="date").admits(moment)
    assert not parse_date(f"lt{day}", parameter="date").admits(moment)
    assert parse_date(f"ge{day}", parameter="date").admits(moment)
    assert not parse_date(f"gt{day}", parameter="date").admits(moment)
    assert parse_date(f"le{day}", parameter="date").admits(moment)


def test_parse_search_reads_paging_and_refuses_unsupported_parameters() -> None:
    search = parse_search(
        "Observation", {"patient": ["12"], "code": ["8867-4"], "_count": ["5"], "_offset": ["10"]}
    )
    assert (search.count, search.offset, dict(search.values)) == (
        5,
        10,
        {"patient": ("12",), "code": ("8867-4",)},
    )
    with pytest.raises(BadSearch) as unsupported:
        parse_search("Encounter", {"patient": ["1"], "status": ["finished"]})
    assert unsupported.value.message == (
        "Encounter does not support the search parameter 'status'; supported: _count, _offset, patient"
    )
    with pytest.raises(BadSearch) as no_patient:
        parse_search("Condition", {})
    assert no_patient.value.message == "A Condition search needs patient=<id>."
    with pytest.raises(BadSearch):
        parse_search("Patient", {"name": [" "]})


def test_parse_reference() -> None:
    assert [parse_reference(v) for v in ("12", "Patient/12", "Group/12", "x")] == [12, 12, None, None]


def test_matches_category_code_and_date() -> None:
    resource = {
        "resourceType": "Observation",
        "category": [{"coding": [{"system": "http://s", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "effectiveDateTime": "2024-03-01T10:00:00+00:00",
    }

    def search(**query: str) -> bool:
        return matches(
            parse_search("Observation", {"patient": ["1"]} | {k: [v] for k, v in query.items()}), resource
        )

    assert search(category="vital-signs", code="http://loinc.org|8867-4", date="2024-03")
    assert search(code="9279-1,8867-4")
    assert not search(code="http://other|8867-4")
    assert not search(category="survey")
    assert not search(date="ge2024-03-02")
