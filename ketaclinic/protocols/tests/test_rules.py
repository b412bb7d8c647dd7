"""Pure rules for protocol values: no database."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ErrorKind
from ketaclinic.protocols.errors import InvalidProtocolValue, ProtocolErrorCode
from ketaclinic.protocols.rules import (
    MAX_DECIMAL_PLACES,
    VALUE_MAX_LENGTH,
    Population,
    ValueKind,
    as_decimal,
    clean_source,
    normalise_value,
    parse_value,
    population_for_age,
)

plain_decimals = st.decimals(
    min_value=Decimal(0), max_value=Decimal("999999999"), places=MAX_DECIMAL_PLACES, allow_nan=False
)


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        (ValueKind.DECIMAL, "0.5", Decimal("0.5")),
        (ValueKind.DECIMAL, " 1.15 ", Decimal("1.15")),
        (ValueKind.DECIMAL, "40", Decimal("40")),
        (ValueKind.INTEGER, "18", 18),
        (ValueKind.INTEGER, "007", 7),
        (ValueKind.BOOLEAN, "true", True),
        (ValueKind.BOOLEAN, "FALSE", False),
        (ValueKind.TEXT, " III ", "III"),
        (ValueKind.DECIMAL_LIST, "10,50, 100", (Decimal(10), Decimal(50), Decimal(100))),
    ],
)
def test_parses_each_kind_to_its_typed_value(kind: ValueKind, raw: str, expected: object) -> None:
    assert parse_value(kind, raw) == expected
    assert type(parse_value(kind, raw)) is type(expected)


@pytest.mark.parametrize(
    ("kind", "raw", "canonical"),
    [
        (ValueKind.DECIMAL, "00.50", "0.50"),
        (ValueKind.INTEGER, "0040", "40"),
        (ValueKind.BOOLEAN, "True", "true"),
        (ValueKind.DECIMAL_LIST, "10,50 ,100", "10, 50, 100"),
        (ValueKind.TEXT, "  III", "III"),
    ],
)
def test_stores_the_canonical_text(kind: ValueKind, raw: str, canonical: str) -> None:
    assert normalise_value(kind, raw) == canonical


@pytest.mark.parametrize(
    ("kind", "raw", "message_part"),
    [
        (ValueKind.DECIMAL, "", "Enter a value."),
        (ValueKind.DECIMAL, "   ", "Enter a value."),
        (ValueKind.DECIMAL, "abc", "is not a plain number"),
        (ValueKind.DECIMAL, "0,5", "Use a point as the decimal separator: 0.5"),
        (ValueKind.DECIMAL, "-0.5", "cannot be negative"),
        (ValueKind.DECIMAL, "1e3", "is not a plain number"),
        (ValueKind.DECIMAL, "NaN", "is not a plain number"),
        (ValueKind.DECIMAL, "Infinity", "is not a plain number"),
        (ValueKind.DECIMAL, "0.1234567", "6 after"),
        (ValueKind.INTEGER, "6.5", "is not a whole number"),
        (ValueKind.INTEGER, "-1", "cannot be negative"),
        (ValueKind.INTEGER, "1234567890", "is not a whole number"),
        (ValueKind.BOOLEAN, "yes", "is not true or false"),
        (ValueKind.DECIMAL_LIST, "10,,50", "has an empty item"),
        (ValueKind.DECIMAL_LIST, "10, 50, 10.0", "lists the same number twice"),
        (ValueKind.DECIMAL_LIST, "10, x", "is not a plain number"),
        (ValueKind.TEXT, "two\nlines", "single line"),
        (ValueKind.TEXT, "x" * (VALUE_MAX_LENGTH + 1), f"at most {VALUE_MAX_LENGTH} characters"),
    ],
)
def test_refuses_malformed_values_with_a_sentence_saying_what_to_type(
    kind: ValueKind, raw: str, message_part: str
) -> None:
    with pytest.raises(InvalidProtocolValue) as caught:
        normalise_value(kind, raw)
    assert message_part in caught.value.message
    assert caught.value.code == ProtocolErrorCode.INVALID_VALUE
    assert caught.value.field == "value"
    assert caught.value.kind == ErrorKind.INVALID


def test_refuses_an_unknown_kind() -> None:
    with pytest.raises(InvalidProtocolValue) as caught:
        normalise_value("fraction", "0.5")
    assert caught.value.message == "'fraction' is not a kind of protocol value."


@given(plain_decimals)
def test_any_plain_decimal_round_trips_exactly(number: Decimal) -> None:
    text = format(number, "f")
    assert parse_value(ValueKind.DECIMAL, text) == number
    assert normalise_value(ValueKind.DECIMAL, normalise_value(ValueKind.DECIMAL, text)) == normalise_value(
        ValueKind.DECIMAL, text
    )


@given(st.integers(min_value=0, max_value=999_999_999))
def test_any_whole_number_in_range_round_trips(number: int) -> None:
    assert parse_value(ValueKind.INTEGER, str(number)) == number


@given(st.lists(plain_decimals, min_size=1, max_size=8, unique_by=lambda number: number.normalize()))
def test_any_list_of_distinct_numbers_round_trips(numbers: list[Decimal]) -> None:
    text = ",".join(format(number, "f") for number in numbers)
    assert parse_value(ValueKind.DECIMAL_LIST, text) == tuple(numbers)


@given(kind=st.sampled_from(list(ValueKind)), raw=st.text(max_size=300))
def test_any_text_either_parses_or_is_refused_with_invalid_protocol_value(kind: ValueKind, raw: str) -> None:
    try:
        canonical = normalise_value(kind, raw)
    except InvalidProtocolValue:
        return
    # Whatever is accepted is stored canonically: normalising again changes nothing.
    assert normalise_value(kind, canonical) == canonical
    assert len(canonical) <= VALUE_MAX_LENGTH


def test_reads_a_number_as_decimal_but_refuses_a_flag_or_text() -> None:
    assert as_decimal(6) == Decimal(6)
    assert as_decimal(Decimal("0.5")) == Decimal("0.5")
    with pytest.raises(TypeError):
        as_decimal(True)
    with pytest.raises(TypeError):
        as_decimal("III")


def test_requires_a_source() -> None:
    assert clean_source(" Andrade 2017 ") == "Andrade 2017"
    with pytest.raises(InvalidProtocolValue) as caught:
        clean_source("")
    assert (caught.value.code, caught.value.field) == (ProtocolErrorCode.SOURCE_REQUIRED, "source")


@given(st.integers(min_value=0, max_value=120))
def test_population_is_child_adult_or_older_adult_by_age(age: int) -> None:
    population = population_for_age(age, age_of_majority_years=18, older_adult_from_age_years=65)
    expected = Population.CHILD if age < 18 else Population.OLDER_ADULT if age >= 65 else Population.ADULT
    assert population is expected


def test_population_edges_are_the_protocol_ages() -> None:
    limits = {"age_of_majority_years": 18, "older_adult_from_age_years": 65}
    assert [population_for_age(age, **limits) for age in (17, 18, 64, 65)] == [
        Population.CHILD,
        Population.ADULT,
        Population.ADULT,
        Population.OLDER_ADULT,
    ]
